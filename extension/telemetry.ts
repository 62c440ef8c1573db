/** Telemetry API events, schema 2022-12-13: only the fields the extension reads. */

export interface TelemetryEvent {
  readonly time: string;
  readonly type: string;
  readonly record: unknown;
}

export const TELEMETRY_SCHEMA_VERSION = '2022-12-13';
/** Lambda's minimum batch limits for the subscription; small batches arrive sooner. */
export const TELEMETRY_BUFFER_MAX_ITEMS = 1_000;
export const TELEMETRY_BUFFER_MAX_BYTES = 256 * 1024;
/** The path of the listener in the subscription's destination URI. */
export const TELEMETRY_LISTENER_PATH = '/telemetry';
/** The only schema Lambda Managed Instances accept (DESIGN.md §6). */
export const MANAGED_INSTANCES_SCHEMA_VERSION = '2025-01-29';

/** Keeps only well-formed events from a POSTed body; anything else is counted, never thrown. */
export function parseTelemetryBatch(body: string): { events: TelemetryEvent[]; invalid: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { events: [], invalid: 1 };
  }
  if (!Array.isArray(parsed)) return { events: [], invalid: 1 };
  const events: TelemetryEvent[] = [];
  let invalid = 0;
  for (const item of parsed) {
    if (isEvent(item)) events.push(item);
    else invalid++;
  }
  return { events, invalid };
}

function isEvent(item: unknown): item is TelemetryEvent {
  if (typeof item !== 'object' || item === null) return false;
  const event = item as Record<string, unknown>;
  return typeof event.type === 'string' && typeof event.time === 'string';
}

/** A record field read defensively: telemetry is input we do not control. */
export function field(record: unknown, name: string): unknown {
  return typeof record === 'object' && record !== null
    ? (record as Record<string, unknown>)[name]
    : undefined;
}

export function stringField(record: unknown, name: string): string | undefined {
  const value = field(record, name);
  return typeof value === 'string' ? value : undefined;
}

export function numberField(record: unknown, name: string): number | undefined {
  const value = field(record, name);
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * Compact JSON of a record that never throws: a record nested thousands deep (JSON.parse takes it,
 * JSON.stringify overflows the stack) becomes a marker line instead of an exception.
 */
export function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch (error) {
    return `[loki-lambda: record not serializable: ${(error as Error).message}]`;
  }
}

/** Text of any JSON value for a log line, never throwing (a `{"toString":1}` breaks String() and join). */
export function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return safeJson(value);
}
