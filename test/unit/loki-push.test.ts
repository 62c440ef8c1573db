import { afterEach, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../extension/entries.js';
import { createHttpPost } from '../../extension/http-post.js';
import { type PushDeps, pushHeaders, pushWithRetry } from '../../extension/loki-push.js';
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

/** Real HTTP over loopback; backoff shrunk to milliseconds, waits recorded. */
function deps(waits: number[] = []): PushDeps {
  return {
    post: http.post,
    now: Date.now,
    random: () => 0.05,
    sleep: (ms) => {
      waits.push(ms);
      return new Promise((resolve) => setTimeout(resolve, ms));
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
    expect(waits).toEqual([5, 10]);
    expect(receiver.entries()).toHaveLength(1);
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

    const outcome = await pushWithRetry(deps(), receiver.pushUrl, anonymous, body('a'), Date.now() + 300);

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
});
