/**
 * Lambda's side of the Telemetry API: queue the subscribed events and POST them as JSON arrays,
 * batched by `maxItems` / `maxBytes` / `timeoutMs` (a batch goes as soon as any limit is reached),
 * one POST in flight at a time, nothing sent while the sandbox is frozen.
 */
import http from 'node:http';
import { eventBytes, logsDroppedEvent, type TelemetryEvent } from './lambda-events.js';
import type { TelemetrySubscription } from './lambda-subscription.js';

/** Attempts per batch before it is dropped (and a `platform.logsDropped` event is queued). */
export const DELIVERY_ATTEMPTS = 3;
export const DELIVERY_RETRY_BACKOFF_MS = 50;
export const DELIVERY_TIMEOUT_MS = 10_000;

/** One POST to the extension's listener, as recorded by the emulator. */
export interface TelemetryDelivery {
  readonly sentAtMs: number;
  readonly answeredAtMs: number | undefined;
  /** HTTP status of the answer; undefined when the request failed (refused, reset, timed out). */
  readonly status: number | undefined;
  readonly ok: boolean;
  readonly error: string | undefined;
  /** 1 for the first try of a batch, 2+ for retries. */
  readonly attempt: number;
  readonly bytes: number;
  readonly events: readonly TelemetryEvent[];
}

export interface PostOutcome {
  readonly status?: number;
  readonly error?: string;
}

export type PostBatch = (uri: string, body: string) => Promise<PostOutcome>;

export interface DispatcherDeps {
  readonly subscription: TelemetrySubscription;
  readonly post: PostBatch;
  readonly now: () => number;
  /** True while the sandbox is frozen: deliveries wait for the thaw. */
  readonly isPaused: () => boolean;
  readonly onDelivery: (delivery: TelemetryDelivery) => void;
  /**
   * Lambda Managed Instances: a batch that is due while the previous POST is still in flight is
   * dropped (and reported with `platform.logsDropped`), and a failed POST is not retried.
   */
  readonly dropWhenBusy?: boolean;
}

interface Queued {
  readonly event: TelemetryEvent;
  readonly bytes: number;
  readonly queuedAt: number;
}

export class TelemetryDispatcher {
  private readonly queue: Queued[] = [];
  private retry: { readonly items: readonly Queued[]; readonly attempt: number } | undefined;
  private inFlight = false;
  private batchTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private forced = false;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  private dropped = 0;

  constructor(private readonly deps: DispatcherDeps) {}

  get droppedRecords(): number {
    return this.dropped;
  }

  enqueue(event: TelemetryEvent): void {
    if (this.stopped) return;
    this.queue.push({ event, bytes: eventBytes(event), queuedAt: this.deps.now() });
    this.pump();
  }

  /** From now on send whatever is queued without waiting for `timeoutMs` (Lambda at shutdown). */
  flushAll(): Promise<void> {
    this.forced = true;
    this.pump();
    return this.idle();
  }

  /** Resolves when nothing is queued or in flight, or the dispatcher is stopped. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.batchTimer);
    clearTimeout(this.retryTimer);
    this.notifyIdle();
  }

  /** Sends the next batch if one is due; called on every change (enqueue, timer, thaw, answer). */
  pump(): void {
    if (this.stopped || this.deps.isPaused()) return;
    if (this.inFlight) {
      if (this.deps.dropWhenBusy) this.dropDueBatch();
      return;
    }
    if (this.retry !== undefined) {
      if (this.retryTimer !== undefined) return;
      const { items, attempt } = this.retry;
      this.retry = undefined;
      void this.send(items, attempt + 1);
      return;
    }
    const first = this.queue[0];
    if (first === undefined) {
      this.notifyIdle();
      return;
    }
    const { count, full } = this.nextBatchSize();
    const { timeoutMs } = this.deps.subscription.buffering;
    const age = this.deps.now() - first.queuedAt;
    if (!this.forced && !full && age < timeoutMs) {
      this.armBatchTimer(timeoutMs - age);
      return;
    }
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    void this.send(this.queue.splice(0, count), 1);
  }

