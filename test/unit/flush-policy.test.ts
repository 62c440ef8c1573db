import { describe, expect, it } from 'vitest';
import {
  BUSY_INVOCATIONS_PER_MINUTE,
  type FlushMode,
  initialPolicy,
  modeForInvocation,
  type PolicyState,
  RARE_INVOCATIONS_PER_MINUTE,
} from '../../extension/flush-policy.js';

/** Feeds invocation times through the policy; returns each mode and every switch sentence. */
function run(policy: PolicyState, times: readonly number[]) {
  const modes: FlushMode[] = [];
  const switches: string[] = [];
  let state = policy;
  for (const at of times) {
    const choice = modeForInvocation(state, at);
    state = choice.policy;
    modes.push(choice.mode);
    if (choice.switched !== undefined) switches.push(choice.switched);
  }
  return { modes, switches, state };
}

describe('flush policy', () => {
  it.each(['end', 'periodic'] as const)('always answers %s for that fixed strategy', (strategy) => {
    const { modes } = run(
      initialPolicy(strategy),
      Array.from({ length: 50 }, (_, i) => i * 10),
    );

    expect(new Set(modes)).toEqual(new Set([strategy]));
  });

  it('auto: turns periodic at the busy rate and says so', () => {
    const { modes, switches } = run(
      initialPolicy('auto'),
      Array.from({ length: BUSY_INVOCATIONS_PER_MINUTE }, (_, i) => i * 1000),
    );

    expect(modes.slice(0, -1).every((m) => m === 'end')).toBe(true);
    expect(modes.at(-1)).toBe('periodic');
    expect(switches).toEqual([
      `auto flush: ${BUSY_INVOCATIONS_PER_MINUTE} invocations in the last minute, switching to periodic pushes`,
    ]);
  });

  it('auto: stays periodic between the rare and busy rates (hysteresis), then returns to end when rare', () => {
    const busyEnd = BUSY_INVOCATIONS_PER_MINUTE * 1000;
    const busy = run(
      initialPolicy('auto'),
      Array.from({ length: BUSY_INVOCATIONS_PER_MINUTE }, (_, i) => (i + 1) * 1000),
    );

    // One invocation every 4 s: 15 a minute, between the two thresholds.
    const steady = run(
      busy.state,
      Array.from({ length: 30 }, (_, i) => busyEnd + (i + 1) * 4000),
    );
    // One every 10 s: 6 a minute, below the rare threshold.
    const slowStart = busyEnd + 30 * 4000;
    const slow = run(
      steady.state,
      Array.from({ length: 10 }, (_, i) => slowStart + (i + 1) * 10_000),
    );

    expect(60_000 / 4000).toBeGreaterThanOrEqual(RARE_INVOCATIONS_PER_MINUTE);
    expect(steady.modes.every((m) => m === 'periodic')).toBe(true);
    expect(slow.modes.at(-1)).toBe('end');
    expect(slow.switches[0]).toMatch(/switching to a push per invocation$/);
  });
});
