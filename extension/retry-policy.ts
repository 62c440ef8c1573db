/**
 * The retry policy, written down in one place (DESIGN.md §5): retry 408, 429, 5xx and connection
 * errors with capped, jittered exponential backoff inside the time budget, never faster than the
 * floor; keep the entries on a redirect (a configuration problem, not a reason to lose logs); split
 * a batch too large (413); never retry other 4xx.
 */
export const RETRY_INITIAL_BACKOFF_MS = 100;
export const RETRY_MAX_BACKOFF_MS = 2_000;
/** No wait is shorter, whatever the jitter or a `Retry-After: 0` says: a retry loop must not spin. */
export const RETRY_MIN_BACKOFF_MS = 50;

export type ResponseVerdict = 'accepted' | 'retry' | 'redirect' | 'too-large' | 'drop';

export function verdictFor(status: number): ResponseVerdict {
  if (status >= 200 && status < 300) return 'accepted';
  if (status >= 300 && status < 400) return 'redirect';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  if (status === 413) return 'too-large';
  return 'drop';
}

export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly minMs: number;
}

export const DEFAULT_BACKOFF: Backoff = {
  initialMs: RETRY_INITIAL_BACKOFF_MS,
  maxMs: RETRY_MAX_BACKOFF_MS,
  minMs: RETRY_MIN_BACKOFF_MS,
};

/** "Full jitter" backoff: a random wait up to the capped exponential step. */
export function backoffMs(
  attempt: number,
  random: () => number = Math.random,
  backoff: Backoff = DEFAULT_BACKOFF,
): number {
  const cap = Math.min(backoff.maxMs, backoff.initialMs * 2 ** attempt);
  return Math.max(backoff.minMs, Math.floor(random() * cap));
}

/** Retry-After in milliseconds (seconds or an HTTP date), or undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now: number): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}
