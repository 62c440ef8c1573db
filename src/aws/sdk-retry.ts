import { ConfiguredRetryStrategy } from '@smithy/core/retry';

/**
 * The retry policy of every AWS call, written down in one place and given to each client where it is
 * made (src/cli.ts). The SDK's standard strategy owns throttling (TooManyRequestsException, 429),
 * 5xx and connection errors; nothing of ours retries them again on top. Our own loop
 * (applyWithReplan) handles only what the SDK cannot: a plan gone stale (ResourceConflictException:
 * an update in progress; PreconditionFailedException), which needs a fresh read, not the same request.
 */
export const AWS_MAX_ATTEMPTS = 5;
export const AWS_RETRY_BASE_DELAY_MS = 500;
export const AWS_RETRY_MAX_DELAY_MS = 8_000;

/** 0.5 s, 1 s, 2 s, 4 s between the attempts: deterministic, so that tests and users can predict it. */
export function awsRetryDelayMs(retry: number): number {
  return Math.min(AWS_RETRY_MAX_DELAY_MS, AWS_RETRY_BASE_DELAY_MS * 2 ** (retry - 1));
}

/** The SDK's standard retry strategy with our attempts and delays; tests pass `() => 0`. */
export function awsRetryStrategy(
  delayMs: (retry: number) => number = awsRetryDelayMs,
): ConfiguredRetryStrategy {
  return new ConfiguredRetryStrategy(AWS_MAX_ATTEMPTS, delayMs);
}
