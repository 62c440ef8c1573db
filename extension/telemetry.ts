/** Telemetry API events, schema 2022-12-13: only the fields the extension reads. */

export interface TelemetryEvent {
  readonly time: string;
  readonly type: string;
  readonly record: unknown;
}

export const TELEMETRY_SCHEMA_VERSION = '2022-12-13';

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
