/**
 * The retry policy, written down in one place (DESIGN.md §5): retry 429, 5xx and connection errors
 * with capped, jittered exponential backoff inside the time budget; never retry other 4xx.
 */
export const RETRY_INITIAL_BACKOFF_MS = 100;
export const RETRY_MAX_BACKOFF_MS = 2_000;

export type ResponseVerdict = 'accepted' | 'retry' | 'drop';

export function verdictFor(status: number): ResponseVerdict {
  if (status >= 200 && status < 300) return 'accepted';
  if (status === 429 || status >= 500) return 'retry';
  return 'drop';
}

export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: RETRY_INITIAL_BACKOFF_MS, maxMs: RETRY_MAX_BACKOFF_MS };

/** "Full jitter" backoff: a random wait up to the capped exponential step. */
export function backoffMs(
  attempt: number,
  random: () => number = Math.random,
  backoff: Backoff = DEFAULT_BACKOFF,
): number {
  const cap = Math.min(backoff.maxMs, backoff.initialMs * 2 ** attempt);
  return Math.floor(random() * cap);
}

/** Retry-After in milliseconds (seconds or an HTTP date), or undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now: number): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}
