import type { FlushPolicy } from './flush-policy.js';
import type { FlushResult } from './flusher.js';
import type { Logger } from './logger.js';
import type { ExtensionEvent } from './runtime-api.js';
import type { TelemetryTracker } from './telemetry-tracker.js';

/** Call /next at least this long before an invocation's deadline, so the function never times out on us. */
export const INVOKE_DEADLINE_MARGIN_MS = 200;
/** At most this long pushing after the runtime is done (`end`): the cost of a slow Loki stays bounded. */
export const END_PUSH_BUDGET_MS = 1_500;
/** At most this long for a push that runs while the function runs (periodic, or a full batch). */
export const PARALLEL_PUSH_BUDGET_MS = 2_000;
/** At shutdown, stop waiting for the last telemetry this long before the deadline, to leave time to push. */
export const SHUTDOWN_PUSH_RESERVE_MS = 800;
/** Exit this long before the shutdown deadline, pushed or not: Lambda kills the process at the deadline. */
export const SHUTDOWN_EXIT_MARGIN_MS = 400;

export interface EventLoopDeps {
  readonly next: () => Promise<ExtensionEvent>;
  readonly tracker: TelemetryTracker;
  readonly flush: (deadlineMs: number) => Promise<FlushResult>;
  /** True while Loki recently failed: pushes that are not required wait for the cooldown to pass. */
  readonly coolingDown: () => boolean;
  readonly pendingEntries: () => number;
  readonly pendingBytes: () => number;
  /** A full batch: beyond this many buffered bytes, push during the invocation rather than wait. */
  readonly fullBatchBytes: number;
  readonly policy: FlushPolicy;
  readonly flushIntervalMs: number;
  readonly now: () => number;
  readonly log: Logger;
}

/**
 * The one place that decides when to push (DESIGN.md §5): after an invocation (`end`), at the start
 * of one when the interval has passed (`periodic`), during one when a full batch is buffered, and at
 * shutdown. Pushes only while an invocation is active, never where the sandbox may freeze mid-push.
 */
export class EventLoop {
  private invocationDeadlineMs: number | undefined;
  private inFlight: Promise<unknown> | undefined;
  private lastPushAtMs: number;

  constructor(private readonly deps: EventLoopDeps) {
    this.lastPushAtMs = deps.now();
  }

  /** Called after telemetry was buffered: a full batch is pushed at once, in parallel with the function. */
  onBuffered(): void {
    const { deps } = this;
    if (this.invocationDeadlineMs === undefined || this.inFlight !== undefined) return;
    if (deps.pendingBytes() < deps.fullBatchBytes || deps.coolingDown()) return;
    this.push(Math.min(this.invocationDeadlineMs, deps.now() + PARALLEL_PUSH_BUDGET_MS));
  }

  /** Runs until SHUTDOWN, then returns once everything that could be pushed before the deadline was. */
  async run(): Promise<{ shutdownReason: string }> {
    const { deps } = this;
    const { tracker, policy, now, log } = deps;
    let lastRequestId: string | undefined;
    for (;;) {
      const event = await deps.next();
      if (event.eventType === 'SHUTDOWN') {
        log.debug(`SHUTDOWN (${event.shutdownReason}), ${event.deadlineMs - now()} ms left`);
        this.invocationDeadlineMs = event.deadlineMs - SHUTDOWN_EXIT_MARGIN_MS;
        if (lastRequestId !== undefined) {
          // The last invocation's report (and any late lines) may still be in Lambda's telemetry buffer.
          await tracker.waitForReport(lastRequestId, event.deadlineMs - SHUTDOWN_PUSH_RESERVE_MS, now());
        }
        await deps.flush(event.deadlineMs - SHUTDOWN_EXIT_MARGIN_MS);
        return { shutdownReason: event.shutdownReason };
      }
      lastRequestId = event.requestId;
      const latestNextAtMs = event.deadlineMs - INVOKE_DEADLINE_MARGIN_MS;
      this.invocationDeadlineMs = latestNextAtMs;
      try {
        await this.handleInvocation(event.requestId, latestNextAtMs, policy.modeForInvocation(now()));
      } catch (error) {
        log.warn(
          `unexpected error while handling invocation ${event.requestId}: ${(error as Error).message}`,
        );
      }
      // /next must not leave a push in flight: the sandbox freezes as soon as the invocation ends.
      await this.inFlight;
      this.invocationDeadlineMs = undefined;
    }
  }

  private async handleInvocation(
    requestId: string,
    latestNextAtMs: number,
    mode: 'end' | 'periodic',
  ): Promise<void> {
    const { deps } = this;
    const { tracker, now, log } = deps;
    if (mode === 'end') {
      const arrived = await tracker.waitForRuntimeDone(requestId, latestNextAtMs, now());
      if (!arrived) log.debug(`no runtimeDone for ${requestId} before its deadline; pushing what arrived`);
    }
    const due = mode === 'end' || now() - this.lastPushAtMs >= deps.flushIntervalMs;
    if (!due || deps.pendingEntries() === 0) return;
    if (deps.coolingDown()) {
      log.debug(`Loki failed recently; ${deps.pendingEntries()} entries wait for a later attempt`);
      return;
    }
    const budgetMs = mode === 'end' ? END_PUSH_BUDGET_MS : PARALLEL_PUSH_BUDGET_MS;
    await this.push(Math.min(latestNextAtMs, now() + budgetMs));
  }

  private push(deadlineMs: number): Promise<unknown> {
    this.lastPushAtMs = this.deps.now();
    const flushing = this.deps.flush(deadlineMs).finally(() => {
      if (this.inFlight === flushing) this.inFlight = undefined;
    });
    this.inFlight = flushing;
    return flushing;
  }
}

/** A misconfigured extension still answers /next, so the function keeps working. */
export async function runIdleLoop(next: () => Promise<ExtensionEvent>): Promise<void> {
  for (;;) {
    const event = await next();
    if (event.eventType === 'SHUTDOWN') return;
  }
}
