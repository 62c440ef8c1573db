import { type LokiClient, TAIL_PATH } from './client.js';
import { EntryCursor } from './cursor.js';
import { compareEntries, type LokiEntry, msToNs } from './entry.js';
import { LokiAuthError, LokiQueryError, LokiResponseError, LokiUnreachableError } from './errors.js';
import { runTailConnection, tailUrl, type WebSocketFactory } from './tail-socket.js';

/** How far behind the newest line a resumed tail or poll asks again: catches lines pushed late. */
export const RESUME_OVERLAP_MS = 5 * 60_000;
/** Lines Loki replays on (re)connecting a tail, and the page size of a poll (Loki's maximum is 5000). */
export const RESUME_LIMIT_LINES = 1000;
export const POLL_INTERVAL_MS = 2000;
export const RECONNECT_DELAY_MS_MIN = 500;
export const RECONNECT_DELAY_MS_MAX = 30_000;

export interface FollowDeps {
  readonly now: () => number;
  /** Resolves after `ms`; tail races it with the abort signal. */
  readonly sleep: (ms: number) => Promise<void>;
  readonly openWebSocket: WebSocketFactory;
  /** Aborted on Ctrl-C: ends the tail cleanly. */
  readonly signal: AbortSignal;
}

export interface FollowRequest {
  readonly query: string;
  readonly sinceMs: number;
  /** Lines of history to show first (the newest ones within --since). */
  readonly limit: number;
  readonly follow: boolean;
  readonly onEntry: (entry: LokiEntry) => void;
  /** Something the user should know that is not a log line (stderr). */
  readonly onNotice: (text: string) => void;
}

export type FollowMode = 'websocket' | 'polling';

/**
 * Prints the history (query_range, oldest first), then follows live through the tail websocket,
 * reconnecting and resuming without repeats, or by polling when websockets are not possible.
 * Resolves when done (--no-follow) or aborted; rejects with a typed error Loki's answer explains.
 */
export async function followLogs(
  client: LokiClient,
  request: FollowRequest,
  deps: FollowDeps,
): Promise<void> {
  const sinceNs = msToNs(request.sinceMs);
  const cursor = new EntryCursor(sinceNs, msToNs(RESUME_OVERLAP_MS));
  const historyEndNs = msToNs(deps.now()) + 1n;
  const history = await client.queryRange(
    {
      query: request.query,
      startNs: sinceNs,
      endNs: historyEndNs,
      limit: request.limit,
      direction: 'backward',
    },
    deps.signal,
  );
  history.sort(compareEntries);
  for (const entry of history) if (cursor.accept(entry)) request.onEntry(entry);
  // Cut by --limit: older lines were left out on purpose; never print them later.
  const oldest = history[0];
  if (history.length >= request.limit && oldest !== undefined) cursor.raiseFloor(oldest.timestampNs);
  if (!request.follow || deps.signal.aborted) return;

  const print = (entries: readonly LokiEntry[]): void => {
    for (const entry of [...entries].sort(compareEntries)) if (cursor.accept(entry)) request.onEntry(entry);
  };
  const mode = await followWebsocket(client, request, deps, cursor, historyEndNs, print);
  if (mode === 'polling') await poll(client, request, deps, cursor, historyEndNs, print);
}

async function followWebsocket(
  client: LokiClient,
  request: FollowRequest,
  deps: FollowDeps,
  cursor: EntryCursor,
  historyEndNs: bigint,
  print: (entries: readonly LokiEntry[]) => void,
): Promise<FollowMode | 'done'> {
  let failures = 0;
  let outage = false;
  while (!deps.signal.aborted) {
    const url = tailUrl(
      client.connection.addr,
      TAIL_PATH,
      request.query,
      cursor.resumeFromNs(historyEndNs),
      RESUME_LIMIT_LINES,
    );
    const end = await runTailConnection(
      deps.openWebSocket,
      url,
      client.headers,
      {
        onEntries: print,
        onDropped: (count) =>
          request.onNotice(`Loki left out ${count} lines: the tail could not keep up with the log volume`),
      },
      deps.signal,
    );
    switch (end.kind) {
      case 'aborted':
        return 'done';
      case 'refused': {
        const bodyLine = end.body.trim().split('\n')[0] ?? '';
        if (end.status === 401 || end.status === 403) throw new LokiAuthError(end.status, bodyLine);
        if (end.status === 400 && !/websocket/i.test(bodyLine))
          throw new LokiQueryError(request.query, bodyLine);
        request.onNotice(
          `Loki's tail websocket is not available (HTTP ${end.status}${bodyLine === '' ? '' : `: ${bodyLine}`}); polling every ${POLL_INTERVAL_MS / 1000} s instead`,
        );
        return 'polling';
      }
      case 'closed':
        if (outage) request.onNotice('reconnected to Loki');
        outage = false;
        // A connection that delivered lines was healthy: come back at once. An empty one backs off,
        // so that a server closing every tail straight away is not hammered.
        failures = end.receivedMessages > 0 ? 0 : failures + 1;
        break;
      case 'unreachable':
        if (!outage) request.onNotice(`lost the connection to Loki (${end.reason}); retrying`);
        outage = true;
        failures++;
        break;
    }
    await sleepUnlessAborted(deps, reconnectDelayMs(failures));
  }
  return 'done';
}

async function poll(
  client: LokiClient,
  request: FollowRequest,
  deps: FollowDeps,
  cursor: EntryCursor,
  historyEndNs: bigint,
  print: (entries: readonly LokiEntry[]) => void,
): Promise<void> {
  let startNs = cursor.resumeFromNs(historyEndNs);
  let failures = 0;
  while (!deps.signal.aborted) {
    const endNs = msToNs(deps.now()) + 1n;
    let page: LokiEntry[];
    try {
      page = await client.queryRange(
        { query: request.query, startNs, endNs, limit: RESUME_LIMIT_LINES, direction: 'forward' },
        deps.signal,
      );
    } catch (error) {
      if (deps.signal.aborted) return;
      if (!isTransient(error)) throw error;
      if (failures === 0) request.onNotice(`${(error as Error).message}; retrying`);
      failures++;
      await sleepUnlessAborted(deps, reconnectDelayMs(failures));
      continue;
    }
    if (failures > 0) request.onNotice('reconnected to Loki');
    failures = 0;
    print(page);
    const last = page.at(-1);
    if (page.length >= RESUME_LIMIT_LINES && last !== undefined && last.timestampNs > startNs) {
      startNs = last.timestampNs; // a full page: read the next one at once
      continue;
    }
    await sleepUnlessAborted(deps, POLL_INTERVAL_MS);
    startNs = cursor.resumeFromNs(endNs);
  }
}

function isTransient(error: unknown): boolean {
  return error instanceof LokiUnreachableError || (error instanceof LokiResponseError && error.status >= 500);
}

export function reconnectDelayMs(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(RECONNECT_DELAY_MS_MIN * 2 ** (failures - 1), RECONNECT_DELAY_MS_MAX);
}

function sleepUnlessAborted(deps: FollowDeps, ms: number): Promise<void> {
  if (ms <= 0 || deps.signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      deps.signal.removeEventListener('abort', done);
      resolve();
    };
    deps.signal.addEventListener('abort', done, { once: true });
    deps.sleep(ms).then(done, done);
  });
}
