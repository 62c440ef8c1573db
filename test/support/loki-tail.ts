/**
 * The tail side of the test receiver: `GET /loki/api/v1/tail` upgraded to a websocket (the `ws`
 * package), as Loki's querier serves it: on connect it sends the newest `limit` matching entries
 * since `start` (oldest first), then every matching entry as it is stored, in messages
 * `{"streams":[{"stream":{...},"values":[["<ns>","<line>"]]}]}` (pkg/util/marshal EncodeTailResult).
 * Tests can drop every tail websocket (Loki's tail_max_duration, a proxy's idle timeout) and make
 * the receiver refuse websockets (a proxy that strips the Upgrade header).
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  type LogQuery,
  LogqlParseError,
  matchesStream,
  parseLogQuery,
  passesPipeline,
} from './loki-logql.js';
import {
  byTime,
  CATEGORIZE_LABELS,
  encodeStreams,
  parseLimit,
  parseTimestampNs,
  QueryParamError,
  selectEntries,
  wantsCategorizedLabels,
} from './loki-query.js';
import type { LokiStore, ReceivedEntry } from './loki-store.js';

export const TAIL_PATH = '/loki/api/v1/tail';
/** Loki's defaults for a tail: 100 lines of history from the last hour. */
export const TAIL_LIMIT_DEFAULT = 100;
export const TAIL_SINCE_DEFAULT_MS = 60 * 60 * 1000;
/** What Loki (gorilla/websocket) answers a tail request that is not a websocket upgrade. */
export const NOT_WEBSOCKET_MESSAGE =
  "websocket: the client is not using the websocket protocol: 'upgrade' token not found in 'Connection' header";
const NS_PER_MS = 1_000_000n;

/** One tail request the receiver accepted, for assertions (e.g. where a reconnect resumed). */
export interface TailRecord {
  readonly query: string;
  readonly startNs: bigint;
  readonly limit: number;
  readonly headers: IncomingHttpHeaders;
}

export interface TailAccess {
  /** Whether an entry's tenant may be read by this request. */
  readonly canRead: (tenant: string | undefined) => boolean;
}

interface OpenTail {
  readonly socket: WebSocket;
  readonly unsubscribe: () => void;
}

export class TailHub {
  private readonly server = new WebSocketServer({ noServer: true });
  private readonly open = new Set<OpenTail>();
  private readonly records: TailRecord[] = [];
  private readonly listeners = new Set<() => void>();
  private refusing = false;

  constructor(
    private readonly store: LokiStore,
    private readonly now: () => number,
  ) {}

  /** Handles an upgrade request to TAIL_PATH whose auth was already checked. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL, access: TailAccess): void {
    if (this.refusing) {
      writePlain(socket, 400, NOT_WEBSOCKET_MESSAGE);
      return;
    }
    let query: LogQuery;
    let startNs: bigint;
    let limit: number;
    try {
      query = parseLogQuery(url.searchParams.get('query') ?? '');
      const nowNs = BigInt(Math.trunc(this.now())) * NS_PER_MS;
      startNs = parseTimestampNs(
        url.searchParams.get('start'),
        nowNs - BigInt(TAIL_SINCE_DEFAULT_MS) * NS_PER_MS,
        'start',
      );
      limit = parseLimit(url.searchParams.get('limit'), TAIL_LIMIT_DEFAULT);
    } catch (error) {
      if (error instanceof LogqlParseError || error instanceof QueryParamError) {
        writePlain(socket, 400, error.message);
        return;
      }
      throw error;
    }
    const categorize = wantsCategorizedLabels(req.headers);
    this.server.handleUpgrade(req, socket, head, (ws) => {
      this.records.push({ query: url.searchParams.get('query') ?? '', startNs, limit, headers: req.headers });
      // Replay and subscribe in one synchronous step, so no entry stored in between is missed.
      const streams = this.store.streams().filter((stream) => access.canRead(stream.tenant));
      const replay = selectEntries(streams, query, startNs, BigInt(Number.MAX_SAFE_INTEGER) * NS_PER_MS);
      const history = replay.slice(Math.max(0, replay.length - limit));
      const unsubscribe = this.store.onAppend((stored) => {
        const matching = stored.filter(
          (entry) =>
            access.canRead(entry.tenant) &&
            matchesStream(query, entry.labels) &&
            passesPipeline(query, entry),
        );
        if (matching.length > 0) send(ws, [...matching].sort(byTime), categorize);
      });
      const tail: OpenTail = { socket: ws, unsubscribe };
      this.open.add(tail);
      ws.on('close', () => {
        unsubscribe();
        this.open.delete(tail);
      });
      ws.on('error', () => ws.terminate());
      if (history.length > 0) send(ws, history, categorize);
      for (const listener of this.listeners) listener();
    });
  }

  /** Answers a tail request that is not an upgrade, as Loki does. */
  static plainRequestAnswer(): { status: number; body: string } {
    return { status: 400, body: `${NOT_WEBSOCKET_MESSAGE}\n` };
  }

  /** Every accepted tail request so far. */
  requests(): TailRecord[] {
    return [...this.records];
  }

  /** Tail websockets open now. */
  get openCount(): number {
    return this.open.size;
  }

  /** Resolves once `count` tail requests have been accepted in total. */
  waitForTails(count: number, timeoutMs: number): Promise<TailRecord[]> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.records.length < count) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(this.requests());
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${count} tail websockets; ${this.records.length} opened`,
          ),
        );
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  /**
   * Drops every open tail: abruptly by default (a proxy or a network cut: the client sees 1006),
   * or with a close frame (`graceful`, as when Loki ends a tail at its maximum duration).
   */
  drop(graceful = false): void {
    for (const tail of [...this.open]) {
      tail.unsubscribe();
      this.open.delete(tail);
      if (graceful) tail.socket.close(1000, 'reached tail max duration limit');
      else tail.socket.terminate();
    }
  }

  /** While on, upgrade requests are answered like plain GETs (400): websockets are not possible. */
  refuseWebsockets(on: boolean): void {
    this.refusing = on;
  }

  close(): void {
    this.drop();
    this.server.close();
  }
}

function send(ws: WebSocket, entries: readonly ReceivedEntry[], categorize: boolean): void {
  const message: Record<string, unknown> = { streams: encodeStreams(entries, categorize) };
  if (categorize) message.encodingFlags = [CATEGORIZE_LABELS];
  ws.send(JSON.stringify(message));
}

/** Writes a plain HTTP answer on a socket that was asking to upgrade, and closes it. */
export function writePlain(socket: Duplex, status: number, message: string): void {
  const body = `${message}\n`;
  const reason =
    status === 400 ? 'Bad Request' : status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
