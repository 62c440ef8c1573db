/** One log line read back from Loki (query_range or tail). */
export interface LokiEntry {
  /** Nanoseconds since the epoch, exactly as Loki returned them. */
  readonly timestampNs: bigint;
  /** The stream's labels (application, environment, function, source, extra labels). */
  readonly labels: Readonly<Record<string, string>>;
  /** Structured metadata (request_id, function_version), empty when Loki has none. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly line: string;
}

/** Structured metadata names the extension writes (DESIGN.md §4). */
export const METADATA_NAMES = ['request_id', 'function_version'] as const;

export const NS_PER_MS = 1_000_000n;

export function msToNs(ms: number): bigint {
  return BigInt(Math.trunc(ms)) * NS_PER_MS;
}

/** ISO 8601 with milliseconds, UTC. */
export function isoTime(timestampNs: bigint): string {
  return new Date(Number(timestampNs / NS_PER_MS)).toISOString();
}

/** Oldest first; ties broken by stream then line so the order is stable. */
export function compareEntries(a: LokiEntry, b: LokiEntry): number {
  if (a.timestampNs !== b.timestampNs) return a.timestampNs < b.timestampNs ? -1 : 1;
  const streamA = JSON.stringify(a.labels);
  const streamB = JSON.stringify(b.labels);
  if (streamA !== streamB) return streamA < streamB ? -1 : 1;
  return a.line < b.line ? -1 : a.line > b.line ? 1 : 0;
}
