import type { LogEntry } from './entries.js';

/** What the buffer dropped since it was last asked, to be reported as a log line. */
export interface DropReport {
  readonly entries: number;
  readonly bytes: number;
}

/**
 * Entries not yet accepted by Loki, oldest first, bounded in bytes: beyond the bound the oldest
 * entries are dropped and counted. Plain data, no timers or I/O (the flush decision lives elsewhere).
 */
export class EntryBuffer {
  // A queue: `head` is the oldest live entry; slots before it are cleared so dropped entries are freed.
  private items: Array<LogEntry | undefined> = [];
  private head = 0;
  private bytes = 0;
  private droppedEntries = 0;
  private droppedBytes = 0;

  constructor(private readonly maxBytes: number) {}

  get sizeBytes(): number {
    return this.bytes;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  add(entry: LogEntry): void {
    this.items.push(entry);
    this.bytes += entry.sizeBytes;
    this.enforceBound();
  }

  /** Removes and returns the oldest entries, up to maxBytes (always at least one when not empty). */
  take(maxBytes: number): LogEntry[] {
    let end = this.head;
    let bytes = 0;
    while (end < this.items.length) {
      const size = this.items[end]?.sizeBytes ?? 0;
      if (end > this.head && bytes + size > maxBytes) break;
      bytes += size;
      end++;
    }
    const taken = this.items.slice(this.head, end) as LogEntry[];
    this.items.fill(undefined, this.head, end);
    this.head = end;
    this.bytes -= bytes;
    this.compact();
    return taken;
  }

  /** Returns entries that could not be sent to the front, oldest first, still within the bound. */
  putBack(entries: readonly LogEntry[]): void {
    if (entries.length === 0) return;
    this.items = [...entries, ...this.items.slice(this.head)];
    this.head = 0;
    for (const entry of entries) this.bytes += entry.sizeBytes;
    this.enforceBound();
  }

  /** Returns and resets the count of entries dropped by the bound. */
  takeDropReport(): DropReport | undefined {
    if (this.droppedEntries === 0) return undefined;
    const report = { entries: this.droppedEntries, bytes: this.droppedBytes };
    this.droppedEntries = 0;
    this.droppedBytes = 0;
    return report;
  }

  private enforceBound(): void {
    while (this.bytes > this.maxBytes && this.head < this.items.length) {
      const oldest = this.items[this.head];
      this.items[this.head++] = undefined;
      if (oldest === undefined) break;
      this.bytes -= oldest.sizeBytes;
      this.droppedEntries++;
      this.droppedBytes += oldest.sizeBytes;
    }
    this.compact();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
