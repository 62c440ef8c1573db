import { AdaptiveRetryStrategy, ConfiguredRetryStrategy } from '@smithy/core/retry';
import { AWS_RETRY_DEFAULT, type AwsRetrySettings } from './retry-settings.js';

/**
 * The retry policy of every AWS call, written down in one place and given to each client where it is
 * made (src/cli.ts). The SDK's standard strategy owns throttling (TooManyRequestsException, 429),
 * 5xx and connection errors; nothing of ours retries them again on top. Our own loop
 * (applyWithReplan) handles only what the SDK cannot: a plan gone stale (ResourceConflictException:
 * an update in progress; PreconditionFailedException), which needs a fresh read, not the same request.
 *
 * How many attempts, and in which mode, is the user's (AWS_MAX_ATTEMPTS and the rest: retry-settings.ts);
 * the delays are ours.
 */
export const AWS_RETRY_BASE_DELAY_MS = 500;
export const AWS_RETRY_MAX_DELAY_MS = 8_000;

/** 0.5 s, 1 s, 2 s, 4 s between the attempts: deterministic, so that tests and users can predict it. */
export function awsRetryDelayMs(retry: number): number {
  return Math.min(AWS_RETRY_MAX_DELAY_MS, AWS_RETRY_BASE_DELAY_MS * 2 ** (retry - 1));
}

/**
 * The SDK's retry strategy for the settings, with our delays in both modes; tests pass `() => 0`.
 * Throttling errors are retried after the same delays as others (the SDK's own start at 1 s for them).
 */
export function awsRetryStrategy(
  settings: AwsRetrySettings = AWS_RETRY_DEFAULT,
  delayMs: (retry: number) => number = awsRetryDelayMs,
): ConfiguredRetryStrategy | AdaptiveRetryStrategy {
  if (settings.mode === 'standard') return new ConfiguredRetryStrategy(settings.maxAttempts, delayMs);
  return new AdaptiveRetryStrategy(settings.maxAttempts, {
    maxAttempts: settings.maxAttempts,
    // The standard strategy asks with the number of retries made so far: 0 before the first retry.
    backoff: { computeNextBackoffDelay: (retries) => delayMs(retries + 1), setDelayBase: () => {} },
  });
}
