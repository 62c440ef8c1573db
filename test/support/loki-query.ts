/**
 * The read side of the test receiver: `GET /loki/api/v1/query_range` over what loki-store.ts holds,
 * answering with Loki's JSON (pkg/util/marshal/query.go). With the request header
 * `X-Loki-Response-Encoding-Flags: categorize-labels` each value carries a third element
 * `{"structuredMetadata": {...}}`; without it, structured metadata is merged into the stream labels
 * (entries with different metadata become different streams), as Loki 3 does.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { formatLabels } from './loki-labels.js';
import {
  type LogQuery,
  LogqlParseError,
  matchesStream,
  parseLogQuery,
  passesPipeline,
} from './loki-logql.js';
import type { ReceivedEntry, StoredStream } from './loki-store.js';

export const QUERY_RANGE_PATH = '/loki/api/v1/query_range';
export const ENCODING_FLAGS_HEADER = 'x-loki-response-encoding-flags';
export const CATEGORIZE_LABELS = 'categorize-labels';
/** Loki's defaults: 100 lines unless asked, at most 5000 (`max_entries_limit_per_query`), the last hour. */
export const QUERY_LIMIT_DEFAULT = 100;
export const MAX_ENTRIES_LIMIT_PER_QUERY = 5000;
export const QUERY_SINCE_DEFAULT_MS = 60 * 60 * 1000;
const NS_PER_MS = 1_000_000n;

export type Direction = 'forward' | 'backward';

export interface QueryAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export class QueryParamError extends Error {
  override name = 'QueryParamError';
}

/** Loki's timestamp parameters: ≤ 10 digits are seconds, more are nanoseconds; or float seconds; or RFC 3339. */
export function parseTimestampNs(value: string | null, fallbackNs: bigint, name: string): bigint {
  if (value === null || value === '') return fallbackNs;
  if (/^-?\d+$/.test(value))
    return value.replace('-', '').length <= 10 ? BigInt(value) * 1_000_000_000n : BigInt(value);
  if (/^-?\d+\.\d+$/.test(value)) {
    const [whole = '0', fraction = ''] = value.split('.');
    return BigInt(whole) * 1_000_000_000n + BigInt(fraction.padEnd(9, '0').slice(0, 9));
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new QueryParamError(`invalid ${name} parameter: cannot parse "${value}" to a valid timestamp`);
  return BigInt(ms) * NS_PER_MS;
}

export function parseLimit(value: string | null, fallback: number): number {
  if (value === null || value === '') return fallback;
  if (!/^\d+$/.test(value)) throw new QueryParamError(`invalid limit parameter: cannot parse "${value}"`);
  const limit = Number(value);
  if (limit <= 0) throw new QueryParamError('limit must be a positive value');
  if (limit > MAX_ENTRIES_LIMIT_PER_QUERY) {
    throw new QueryParamError(
      `max entries limit per query exceeded, limit > max_entries_limit_per_query (${limit} > ${MAX_ENTRIES_LIMIT_PER_QUERY})`,
    );
  }
  return limit;
}

export function wantsCategorizedLabels(headers: IncomingHttpHeaders): boolean {
  const value = headers[ENCODING_FLAGS_HEADER];
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return text.split(',').some((flag) => flag.trim() === CATEGORIZE_LABELS);
}

/** Entries of these streams that match the query and lie in [startNs, endNs), oldest first. */
export function selectEntries(
  streams: readonly StoredStream[],
  query: LogQuery,
  startNs: bigint,
  endNs: bigint,
): ReceivedEntry[] {
  const selected: ReceivedEntry[] = [];
  for (const stream of streams) {
    if (!matchesStream(query, stream.labels)) continue;
    for (const entry of stream.entries) {
      if (entry.timestampNs < startNs || entry.timestampNs >= endNs) continue;
      if (passesPipeline(query, entry)) selected.push(entry);
    }
  }
  return selected.sort(byTime);
}

export function byTime(a: ReceivedEntry, b: ReceivedEntry): number {
  return a.timestampNs < b.timestampNs ? -1 : a.timestampNs > b.timestampNs ? 1 : 0;
}

/** Loki's `streams` array: one object per stream (per stream + metadata without categorize-labels). */
export function encodeStreams(entries: readonly ReceivedEntry[], categorize: boolean): unknown[] {
  const streams = new Map<string, { stream: Record<string, string>; values: unknown[] }>();
  for (const entry of entries) {
    const labels = categorize ? { ...entry.labels } : { ...entry.labels, ...entry.metadata };
    const pairs = Object.keys(labels)
      .sort()
      .map((name) => ({ name, value: labels[name]! }));
    const key = formatLabels(pairs);
    let stream = streams.get(key);
    if (stream === undefined) {
      stream = { stream: Object.fromEntries(pairs.map((pair) => [pair.name, pair.value])), values: [] };
      streams.set(key, stream);
    }
    const value: unknown[] = [entry.timestampNs.toString(), entry.line];
    if (categorize) {
      value.push(Object.keys(entry.metadata).length > 0 ? { structuredMetadata: { ...entry.metadata } } : {});
    }
    stream.values.push(value);
  }
  return [...streams.values()];
}

/** Answers a query_range request against the streams the caller may read. */
export function answerQueryRange(
  url: URL,
  headers: IncomingHttpHeaders,
  streams: readonly StoredStream[],
  nowMs: number,
): QueryAnswer {
  const params = url.searchParams;
  let query: LogQuery;
  let startNs: bigint;
  let endNs: bigint;
  let limit: number;
  let direction: Direction;
  try {
    const text = params.get('query') ?? '';
    query = parseLogQuery(text);
    endNs = parseTimestampNs(params.get('end'), BigInt(Math.trunc(nowMs)) * NS_PER_MS, 'end');
    startNs = parseTimestampNs(
      params.get('start'),
      endNs - BigInt(QUERY_SINCE_DEFAULT_MS) * NS_PER_MS,
      'start',
    );
    if (endNs < startNs) throw new QueryParamError('end timestamp must not be before or equal to start time');
    limit = parseLimit(params.get('limit'), QUERY_LIMIT_DEFAULT);
    const dir = params.get('direction') ?? 'backward';
    if (dir !== 'forward' && dir !== 'backward') throw new QueryParamError(`invalid direction "${dir}"`);
    direction = dir;
  } catch (error) {
    if (error instanceof LogqlParseError || error instanceof QueryParamError) {
      return { status: 400, contentType: 'text/plain; charset=utf-8', body: `${error.message}\n` };
    }
    throw error;
  }
  const matching = selectEntries(streams, query, startNs, endNs);
  const chosen = direction === 'forward' ? matching.slice(0, limit) : matching.reverse().slice(0, limit);
  const categorize = wantsCategorizedLabels(headers);
  const data: Record<string, unknown> = { resultType: 'streams' };
  if (categorize) data.encodingFlags = [CATEGORIZE_LABELS];
  data.result = encodeStreams(chosen, categorize);
  data.stats = { summary: { totalEntriesReturned: chosen.length } };
  return {
    status: 200,
    contentType: 'application/json; charset=UTF-8',
    body: JSON.stringify({ status: 'success', data }),
  };
}
