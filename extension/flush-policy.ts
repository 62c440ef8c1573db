import type { FlushStrategy } from './config.js';

/** How one invocation is handled: push in the critical path (`end`) or in parallel (`periodic`). */
export type FlushMode = 'end' | 'periodic';

/** `auto` turns periodic at this many invocations in the last minute... */
export const BUSY_INVOCATIONS_PER_MINUTE = 20;
/** ...and back to `end` below this many (hysteresis, so it does not flap). */
export const RARE_INVOCATIONS_PER_MINUTE = 10;
const WINDOW_MS = 60_000;

/**
 * What the flush mode depends on: the strategy and, for `auto`, the invocations of the last minute.
 * Plain data, read from wall-clock times only: no timer can be relied upon while Lambda freezes us.
 */
export interface PolicyState {
  readonly strategy: FlushStrategy;
  /** Start times of the invocations of the last minute (auto only), oldest first. */
  readonly recent: readonly number[];
  readonly autoMode: FlushMode;
}

export interface ModeChoice {
  readonly policy: PolicyState;
  readonly mode: FlushMode;
  /** A sentence when `auto` just switched modes. */
  readonly switched: string | undefined;
}

export function initialPolicy(strategy: FlushStrategy): PolicyState {
  return { strategy, recent: [], autoMode: 'end' };
}

/** The mode of an invocation starting at nowMs; counts it towards the rate. */
export function modeForInvocation(policy: PolicyState, nowMs: number): ModeChoice {
  if (policy.strategy !== 'auto') return { policy, mode: policy.strategy, switched: undefined };
  const recent = [...policy.recent.filter((at) => at > nowMs - WINDOW_MS), nowMs];
  const perMinute = recent.length;
  let autoMode = policy.autoMode;
  let switched: string | undefined;
  if (autoMode === 'end' && perMinute >= BUSY_INVOCATIONS_PER_MINUTE) {
    autoMode = 'periodic';
    switched = `auto flush: ${perMinute} invocations in the last minute, switching to periodic pushes`;
  } else if (autoMode === 'periodic' && perMinute < RARE_INVOCATIONS_PER_MINUTE) {
    autoMode = 'end';
    switched = `auto flush: ${perMinute} invocations in the last minute, switching to a push per invocation`;
  }
  return { policy: { strategy: policy.strategy, recent, autoMode }, mode: autoMode, switched };
}
