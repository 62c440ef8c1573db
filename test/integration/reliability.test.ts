/**
 * Fault injection (issue 7): each test breaks Loki or the telemetry input in one way and checks what
 * reached the receiver and what the extension printed. Every test runs with a token and a password
 * configured, and checks that neither was ever printed.
 */
import { request } from 'node:http';
import { it as base, describe, expect } from 'vitest';
import { DEFAULT_TIMINGS } from '../../extension/push-decision.js';
import { lokiEnv, startBundledExtension } from '../support/extension-harness.js';
import type { LambdaEmulator } from '../support/lambda-emulator.js';
import { type LokiReceiver, startLokiReceiver } from '../support/loki-receiver.js';

const TOKEN = 'rel-TOKEN-9f8e7d';
/**
 * Cooldowns, the end budget and retry backoff shrunk (the extension's test-only override), so an
 * outage of many cooldown cycles takes seconds, not minutes. The schedule is the same, only faster.
 */
const FAST = {
  LOKI_LAMBDA_TEST_TIMINGS: JSON.stringify({
    cooldownInitialMs: 100,
    cooldownMaxMs: 400,
    endPushBudgetMs: 200,
    retryInitialBackoffMs: 5,
    retryMaxBackoffMs: 50,
  }),
};
const FAST_COOLDOWN_INITIAL_MS = 100;
/** /next comes at the latest this long before an invocation's deadline (not shrunk). */
const DEADLINE_MARGIN_MS = DEFAULT_TIMINGS.invokeDeadlineMarginMs;
const FAST_COOLDOWN_MAX_MS = 400;
type ReceiverOptions = Parameters<typeof startLokiReceiver>[0];
type Start = (
  env?: Record<string, string>,
  freeze?: boolean,
  receiverOptions?: ReceiverOptions,
) => Promise<{ loki: LokiReceiver; lambda: LambdaEmulator }>;

/**
 * `start` gives each test its own Loki and sandbox, closed when the test ends, when it also checks
 * that the token was never printed. Nothing is shared, so the tests (which mostly wait) run side by side.
 */
const it = base.extend<{ start: Start }>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern (none here).
  start: async ({}, use) => {
    const started: Array<{ loki: LokiReceiver; lambda: LambdaEmulator }> = [];
    await use(async (env = {}, freeze = true, receiverOptions = {}) => {
      const loki = await startLokiReceiver({ auth: { bearerToken: TOKEN }, ...receiverOptions });
      try {
        const lambda = await startBundledExtension(
          lokiEnv(loki.url, { LOKI_BEARER_TOKEN: TOKEN, LOKI_FLUSH_STRATEGY: 'end', ...env }),
          { freeze },
        );
        started.push({ loki, lambda });
        return { loki, lambda };
      } catch (error) {
        await loki.close();
        throw error;
      }
    });
    for (const { loki, lambda } of started) {
      const output = lambda.output();
      await lambda.close();
      await loki.close();
      expect(output).not.toContain(TOKEN);
    }
  },
});

function written(lambda: LambdaEmulator): string[] {
  return lambda
    .events()
    .filter((e) => e.type === 'function')
    .map((e) => String(e.record));
}

function shipped(loki: LokiReceiver, source = 'function'): string[] {
  return loki
    .entries()
    .filter((e) => e.labels.source === source)
    .map((e) => e.line);
}

