/**
 * A Loki-compatible push receiver for tests: listens on 127.0.0.1, decodes pushes exactly like Loki
 * (snappy block + logproto.PushRequest, or JSON), validates them and answers like Loki 2.8+
 * (DESIGN.md §4 "How Loki answers"), stores what Loki would store, and can be told to misbehave
 * (see loki-faults.ts). HTTP lives here; the write path is loki-distributor.ts, storage loki-store.ts,
 * the read side loki-query.ts (query_range) and loki-tail.ts (the tail websocket).
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { PushDecodeError } from './loki-codec.js';
import { ingestPush } from './loki-distributor.js';
import { FaultQueue, isRequestFault, type LokiFault, type RequestFault } from './loki-faults.js';
import { parsePushBody } from './loki-push-parse.js';
import { answerQueryRange, QUERY_RANGE_PATH } from './loki-query.js';
import { type IngestionRateLimit, IngestionRateLimiter } from './loki-rate-limit.js';
import { LOKI_LIMITS_DEFAULT, type LokiLimits, NO_ORG_ID_MESSAGE, SINGLE_TENANT_ID } from './loki-rules.js';
import { LokiStore, type ReceivedEntry, type StoredStream } from './loki-store.js';
import { TAIL_PATH, type TailAccess, TailHub, type TailRecord, writePlain } from './loki-tail.js';

export { encodePushRequest } from './loki-codec.js';
export type { LokiFault } from './loki-faults.js';
export type { ReceivedEntry, StoredStream } from './loki-store.js';
export type { TailRecord } from './loki-tail.js';

export const PUSH_PATH = '/loki/api/v1/push';
/** Loki's older push path, still served. */
export const LEGACY_PUSH_PATH = '/api/prom/push';
export const WAIT_TIMEOUT_MS_DEFAULT = 10_000;
/** Loki's `http_server_idle_timeout`: how long an idle keep-alive connection is kept open. */
export const KEEP_ALIVE_TIMEOUT_MS = 120_000;
const LOOPBACK_HOST = '127.0.0.1';
const UNAUTHORIZED_MESSAGE = 'unauthorized';

export interface LokiReceiverOptions {
  /** Port to bind on 127.0.0.1; default 0 (any free port). */
  port?: number;
  /** Multi-tenant Loki: a push without X-Scope-OrgID gets `401 no org id`. */
  tenantRequired?: boolean;
  /** Credentials a gateway in front of Loki demands (401 otherwise). */
  auth?: { bearerToken: string } | { username: string; password: string };
  /**
   * Like a misconfigured gateway: a refused request's answer quotes the Authorization header it got,
   * cut after `chars` characters when given (a secret that must be masked even when cut).
   */
  echoAuthorization?: { readonly chars?: number };
  maxLineSizeBytes?: number;
  /**
   * Largest request body accepted (a proxy's `client_max_body_size`, or Loki's
   * `distributor.max_recv_msg_size`); a larger one is answered `413` and not stored. Off unless given.
   */
  maxBodyBytes?: number;
  rejectOldSamplesMaxAgeMs?: number;
  creationGracePeriodMs?: number;
  /** How far behind its stream's newest entry an entry may be (Loki: max_chunk_age / 2 = 1 h). */
  outOfOrderWindowMs?: number;
  maxLabelNamesPerSeries?: number;
  maxLabelNameLengthBytes?: number;
  maxLabelValueLengthBytes?: number;
  /** Per-tenant ingestion rate limit (429 beyond it); off unless given. */
  ingestionRateLimit?: IngestionRateLimit;
  /** Clock in epoch milliseconds for the timestamp checks; default Date.now. */
  now?: () => number;
}

export interface PushRecord {
  /** Wall-clock time the request was read (not the `now` option, which only drives validation). */
  receivedAtMs: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** 0 while unanswered (and forever for a `hang` fault). */
  status: number;
  /** Exactly what was sent back (Loki's plain-text errors end with a newline). */
  responseBody: string;
  entriesInRequest: number;
  entriesStored: number;
  /** 1 for the first request on its connection, 2 for the second (a reused keep-alive socket), ... */
  socketRequestIndex: number;
  /** The injected fault this request got, if any. */
  fault: RequestFault['kind'] | undefined;
}

