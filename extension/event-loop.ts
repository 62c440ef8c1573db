import type { PushResult } from './flusher.js';
import type { Logger } from './logger.js';
import {
  type Action,
  type DecisionSettings,
  decide,
  initialState,
  type PushState,
  type Trigger,
} from './push-decision.js';
import type { ExtensionEvent } from './runtime-api.js';
import { stringField, type TelemetryEvent } from './telemetry.js';

export interface EventLoopDeps {
  readonly next: () => Promise<ExtensionEvent>;
  /** Pushes what is buffered until the deadline (flusher.ts); never rejects. */
  readonly push: (deadlineMs: number) => Promise<PushResult>;
  /** Brings the deadline of the push in flight forward. */
  readonly shorten: (deadlineMs: number) => void;
  readonly buffered: () => { readonly entries: number; readonly bytes: number };
  readonly settings: DecisionSettings;
  readonly now: () => number;
  readonly log: Logger;
}

/**
 * Carries out the push decision (push-decision.ts): turns Lambda events, telemetry, finished pushes
 * and its one timer into triggers, and does what the decision answers. It holds no policy of its own.
 */
export class EventLoop {
  private state: PushState;
  private timer: NodeJS.Timeout | undefined;
  private finish: ((result: { shutdownReason: string }) => void) | undefined;
  private fail: ((error: unknown) => void) | undefined;
  private exited = false;

  constructor(private readonly deps: EventLoopDeps) {
    this.state = initialState(deps.settings, deps.now());
  }

  /** Runs until SHUTDOWN, then resolves once everything that could be pushed before the deadline was. */
  run(): Promise<{ shutdownReason: string }> {
    return new Promise((resolve, reject) => {
      this.finish = resolve;
      this.fail = reject;
      this.perform({ kind: 'next' });
    });
  }

  /** Called after a telemetry batch was buffered. */
  onTelemetry(events: readonly TelemetryEvent[]): void {
    for (const event of events) {
      const requestId = stringField(event.record, 'requestId');
      if (requestId === undefined) continue;
      if (event.type === 'platform.start') this.dispatch({ kind: 'start', requestId });
      else if (event.type === 'platform.runtimeDone') this.dispatch({ kind: 'runtimeDone', requestId });
      else if (event.type === 'platform.report') this.dispatch({ kind: 'report', requestId });
    }
    this.dispatch({ kind: 'telemetry' });
  }

  private dispatch(trigger: Trigger): void {
    if (this.exited) return;
    const { bytes, entries } = this.deps.buffered();
    const decision = decide(this.state, trigger, {
      ms: this.deps.now(),
      bufferedEntries: entries,
      bufferedBytes: bytes,
    });
    this.state = decision.state;
    for (const note of decision.notes) this.deps.log.debug(note);
    this.perform(decision.action);
  }

  private perform(action: Action): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    switch (action.kind) {
      case 'wait':
        if (action.untilMs !== undefined) {
          this.timer = setTimeout(
            () => this.dispatch({ kind: 'tick' }),
            Math.max(0, action.untilMs - this.deps.now()),
          );
        }
        return;
      case 'shorten':
        this.deps.shorten(action.deadlineMs);
        return;
      case 'push':
        this.deps.push(action.deadlineMs).then(
          (result) => {
            if (result.sent + result.rejected > 0)
              this.deps.log.debug(`pushed ${result.sent} entries, ${result.rejected} rejected`);
            this.dispatch({
              kind: 'pushed',
              failed: result.failed,
              delivered: result.sent > 0,
              ...(result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs }),
            });
          },
          (error: unknown) => {
            this.deps.log.warn(`unexpected error while pushing: ${(error as Error).message}`);
            this.dispatch({ kind: 'pushed', failed: true, delivered: false });
          },
        );
        return;
      case 'next':
        this.deps.next().then(
          (event) =>
            this.dispatch(
              event.eventType === 'SHUTDOWN'
                ? { kind: 'shutdown', reason: event.shutdownReason, deadlineMs: event.deadlineMs }
                : { kind: 'invoke', requestId: event.requestId, deadlineMs: event.deadlineMs },
            ),
          (error: unknown) => {
            this.exited = true;
            this.fail?.(error);
          },
        );
        return;
      case 'exit':
        this.exited = true;
        this.finish?.({ shutdownReason: action.reason });
        return;
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
