/**
 * A Grafana HTTP API on loopback with the dashboard and folder endpoints `loki-lambda dashboard`
 * uses, answering as Grafana's docs describe them:
 * - auth: `Authorization: Bearer <token>`; unknown token 401 `{"message":"invalid API key"}`; a
 *   Viewer token may read but a write is 403 `{"message":"Access denied"}`;
 * - `GET /api/folders` lists `{id, uid, title}`; `POST /api/folders {title}` answers the folder;
 * - `GET /api/dashboards/uid/:uid` answers `{dashboard, meta}` or 404 `{"message":"Dashboard not found"}`;
 * - `POST /api/dashboards/db {dashboard, folderUid, overwrite, message}` answers 200
 *   `{id, uid, url, status: "success", version, slug}`; without overwrite, a version other than the
 *   stored one is 412 `{"status":"version-mismatch"}` and a same-titled dashboard with another uid
 *   in the folder is 412 `{"status":"name-exists"}`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StoredDashboard {
  id: number;
  folderUid: string;
  dashboard: Record<string, unknown> & { uid: string; title: string; version: number };
  messages: string[];
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: unknown;
}

export class FakeGrafana {
  readonly dashboards = new Map<string, StoredDashboard>();
  readonly folders: Array<{ id: number; uid: string; title: string }> = [];
  readonly requests: RecordedRequest[] = [];
  /** Tokens and their role. */
  readonly tokens = new Map<string, 'Editor' | 'Viewer'>();
  /** Changes the stored dashboard after it was read, as someone editing it in the UI would. */
  editBetweenReadAndSave = false;
  /** Answers 401 with the Authorization header in the message, as a badly behaved proxy might. */
  echoAuthorization = false;
  private nextId = 1;
  private server: Server | undefined;
  url = '';

  /** @param subPath where Grafana is served (`root_url` with a path, e.g. `/grafana`); its answers' URLs include it */
  constructor(private readonly subPath = '') {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${this.subPath}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    const url = new URL(req.url ?? '/', 'http://grafana');
    if (this.subPath !== '') {
      if (!url.pathname.startsWith(`${this.subPath}/`)) {
        res.writeHead(404).end('404 page not found');
        return;
      }
      url.pathname = url.pathname.slice(this.subPath.length);
    }
    const body = text === '' ? undefined : (JSON.parse(text) as unknown);
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname, authorization: req.headers.authorization, body });
    const send = (status: number, answer: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    };
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const role = token === undefined ? undefined : this.tokens.get(token);
    if (role === undefined) {
      return send(401, {
        message: this.echoAuthorization ? `invalid API key: ${req.headers.authorization}` : 'invalid API key',
      });
    }
    if (method !== 'GET' && role !== 'Editor') return send(403, { message: 'Access denied' });

    if (method === 'GET' && url.pathname === '/api/folders') return send(200, this.folders);
    if (method === 'POST' && url.pathname === '/api/folders') {
      const title = (body as { title?: string }).title ?? '';
      if (this.folders.some((f) => f.title === title)) {
        return send(409, { message: 'a folder with the same name already exists' });
      }
      const folder = { id: this.nextId++, uid: `f${this.nextId}`, title };
      this.folders.push(folder);
      return send(200, { ...folder, url: `${this.subPath}/dashboards/f/${folder.uid}/` });
    }
    const byUid = /^\/api\/dashboards\/uid\/(.+)$/.exec(url.pathname);
    if (method === 'GET' && byUid) {
      const stored = this.dashboards.get(decodeURIComponent(byUid[1] ?? ''));
      if (!stored) return send(404, { message: 'Dashboard not found' });
      const answer = {
        dashboard: { ...stored.dashboard, id: stored.id },
        meta: {
          folderUid: stored.folderUid,
          url: `/d/${stored.dashboard.uid}/lambda`,
          version: stored.dashboard.version,
        },
      };
      if (this.editBetweenReadAndSave)
        stored.dashboard = { ...stored.dashboard, version: stored.dashboard.version + 1 };
      return send(200, answer);
    }
    if (method === 'POST' && url.pathname === '/api/dashboards/db') {
      return this.save(body as SaveBody, send);
    }
    return send(404, { message: 'Not found' });
  }

  private save(body: SaveBody, send: (status: number, answer: unknown) => void): void {
    const dashboard = body.dashboard;
    if (typeof dashboard?.title !== 'string' || typeof dashboard.uid !== 'string') {
      send(400, { message: 'Dashboard title cannot be empty', status: 'empty-name' });
      return;
    }
    const folderUid = body.folderUid ?? '';
    if (folderUid !== '' && !this.folders.some((f) => f.uid === folderUid)) {
      send(400, { message: 'folder not found', status: 'folder-not-found' });
      return;
    }
    const existing = this.dashboards.get(dashboard.uid);
    if (!body.overwrite) {
      if (existing && dashboard.version !== existing.dashboard.version) {
        send(412, {
          message: 'The dashboard has been changed by someone else',
          status: 'version-mismatch',
        });
        return;
      }
      const sameTitle = [...this.dashboards.values()].find(
        (d) =>
          d.folderUid === folderUid &&
          d.dashboard.title === dashboard.title &&
          d.dashboard.uid !== dashboard.uid,
      );
      if (sameTitle) {
        send(412, {
          message: 'A dashboard with the same name in the folder already exists',
          status: 'name-exists',
        });
        return;
      }
    }
    const version = (existing?.dashboard.version ?? 0) + 1;
    const id = existing?.id ?? this.nextId++;
    const { id: _id, ...model } = dashboard;
    this.dashboards.set(dashboard.uid, {
      id,
      folderUid,
      dashboard: { ...model, uid: dashboard.uid, title: dashboard.title, version },
      messages: [...(existing?.messages ?? []), body.message ?? ''],
    });
    send(200, {
      id,
      uid: dashboard.uid,
      url: `${this.subPath}/d/${dashboard.uid}/lambda`,
      status: 'success',
      version,
      slug: 'lambda',
    });
  }
}

interface SaveBody {
  dashboard?: Record<string, unknown> & { uid?: unknown; title?: unknown; version?: unknown };
  folderUid?: string;
  overwrite?: boolean;
  message?: string;
}
