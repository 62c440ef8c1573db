import type { LokiAuth } from './config.js';
import { type HttpPost, HttpTimeoutError } from './http-post.js';
import { type Backoff, backoffMs, retryAfterMs, verdictFor } from './retry-policy.js';

export type PushOutcome =
  | { readonly kind: 'accepted' }
  /** Loki refused the content (a 4xx other than 429): retrying cannot help. */
  | { readonly kind: 'rejected'; readonly status: number; readonly reason: string }
  /**
   * Loki could not take it in time (down, slow, 429, 5xx): keep the entries for the next chance.
   * `status`: Loki's last answer, when it answered at all.
   */
  | { readonly kind: 'failed'; readonly reason: string; readonly status?: number };

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
): Promise<PushOutcome> {
  let lastProblem = 'no time left to push';
  let lastStatus: number | undefined;
  const failed = (): PushOutcome =>
    lastStatus === undefined
      ? { kind: 'failed', reason: lastProblem }
      : { kind: 'failed', reason: lastProblem, status: lastStatus };
  for (let attempt = 0; ; attempt++) {
    const remaining = deadlineMs - deps.now();
    if (remaining <= 0) return failed();
    let waitMs = backoffMs(attempt, deps.random, deps.backoff);
    try {
      const response = await deps.post(url, headers, body, remaining);
      const verdict = verdictFor(response.status);
      if (verdict === 'accepted') return { kind: 'accepted' };
      const reason = firstLine(deps.redact === undefined ? response.body : deps.redact(response.body));
      if (verdict === 'drop') return { kind: 'rejected', status: response.status, reason };
      lastProblem = `HTTP ${response.status}${reason === '' ? '' : `: ${reason}`}`;
      lastStatus = response.status;
      const retryAfter = retryAfterMs(response.headers['retry-after'], deps.now());
      if (retryAfter !== undefined) {
        // Honour Retry-After only when it fits in the budget; otherwise keep the entries for later.
        if (deps.now() + retryAfter >= deadlineMs) return failed();
        waitMs = retryAfter;
      }
    } catch (error) {
      lastProblem = describeNetworkError(error);
      lastStatus = undefined;
      if (error instanceof HttpTimeoutError) return failed();
    }
    if (deps.now() + waitMs >= deadlineMs) return failed();
    await deps.sleep(waitMs);
  }
}

function firstLine(body: string): string {
  return (body.trim().split('\n')[0] ?? '').slice(0, 300);
}

function describeNetworkError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (error instanceof HttpTimeoutError) return `Loki did not answer in time (${e.message})`;
  return e?.code ? `cannot reach Loki (${e.code})` : `cannot reach Loki (${e?.message ?? String(error)})`;
}
