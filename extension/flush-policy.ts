import type { FlushStrategy } from './config.js';
import type { Logger } from './logger.js';

/** How one invocation is handled: push in the critical path (`end`) or in parallel (`periodic`). */
export type FlushMode = 'end' | 'periodic';

/** `auto` turns periodic at this many invocations in the last minute... */
export const BUSY_INVOCATIONS_PER_MINUTE = 20;
/** ...and back to `end` below this many (hysteresis, so it does not flap). */
export const RARE_INVOCATIONS_PER_MINUTE = 10;
const WINDOW_MS = 60_000;

/**
 * Decides the mode of each invocation from the strategy and the recent invocation rate. Uses wall
 * clock readings only: no timer can be relied upon to fire while Lambda freezes the sandbox.
 */
export class FlushPolicy {
  private readonly recent: number[] = [];
  private autoMode: FlushMode = 'end';

  constructor(
    private readonly strategy: FlushStrategy,
    private readonly log: Logger,
  ) {}

  /** Called once per INVOKE, before handling it. */
  modeForInvocation(nowMs: number): FlushMode {
    if (this.strategy !== 'auto') return this.strategy;
    this.recent.push(nowMs);
    while ((this.recent[0] ?? nowMs) <= nowMs - WINDOW_MS) this.recent.shift();
    const perMinute = this.recent.length;
    if (this.autoMode === 'end' && perMinute >= BUSY_INVOCATIONS_PER_MINUTE) {
      this.autoMode = 'periodic';
      this.log.debug(`auto flush: ${perMinute} invocations in the last minute, switching to periodic pushes`);
    } else if (this.autoMode === 'periodic' && perMinute < RARE_INVOCATIONS_PER_MINUTE) {
      this.autoMode = 'end';
      this.log.debug(
        `auto flush: ${perMinute} invocations in the last minute, switching to a push per invocation`,
      );
    }
    return this.autoMode;
  }
}
