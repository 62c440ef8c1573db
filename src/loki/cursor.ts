import { createHash } from 'node:crypto';
import type { LokiEntry } from './entry.js';

/** Lines longer than this are remembered by a hash rather than whole. */
const KEY_LINE_CHARS_MAX = 200;

/**
 * Remembers which entries were printed so that a reconnect, a poll or the switch from history to
 * live can ask Loki again from a little before the newest entry seen, yet print each entry once.
 *
 * Loki's tail sends what it ingests, whatever its timestamp, and Lambda logs often arrive late
 * (pushed after the invocation). Asking again from `newest - overlap` catches those that reached
 * Loki while we were not connected; the entries in that window are remembered to skip repeats.
 */
export class EntryCursor {
  private readonly seen = new Map<string, bigint>();
  private newestNs: bigint | undefined;
  private floorNs: bigint;
  private prunedAtNs: bigint;

  /**
   * @param floorNs Nothing older is asked for again (the start of `--since`, or the oldest history
   *   line printed when the history was cut by `--limit`).
   * @param overlapNs How far behind the newest entry seen a resumed query starts.
   */
  constructor(
    floorNs: bigint,
    private readonly overlapNs: bigint,
  ) {
    this.floorNs = floorNs;
    this.prunedAtNs = floorNs;
  }

  /** True when the entry was not seen before (and remembers it). */
  accept(entry: LokiEntry): boolean {
    const key = keyOf(entry);
    if (this.seen.has(key)) return false;
    this.seen.set(key, entry.timestampNs);
    if (this.newestNs === undefined || entry.timestampNs > this.newestNs) this.newestNs = entry.timestampNs;
    this.prune();
    return true;
  }

  /** Raises the floor: entries older than this are never asked for again. */
  raiseFloor(ns: bigint): void {
    if (ns > this.floorNs) this.floorNs = ns;
  }

  /** Where a resumed query starts: `overlap` before the newest entry seen (or `fallbackNs`), not below the floor. */
  resumeFromNs(fallbackNs: bigint): bigint {
    const from = (this.newestNs ?? fallbackNs) - this.overlapNs;
    // bigint: Math.max does not apply
    if (from < this.floorNs) return this.floorNs;
    return from;
  }

  /** How many entries are remembered (for tests). */
  get size(): number {
    return this.seen.size;
  }

  /** Forgets entries no resumed query can return again; cheap because it runs rarely. */
  private prune(): void {
    if (this.newestNs === undefined) return;
    const keepFrom = this.newestNs - this.overlapNs;
    if (keepFrom - this.prunedAtNs < this.overlapNs) return;
    for (const [key, timestampNs] of this.seen) if (timestampNs < keepFrom) this.seen.delete(key);
    this.prunedAtNs = keepFrom;
  }
}

function keyOf(entry: LokiEntry): string {
  const labels = Object.keys(entry.labels)
    .sort()
    .map((name) => `${name}=${entry.labels[name]}`)
    .join(',');
  const line =
    entry.line.length > KEY_LINE_CHARS_MAX
      ? `#${createHash('sha256').update(entry.line).digest('base64')}`
      : entry.line;
  return `${labels}\u0000${entry.timestampNs}\u0000${line}`;
}
