import type { Logger } from './logger.js';

/**
 * Why entries did not reach Loki as written, promtail-style. Every drop is counted under one of these;
 * truncation is counted too although the (shortened) line is still shipped.
 */
export type DropReason =
  /**
   * The buffer bound was reached and the oldest entries went, named by what Loki was doing then:
   * unreachable (refused, reset, no answer in time), answering an HTTP error (429, 5xx), or taking
   * pushes, only slower than the function logged.
   */
  | 'buffer_full_unreachable'
  | `buffer_full_http_${number}`
  | 'buffer_full_too_fast'
  /** Loki refused the batch with a 4xx other than 429 (the status is in the count's name). */
  | `rejected_http_${number}`
  /** A batch could not be encoded or sent (a bug, not Loki): dropped rather than retried forever. */
  | 'encode_error'
  /** Loki refused them as too far behind their stream's newest entry (its out-of-order window). */
  | 'too_far_behind'
  /** Still buffered when the shutdown deadline came. */
  | 'left_at_shutdown';

const TRUNCATED = 'line_too_long';

interface Tally {
  entries: number;
  bytes: number;
}

/**
 * Counts what was dropped and why, and reports Loki's health once per change (not once per attempt).
 * What was dropped since the last notice becomes a notice entry shipped to Loki; the totals since the
 * start are printed at shutdown.
 */
export class DeliveryReport {
  private sinceNotice = new Map<string, Tally>();
  private readonly total = new Map<string, Tally>();
  /** Undefined while Loki takes pushes (as far as we know); else how it fails. */
  private failure: { readonly status: number | undefined } | undefined;

  /** @param bufferLimit how the buffer bound is named in a notice, e.g. `LOKI_MAX_BUFFER_BYTES=65536` */
  constructor(
    private readonly log: Logger,
    private readonly bufferLimit: string,
  ) {}

  dropped(reason: DropReason, entries: number, bytes: number): void {
    if (entries <= 0) return;
    add(this.sinceNotice, reason, entries, bytes);
    add(this.total, reason, entries, bytes);
  }

  truncated(lines: number): void {
    if (lines <= 0) return;
    add(this.sinceNotice, TRUNCATED, lines, 0);
    add(this.total, TRUNCATED, lines, 0);
  }

  /** The buffer bound dropped entries just now: counted under what Loki is doing at this moment. */
  bufferDropped(entries: number, bytes: number): void {
    const reason: DropReason =
      this.failure === undefined
        ? 'buffer_full_too_fast'
        : this.failure.status === undefined
          ? 'buffer_full_unreachable'
          : `buffer_full_http_${this.failure.status}`;
    this.dropped(reason, entries, bytes);
  }

  /** Loki could not take a batch in time: one line per outage, debug lines after. */
  pushFailed(reason: string, buffered: number, status?: number): void {
    if (this.failure === undefined)
      this.log.warn(`cannot push to Loki, keeping ${buffered} entries for later: ${reason}`);
    else this.log.debug(`push still failing (${buffered} entries buffered): ${reason}`);
    this.failure = { status };
  }

  pushAccepted(): void {
    if (this.failure !== undefined) this.log.info('Loki accepts pushes again');
    this.failure = undefined;
  }

  /** True from a failed push until Loki accepts one again. */
  get failing(): boolean {
    return this.failure !== undefined;
  }

  /** The line telling Loki what was dropped since the last notice, or undefined when nothing was. */
  takeNotice(): string | undefined {
    const dropped = droppedOnly(this.sinceNotice);
    if (dropped.entries === 0) return undefined;
    const line = `loki-lambda dropped ${dropped.entries} log entries (${dropped.bytes} bytes): ${this.describe(this.sinceNotice)}`;
    this.sinceNotice = new Map();
    return line;
  }

  /** The shutdown line, or undefined when everything was delivered as written. */
  shutdownLine(reason: string, left: number): string | undefined {
    if (left === 0 && this.total.size === 0) return undefined;
    const head =
      left > 0
        ? `shutting down (${reason}) with ${left} entries Loki could not take in time`
        : `shutting down (${reason})`;
    return this.total.size === 0 ? head : `${head}; since start: ${this.describe(this.total)}`;
  }

  private describe(tallies: ReadonlyMap<string, Tally>): string {
    const parts = [...tallies].map(([reason, { entries }]) => `${entries} ${this.explain(reason)}`);
    const counts = [...tallies].map(([reason, { entries }]) => `${reason}=${entries}`).join(' ');
    return `${parts.join(', ')} [${counts}]`;
  }

  private explain(reason: string): string {
    const limit = `the buffer limit ${this.bufferLimit} was reached`;
    if (reason === 'buffer_full_unreachable') return `dropped while Loki was unreachable (${limit})`;
    if (reason === 'buffer_full_too_fast')
      return `dropped because the function logged faster than Loki accepted (${limit})`;
    const answered = /^buffer_full_http_(\d+)$/.exec(reason)?.[1];
    if (answered !== undefined) return `dropped while Loki answered HTTP ${answered} (${limit})`;
    if (reason === 'encode_error') return 'dropped because they could not be encoded';
    if (reason === 'left_at_shutdown') return 'left unsent at shutdown';
    if (reason === 'too_far_behind')
      return "refused by Loki as too far behind their stream's newest entry (Loki's out-of-order window)";
    if (reason === TRUNCATED) return 'truncated to the maximum line size (still shipped)';
    const status = /^rejected_http_(\d+)$/.exec(reason)?.[1];
    if (status === undefined) return `dropped (${reason})`;
    // Loki stores the valid entries of a push it answers 400: some of these may have arrived.
    return status === '400'
      ? 'in pushes Loki refused with HTTP 400 (it keeps the valid entries of such a push)'
      : `rejected by Loki (HTTP ${status})`;
  }
}

function add(tallies: Map<string, Tally>, reason: string, entries: number, bytes: number): void {
  const tally = tallies.get(reason);
  if (tally === undefined) tallies.set(reason, { entries, bytes });
  else {
    tally.entries += entries;
    tally.bytes += bytes;
  }
}

function droppedOnly(tallies: ReadonlyMap<string, Tally>): Tally {
  let entries = 0;
  let bytes = 0;
  for (const [reason, tally] of tallies) {
    if (reason === TRUNCATED) continue;
    entries += tally.entries;
    bytes += tally.bytes;
  }
  return { entries, bytes };
}
