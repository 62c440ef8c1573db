import type { LokiAuth } from './config.js';
import { type HttpPost, HttpTimeoutError } from './http-post.js';
import { type Backoff, backoffMs, DEFAULT_BACKOFF, retryAfterMs, verdictFor } from './retry-policy.js';

export type PushOutcome =
  | { readonly kind: 'accepted' }
  /**
   * Loki refused the content (a 4xx other than 408 and 429): retrying cannot help. A 400 can be
   * partial: `tooFarBehind` counts the entries Loki said were too far behind their stream (the
   * others of the push were stored).
   */
  | {
      readonly kind: 'rejected';
      readonly status: number;
      readonly reason: string;
      readonly tooFarBehind?: number;
    }
  /** Loki (or a proxy) said the body is too large (413): push the batch in smaller parts. */
  | { readonly kind: 'too-large'; readonly reason: string }
  /**
   * Loki could not take it in time (down, slow, 408, 429, 5xx), or the URL redirects (a
   * configuration problem): keep the entries for the next chance. `status`: Loki's last answer, when
   * it answered at all; `retryAfterMs`: how long Loki asked us to wait, when longer than the budget.
   */
  | {
      readonly kind: 'failed';
      readonly reason: string;
      readonly status?: number;
      readonly retryAfterMs?: number;
    };

export interface LokiTarget {
  readonly pushUrl: string;
  readonly auth: LokiAuth;
  readonly tenantId: string | undefined;
}

export interface PushDeps {
  readonly post: HttpPost;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  /** Masks secrets in an error body before it is cut to one line (a gateway may echo the header). */
  readonly redact?: (text: string) => string;
  /** Default: retry-policy.ts's. */
  readonly backoff?: Backoff;
  /** At most this many requests (`check` tries a few times); default: as many as the deadline allows. */
  readonly maxAttempts?: number;
}

/** The request headers of every push; computed once. */
export function pushHeaders(target: LokiTarget, userAgent: string): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-protobuf',
    'User-Agent': userAgent,
  };
  if (target.auth.kind === 'bearer') headers.Authorization = `Bearer ${target.auth.token}`;
  if (target.auth.kind === 'basic') {
    headers.Authorization = `Basic ${Buffer.from(`${target.auth.username}:${target.auth.password}`).toString('base64')}`;
  }
  if (target.tenantId !== undefined) headers['X-Scope-OrgID'] = target.tenantId;
  return headers;
}

/** Sends one compressed push request, retrying as the retry policy says, never past deadlineMs. */
export async function pushWithRetry(
  deps: PushDeps,
  url: string,
  headers: Readonly<Record<string, string>>,
  body: Uint8Array,
  deadlineMs: number,
  signal?: AbortSignal,
): Promise<PushOutcome> {
  let lastProblem = 'no time left to push';
  let lastStatus: number | undefined;
  const failed = (retryAfter?: number): PushOutcome => ({
    kind: 'failed',
    reason: lastProblem,
    ...(lastStatus === undefined ? {} : { status: lastStatus }),
    ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }),
  });
  const redact = deps.redact ?? ((text: string) => text);
  for (let attempt = 0; ; attempt++) {
    const remaining = deadlineMs - deps.now();
    if (remaining <= 0 || signal?.aborted) return failed();
    let waitMs = backoffMs(attempt, deps.random, deps.backoff);
    try {
      const response = await deps.post(url, headers, body, remaining, signal);
      const verdict = verdictFor(response.status);
      if (verdict === 'accepted') return { kind: 'accepted' };
      const reason = firstLine(redact(response.body));
      if (verdict === 'redirect') {
        lastStatus = response.status;
        lastProblem = redact(describeRedirect(url, response.status, response.headers.location));
        return failed();
      }
      if (verdict === 'too-large')
        return { kind: 'too-large', reason: `HTTP 413${reason === '' ? '' : `: ${reason}`}` };
      if (verdict === 'drop') {
        const tooFarBehind = response.status === 400 ? tooFarBehindCount(response.body) : 0;
        return tooFarBehind > 0
          ? { kind: 'rejected', status: response.status, reason, tooFarBehind }
          : { kind: 'rejected', status: response.status, reason };
      }
      lastProblem = `HTTP ${response.status}${reason === '' ? '' : `: ${reason}`}`;
      lastStatus = response.status;
      const retryAfter = retryAfterMs(response.headers['retry-after'], deps.now());
      if (retryAfter !== undefined) {
        // Honour Retry-After when it fits in the budget; otherwise keep the entries, and the wait
        // carries over into the cooldown. Never below the floor: `Retry-After: 0` must not spin.
        if (deps.now() + retryAfter >= deadlineMs) return failed(retryAfter);
        waitMs = Math.max(retryAfter, (deps.backoff ?? DEFAULT_BACKOFF).minMs);
      }
    } catch (error) {
      lastProblem = describeNetworkError(error);
      lastStatus = undefined;
      // A header Node refuses to send (e.g. a token fetched at run time with an invisible character)
      // fails every attempt alike: say what to fix, once, instead of retrying.
      if (INVALID_HEADER_CODES.has((error as NodeJS.ErrnoException)?.code ?? '')) return failed();
      if (error instanceof HttpTimeoutError) return failed();
    }
    if (attempt + 1 >= (deps.maxAttempts ?? Number.POSITIVE_INFINITY)) return failed();
    if (deps.now() + waitMs >= deadlineMs) return failed();
    await sleepUnlessAborted(deps.sleep, waitMs, signal);
  }
}

function sleepUnlessAborted(
  sleep: (ms: number) => Promise<void>,
  ms: number,
  signal?: AbortSignal,
): Promise<void> {
  if (signal === undefined) return sleep(ms);
  return Promise.race([
    sleep(ms),
    new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
  ]);
}

/** A redirect is a configuration problem: name where it points, so the URL can be fixed. */
function describeRedirect(url: string, status: number, location: string | undefined): string {
  let target = 'an address it did not give';
  if (location !== undefined && location !== '') {
    try {
      target = new URL(location, url).toString();
    } catch {
      target = location;
    }
  }
  return `configuration problem: Loki's URL redirects (HTTP ${status}) to ${target}; set LOKI_ENDPOINT_URL to the address that accepts pushes (logs are kept meanwhile)`;
}

/**
 * Loki's ingester lists the entries of each stream it ignored and ends with `total ignored: N out
 * of M for stream: …`; those ignored as `entry too far behind` are the ones counted here.
 */
export function tooFarBehindCount(body: string): number {
  if (!body.includes('entry too far behind')) return 0;
  let count = 0;
  for (const match of body.matchAll(/total ignored: (\d+) out of \d+/g)) count += Number(match[1]);
  // Cut before its total (the body is read up to a limit): at least the entries it listed.
  return count > 0 ? count : (body.match(/entry too far behind/g) ?? []).length;
}

function firstLine(body: string): string {
  return (body.trim().split('\n')[0] ?? '').slice(0, 300);
}

const INVALID_HEADER_CODES = new Set(['ERR_INVALID_CHAR', 'ERR_INVALID_HTTP_TOKEN']);

function describeNetworkError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (INVALID_HEADER_CODES.has(e?.code ?? '')) {
    return `configuration problem: the token (or another header value) has a character that cannot be sent in an HTTP header, such as a space or an invisible zero-width space; set it again without it (${e.code})`;
  }
  if (error instanceof HttpTimeoutError) return `Loki did not answer in time (${e.message})`;
  return e?.code ? `cannot reach Loki (${e.code})` : `cannot reach Loki (${e?.message ?? String(error)})`;
}