  /** Managed Instances: the due batch cannot wait for the POST in flight, so Lambda drops it. */
  private dropDueBatch(): void {
    const first = this.queue[0];
    if (first === undefined) return;
    const { count, full } = this.nextBatchSize();
    const age = this.deps.now() - first.queuedAt;
    const { timeoutMs } = this.deps.subscription.buffering;
    // A flush (shutdown) waits for the POST in flight; only a batch that is full or old is dropped.
    if (!full && age < timeoutMs) {
      this.armBatchTimer(timeoutMs - age);
      return;
    }
    this.reportDropped(this.queue.splice(0, count));
  }

  private nextBatchSize(): { count: number; full: boolean } {
    const { maxItems, maxBytes } = this.deps.subscription.buffering;
    let count = 0;
    let bytes = 0;
    for (const item of this.queue) {
      if (count === maxItems) break;
      // A single event larger than maxBytes still goes, alone.
      if (count > 0 && bytes + item.bytes > maxBytes) break;
      count += 1;
      bytes += item.bytes;
    }
    const full = count === maxItems || bytes >= maxBytes || count < this.queue.length;
    return { count, full };
  }

  private armBatchTimer(delayMs: number): void {
    if (this.batchTimer !== undefined) return;
    this.batchTimer = setTimeout(
      () => {
        this.batchTimer = undefined;
        this.pump();
      },
      Math.max(0, Math.ceil(delayMs)),
    );
    this.batchTimer.unref();
  }

  private async send(items: readonly Queued[], attempt: number): Promise<void> {
    this.inFlight = true;
    const events = items.map((item) => item.event);
    const body = JSON.stringify(events);
    const sentAtMs = this.deps.now();
    const outcome = await this.deps.post(this.deps.subscription.destination.URI, body);
    const answeredAtMs = outcome.status === undefined ? undefined : this.deps.now();
    const ok = outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300;
    this.inFlight = false;
    this.deps.onDelivery({
      sentAtMs,
      answeredAtMs,
      status: outcome.status,
      ok,
      error: ok ? undefined : (outcome.error ?? `HTTP ${outcome.status}`),
      attempt,
      bytes: Buffer.byteLength(body),
      events,
    });
    if (!ok && !this.stopped) this.afterFailure(items, attempt);
    this.pump();
  }

  private afterFailure(items: readonly Queued[], attempt: number): void {
    if (attempt < DELIVERY_ATTEMPTS && !this.deps.dropWhenBusy) {
      this.retry = { items, attempt };
      this.retryTimer = setTimeout(
        () => {
          this.retryTimer = undefined;
          this.pump();
        },
        DELIVERY_RETRY_BACKOFF_MS * 2 ** (attempt - 1),
      );
      this.retryTimer.unref();
      return;
    }
    this.reportDropped(items);
  }

  private reportDropped(items: readonly Queued[]): void {
    this.dropped += items.length;
    // Report the loss like Lambda does, but never for a batch that only reported losses (no loop).
    const onlyDropReports = items.every((item) => item.event.type === 'platform.logsDropped');
    if (!onlyDropReports && this.deps.subscription.types.includes('platform')) {
      const bytes = items.reduce((sum, item) => sum + item.bytes, 0);
      this.enqueue(logsDroppedEvent(this.deps.now(), items.length, bytes));
    }
  }

  private isIdle(): boolean {
    return this.stopped || (this.queue.length === 0 && this.retry === undefined && !this.inFlight);
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * POSTs one batch. `sandbox.localdomain` (or `sandbox`, the hosts Lambda's listener URIs use) is mapped to
 * 127.0.0.1 here, so the product keeps its real default; the Host header stays as written.
 */
export function postTelemetryBatch(uri: string, body: string): Promise<PostOutcome> {
  const url = new URL(uri);
  const host =
    url.hostname === 'sandbox.localdomain' || url.hostname === 'sandbox' ? '127.0.0.1' : url.hostname;
  return new Promise((resolve) => {
    const request = http.request(
      {
        host,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        // A fresh connection per batch: nothing stale survives a freeze.
        agent: false,
        headers: {
          host: url.host,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (response) => {
        const status = response.statusCode;
        response.resume();
        response.on('end', () => resolve(status === undefined ? {} : { status }));
        response.on('error', (error) => resolve({ error: error.message }));
      },
    );
    request.setTimeout(DELIVERY_TIMEOUT_MS, () =>
      request.destroy(new Error(`no answer within ${DELIVERY_TIMEOUT_MS} ms`)),
    );
    request.on('error', (error) => resolve({ error: error.message }));
    request.end(body);
  });
}
