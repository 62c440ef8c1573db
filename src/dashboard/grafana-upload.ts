/**
 * Creates or updates the dashboard through Grafana's HTTP API, by uid, so that running it again
 * changes nothing when nothing changed:
 * - `GET /api/folders` then, if the folder is missing, `POST /api/folders {title}`;
 * - `GET /api/dashboards/uid/:uid` (404: it does not exist yet);
 * - unchanged (same model, same folder): no write at all;
 * - otherwise `POST /api/dashboards/db {dashboard, folderUid, overwrite: false, message}` with the
 *   existing version, so that an edit made in between is refused (412 version-mismatch) rather than
 *   overwritten, and another dashboard with the same title is never replaced (412 name-exists).
 * The token goes only into the Authorization header; nothing here puts it in a message.
 */

/** The part of `fetch` used here; the CLI passes the real one, tests a fake Grafana on loopback. */
export type GrafanaFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<{ status: number; text(): Promise<string> }>;

export interface UploadRequest {
  readonly grafanaUrl: string;
  readonly token: string;
  /** The dashboard model; must carry `uid` and `title`. */
  readonly dashboard: Readonly<Record<string, unknown>> & { readonly uid?: string; readonly title?: string };
  /** Folder title; the General (root) folder without it. */
  readonly folder?: string | undefined;
  /** Version history message. */
  readonly message: string;
  readonly userAgent: string;
}

export type UploadOutcome =
  | {
      readonly ok: true;
      readonly action: 'created' | 'updated' | 'unchanged';
      readonly uid: string;
      readonly url: string;
      readonly version: number | undefined;
      readonly folder: { readonly title: string; readonly created: boolean } | undefined;
    }
  | {
      readonly ok: false;
      /** What was being done: reading folders, creating the folder, reading or saving the dashboard. */
      readonly step: 'list folders' | 'create folder' | 'read dashboard' | 'save dashboard';
      /** HTTP status, 0 when Grafana could not be reached. */
      readonly status: number;
      /** Grafana's `status` field (e.g. version-mismatch, name-exists), when it gave one. */
      readonly reason: string | undefined;
      /** Grafana's message, or the connection error. */
      readonly message: string;
    };

type Failure = Extract<UploadOutcome, { ok: false }>;
type Answer = { status: number; body: unknown; text: string };

/** Error bodies are read only this far, like every other client here. */
const ERROR_TEXT_MAX_CHARS = 300;

