import { entryCostBytes } from './entry-cost.js';
import { formatPlatformEvent } from './platform-lines.js';
import { safeJson, stringField, type TelemetryEvent } from './telemetry.js';

export const SOURCES = ['function', 'platform', 'extension'] as const;
export type Source = (typeof SOURCES)[number];

/** One log line on its way to Loki. Plain data: the buffer and encoder need nothing else. */
export interface LogEntry {
  readonly source: Source;
  /** Milliseconds since the epoch, from the Telemetry event's `time`. */
  readonly timeMs: number;
  /** Nanoseconds added within the millisecond so that entries of one stream stay distinct. */
  readonly nanosInMs: number;
  readonly line: string;
  readonly requestId: string | undefined;
  /** Bytes this entry holds in the heap (at least its size on the wire): what the buffer bound counts. */
  readonly sizeBytes: number;
}

/** Loki's default max_line_size: longer lines are truncated here, with a marker, rather than rejected there. */
export const MAX_LINE_BYTES = 256 * 1024;
const NANOS_PER_MS = 1_000_000;
/** An event dated later than this past our clock is stamped with our clock: one must not drag a stream ahead. */
const FUTURE_TOLERANCE_MS = 1_000;
/**
 * An event this far behind its stream's last stamp starts the stream over at its own time instead of
 * being moved forward (Loki takes entries up to 10 minutes in its future: a clamp stays within that).
 */
const MAX_CLAMP_MS = 10 * 60 * 1000;

/**
 * Turns Telemetry events into log entries. Holds the little state that needs: the request in
 * progress (text-format function lines carry no request id) and the last timestamp per stream.
 *
 * Timestamps of one stream only increase, by at least a nanosecond, so Loki never merges two lines
 * (it drops an entry equal in stream, timestamp and line to one it has): an event dated before the
 * previous one is stamped just after it, whatever the clock did. Each sandbox starts every
 * millisecond at its own random nanosecond offset, so two sandboxes writing the same line in the
 * same millisecond to the same stream do not collide either (one chance in a million per pair).
 */
export class EntryMaker {
  private currentRequestId: string | undefined;
  private readonly lastTime = new Map<Source, { timeMs: number; nanosInMs: number }>();
  // Events of one batch often share their `time` string: parse it once.
  private lastTimeText = '';
  private lastTimeMs = 0;

  constructor(
    private readonly now: () => number = Date.now,
    /** Told of each line cut to MAX_LINE_BYTES, so truncation is counted. */
    private readonly onTruncated: () => void = () => {},
    /**
     * Give a function line without a request id the id of the last `platform.start`: right where
     * invocations run one at a time, wrong where they overlap (Lambda Managed Instances).
     */
    private readonly attributeToCurrentRequest = true,
    /** This sandbox's nanosecond offset within a millisecond, 0..999,999 (random per sandbox). */
    private readonly sandboxNanos = 0,
  ) {}

  /** Returns the entry for an event, or undefined for an event type that carries no log. */
  make(event: TelemetryEvent): LogEntry | undefined {
    const source = sourceOf(event.type);
    if (source === undefined) return undefined;
    if (event.type === 'platform.start') this.currentRequestId = stringField(event.record, 'requestId');
    const requestId =
      source === 'platform'
        ? stringField(event.record, 'requestId')
        : source === 'function'
          ? (stringField(event.record, 'requestId') ??
            (this.attributeToCurrentRequest ? this.currentRequestId : undefined))
          : undefined;
    const written = wellFormed(source === 'platform' ? formatPlatformEvent(event) : recordLine(event.record));
    const line = truncateLine(written);
    if (line !== written) this.onTruncated();
    if (event.time !== this.lastTimeText) {
      this.lastTimeText = event.time;
      this.lastTimeMs = parseTime(event.time, this.now);
    }
    const { timeMs, nanosInMs } = this.distinctTime(source, this.lastTimeMs);
    return { source, timeMs, nanosInMs, line, requestId, sizeBytes: entryCostBytes(line, byteLength(line)) };
  }

  /** A stamp strictly after the stream's previous one (see the class comment). */
  private distinctTime(source: Source, eventMs: number): { timeMs: number; nanosInMs: number } {
    const last = this.lastTime.get(source);
    const timeMs = Math.min(eventMs, this.now() + FUTURE_TOLERANCE_MS);
    let time: { timeMs: number; nanosInMs: number };
    if (last === undefined || timeMs > last.timeMs || timeMs < last.timeMs - MAX_CLAMP_MS) {
      time = { timeMs, nanosInMs: this.sandboxNanos };
    } else if (last.nanosInMs + 1 < NANOS_PER_MS) {
      time = { timeMs: last.timeMs, nanosInMs: last.nanosInMs + 1 };
    } else {
      time = { timeMs: last.timeMs + 1, nanosInMs: 0 };
    }
    this.lastTime.set(source, time);
    return time;
  }
}

function sourceOf(type: string): Source | undefined {
  if (type === 'function') return 'function';
  if (type === 'extension') return 'extension';
  if (type.startsWith('platform.')) return 'platform';
  return undefined;
}

/** Function and extension records as written: strings as-is, JSON-format records as compact JSON. */
function recordLine(record: unknown): string {
  if (typeof record === 'string') return record.endsWith('\n') ? record.slice(0, -1) : record;
  return safeJson(record);
}

function parseTime(time: string, now: () => number): number {
  const ms = Date.parse(time);
  return Number.isFinite(ms) ? ms : now();
}

/** Lone surrogates cannot be encoded as UTF-8; replace them instead of sending invalid bytes. */
function wellFormed(line: string): string {
  return line.isWellFormed() ? line : line.toWellFormed();
}

export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Cuts a line to MAX_LINE_BYTES on a character boundary and says how much was cut. */
export function truncateLine(line: string, maxBytes = MAX_LINE_BYTES): string {
  if (line.length * 3 <= maxBytes) return line; // cannot exceed: at most 3 UTF-8 bytes per UTF-16 unit
  const bytes = Buffer.from(line, 'utf8');
  if (bytes.length <= maxBytes) return line;
  const marker = ` …[truncated by loki-lambda: ${bytes.length} bytes, limit ${maxBytes}]`;
  let end = maxBytes - byteLength(marker);
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--; // back to the start of a UTF-8 character
  return bytes.subarray(0, end).toString('utf8') + marker;
}

/** A line of loki-lambda's own (e.g. how many entries the buffer bound dropped), on the extension stream. */
export function noticeEntry(line: string, nowMs: number): LogEntry {
  return {
    source: 'extension',
    timeMs: nowMs,
    nanosInMs: 0,
    line,
    requestId: undefined,
    sizeBytes: entryCostBytes(line, byteLength(line)),
  };
}
