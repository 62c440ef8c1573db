import { awsErrorName } from './errors.js';

/**
 * The retry policy for changing a function, written down in one place: Lambda answers
 * TooManyRequestsException when throttled and ResourceConflictException while another update of the
 * same function is in progress. Both are retried with capped exponential backoff; nothing else is.
 */
export const RETRYABLE_ERROR_NAMES: readonly string[] = [
  'TooManyRequestsException',
  'ThrottlingException',
  'ResourceConflictException',
];
export const UPDATE_MAX_ATTEMPTS = 6;
export const UPDATE_BACKOFF_BASE_MS = 1_000;
export const UPDATE_BACKOFF_MAX_MS = 16_000;

export interface RetryOptions {
  readonly sleep: (ms: number) => Promise<void>;
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Told before each wait, e.g. to print "throttled, retrying in 2 s". */
  readonly onRetry?: (info: {
    readonly attempt: number;
    readonly delayMs: number;
    readonly errorName: string;
  }) => void;
}

/** 1 s, 2 s, 4 s, … capped: deterministic so that tests and users can predict it. */
export function backoffDelayMs(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  return Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
}

export async function withRetry<T>(operation: () => Promise<T>, options: RetryOptions): Promise<T> {
  const maxAttempts = options.maxAttempts ?? UPDATE_MAX_ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      const errorName = awsErrorName(error);
      if (attempt >= maxAttempts || !RETRYABLE_ERROR_NAMES.includes(errorName)) throw error;
      const delayMs = backoffDelayMs(
        attempt,
        options.baseDelayMs ?? UPDATE_BACKOFF_BASE_MS,
        options.maxDelayMs ?? UPDATE_BACKOFF_MAX_MS,
      );
      options.onRetry?.({ attempt, delayMs, errorName });
      await options.sleep(delayMs);
    }
  }
}
