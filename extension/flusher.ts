import type { LogEntry } from './entries.js';
import type { EntryBuffer } from './entry-buffer.js';
import type { Logger } from './logger.js';
import type { PushOutcome } from './loki-push.js';

/** Uncompressed bytes per push request: large enough to be cheap, small enough for any Loki limit. */
export const MAX_PUSH_BYTES = 1024 * 1024;

export interface FlushResult {
  readonly sent: number;
  readonly rejected: number;
  /** True when Loki could not take everything in time; the rest stays buffered. */
  readonly incomplete: boolean;
}

export interface FlusherDeps {
  readonly buffer: EntryBuffer;
  /** Encodes and sends one batch, with retries, within the deadline. */
  readonly send: (entries: readonly LogEntry[], deadlineMs: number) => Promise<PushOutcome>;
  /** The entry reporting entries the buffer bound dropped, shipped once Loki accepts again. */
  readonly dropNotice: (entries: number, bytes: number) => LogEntry;
  readonly now: () => number;
  readonly log: Logger;
}

/** After a failed flush, skip optional pushes for this long, doubling up to the maximum. */
export const FAILURE_COOLDOWN_INITIAL_MS = 1_000;
export const FAILURE_COOLDOWN_MAX_MS = 16_000;

/** Drains the buffer to Loki in batches; one flush at a time, each bounded by its deadline. */
export class Flusher {
  private running: Promise<unknown> = Promise.resolve();
  private lastFailure: string | undefined;
  private cooldownMs = 0;
  private retryNotBeforeMs = 0;

  constructor(private readonly deps: FlusherDeps) {}

  /**
   * True while Loki recently failed: a push in an invocation's critical path would most likely only
   * add billed time. Wall-clock based, so it holds across freezes.
   */
  coolingDown(): boolean {
    return this.deps.now() < this.retryNotBeforeMs;
  }

  flush(deadlineMs: number): Promise<FlushResult> {
    const result = this.running.then(() => this.drain(deadlineMs));
    this.running = result.catch(() => undefined);
    return result;
  }

  private async drain(deadlineMs: number): Promise<FlushResult> {
    const { buffer, log } = this.deps;
    let sent = 0;
    let rejected = 0;
    while (buffer.length > 0) {
      if (this.deps.now() >= deadlineMs) return { sent, rejected, incomplete: true };
      const batch = buffer.take(MAX_PUSH_BYTES);
      const outcome = await this.sendSafely(batch, deadlineMs);
      if (outcome.kind === 'accepted') {
        sent += batch.length;
        this.recovered();
      } else if (outcome.kind === 'rejected') {
        rejected += batch.length;
        log.warn(
          outcome.status === 0
            ? `dropped a push of ${batch.length} entries: ${outcome.reason}`
            : `Loki rejected a push of ${batch.length} entries (HTTP ${outcome.status}): ${outcome.reason}`,
        );
      } else {
        buffer.putBack(batch);
        // One line per outage, not one per attempt: the buffer keeps the entries for the next chance.
        if (this.lastFailure === undefined) {
          log.warn(`cannot push to Loki, keeping ${buffer.length} entries for later: ${outcome.reason}`);
        } else {
          log.debug(`push still failing (${buffer.length} entries buffered): ${outcome.reason}`);
        }
        this.lastFailure = outcome.reason;
        this.cooldownMs = Math.min(
          FAILURE_COOLDOWN_MAX_MS,
          Math.max(FAILURE_COOLDOWN_INITIAL_MS, this.cooldownMs * 2),
        );
        this.retryNotBeforeMs = this.deps.now() + this.cooldownMs;
        return { sent, rejected, incomplete: true };
      }
    }
    return { sent, rejected, incomplete: false };
  }

  /** An unexpected error (a bug, not Loki) drops that batch rather than retrying it forever. */
  private async sendSafely(batch: readonly LogEntry[], deadlineMs: number): Promise<PushOutcome> {
    try {
      return await this.deps.send(batch, deadlineMs);
    } catch (error) {
      return { kind: 'rejected', status: 0, reason: `could not encode or send: ${(error as Error).message}` };
    }
  }

  private recovered(): void {
    this.cooldownMs = 0;
    this.retryNotBeforeMs = 0;
    if (this.lastFailure !== undefined) {
      this.deps.log.info('Loki accepts pushes again');
      this.lastFailure = undefined;
    }
    const dropped = this.deps.buffer.takeDropReport();
    if (dropped) this.deps.buffer.add(this.deps.dropNotice(dropped.entries, dropped.bytes));
  }
}
