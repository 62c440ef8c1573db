import type { LokiAuth } from '../../extension/config.js';
import { PUSH_PATH } from '../../extension/config.js';
import { pushHeaders } from '../../extension/loki-push.js';

/** Where Loki is and how to talk to it (logcli's --addr, credentials and --org-id). */
export interface LokiConnection {
  /** Base URL without a trailing slash, e.g. https://loki.example.com or https://gw.example.com/prefix. */
  readonly addr: string;
  readonly auth: LokiAuth;
  /** Sent as X-Scope-OrgID. */
  readonly orgId: string | undefined;
}

const PUSH_PATHS = [PUSH_PATH, '/api/prom/push'] as const;

/** Turns a LOKI_ENDPOINT_URL (base URL or push URL) into the base URL the query API lives under. */
export function baseUrlOf(endpointUrl: string): string {
  const url = new URL(endpointUrl);
  let path = url.pathname.replace(/\/+$/, '');
  for (const push of PUSH_PATHS) if (path.endsWith(push)) path = path.slice(0, -push.length);
  url.pathname = path === '' ? '/' : path;
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/+$/, '');
}

/** Authorization, X-Scope-OrgID and User-Agent, built by the extension's own header code. */
export function queryHeaders(connection: LokiConnection, userAgent: string): Record<string, string> {
  const { 'Content-Type': _contentType, ...headers } = pushHeaders(
    { pushUrl: connection.addr, auth: connection.auth, tenantId: connection.orgId },
    userAgent,
  );
  return headers;
}

/** How the user authenticates, for messages (never the secret itself). */
export function describeAuth(auth: LokiAuth): string {
  switch (auth.kind) {
    case 'none':
      return 'no credentials';
    case 'bearer':
      return 'bearer token';
    case 'basic':
      return `basic auth as ${auth.username}`;
  }
}
