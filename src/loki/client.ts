import { type LokiConnection, queryHeaders } from './connection.js';
import { type LokiEntry, METADATA_NAMES } from './entry.js';
import {
  firstLine,
  LokiAuthError,
  LokiQueryError,
  LokiResponseError,
  LokiUnreachableError,
} from './errors.js';
import { type HttpGet, HttpGetAbortedError } from './http-get.js';

export const QUERY_RANGE_PATH = '/loki/api/v1/query_range';
export const TAIL_PATH = '/loki/api/v1/tail';
/** Asks Loki (2.9.3+/3.x) to keep structured metadata apart from stream labels in its answers. */
const ENCODING_FLAGS_HEADER = 'X-Loki-Response-Encoding-Flags';
export const CATEGORIZE_LABELS = 'categorize-labels';
export const QUERY_TIMEOUT_MS = 30_000;

export type Direction = 'forward' | 'backward';

export interface QueryRangeRequest {
  readonly query: string;
  /** Inclusive. */
  readonly startNs: bigint;
  /** Exclusive. */
  readonly endNs: bigint;
  readonly limit: number;
  readonly direction: Direction;
}

export interface LokiClient {
  readonly connection: LokiConnection;
  /** The headers of every request (auth, tenant, encoding flags), also used for the tail websocket. */
  readonly headers: Readonly<Record<string, string>>;
  /** Runs a log query; the entries come in Loki's order for `direction`. */
  queryRange(request: QueryRangeRequest, signal?: AbortSignal): Promise<LokiEntry[]>;
}

export function createLokiClient(connection: LokiConnection, get: HttpGet, userAgent: string): LokiClient {
  const headers = { ...queryHeaders(connection, userAgent), [ENCODING_FLAGS_HEADER]: CATEGORIZE_LABELS };
  return {
    connection,
    headers,
    async queryRange(request, signal) {
      const params = new URLSearchParams({
        query: request.query,
        start: request.startNs.toString(),
        end: request.endNs.toString(),
        limit: String(request.limit),
        direction: request.direction,
      });
      const url = `${connection.addr}${QUERY_RANGE_PATH}?${params.toString()}`;
      let response: Awaited<ReturnType<HttpGet>>;
      try {
        response = await get(url, headers, { timeoutMs: QUERY_TIMEOUT_MS, signal });
      } catch (error) {
        if (error instanceof HttpGetAbortedError) throw error;
        throw new LokiUnreachableError(connection.addr, networkReason(error), { cause: error });
      }
      if (response.status !== 200) throw errorForStatus(response.status, response.body, request.query);
      return parseQueryResponse(response.body);
    },
  };
}

/** The typed error for a non-success answer to a query or to a tail upgrade. */
export function errorForStatus(status: number, body: string, query: string): Error {
  const reason = firstLine(body);
  if (status === 401 || status === 403) return new LokiAuthError(status, reason);
  if (status === 400) return new LokiQueryError(query, reason);
  return new LokiResponseError(status, reason);
}

export function networkReason(error: unknown): string {
  const e = error as NodeJS.ErrnoException | undefined;
  return e?.code ?? e?.message ?? String(error);
}

/** Parses `{"status":"success","data":{"resultType":"streams","result":[...]}}`. */
export function parseQueryResponse(body: string): LokiEntry[] {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    throw new LokiResponseError(200, `the answer is not JSON: ${firstLine(body, 80)}`);
  }
  const root = data as { status?: unknown; data?: { resultType?: unknown; result?: unknown } };
  if (root.status !== 'success' || root.data === undefined) {
    throw new LokiResponseError(200, 'the answer is not a successful Loki query result');
  }
  if (root.data.resultType !== 'streams') {
    throw new LokiResponseError(
      200,
      `the query returned ${String(root.data.resultType)}, not log lines; give a log query (a stream selector and filters)`,
    );
  }
  return parseStreams(root.data.result);
}

/** Parses a `streams` array of a query or tail answer into entries (in the order given). */
export function parseStreams(streams: unknown): LokiEntry[] {
  if (!Array.isArray(streams)) throw new LokiResponseError(200, 'the answer has no streams');
  const entries: LokiEntry[] = [];
  for (const stream of streams as Array<{ stream?: unknown; values?: unknown }>) {
    const allLabels = stringRecord(stream.stream);
    // Without categorize-labels, Loki merges structured metadata into the stream labels.
    const labels: Record<string, string> = {};
    const merged: Record<string, string> = {};
    for (const [name, value] of Object.entries(allLabels)) {
      if ((METADATA_NAMES as readonly string[]).includes(name)) merged[name] = value;
      else labels[name] = value;
    }
    if (!Array.isArray(stream.values)) continue;
    for (const value of stream.values as unknown[]) {
      if (!Array.isArray(value) || typeof value[0] !== 'string' || typeof value[1] !== 'string') {
        throw new LokiResponseError(200, 'a stream value is not ["<ns>", "<line>"]');
      }
      const categorized = (value[2] ?? {}) as { structuredMetadata?: unknown };
      entries.push({
        timestampNs: BigInt(value[0]),
        labels,
        metadata: { ...merged, ...stringRecord(categorized.structuredMetadata) },
        line: value[1],
      });
    }
  }
  return entries;
}

function stringRecord(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  const record: Record<string, string> = {};
  for (const [name, item] of Object.entries(value)) if (typeof item === 'string') record[name] = item;
  return record;
}