export async function uploadDashboard(request: UploadRequest, fetch: GrafanaFetch): Promise<UploadOutcome> {
  const uid = request.dashboard.uid;
  if (uid === undefined || uid === '') throw new Error('the dashboard has no uid');
  const call = async (step: Failure['step'], method: string, path: string, body?: unknown) => {
    try {
      const response = await fetch(apiUrl(request.grafanaUrl, path), {
        method,
        headers: {
          Accept: 'application/json',
          Authorization: `Bearer ${request.token}`,
          'User-Agent': request.userAgent,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: parseJson(text), text } satisfies Answer;
    } catch (error) {
      return failure(step, 0, undefined, error instanceof Error ? error.message : String(error));
    }
  };

  let folder: { uid: string; title: string; created: boolean } | undefined;
  if (request.folder !== undefined) {
    const found = await findOrCreateFolder(request.folder, call);
    if ('ok' in found) return mask(found, request.token);
    folder = found;
  }

  const existing = await call('read dashboard', 'GET', `/api/dashboards/uid/${encodeURIComponent(uid)}`);
  if ('ok' in existing) return mask(existing, request.token);
  if (existing.status !== 200 && existing.status !== 404) {
    return mask(failed('read dashboard', existing), request.token);
  }
  const current = existing.status === 200 ? storedDashboard(existing.body) : undefined;
  const folderUid = folder?.uid ?? '';
  const folderOut = folder === undefined ? undefined : { title: folder.title, created: folder.created };
  if (
    current !== undefined &&
    current.folderUid === folderUid &&
    sameModel(current.dashboard, request.dashboard)
  ) {
    return {
      ok: true,
      action: 'unchanged',
      uid,
      url: absoluteUrl(request.grafanaUrl, current.url ?? `/d/${uid}`),
      version: current.version,
      folder: folderOut,
    };
  }

  const saved = await call('save dashboard', 'POST', '/api/dashboards/db', {
    dashboard: {
      ...request.dashboard,
      id: null,
      ...(current?.version === undefined ? {} : { version: current.version }),
    },
    folderUid,
    overwrite: false,
    message: request.message,
  });
  if ('ok' in saved) return mask(saved, request.token);
  if (saved.status !== 200) return mask(failed('save dashboard', saved), request.token);
  const answer = saved.body as { url?: unknown; version?: unknown };
  return {
    ok: true,
    action: current === undefined ? 'created' : 'updated',
    uid,
    url: absoluteUrl(request.grafanaUrl, typeof answer.url === 'string' ? answer.url : `/d/${uid}`),
    version: typeof answer.version === 'number' ? answer.version : undefined,
    folder: folderOut,
  };
}

type Call = (
  step: Failure['step'],
  method: string,
  path: string,
  body?: unknown,
) => Promise<Answer | Failure>;

async function findOrCreateFolder(
  title: string,
  call: Call,
): Promise<{ uid: string; title: string; created: boolean } | Failure> {
  const listed = await call('list folders', 'GET', '/api/folders?limit=1000');
  if ('ok' in listed) return listed;
  if (listed.status !== 200) return failed('list folders', listed);
  const folders = Array.isArray(listed.body)
    ? (listed.body as Array<{ uid?: unknown; title?: unknown }>)
    : [];
  const match = folders.find((f) => f.title === title && typeof f.uid === 'string');
  if (match) return { uid: match.uid as string, title, created: false };
  const created = await call('create folder', 'POST', '/api/folders', { title });
  if ('ok' in created) return created;
  if (created.status !== 200) return failed('create folder', created);
  const uid = (created.body as { uid?: unknown }).uid;
  if (typeof uid !== 'string')
    return failure('create folder', created.status, undefined, 'no folder uid in the answer');
  return { uid, title, created: true };
}

function storedDashboard(body: unknown):
  | {
      dashboard: Record<string, unknown>;
      folderUid: string;
      version: number | undefined;
      url: string | undefined;
    }
  | undefined {
  const { dashboard, meta } = (body ?? {}) as {
    dashboard?: unknown;
    meta?: { folderUid?: unknown; url?: unknown };
  };
  if (typeof dashboard !== 'object' || dashboard === null) return undefined;
  const version = (dashboard as { version?: unknown }).version;
  return {
    dashboard: dashboard as Record<string, unknown>,
    folderUid: typeof meta?.folderUid === 'string' ? meta.folderUid : '',
    version: typeof version === 'number' ? version : undefined,
    url: typeof meta?.url === 'string' ? meta.url : undefined,
  };
}

/** Same model, ignoring what Grafana assigns on save (`id`, `version`). */
function sameModel(stored: Record<string, unknown>, ours: Readonly<Record<string, unknown>>): boolean {
  const { id: _id, version: _version, ...storedRest } = stored;
  const { id: _oid, version: _oversion, ...oursRest } = ours;
  return canonical(storedRest) === canonical(oursRest);
}

/** JSON with object keys sorted, so key order does not count as a change. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

function failed(step: Failure['step'], answer: Answer): Failure {
  const { message, status } = (answer.body ?? {}) as { message?: unknown; status?: unknown };
  return failure(
    step,
    answer.status,
    typeof status === 'string' ? status : undefined,
    typeof message === 'string' ? message : answer.text.slice(0, ERROR_TEXT_MAX_CHARS).trim(),
  );
}

function failure(
  step: Failure['step'],
  status: number,
  reason: string | undefined,
  message: string,
): Failure {
  return { ok: false, step, status, reason, message };
}

/** A proxy may echo the request: never let the token through in a message. */
function mask(outcome: Failure, token: string): Failure {
  return token === '' ? outcome : { ...outcome, message: outcome.message.replaceAll(token, '****') };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `path` under the Grafana URL, which may itself have a path (Grafana served under /grafana). */
export function apiUrl(grafanaUrl: string, path: string): string {
  const base = new URL(grafanaUrl);
  base.pathname = `${base.pathname.replace(/\/+$/, '')}${path.split('?')[0]}`;
  base.search = path.includes('?') ? `?${path.split('?')[1]}` : '';
  return base.toString();
}

function absoluteUrl(grafanaUrl: string, path: string): string {
  if (/^https?:\/\//.test(path)) return path;
  const base = new URL(grafanaUrl);
  // Grafana's answer already includes its sub-path (root_url) when it has one.
  return `${base.origin}${path.startsWith('/') ? path : `/${path}`}`;
}
