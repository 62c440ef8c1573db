import type { FlushPolicy } from './flush-policy.js';
import type { FlushResult } from './flusher.js';
import type { Logger } from './logger.js';
import type { ExtensionEvent } from './runtime-api.js';
import type { TelemetryTracker } from './telemetry-tracker.js';

/** Call /next at least this long before an invocation's deadline, so the function never times out on us. */
export const INVOKE_DEADLINE_MARGIN_MS = 200;
/** At most this long pushing after the runtime is done (`end`): the cost of a slow Loki stays bounded. */
export const END_PUSH_BUDGET_MS = 1_500;
/** At most this long for a periodic push, which runs while the function runs. */
export const PERIODIC_PUSH_BUDGET_MS = 2_000;
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
  readonly policy: FlushPolicy;
  readonly flushIntervalMs: number;
  readonly now: () => number;
  readonly log: Logger;
}

/**
 * The one place that decides when to push (DESIGN.md §5). Returns after SHUTDOWN once everything
 * that could be pushed before the deadline has been.
 */
export async function runEventLoop(deps: EventLoopDeps): Promise<{ shutdownReason: string }> {
  const { tracker, policy, now, log } = deps;
  let lastPushAtMs = now();
  let lastRequestId: string | undefined;
  for (;;) {
    const event = await deps.next();
    if (event.eventType === 'SHUTDOWN') {
      log.debug(`SHUTDOWN (${event.shutdownReason}), ${event.deadlineMs - now()} ms left`);
      if (lastRequestId !== undefined) {
        // The last invocation's report (and any late lines) may still be in Lambda's telemetry buffer.
        await tracker.waitForReport(lastRequestId, event.deadlineMs - SHUTDOWN_PUSH_RESERVE_MS, now());
      }
      await deps.flush(event.deadlineMs - SHUTDOWN_EXIT_MARGIN_MS);
      return { shutdownReason: event.shutdownReason };
    }
    lastRequestId = event.requestId;
    try {
      const latestNextAtMs = event.deadlineMs - INVOKE_DEADLINE_MARGIN_MS;
      const mode = policy.modeForInvocation(now());
      if (mode === 'end') {
        const arrived = await tracker.waitForRuntimeDone(event.requestId, latestNextAtMs, now());
        if (!arrived)
          log.debug(`no runtimeDone for ${event.requestId} before its deadline; pushing what arrived`);
      }
      const due = mode === 'end' || now() - lastPushAtMs >= deps.flushIntervalMs;
      if (due && deps.pendingEntries() > 0) {
        if (deps.coolingDown()) {
          log.debug(`Loki failed recently; ${deps.pendingEntries()} entries wait for a later attempt`);
        } else {
          // periodic: runs while the function runs; /next waits for it so no push is frozen mid-flight.
          lastPushAtMs = now();
          const budgetMs = mode === 'end' ? END_PUSH_BUDGET_MS : PERIODIC_PUSH_BUDGET_MS;
          await deps.flush(Math.min(latestNextAtMs, now() + budgetMs));
        }
      }
    } catch (error) {
      log.warn(`unexpected error while handling invocation ${event.requestId}: ${(error as Error).message}`);
    }
  }
}

/** A misconfigured extension still answers /next, so the function keeps working. */
export async function runIdleLoop(next: () => Promise<ExtensionEvent>): Promise<void> {
  for (;;) {
    const event = await next();
    if (event.eventType === 'SHUTDOWN') return;
  }
}
