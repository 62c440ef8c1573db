import type { DeliveryReport } from './delivery-report.js';
import type { LogEntry } from './entries.js';
import type { EntryBuffer } from './entry-buffer.js';
import type { Logger } from './logger.js';
import type { PushOutcome } from './loki-push.js';

/** Uncompressed bytes per push request: large enough to be cheap, small enough for any Loki limit. */
export const MAX_PUSH_BYTES = 1024 * 1024;
/** A push that ends this long after its deadline can only have been frozen: HTTP timeouts are exact. */
const FROZEN_SLACK_MS = 1_000;

export interface PushResult {
  readonly sent: number;
  readonly rejected: number;
  /** Loki could not take a batch in time (down, slow, 429, 5xx): it and the rest stay buffered. */
  readonly failed: boolean;
  /** Loki asked to wait this long (Retry-After) beyond the push's budget. */
  readonly retryAfterMs?: number;
}

export interface FlusherDeps {
  readonly buffer: EntryBuffer;
  /** Encodes and sends one batch, with retries, within the deadline; stops early when `signal` aborts. */
  readonly send: (
    entries: readonly LogEntry[],
    deadlineMs: number,
    signal: AbortSignal,
  ) => Promise<PushOutcome>;
  readonly report: DeliveryReport;
  /** Uncompressed bytes per push request (at most half the buffer bound, so one batch never fills it). */
  readonly batchBytes: number;
  /** An entry of loki-lambda's own (the drop notice), stamped now. */
  readonly notice: (line: string) => LogEntry;
  readonly now: () => number;
  readonly log: Logger;
}

/**
 * One push: drains the buffer to Loki in batches until it is empty, the deadline comes, or Loki
 * fails. When to push is not its business (push-decision.ts); it only does it and counts drops.
 */
export class Flusher {
  private current:
    | { deadlineMs: number; readonly abort: AbortController; timer?: NodeJS.Timeout }
    | undefined;

  constructor(private readonly deps: FlusherDeps) {}

  /**
   * Brings the deadline of the push in flight forward (e.g. `end`'s budget after runtimeDone): a
   * request still running then is cut, and its batch kept for the next push.
   */
  shorten(deadlineMs: number): void {
    const current = this.current;
    if (current === undefined || deadlineMs >= current.deadlineMs) return;
    current.deadlineMs = deadlineMs;
    clearTimeout(current.timer);
    current.timer = setTimeout(() => current.abort.abort(), Math.max(0, deadlineMs - this.deps.now()));
  }

  async push(deadlineMs: number): Promise<PushResult> {
    const current = { deadlineMs, abort: new AbortController() } as NonNullable<typeof this.current>;
    this.current = current;
    try {
      return await this.drain(current);
    } finally {
      clearTimeout(current.timer);
      if (this.current === current) this.current = undefined;
    }
  }

  private async drain(current: NonNullable<typeof this.current>): Promise<PushResult> {
    const { buffer, report, log } = this.deps;
    let sent = 0;
    let rejected = 0;
    let batchBytes = this.deps.batchBytes;
    // Loki answered last time: what was dropped since rides with this push, if it takes no one's room.
    if (!report.failing && buffer.sizeBytes < batchBytes) this.queueNotice();
    while (buffer.length > 0) {
      if (this.deps.now() >= current.deadlineMs || current.abort.signal.aborted) break;
      const batch = buffer.take(batchBytes);
      const outcome = await this.sendSafely(batch, current.deadlineMs, current.abort.signal);
      if (outcome.kind === 'accepted') {
        sent += batch.length;
        this.accepted();
      } else if (outcome.kind === 'too-large' && batch.length > 1) {
        // Split: the halves go in the next requests of this push (and so on, down to one entry).
        this.putBack(batch);
        batchBytes = Math.max(1, Math.floor(bytesOf(batch) / 2));
        log.debug(
          `Loki found a push of ${batch.length} entries too large (${outcome.reason}); pushing halves`,
        );
      } else if (outcome.kind === 'rejected' || outcome.kind === 'too-large') {
        const status = outcome.kind === 'too-large' ? 413 : outcome.status;
        const tooFarBehind = outcome.kind === 'rejected' ? (outcome.tooFarBehind ?? 0) : 0;
        if (tooFarBehind > 0) {
          const stored = Math.max(0, batch.length - tooFarBehind);
          sent += stored;
          rejected += batch.length - stored;
          report.dropped(
            'too_far_behind',
            batch.length - stored,
            Math.round((bytesOf(batch) * (batch.length - stored)) / batch.length),
          );
          log.warn(
            `Loki refused ${batch.length - stored} of ${batch.length} entries as too far behind the newest entry of their stream (Loki's out-of-order window: another sandbox of this function pushed newer ones); it stored the other ${stored}`,
          );
          if (stored > 0) this.accepted();
          continue;
        }
        rejected += batch.length;
        report.dropped(
          status === 0 ? 'encode_error' : `rejected_http_${status}`,
          batch.length,
          bytesOf(batch),
        );
        log.warn(
          status === 0
            ? `dropped a push of ${batch.length} entries: ${outcome.reason}`
            : `Loki rejected a push of ${batch.length} entries (HTTP ${status}): ${outcome.reason}`,
        );
      } else if (this.deps.now() > current.deadlineMs + FROZEN_SLACK_MS) {
        // Far past its deadline: the sandbox was frozen under this push (one started while the
        // runtime still ran). Not Loki's fault: keep the batch and try again, without a cooldown.
        this.putBack(batch);
        log.debug(`a push was interrupted by a freeze; ${buffer.length} entries kept for the next push`);
        return { sent, rejected, failed: false };
      } else {
        report.pushFailed(outcome.reason, buffer.length + batch.length, outcome.status);
        this.putBack(batch);
        return outcome.retryAfterMs === undefined
          ? { sent, rejected, failed: true }
          : { sent, rejected, failed: true, retryAfterMs: outcome.retryAfterMs };
      }
    }
    return { sent, rejected, failed: false };
  }

  /** An unexpected error (a bug, not Loki) drops that batch rather than retrying it forever. */
  private async sendSafely(
    batch: readonly LogEntry[],
    deadlineMs: number,
    signal: AbortSignal,
  ): Promise<PushOutcome> {
    try {
      return await this.deps.send(batch, deadlineMs, signal);
    } catch (error) {
      return { kind: 'rejected', status: 0, reason: `could not encode or send: ${(error as Error).message}` };
    }
  }

  /** Loki takes logs (again): say so, and queue the notice of what was dropped meanwhile. */
  private accepted(): void {
    this.deps.report.pushAccepted();
    this.queueNotice();
  }

  private queueNotice(): void {
    const notice = this.deps.report.takeNotice();
    if (notice !== undefined) this.add(this.deps.notice(notice));
  }

  /** Entries go back to the front; what the bound drops meanwhile is counted at once. */
  private putBack(batch: readonly LogEntry[]): void {
    this.deps.buffer.putBack(batch);
    countBufferDrops(this.deps.buffer, this.deps.report);
  }

  private add(entry: LogEntry): void {
    this.deps.buffer.add(entry);
    countBufferDrops(this.deps.buffer, this.deps.report);
  }
}

/** Attributes what the buffer bound just dropped to what Loki is doing now. */
export function countBufferDrops(buffer: EntryBuffer, report: DeliveryReport): void {
  const dropped = buffer.takeDropReport();
  if (dropped) report.bufferDropped(dropped.entries, dropped.bytes);
}

function bytesOf(entries: readonly LogEntry[]): number {
  let bytes = 0;
  for (const entry of entries) bytes += entry.sizeBytes;
  return bytes;
}
