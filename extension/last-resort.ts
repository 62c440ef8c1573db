import type { ExtensionEvent } from './runtime-api.js';

/** A promise that never settles: what an abandoned caller waits on forever. */
const NEVER = new Promise<never>(() => {});

export interface LastResort {
  /** The `/next` to give the shipper: hands the events over to the fallback once something failed. */
  readonly next: () => Promise<ExtensionEvent>;
  /**
   * Something unexpected escaped (uncaughtException, unhandledRejection). Reported once; from then
   * on events are only answered, and the extension exits at SHUTDOWN.
   */
  readonly fail: (error: unknown) => void;
  /** Resolves once the fallback has answered SHUTDOWN (or SHUTDOWN had already come). */
  readonly done: Promise<void>;
}

/**
 * The last line of defence of a process inside the function's sandbox: after an unexpected error
 * the shipper may be in any state, so it is abandoned and a plain loop keeps answering Lambda's
 * events. The extension never exits during an invocation and never holds one.
 */
export function createLastResort(
  next: () => Promise<ExtensionEvent>,
  report: (message: string) => void,
): LastResort {
  let failed = false;
  let waitingForEvent = false;
  let shutdownSeen = false;
  let fallbackStarted = false;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });

  const answerEvents = async (): Promise<void> => {
    if (fallbackStarted) return;
    fallbackStarted = true;
    for (;;) {
      const event = await next();
      if (event.eventType === 'SHUTDOWN') break;
    }
    finish();
  };
  const startFallback = (): void => {
    // A Runtime API failure here is Lambda going away: nothing is left to answer.
    answerEvents().catch(() => finish());
  };

  return {
    done,
    next: async () => {
      if (failed) return NEVER;
      waitingForEvent = true;
      let event: ExtensionEvent;
      try {
        event = await next();
      } finally {
        waitingForEvent = false;
      }
      if (event.eventType === 'SHUTDOWN') shutdownSeen = true;
      if (!failed) return event;
      // The failure came while we waited: this event is the fallback's to answer.
      if (shutdownSeen) finish();
      else startFallback();
      return NEVER;
    },
    fail: (error) => {
      if (failed) return;
      failed = true;
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      report(
        `unexpected error, logs are no longer shipped; the function runs normally: ${message.slice(0, 500)}`,
      );
      // After SHUTDOWN there is nothing left to answer; while an event is awaited, its answer decides.
      if (shutdownSeen) finish();
      else if (!waitingForEvent) startFallback();
    },
  };
}
