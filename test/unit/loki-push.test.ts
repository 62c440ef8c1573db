import { afterEach, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../extension/entries.js';
import { createHttpPost } from '../../extension/http-post.js';
import { type PushDeps, pushHeaders, pushWithRetry, tooFarBehindCount } from '../../extension/loki-push.js';
import { compressPushBody, encodePushRequest, streamLabelStrings } from '../../extension/push-encoder.js';
import { type LokiReceiver, startLokiReceiver } from '../support/loki-receiver.js';

const labels = streamLabelStrings({
  application: 'shop',
  environment: 'prod',
  functionName: 'fn',
  extraLabels: [],
});
let receiver: LokiReceiver | undefined;
const http = createHttpPost();

afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

function body(...lines: string[]): Uint8Array {
  const entries: LogEntry[] = lines.map((line, i) => ({
    source: 'function',
    timeMs: Date.now() + i,
    nanosInMs: 0,
    line,
    requestId: 'req-1',
    sizeBytes: 100,
  }));
  return compressPushBody(encodePushRequest(entries, labels, { functionVersion: '$LATEST' }));
}

/**
 * Real HTTP over loopback and a clock that a wait moves forward at once: each wait is recorded and
 * counts against the deadline as if it had passed, without the test spending it (a Retry-After of
 * 1 s took 1 s). Time spent on the wire is real.
 */
function deps(waits: number[] = []): PushDeps {
  let waitedMs = 0;
  return {
    post: http.post,
    now: () => Date.now() + waitedMs,
    random: () => 0.5,
    sleep: async (ms) => {
      waits.push(ms);
      waitedMs += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

const anonymous = pushHeaders({ pushUrl: '', auth: { kind: 'none' }, tenantId: undefined }, 'test');

describe('pushWithRetry against a Loki-compatible receiver', () => {
  it('delivers entries with bearer auth and the tenant header', async () => {
    receiver = await startLokiReceiver({ tenantRequired: true, auth: { bearerToken: 'tok' } });
    const headers = pushHeaders(
      { pushUrl: '', auth: { kind: 'bearer', token: 'tok' }, tenantId: 'team-a' },
      'test',
    );

    const outcome = await pushWithRetry(deps(), receiver.pushUrl, headers, body('hello'), Date.now() + 2000);

    expect(outcome).toEqual({ kind: 'accepted' });
    expect(receiver.entries().map((e) => [e.line, e.tenant, e.metadata.request_id])).toEqual([
      ['hello', 'team-a', 'req-1'],
    ]);
  });

  it('delivers with basic auth', async () => {
    receiver = await startLokiReceiver({ auth: { username: 'u', password: 'p' } });
    const headers = pushHeaders(
      { pushUrl: '', auth: { kind: 'basic', username: 'u', password: 'p' }, tenantId: undefined },
      't',
    );

    const outcome = await pushWithRetry(deps(), receiver.pushUrl, headers, body('hello'), Date.now() + 2000);

    expect(outcome).toEqual({ kind: 'accepted' });
  });

  it('retries 5xx and 429 with backoff until Loki accepts', async () => {
    receiver = await startLokiReceiver();
    await receiver.inject({ kind: 'status', status: 503, times: 1 });
    await receiver.inject({ kind: 'status', status: 429, times: 1 });
    const waits: number[] = [];

    const outcome = await pushWithRetry(
      deps(waits),
      receiver.pushUrl,
      anonymous,
      body('a'),
      Date.now() + 5000,
    );

    expect(outcome).toEqual({ kind: 'accepted' });
    expect(receiver.requests().map((r) => r.status)).toEqual([503, 429, 204]);
    expect(waits).toEqual([50, 100]);
    expect(receiver.entries()).toHaveLength(1);
  });

  it('sends at most maxAttempts requests, with time left, and fails with the last answer', async () => {
    receiver = await startLokiReceiver();
    await receiver.inject({ kind: 'status', status: 503, times: 5 });
    const waits: number[] = [];

    const outcome = await pushWithRetry(
      { ...deps(waits), maxAttempts: 2 },
      receiver.pushUrl,
      anonymous,
      body('a'),
      Date.now() + 5000,
    );

    expect(outcome).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/^HTTP 503/) });
    expect(receiver.requests().map((r) => r.status)).toEqual([503, 503]);
    expect(waits).toHaveLength(1);
  });

  it('honours Retry-After when it fits in the time budget', async () => {
    receiver = await startLokiReceiver();
    await receiver.inject({ kind: 'status', status: 429, times: 1, retryAfterSeconds: 1 });
    const waits: number[] = [];

    const outcome = await pushWithRetry(
      deps(waits),
      receiver.pushUrl,
      anonymous,
      body('a'),
      Date.now() + 3000,
    );

    expect(outcome).toEqual({ kind: 'accepted' });
    expect(waits).toEqual([1000]);
  });

  it('gives up at once when Retry-After is longer than the budget, keeping the entries for later', async () => {
    receiver = await startLokiReceiver();
    await receiver.inject({ kind: 'status', status: 429, retryAfterSeconds: 30 });

    const outcome = await pushWithRetry(deps(), receiver.pushUrl, anonymous, body('a'), Date.now() + 2000);

    expect(outcome).toMatchObject({ kind: 'failed', reason: expect.stringContaining('HTTP 429') });
    expect(receiver.requests()).toHaveLength(1);
  });

  it('does not retry a 400 and reports Loki’s reason', async () => {
    receiver = await startLokiReceiver({ maxLineSizeBytes: 10 });

    const outcome = await pushWithRetry(
      deps(),
      receiver.pushUrl,
      anonymous,
      body('this line is too long'),
      Date.now() + 2000,
    );

    expect(outcome).toMatchObject({
      kind: 'rejected',
      status: 400,
      reason: expect.stringContaining('Max entry size'),
    });
    expect(receiver.requests()).toHaveLength(1);
  });

  it('keeps retrying a refused connection until the deadline, then fails', async () => {
    receiver = await startLokiReceiver();
    await receiver.inject({ kind: 'down' });
    const started = Date.now();

    const outcome = await pushWithRetry(deps(), receiver.pushUrl, anonymous, body('a'), started + 300);

    expect(outcome).toMatchObject({ kind: 'failed', reason: 'cannot reach Loki (ECONNREFUSED)' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('bounds a push to a Loki that never answers by the deadline', async () => {
    receiver = await startLokiReceiver();
    await receiver.inject({ kind: 'hang' });

    const outcome = await pushWithRetry(deps(), receiver.pushUrl, anonymous, body('a'), Date.now() + 100);

    expect(outcome).toMatchObject({
      kind: 'failed',
      reason: expect.stringContaining('did not answer in time'),
    });
  });

  it('retries once, transparently, on a fresh connection when the kept-alive one was closed meanwhile', async () => {
    receiver = await startLokiReceiver();
    await pushWithRetry(deps(), receiver.pushUrl, anonymous, body('first'), Date.now() + 2000);
    await receiver.inject({ kind: 'closeIdleSockets', reset: true });
    const waits: number[] = [];

    const outcome = await pushWithRetry(
      deps(waits),
      receiver.pushUrl,
      anonymous,
      body('second'),
      Date.now() + 2000,
    );

    expect(outcome).toEqual({ kind: 'accepted' });
    expect(waits).toEqual([]);
    expect(receiver.entries().map((e) => e.line)).toEqual(['first', 'second']);
  });

  it('reuses one keep-alive connection for consecutive pushes', async () => {
    receiver = await startLokiReceiver();

    for (const line of ['a', 'b', 'c']) {
      await pushWithRetry(deps(), receiver.pushUrl, anonymous, body(line), Date.now() + 2000);
    }

    expect(receiver.requests().map((r) => r.socketRequestIndex)).toEqual([1, 2, 3]);
  });

  it('a token Node cannot put in a header is a configuration problem, said at once, not retried', async () => {
    receiver = await startLokiReceiver();
    const headers = pushHeaders(
      { pushUrl: '', auth: { kind: 'bearer', token: 'glc_abc\u200b' }, tenantId: undefined },
      'test',
    );
    const waits: number[] = [];

    const outcome = await pushWithRetry(deps(waits), receiver.pushUrl, headers, body('a'), Date.now() + 2000);

    expect(outcome).toMatchObject({
      kind: 'failed',
      reason: expect.stringMatching(/^configuration problem: the token .* cannot be sent in an HTTP header/),
    });
    expect(waits).toEqual([]);
    expect(receiver.requests()).toHaveLength(0);
  });

  it('retries a 408 (request timeout) like a 5xx', async () => {
    receiver = await startLokiReceiver();
    await receiver.inject({ kind: 'status', status: 408, times: 1 });

    const outcome = await pushWithRetry(deps(), receiver.pushUrl, anonymous, body('a'), Date.now() + 2000);

    expect(outcome).toEqual({ kind: 'accepted' });
    expect(receiver.requests().map((r) => r.status)).toEqual([408, 204]);
  });

  it('Retry-After: 0 does not spin: every wait is at least the floor', async () => {
    receiver = await startLokiReceiver();
    await receiver.inject({ kind: 'status', status: 429, times: 3, retryAfterSeconds: 0 });
    const waits: number[] = [];

    const outcome = await pushWithRetry(
      deps(waits),
      receiver.pushUrl,
      anonymous,
      body('a'),
      Date.now() + 2000,
    );

    expect(outcome).toEqual({ kind: 'accepted' });
    expect(waits).toEqual([50, 50, 50]);
    expect(receiver.requests()).toHaveLength(4);
  });

  it('a Retry-After longer than the budget is handed back, so the cooldown lasts at least that long', async () => {
    receiver = await startLokiReceiver();
    await receiver.inject({ kind: 'status', status: 429, retryAfterSeconds: 30 });

    const outcome = await pushWithRetry(deps(), receiver.pushUrl, anonymous, body('a'), Date.now() + 2000);

    expect(outcome).toMatchObject({ kind: 'failed', status: 429, retryAfterMs: 30_000 });
  });

  it('a redirect is a configuration problem naming the Location: not retried, not dropped', async () => {
    receiver = await startLokiReceiver();
    await receiver.inject({
      kind: 'redirect',
      status: 301,
      location: 'https://loki.example.com/loki/api/v1/push',
    });

    const outcome = await pushWithRetry(deps(), receiver.pushUrl, anonymous, body('a'), Date.now() + 2000);

    expect(outcome).toEqual({
      kind: 'failed',
      status: 301,
      reason:
        "configuration problem: Loki's URL redirects (HTTP 301) to https://loki.example.com/loki/api/v1/push; set LOKI_ENDPOINT_URL to the address that accepts pushes (logs are kept meanwhile)",
    });
    expect(receiver.requests()).toHaveLength(1);
  });

  it('a body over the size limit is answered 413 and reported as too large (the caller splits it)', async () => {
    receiver = await startLokiReceiver({ maxBodyBytes: 20 });

    const outcome = await pushWithRetry(
      deps(),
      receiver.pushUrl,
      anonymous,
      body('x'.repeat(100)),
      Date.now() + 2000,
    );

    expect(outcome).toEqual({ kind: 'too-large', reason: 'HTTP 413: request body too large' });
    expect(receiver.entries()).toHaveLength(0);
  });

  it('stops at once when its signal aborts (the deadline was brought forward)', async () => {
    receiver = await startLokiReceiver();
    await receiver.inject({ kind: 'hang' });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    const started = Date.now();

    const outcome = await pushWithRetry(
      deps(),
      receiver.pushUrl,
      anonymous,
      body('a'),
      started + 5000,
      abort.signal,
    );

    expect(outcome).toMatchObject({
      kind: 'failed',
      reason: expect.stringContaining('did not answer in time'),
    });
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('counts the entries Loki ignored as too far behind in a partial 400', async () => {
    receiver = await startLokiReceiver({ outOfOrderWindowMs: 1000 });
    const newest = compressPushBody(
      encodePushRequest(
        [
          {
            source: 'function',
            timeMs: Date.now(),
            nanosInMs: 0,
            line: 'newest',
            requestId: undefined,
            sizeBytes: 1,
          },
        ],
        labels,
        { functionVersion: '$LATEST' },
      ),
    );
    await pushWithRetry(deps(), receiver.pushUrl, anonymous, newest, Date.now() + 2000);
    const old = (line: string, agoMs: number): LogEntry => ({
      source: 'function',
      timeMs: Date.now() - agoMs,
      nanosInMs: 0,
      line,
      requestId: undefined,
      sizeBytes: 1,
    });
    const mixed = compressPushBody(
      encodePushRequest([old('old 1', 60_000), old('old 2', 59_000), old('recent', 10)], labels, {
        functionVersion: '$LATEST',
      }),
    );

    const outcome = await pushWithRetry(deps(), receiver.pushUrl, anonymous, mixed, Date.now() + 2000);

    expect(outcome).toMatchObject({ kind: 'rejected', status: 400, tooFarBehind: 2 });
    expect(receiver.entries().map((e) => e.line)).toEqual(['newest', 'recent']);
  });
});

describe('tooFarBehindCount', () => {
  it.each([
    ['no such reason', 'entry for stream has timestamp too new', 0],
    [
      'the totals of each stream',
      "entry with timestamp x ignored, reason: 'entry too far behind, …',\nuser 'fake', total ignored: 3 out of 5 for stream: {a=\"1\"}\nuser 'fake', total ignored: 2 out of 2 for stream: {a=\"2\"}",
      5,
    ],
    [
      'the listed entries when the total was cut off',
      "ignored, reason: 'entry too far behind, …',\nignored, reason: 'entry too far behind, …',\n",
      2,
    ],
  ])('%s', (_name, text, expected) => {
    expect(tooFarBehindCount(text)).toBe(expected);
  });
});