export interface LokiReceiver {
  /** Base URL, e.g. http://127.0.0.1:PORT (no trailing slash). */
  readonly url: string;
  /** url + /loki/api/v1/push */
  readonly pushUrl: string;
  readonly port: number;
  /** Everything stored, in arrival order (after dedupe). */
  entries(): ReceivedEntry[];
  /** Stored streams, optionally of one tenant. */
  streams(filter?: { readonly tenant: string | undefined }): StoredStream[];
  /** Every request to the push path, in arrival order. */
  requests(): PushRecord[];
  /** Resolves when at least `count` entries are stored; rejects listing what arrived on timeout. */
  waitForEntries(count: number, timeoutMs?: number): Promise<ReceivedEntry[]>;
  /** Resolves when at least `count` push requests have been read (answered or not). */
  waitForRequests(count: number, timeoutMs?: number): Promise<PushRecord[]>;
  /** Injects a fault; the returned promise resolves once it is in effect (only `down`/`up` take time). */
  inject(fault: LokiFault): Promise<void>;
  /** Forgets queued per-request faults (does not bring a `down` receiver up). */
  clearFaults(): void;
  /** Changes the credentials the gateway demands from now on (a rotated secret); undefined: none. */
  setAuth(auth: LokiReceiverOptions['auth']): void;
  /** The tail websockets: what was asked, and faults of their own. */
  readonly tails: TailControl;
  close(): Promise<void>;
}

export interface TailControl {
  /** Every accepted tail request (query, start, limit, headers), in order. */
  requests(): TailRecord[];
  /** Tail websockets open now. */
  readonly openCount: number;
  /** Resolves once `count` tail websockets have been accepted in total (reconnects count). */
  waitForTails(count: number, timeoutMs?: number): Promise<TailRecord[]>;
  /** Drops every open tail websocket: abruptly, or with a close frame when `graceful`. */
  drop(options?: { readonly graceful?: boolean }): void;
  /** While on, websocket upgrades are answered 400 like a plain GET (a proxy without websockets). */
  refuseWebsockets(on: boolean): void;
}

interface SocketState {
  requests: number;
  inFlight: number;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function expectedAuthorization(auth: NonNullable<LokiReceiverOptions['auth']>): string {
  if ('bearerToken' in auth) return `Bearer ${auth.bearerToken}`;
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
}

function isAuthorized(headers: IncomingHttpHeaders, expected: string): boolean {
  const given = headerValue(headers, 'authorization') ?? '';
  const [givenScheme = '', ...givenRest] = given.trim().split(/\s+/);
  const [expectedScheme = '', expectedCredentials = ''] = expected.split(' ');
  return (
    givenScheme.toLowerCase() === expectedScheme.toLowerCase() && givenRest.join(' ') === expectedCredentials
  );
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(undefined));
    req.on('aborted', () => resolve(undefined));
  });
}

function countEntries(headers: IncomingHttpHeaders, body: Buffer): number {
  try {
    return parsePushBody(headers, body).streams.reduce((sum, stream) => sum + stream.entries.length, 0);
  } catch {
    return 0;
  }
}