/** POSTs a raw body to the extension's telemetry listener, as Lambda would. */
function postTelemetry(lambda: LambdaEmulator, body: string | Buffer): Promise<number> {
  const uri = new URL(lambda.subscription?.destination.URI ?? '');
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: uri.port, path: uri.pathname, method: 'POST' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe.concurrent('reliability under faults', () => {
  it('Loki down across 50 invocations and many cooldowns: nothing held to its timeout, every line arrives once when Loki is back', async ({
    start,
    expect,
  }) => {
    const { loki, lambda } = await start(FAST);
    await loki.inject({ kind: 'down' });

    const results = [];
    for (let i = 0; i < 50; i++) {
      results.push(await lambda.invoke({ logs: [`outage ${i}`], durationMs: 10, timeoutMs: 3000 }));
    }
    await loki.inject({ kind: 'up' });
    for (let i = 0; i < 3; i++) {
      await lambda.invoke({ logs: [`after ${i}`], durationMs: FAST_COOLDOWN_MAX_MS / 2 });
    }
    await lambda.shutdown();

    expect(results.filter((r) => r.timedOut)).toEqual([]);
    // Cooldowns kept most invocations free of a push attempt during the outage.
    expect(results.filter((r) => r.durationMs > 150).length).toBeLessThan(25);
    expect(shipped(loki)).toEqual(written(lambda));
    expect(lambda.output().match(/cannot push to Loki/g)).toHaveLength(1);
    expect(lambda.output()).toContain('Loki accepts pushes again');
  });

  it.for([
    ['slow (answers after 1.5 s)', { kind: 'delay', ms: 1500, times: 2 } as const],
    ['hung (never answers)', { kind: 'hang', times: 2 } as const],
  ] as const)(
    'Loki %s: pushes are time-boxed, /next is called in time, nothing is lost',
    async ([, fault], { start, expect }) => {
      // The end budget and cooldowns shrunk (FAST): Loki's 1.5 s is several end budgets, as 4 s was with the real ones.
      const { loki, lambda } = await start(FAST);
      await loki.inject(fault);

      // The deadline comes before Loki's answer would: only a push cut at its budget lets /next be in time.
      const first = await lambda.invoke({ logs: ['during the fault'], timeoutMs: 1000 });
      // The runtime outlasts the first cooldown, so this invocation's push meets the fault again.
      await lambda.invoke({
        logs: ['still during'],
        durationMs: FAST_COOLDOWN_INITIAL_MS + 100,
        timeoutMs: 1000,
      });
      await new Promise((resolve) => setTimeout(resolve, 2 * FAST_COOLDOWN_INITIAL_MS + 100));
      await lambda.invoke({ logs: ['after the fault'], durationMs: 50 });
      await lambda.shutdown();

      expect(first.timedOut).toBe(false);
      // Cut by the injected end budget, not only by the deadline's margin (which would call /next at 800 ms).
      expect((first.nextCalledAtMs ?? Infinity) - first.startedAtMs).toBeLessThan(1000 - DEADLINE_MARGIN_MS);
      expect(shipped(loki)).toEqual(written(lambda));
      expect(
        lambda
          .output()
          .match(/cannot push to Loki, keeping \d+ entries for later: Loki did not answer in time/g),
      ).toHaveLength(1);
    },
  );

  it('429 and 5xx are retried within the invocation', async ({ start, expect }) => {
    const { loki, lambda } = await start();
    await loki.inject({ kind: 'status', status: 503, times: 1 });
    await loki.inject({ kind: 'status', status: 429, times: 1 });

    await lambda.invoke({ logs: ['retried'] });

    expect(loki.requests().map((r) => r.status)).toEqual([503, 429, 204]);
    expect(loki.requests()[0]?.headers['user-agent']).toMatch(/^loki-lambda\/\d+\.\d+\.\d+\S* \(node v\d+/);
    expect(shipped(loki)).toEqual(['retried']);
    expect(lambda.output()).toBe('');
  });

  it('a 400 is not retried: the reason and the count are logged once, the good entries are kept', async ({
    start,
    expect,
  }) => {
    const { loki: receiver, lambda: emulator } = await start({}, true, { maxLineSizeBytes: 1000 });

    const result = await emulator.invoke({ logs: ['fine', 'x'.repeat(2000), 'also fine'] });
    await emulator.invoke({ logs: ['next invocation'] });

    expect(shipped(receiver)).toEqual(['fine', 'also fine', 'next invocation']);
    expect(shipped(receiver, 'platform')).toContain(`END RequestId: ${result.requestId}`);
    expect(receiver.requests().map((r) => r.status)).toEqual([400, 204]);
    expect(shipped(receiver, 'extension')).toEqual([
      expect.stringMatching(
        /^loki-lambda dropped (\d+) log entries \(\d+ bytes\): \1 in pushes Loki refused with HTTP 400 .*\[rejected_http_400=\1\]$/,
      ),
    ]);
    const rejections = emulator
      .output()
      .match(/Loki rejected a push of \d+ entries \(HTTP 400\): .*Max entry size/g);
    expect(rejections).toHaveLength(1);
  });

  it('keeps memory under LOKI_MAX_BUFFER_BYTES during an outage, dropping the oldest, and ships a line saying how many', async ({
    start,
    expect,
  }) => {
    const { loki, lambda } = await start({ ...FAST, LOKI_MAX_BUFFER_BYTES: '65536' });
    await loki.inject({ kind: 'down' });
    const line = (i: number, j: number) => `inv ${i} line ${j} ${'.'.repeat(200)}`;

    for (let i = 0; i < 20; i++) {
      await lambda.invoke({ logs: Array.from({ length: 50 }, (_, j) => line(i, j)) });
    }
    await loki.inject({ kind: 'up' });
    await new Promise((resolve) => setTimeout(resolve, FAST_COOLDOWN_MAX_MS + 200)); // let the cooldown pass
    await lambda.invoke({ logs: ['back'] });
    await lambda.shutdown();

    const lines = shipped(loki);
    expect(lines.length).toBeLessThan(1000 * 0.4);
    expect(lines.at(-1)).toBe('back');
    expect(lines).toContain(line(19, 49));
    expect(lines).not.toContain(line(0, 0));
    expect(lambda.output()).toMatch(
      /cannot push to Loki, keeping \d+ entries for later: cannot reach Loki \(ECONNREFUSED\)/,
    );
    expect(lambda.output()).toContain('Loki accepts pushes again');
    const notice = shipped(loki, 'extension').find((l) => l.startsWith('loki-lambda dropped'));
    expect(notice).toMatch(
      /^loki-lambda dropped \d+ log entries \(\d+ bytes\): \d+ dropped while Loki was unreachable \(the buffer limit LOKI_MAX_BUFFER_BYTES=65536 was reached\) \[buffer_full_unreachable=\d+\]$/,
    );
  });

  it('with Loki hung at shutdown, the extension still exits before the deadline', async ({
    start,
    expect,
  }) => {
    const { loki, lambda } = await start({ LOKI_FLUSH_STRATEGY: 'periodic' });
    await lambda.invoke({ logs: ['stuck'] });
    await loki.inject({ kind: 'hang' });

    const shutdown = await lambda.shutdown({ deadlineInMs: 1000 });

    expect(shutdown).toMatchObject({ exitCode: 0, exitedBeforeDeadline: true, killed: false });
    expect(lambda.output()).toMatch(
      /shutting down \(spindown\) with \d+ entries Loki could not take in time/,
    );
  });

  it('a timed-out invocation and a SHUTDOWN for timeout still ship the last lines and the platform report', async ({
    start,
    expect,
  }) => {
    const { loki, lambda } = await start();

    const result = await lambda.invoke({
      logs: ['last line before timeout'],
      status: 'timeout',
      errorType: 'Sandbox.Timedout',
    });
    const shutdown = await lambda.shutdown({ reason: 'timeout' });

    expect(shipped(loki)).toEqual(['last line before timeout']);
    const platform = shipped(loki, 'platform');
    expect(platform).toContain(
      `END RequestId: ${result.requestId}\tStatus: timeout\tError Type: Sandbox.Timedout`,
    );
    expect(platform).toContainEqual(
      expect.stringMatching(`^REPORT RequestId: ${result.requestId}\t.*Status: timeout`),
    );
    expect(shutdown.exitedBeforeDeadline).toBe(true);
    expect(lambda.output()).toBe('');
  });

  it('a keep-alive connection closed by Loki while the sandbox was frozen is replaced transparently', async ({
    start,
    expect,
  }) => {
    const { loki, lambda } = await start();
    await lambda.invoke({ logs: ['before the freeze'] });
    expect(lambda.frozen()).toBe(true);

    await loki.inject({ kind: 'closeIdleSockets', reset: true });
    await lambda.invoke({ logs: ['after the freeze'] });
    await lambda.shutdown();

    expect(shipped(loki)).toEqual(['before the freeze', 'after the freeze']);
    expect(lambda.output()).not.toMatch(/cannot push|rejected/);
  });

  it('bad telemetry input is answered without crashing, and good events around it still ship', async ({
    start,
    expect,
  }) => {
    const { loki, lambda } = await start({ LOKI_DEBUG: 'true', LOKI_FLUSH_STRATEGY: 'periodic' }, false);
    const time = new Date().toISOString();
    const huge = 'h'.repeat(300 * 1024);
    const bigBatch = JSON.stringify(
      Array.from({ length: 5000 }, (_, i) => ({
        time,
        type: 'function',
        record: `batch ${i} ${'b'.repeat(180)}`,
      })),
    );

    const statuses = [
      await postTelemetry(lambda, '{not json'),
      await postTelemetry(lambda, '[]'),
      await postTelemetry(
        lambda,
        JSON.stringify([{ time, type: 'platform.future', record: { x: 1 } }, { nope: true }]),
      ),
      await postTelemetry(lambda, JSON.stringify([{ time, type: 'function', record: huge }])),
      await postTelemetry(
        lambda,
        Buffer.concat([
          Buffer.from(`[{"time":"${time}","type":"function","record":"bad `),
          Buffer.from([0xff, 0xfe]),
          Buffer.from(' bytes"}]'),
        ]),
      ),
      await postTelemetry(lambda, bigBatch),
      await postTelemetry(
        lambda,
        JSON.stringify([
          {
            time,
            type: 'platform.logsDropped',
            record: { reason: 'Consumer seems to have fallen behind', droppedRecords: 7, droppedBytes: 900 },
          },
        ]),
      ),
    ];
    await lambda.invoke({ logs: ['still alive'] });
    const shutdown = await lambda.shutdown();

    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200]);
    const lines = shipped(loki);
    expect(lines).toHaveLength(1 + 1 + 5000 + 1);
    expect(lines[0]).toMatch(/^h+ …\[truncated by loki-lambda: 307200 bytes, limit 262144\]$/);
    expect(lines[1]).toBe('bad \ufffd\ufffd bytes');
    expect(lines.at(-1)).toBe('still alive');
    expect(shipped(loki, 'platform')).toContain(
      'LOGS_DROPPED Lambda dropped 7 log records (900 bytes) before they reached loki-lambda: Consumer seems to have fallen behind',
    );
    expect(shipped(loki, 'platform')).toContain('FUTURE {"x":1}');
    expect(lambda.output()).toContain('[debug] ignored 1 malformed telemetry item(s)');
    expect(shutdown).toMatchObject({ exitCode: 0, exitedBeforeDeadline: true });
  });
});
