import { stringField, type TelemetryEvent } from './telemetry.js';

/** How many request ids to remember: enough for any realistic reordering, bounded memory. */
const REMEMBERED_REQUESTS = 64;

/**
 * Remembers which invocations' `platform.runtimeDone` and `platform.report` have arrived, and lets
 * the event loop wait for one of them, bounded by a deadline.
 */
export class TelemetryTracker {
  private readonly runtimeDone = new Set<string>();
  private readonly reported = new Set<string>();
  private waiters: Array<{ ready: () => boolean; resolve: (arrived: boolean) => void }> = [];

  observe(events: readonly TelemetryEvent[]): void {
    for (const event of events) {
      const requestId = stringField(event.record, 'requestId');
      if (requestId === undefined) continue;
      if (event.type === 'platform.runtimeDone') remember(this.runtimeDone, requestId);
      else if (event.type === 'platform.report') remember(this.reported, requestId);
    }
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.ready()) return true;
      waiter.resolve(true);
      return false;
    });
  }

  /** Resolves true once that invocation's runtimeDone has arrived, false at the deadline. */
  waitForRuntimeDone(requestId: string, deadlineMs: number, now: number): Promise<boolean> {
    return this.waitUntil(() => this.runtimeDone.has(requestId), deadlineMs - now);
  }

  /** Resolves true once that invocation's report has arrived, false at the deadline. */
  waitForReport(requestId: string, deadlineMs: number, now: number): Promise<boolean> {
    return this.waitUntil(() => this.reported.has(requestId), deadlineMs - now);
  }

  private waitUntil(ready: () => boolean, timeoutMs: number): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    if (timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      const waiter = {
        ready,
        resolve: (arrived: boolean) => {
          clearTimeout(timer);
          resolve(arrived);
        },
      };
      this.waiters.push(waiter);
    });
  }
}

function remember(set: Set<string>, requestId: string): void {
  set.add(requestId);
  if (set.size > REMEMBERED_REQUESTS) {
    const oldest = set.values().next().value;
    if (oldest !== undefined) set.delete(oldest);
  }
}