export async function startLokiReceiver(options: LokiReceiverOptions = {}): Promise<LokiReceiver> {
  const now = options.now ?? Date.now;
  const limits: LokiLimits = {
    ...LOKI_LIMITS_DEFAULT,
    ...definedOnly({
      maxLineSizeBytes: options.maxLineSizeBytes,
      rejectOldSamplesMaxAgeMs: options.rejectOldSamplesMaxAgeMs,
      creationGracePeriodMs: options.creationGracePeriodMs,
      outOfOrderWindowMs: options.outOfOrderWindowMs,
      maxLabelNamesPerSeries: options.maxLabelNamesPerSeries,
      maxLabelNameLengthBytes: options.maxLabelNameLengthBytes,
      maxLabelValueLengthBytes: options.maxLabelValueLengthBytes,
    }),
  };
  const store = new LokiStore({
    outOfOrderWindowMs: limits.outOfOrderWindowMs,
    maxReturnedErrors: limits.maxReturnedErrors,
  });
  const rateLimiter =
    options.ingestionRateLimit === undefined
      ? undefined
      : new IngestionRateLimiter(options.ingestionRateLimit);
  let expectedAuth = options.auth === undefined ? undefined : expectedAuthorization(options.auth);
  const tailHub = new TailHub(store, now);
  const faults = new FaultQueue();
  const records: PushRecord[] = [];
  const recordListeners = new Set<() => void>();
  const sockets = new Map<Socket, SocketState>();
  const timers = new Set<NodeJS.Timeout>();
  const pendingWaits = new Set<(error: Error) => void>();
  let server: Server | undefined;
  let closed = false;

  function send(
    res: ServerResponse,
    record: PushRecord,
    status: number,
    message: string,
    headers: Record<string, string> = {},
  ): void {
    // The connection is gone (receiver went down, or the client gave up): nothing is answered.
    if (res.destroyed || res.socket === null || res.socket.destroyed) return;
    // Loki answers errors with Go's http.Error: plain text plus a newline.
    const body = status === 204 ? '' : `${message}\n`;
    record.status = status;
    record.responseBody = body;
    if (status === 204) {
      res.writeHead(204, headers).end();
      return;
    }
    res
      .writeHead(status, {
        ...headers,
        'content-type': 'text/plain; charset=utf-8',
        'x-content-type-options': 'nosniff',
      })
      .end(body);
  }

  function plain(res: ServerResponse, status: number, body: string): void {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const socketState = sockets.get(req.socket);
    const socketRequestIndex = socketState === undefined ? 1 : ++socketState.requests;
    if (socketState !== undefined) {
      socketState.inFlight++;
      let done = false;
      const finished = (): void => {
        if (done) return;
        done = true;
        socketState.inFlight--;
      };
      res.on('finish', finished);
      res.on('close', finished);
    }
    const requestUrl = new URL(req.url ?? '/', 'http://receiver');
    const path = requestUrl.pathname;
    if (path === '/ready' && req.method === 'GET') return plain(res, 200, 'ready\n');
    if (path === QUERY_RANGE_PATH || path === TAIL_PATH) {
      const problem = authProblem(req.headers);
      if (problem !== undefined) return plain(res, 401, `${problem}\n`);
      if (path === TAIL_PATH) return plain(res, 400, TailHub.plainRequestAnswer().body);
      const answer = answerQueryRange(requestUrl, req.headers, readableStreams(req.headers), now());
      res.writeHead(answer.status, { 'content-type': answer.contentType }).end(answer.body);
      return;
    }
    if (path !== PUSH_PATH && path !== LEGACY_PUSH_PATH) return plain(res, 404, '404 page not found\n');

    const body = await readBody(req);
    if (body === undefined || closed) return;
    const record: PushRecord = {
      receivedAtMs: Date.now(),
      method: req.method ?? '',
      path,
      headers: req.headers,
      status: 0,
      responseBody: '',
      entriesInRequest: 0,
      entriesStored: 0,
      socketRequestIndex,
      fault: undefined,
    };
    records.push(record);
    for (const listener of recordListeners) listener();

    if (req.method !== 'POST') {
      record.status = 405;
      res.writeHead(405).end();
      return;
    }
    const fault = faults.take();
    record.fault = fault?.kind;
    if (fault?.kind === 'hang') {
      record.entriesInRequest = countEntries(req.headers, body);
      return;
    }
    if (fault?.kind === 'redirect') {
      record.entriesInRequest = countEntries(req.headers, body);
      return send(res, record, fault.status, STATUS_CODES[fault.status] ?? '', { location: fault.location });
    }
    if (options.maxBodyBytes !== undefined && body.length > options.maxBodyBytes) {
      record.entriesInRequest = countEntries(req.headers, body);
      return send(res, record, 413, 'request body too large');
    }
    if (fault?.kind === 'status') {
      record.entriesInRequest = countEntries(req.headers, body);
      const headers: Record<string, string> =
        fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
      return send(res, record, fault.status, fault.body ?? STATUS_CODES[fault.status] ?? '', headers);
    }

    const [status, message] = ingest(req.headers, body, record);
    if (fault?.kind === 'delay') {
      const timer = setTimeout(() => {
        timers.delete(timer);
        send(res, record, status, message);
      }, fault.ms);
      timers.add(timer);
      return;
    }
    send(res, record, status, message);
  }

  function unauthorizedMessage(headers: IncomingHttpHeaders): string {
    if (options.echoAuthorization === undefined) return UNAUTHORIZED_MESSAGE;
    const got = headerValue(headers, 'authorization') ?? '';
    return `${UNAUTHORIZED_MESSAGE}: got "${got}"`.slice(
      0,
      UNAUTHORIZED_MESSAGE.length + 7 + (options.echoAuthorization.chars ?? got.length),
    );
  }

  /** Loki's 401 message for a request without valid credentials or (multi-tenant) without a tenant. */
  function authProblem(headers: IncomingHttpHeaders): string | undefined {
    const tenant = headerValue(headers, 'x-scope-orgid');
    return expectedAuth !== undefined && !isAuthorized(headers, expectedAuth)
      ? unauthorizedMessage(headers)
      : options.tenantRequired && (tenant === undefined || tenant === '')
        ? NO_ORG_ID_MESSAGE
        : undefined;
  }

  /** What a query may read: its tenant's streams when multi-tenant, everything otherwise. */
  function tailAccess(headers: IncomingHttpHeaders): TailAccess {
    const tenant = headerValue(headers, 'x-scope-orgid');
    return { canRead: (streamTenant) => !options.tenantRequired || streamTenant === tenant };
  }

  function readableStreams(headers: IncomingHttpHeaders): StoredStream[] {
    const access = tailAccess(headers);
    return store.streams().filter((stream) => access.canRead(stream.tenant));
  }

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const requestUrl = new URL(req.url ?? '/', 'http://receiver');
    if (requestUrl.pathname !== TAIL_PATH) {
      writePlain(socket, 404, '404 page not found');
      return;
    }
    const problem = authProblem(req.headers);
    if (problem !== undefined) {
      writePlain(socket, 401, problem);
      return;
    }
    tailHub.upgrade(req, socket, head, requestUrl, tailAccess(req.headers));
  }

  function ingest(headers: IncomingHttpHeaders, body: Buffer, record: PushRecord): [number, string] {
    const tenant = headerValue(headers, 'x-scope-orgid');
    const unauthorized = authProblem(headers);
    if (unauthorized !== undefined) {
      record.entriesInRequest = countEntries(headers, body);
      return [401, unauthorized];
    }
    let request: ReturnType<typeof parsePushBody>;
    try {
      request = parsePushBody(headers, body);
    } catch (error) {
      if (error instanceof PushDecodeError) return [400, error.message];
      throw error;
    }
    const outcome = ingestPush(request, {
      store,
      limits,
      rateLimiter,
      nowMs: now(),
      tenant,
      tenantName: options.tenantRequired && tenant !== undefined ? tenant : SINGLE_TENANT_ID,
    });
    record.entriesInRequest = outcome.entriesInRequest;
    record.entriesStored = outcome.entriesStored;
    return [outcome.status, outcome.message];
  }

  function newServer(): Server {
    const created = createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS }, (req, res) => {
      handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) plain(res, 500, `${error instanceof Error ? error.message : String(error)}\n`);
      });
    });
    created.on('upgrade', handleUpgrade);
    created.on('connection', (socket: Socket) => {
      sockets.set(socket, { requests: 0, inFlight: 0 });
      socket.on('close', () => sockets.delete(socket));
    });
    return created;
  }

  function listen(target: Server, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      target.once('error', reject);
      target.listen(port, LOOPBACK_HOST, () => {
        target.off('error', reject);
        resolve((target.address() as AddressInfo).port);
      });
    });
  }

  function dropConnections(predicate: (state: SocketState) => boolean, reset: boolean): void {
    for (const [socket, state] of sockets) {
      if (!predicate(state)) continue;
      if (reset) socket.resetAndDestroy();
      else socket.destroy();
    }
  }

  async function stopListening(): Promise<void> {
    const current = server;
    if (current === undefined) return;
    server = undefined;
    const stopped = new Promise<void>((resolve) => current.close(() => resolve()));
    dropConnections(() => true, false);
    await stopped;
  }

  server = newServer();
  const port = await listen(server, options.port ?? 0);
  const url = `http://${LOOPBACK_HOST}:${port}`;

  function waitFor<T>(
    what: string,
    ready: () => T | undefined,
    subscribe: (check: () => void) => () => void,
    timeoutMs: number,
    describe: () => string,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      if (closed) {
        reject(new Error('the Loki receiver is closed'));
        return;
      }
      let unsubscribe = (): void => {};
      const finish = (): void => {
        clearTimeout(timer);
        unsubscribe();
        pendingWaits.delete(fail);
      };
      const fail = (error: Error): void => {
        finish();
        reject(error);
      };
      const check = (): void => {
        const value = ready();
        if (value === undefined) return;
        finish();
        resolve(value);
      };
      const timer = setTimeout(
        () => fail(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${describe()}`)),
        timeoutMs,
      );
      pendingWaits.add(fail);
      unsubscribe = subscribe(check);
      check();
    });
  }

  function describeArrivals(): string {
    const entries = store.entries();
    const shown = entries
      .slice(0, 20)
      .map((entry) => `  ${entry.stream} ${entry.timestampNs} ${JSON.stringify(entry.line)}`);
    const more = entries.length > shown.length ? [`  ... and ${entries.length - shown.length} more`] : [];
    const answers = records.map(
      (record) => `  ${record.status || 'unanswered'} ${JSON.stringify(record.responseBody)}`,
    );
    return [
      `${entries.length} entries stored:`,
      ...shown,
      ...more,
      `${records.length} push requests:`,
      ...answers,
    ].join('\n');
  }

  return {
    url,
    pushUrl: `${url}${PUSH_PATH}`,
    port,
    entries: () => store.entries(),
    streams: (filter) => store.streams(filter),
    requests: () => [...records],
    waitForEntries: (count, timeoutMs = WAIT_TIMEOUT_MS_DEFAULT) =>
      waitFor(
        `${count} stored entries`,
        () => (store.size >= count ? store.entries() : undefined),
        (check) => store.onAppend(check),
        timeoutMs,
        describeArrivals,
      ),
    waitForRequests: (count, timeoutMs = WAIT_TIMEOUT_MS_DEFAULT) =>
      waitFor(
        `${count} push requests`,
        () => (records.length >= count ? [...records] : undefined),
        (check) => {
          recordListeners.add(check);
          return () => recordListeners.delete(check);
        },
        timeoutMs,
        describeArrivals,
      ),
    async inject(fault) {
      if (closed) throw new Error('the Loki receiver is closed');
      if (isRequestFault(fault)) {
        faults.add(fault);
        return;
      }
      switch (fault.kind) {
        case 'down':
          await stopListening();
          return;
        case 'up':
          if (server !== undefined) return;
          server = newServer();
          await listen(server, port);
          return;
        case 'closeIdleSockets':
          dropConnections((state) => state.inFlight === 0, fault.reset === true);
          return;
      }
    },
    clearFaults: () => faults.clear(),
    setAuth(auth) {
      expectedAuth = auth === undefined ? undefined : expectedAuthorization(auth);
    },
    tails: {
      requests: () => tailHub.requests(),
      get openCount() {
        return tailHub.openCount;
      },
      waitForTails: (count, timeoutMs = WAIT_TIMEOUT_MS_DEFAULT) => tailHub.waitForTails(count, timeoutMs),
      drop: (dropOptions) => tailHub.drop(dropOptions?.graceful === true),
      refuseWebsockets: (on) => tailHub.refuseWebsockets(on),
    },
    async close() {
      if (closed) return;
      closed = true;
      tailHub.close();
      faults.clear();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const fail of [...pendingWaits]) fail(new Error('the Loki receiver was closed'));
      await stopListening();
      dropConnections(() => true, false);
    },
  };
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
