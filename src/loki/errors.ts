import { redactUrl } from '../../extension/redact.js';

/** Why a request to Loki failed; each one has a message for the user (see src/render/tail.ts). */

/** No HTTP answer at all: refused, DNS, TLS, timeout. */
export class LokiUnreachableError extends Error {
  override readonly name = 'LokiUnreachableError';
  constructor(
    readonly addr: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`cannot reach Loki at ${redactUrl(addr)} (${reason})`, options);
  }
}

/** 401 or 403: credentials missing or refused, or the tenant (X-Scope-OrgID) is missing. */
export class LokiAuthError extends Error {
  override readonly name = 'LokiAuthError';
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(`Loki refused the request: HTTP ${status}${reason === '' ? '' : ` ${reason}`}`);
  }
}

/** 400: Loki could not parse or run the query. */
export class LokiQueryError extends Error {
  override readonly name = 'LokiQueryError';
  constructor(
    readonly query: string,
    readonly reason: string,
  ) {
    super(`Loki rejected the query ${query}: ${reason}`);
  }
}

/** Any other unexpected answer (5xx, a proxy's HTML page, a body that is not Loki's JSON). */
export class LokiResponseError extends Error {
  override readonly name = 'LokiResponseError';
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(`unexpected answer from Loki: HTTP ${status}${reason === '' ? '' : ` ${reason}`}`);
  }
}

/** The first line of an error body, short enough for one message. */
export function firstLine(body: string, maxChars = 300): string {
  return (body.trim().split('\n')[0] ?? '').slice(0, maxChars);
}
