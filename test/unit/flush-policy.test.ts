import { describe, expect, it } from 'vitest';
import {
  BUSY_INVOCATIONS_PER_MINUTE,
  FlushPolicy,
  RARE_INVOCATIONS_PER_MINUTE,
} from '../../extension/flush-policy.js';
import { createLogger } from '../../extension/logger.js';

function policyWithLog(strategy: 'auto' | 'end' | 'periodic') {
  const lines: string[] = [];
  return {
    policy: new FlushPolicy(
      strategy,
      createLogger((l) => lines.push(l), true),
    ),
    lines,
  };
}

describe('FlushPolicy', () => {
  it.each(['end', 'periodic'] as const)('always answers %s for that fixed strategy', (strategy) => {
    const { policy } = policyWithLog(strategy);

    const modes = Array.from({ length: 50 }, (_, i) => policy.modeForInvocation(i * 10));

    expect(new Set(modes)).toEqual(new Set([strategy]));
  });

  it('auto: turns periodic at the busy rate and logs the switch', () => {
    const { policy, lines } = policyWithLog('auto');

    const modes = Array.from({ length: BUSY_INVOCATIONS_PER_MINUTE }, (_, i) =>
      policy.modeForInvocation(i * 1000),
    );

    expect(modes.slice(0, -1).every((m) => m === 'end')).toBe(true);
    expect(modes.at(-1)).toBe('periodic');
    expect(lines.join('')).toContain(
      `${BUSY_INVOCATIONS_PER_MINUTE} invocations in the last minute, switching to periodic`,
    );
  });

  it('auto: stays periodic between the rare and busy rates (hysteresis), then returns to end when rare', () => {
    const { policy } = policyWithLog('auto');
    const busyEnd = BUSY_INVOCATIONS_PER_MINUTE * 1000;
    for (let t = 1000; t <= busyEnd; t += 1000) policy.modeForInvocation(t);

    // One invocation every 4 s: 15 a minute, between the two thresholds.
    const steady = Array.from({ length: 30 }, (_, i) => policy.modeForInvocation(busyEnd + (i + 1) * 4000));
    // One every 10 s: 6 a minute, below the rare threshold.
    const slowStart = busyEnd + 30 * 4000;
    const slow = Array.from({ length: 10 }, (_, i) => policy.modeForInvocation(slowStart + (i + 1) * 10_000));

    expect(60_000 / 4000).toBeGreaterThanOrEqual(RARE_INVOCATIONS_PER_MINUTE);
    expect(steady.every((m) => m === 'periodic')).toBe(true);
    expect(slow.at(-1)).toBe('end');
  });
});
