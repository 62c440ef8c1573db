import { describe, expect, it } from 'vitest';
import { DEFAULT_SECRET_READ_TIMINGS } from '../../extension/loki-credentials.js';
import { DEFAULT_TIMINGS } from '../../extension/push-decision.js';
import { parseTestTimings, withTestTimings } from '../../extension/test-timings.js';

/** main.ts: each table of durations, given the value of LOKI_LAMBDA_TEST_TIMINGS. */
const timingsFor = (raw: string | undefined) => {
  const overrides = parseTestTimings(raw);
  return {
    decision: withTestTimings(DEFAULT_TIMINGS, overrides),
    secrets: withTestTimings(DEFAULT_SECRET_READ_TIMINGS, overrides),
    sdkRetryDelayMs: overrides.secretSdkRetryDelayMs,
  };
};

describe('LOKI_LAMBDA_TEST_TIMINGS (the test-only override)', () => {
  it('unset, as for every user, gives the documented durations and the SDK’s own retry backoff', () => {
    expect(timingsFor(undefined)).toEqual({
      decision: {
        invokeDeadlineMarginMs: 200,
        endPushBudgetMs: 1_500,
        parallelPushBudgetMs: 2_000,
        shutdownPushReserveMs: 800,
        shutdownExitMarginMs: 400,
        cooldownInitialMs: 1_000,
        cooldownMaxMs: 16_000,
        retryInitialBackoffMs: 100,
        retryMaxBackoffMs: 2_000,
        retryMinBackoffMs: 50,
        telemetrySilenceMarginMs: 2_000,
      },
      secrets: { secretReadTimeoutMs: 3_000, secretRetryInitialMs: 1_000, secretRetryMaxMs: 60_000 },
      sdkRetryDelayMs: undefined,
    });
    expect(timingsFor(undefined).decision).toBe(DEFAULT_TIMINGS);
    expect(timingsFor(undefined).secrets).toBe(DEFAULT_SECRET_READ_TIMINGS);
  });

  it.each<[string, string]>([
    ['empty', ''],
    ['not JSON', '{oops'],
    ['not an object', '[1,2]'],
    [
      'only unknown keys and bad values',
      '{"nope":1,"cooldownMaxMs":-1,"parallelPushBudgetMs":"9","endPushBudgetMs":null}',
    ],
  ])('%s gives the defaults', (_name, raw) => {
    expect(timingsFor(raw).decision).toBe(DEFAULT_TIMINGS);
    expect(timingsFor(raw).secrets).toBe(DEFAULT_SECRET_READ_TIMINGS);
    expect(timingsFor(raw).sdkRetryDelayMs).toBeUndefined();
  });

  it('gives each table the known non-negative numbers of its own keys, and keeps the rest', () => {
    const timings = timingsFor(
      '{"cooldownInitialMs":5,"endPushBudgetMs":0,"secretReadTimeoutMs":300,"secretSdkRetryDelayMs":10,"cooldownMaxMs":-5}',
    );

    expect(timings.decision).toEqual({ ...DEFAULT_TIMINGS, cooldownInitialMs: 5, endPushBudgetMs: 0 });
    expect(timings.secrets).toEqual({ ...DEFAULT_SECRET_READ_TIMINGS, secretReadTimeoutMs: 300 });
    expect(timings.sdkRetryDelayMs).toBe(10);
  });
});
