import { describe, expect } from 'vitest';
import { itWithFakeExtension, FAKE_EXTENSION_NAME as NAME } from '../support/fake-extension-fixture.js';
import {
  type LambdaEmulator,
  MANAGED_INSTANCES_SCHEMA_VERSION,
  type TelemetryEvent,
} from '../support/lambda-emulator.js';
import { reportEvent, startEvent } from '../support/lambda-events.js';
import type { TelemetrySubscription } from '../support/lambda-subscription.js';
import { type PostOutcome, TelemetryDispatcher } from '../support/lambda-telemetry-dispatcher.js';

const it = itWithFakeExtension;

function api(emulator: LambdaEmulator, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`http://${emulator.runtimeApi}${path}`, init);
}

function recordOf(event: TelemetryEvent | undefined): Record<string, unknown> {
  return (event?.record ?? {}) as Record<string, unknown>;
}

/**
 * Waits (at most 3 s) until `count()` passes `above`, and returns it: a process that is not frozen
 * ticks every 10 ms, but on a busy machine some 200 ms can pass with few ticks read.
 */
async function untilAbove(count: () => number, above: number): Promise<number> {
  const deadline = Date.now() + 3_000;
  while (count() <= above && Date.now() < deadline) await sleep(20);
  return count();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/**
 * The extension's output once it holds `pattern` (or after 5 s): a line the fake extension printed
 * right before its next HTTP call can reach the emulator after that call.
 */
async function outputWith(emulator: LambdaEmulator, pattern: string | RegExp): Promise<string> {
  const deadline = Date.now() + 5_000;
  const holds = (output: string) =>
    typeof pattern === 'string' ? output.includes(pattern) : pattern.test(output);
  while (!holds(emulator.output()) && Date.now() < deadline) await sleep(10);
  return emulator.output();
}

const MANAGED_ENV = {
  REGISTER_EVENTS: 'SHUTDOWN',
  SCHEMA_VERSION: MANAGED_INSTANCES_SCHEMA_VERSION,
  BUFFER_TIMEOUT_MS: '25',
};

describe.concurrent('the RIE-like mode (sam local, Lambda base images, LocalStack)', () => {
  it('answers a Telemetry API subscription with 202 and Telemetry.NotSupported, and delivers nothing', async ({
    startFake,
  }) => {
    const emulator = await startFake({}, { mode: 'rie' });
    expect(await emulator.init()).toMatchObject({ ok: true });

    const result = await emulator.invoke({ logs: ['a line nobody receives'] });

    const said =
      'subscribe 202 {"errorMessage":"Telemetry API is not supported","errorType":"Telemetry.NotSupported"}';
    expect(await outputWith(emulator, said)).toContain(said);
    expect(result.timedOut).toBe(false);
    expect(emulator.deliveries()).toEqual([]);
    expect(emulator.subscription).toBeUndefined();
  });

  it('answers a Logs API subscription with 202 and Logs.NotSupported', async ({ startFake }) => {
    const emulator = await startFake({}, { mode: 'rie' });
    await emulator.init();

    const response = await api(emulator, '/2020-08-15/logs', {
      method: 'PUT',
      headers: { 'Lambda-Extension-Identifier': emulator.extensionId() ?? '' },
      body: JSON.stringify({ types: ['function'], destination: { protocol: 'HTTP', URI: 'http://x:1' } }),
    });

    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({
      errorMessage: 'Logs API is not supported',
      errorType: 'Logs.NotSupported',
    });
  });

  it('holds an invoke until the extension has called /next again', async ({ startFake }) => {
    const emulator = await startFake({ FAKE_MODE: 'hang-invoke' }, { mode: 'rie' });
    await emulator.init();

    const result = await emulator.invoke({ durationMs: 5, timeoutMs: 400 });

    expect(result.timedOut).toBe(true);
    expect(result.durationMs).toBeGreaterThanOrEqual(400);
  });

  it('does not freeze the extension between invocations', async ({ startFake }) => {
    const emulator = await startFake({ FAKE_MODE: 'tick' }, { mode: 'rie' });
    await emulator.init();
    const ticks = () =>
      emulator
        .output()
        .split('\n')
        .filter((l) => l === 'tick').length;

    const before = ticks();

    expect(await untilAbove(ticks, before + 3)).toBeGreaterThan(before + 3);
    expect(emulator.frozen()).toBe(false);
  });
});

describe.concurrent('the Managed Instances mode', () => {
  it('refuses a registration for INVOKE with 403 Extension.InvalidEventType', async ({ startFake }) => {
    const emulator = await startFake({}, { mode: 'managed-instances' });

    const response = await api(emulator, '/2020-01-01/extension/register', {
      method: 'POST',
      headers: { 'Lambda-Extension-Name': NAME },
      body: JSON.stringify({ events: ['INVOKE', 'SHUTDOWN'] }),
    });

    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ errorType: 'Extension.InvalidEventType' });
  });

  it('gives the extension AWS_LAMBDA_INITIALIZATION_TYPE=lambda-managed-instances', async ({ startFake }) => {
    const emulator = await startFake(
      { ...MANAGED_ENV, FAKE_MODE: 'print-env' },
      { mode: 'managed-instances' },
    );
    expect(await emulator.init()).toMatchObject({ ok: true });

    const type = '"AWS_LAMBDA_INITIALIZATION_TYPE":"lambda-managed-instances"';
    expect(await outputWith(emulator, type)).toContain(type);
  });

  it('refuses a subscription with a schema other than 2025-01-29 with 400 ValidationError', async ({
    startFake,
  }) => {
    const emulator = await startFake(
      { ...MANAGED_ENV, SCHEMA_VERSION: '2022-12-13' },
      { mode: 'managed-instances' },
    );
    await emulator.init();

    const refused = /subscribe 400 .*"errorType":"ValidationError"/;
    expect(await outputWith(emulator, refused)).toMatch(refused);
    expect(emulator.subscription).toBeUndefined();
  });

  it('accepts a subscription only during init (later: 403 Telemetry.SubscriptionClosed)', async ({
    startFake,
  }) => {
    const emulator = await startFake(MANAGED_ENV, { mode: 'managed-instances' });
    await emulator.init();
    expect(await outputWith(emulator, 'subscribe 200 OK')).toContain('subscribe 200 OK');

    const late = await api(emulator, '/2022-07-01/telemetry', {
      method: 'PUT',
      headers: { 'Lambda-Extension-Identifier': emulator.extensionId() ?? '' },
      body: JSON.stringify({
        schemaVersion: MANAGED_INSTANCES_SCHEMA_VERSION,
        types: ['platform'],
        destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:4243/' },
      }),
    });

    expect(late.status).toBe(403);
    expect(await late.json()).toMatchObject({ errorType: 'Telemetry.SubscriptionClosed' });
  });

  it('runs invocations at once, with request ids on start, report and every JSON log record, and no runtimeDone', async ({
    startFake,
  }) => {
    const emulator = await startFake(MANAGED_ENV, { mode: 'managed-instances' });
    await emulator.init();

    const results = await Promise.all(
      [1, 2, 3, 4].map((i) => emulator.invoke({ logs: [`line of ${i}`], durationMs: 150 })),
    );

    const starts = results.map((r) => r.startedAtMs);
    const ends = results.map((r) => r.endedAtMs);
    expect(Math.max(...starts)).toBeLessThan(Math.min(...ends));
    // What the sandbox produced (deliveries may drop a batch under load, as Lambda does: tested below).
    const events = emulator.events();
    expect(events.some((e) => e.type === 'platform.runtimeDone')).toBe(false);
    for (const result of results) {
      const mine = events.filter((e) => recordOf(e).requestId === result.requestId).map((e) => e.type);
      expect(mine).toEqual(['platform.start', 'function', 'platform.report']);
    }
    expect(recordOf(events.find((e) => e.type === 'function'))).toMatchObject({
      level: 'INFO',
      message: expect.stringMatching(/^line of /),
    });
  });

  it('never freezes the extension, and delivers SHUTDOWN with a deadline 2 s after shutdown began', async ({
    startFake,
  }) => {
    const emulator = await startFake({ ...MANAGED_ENV, FAKE_MODE: 'tick' }, { mode: 'managed-instances' });
    await emulator.init();
    await emulator.invoke({ logs: ['x'] });
    const ticks = () =>
      emulator
        .output()
        .split('\n')
        .filter((l) => l === 'tick').length;
    const before = ticks();
    expect(await untilAbove(ticks, before + 3)).toBeGreaterThan(before + 3);

    const shutdown = await emulator.shutdown();

    expect(emulator.output()).toContain('shutdown spindown');
    expect(shutdown).toMatchObject({ exitCode: 0, exitedBeforeDeadline: true });
    expect(emulator.environmentError()).toBeUndefined();
  });

  it('reports Extension.Crash when the extension exits before SHUTDOWN, even with status 0', async ({
    startFake,
  }) => {
    const emulator = await startFake(
      { ...MANAGED_ENV, FAKE_MODE: 'exit-after-init' },
      { mode: 'managed-instances' },
    );
    await emulator.init();

    await eventually(() => emulator.environmentError() !== undefined);

    expect(emulator.environmentError()).toBe('Extension.Crash');
  });
});

describe.concurrent('telemetry delivery on Managed Instances (one POST in flight per subscriber)', () => {
  const subscription: TelemetrySubscription = {
    schemaVersion: MANAGED_INSTANCES_SCHEMA_VERSION,
    types: ['platform', 'function'],
    buffering: { maxItems: 1000, maxBytes: 262144, timeoutMs: 25 },
    destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:1/' },
  };

  it('drops a batch that is due while the previous POST is in flight, and reports it', async () => {
    const posted: string[] = [];
    let answer: ((outcome: PostOutcome) => void) | undefined;
    const dispatcher = new TelemetryDispatcher({
      subscription,
      post: (_uri, body) => {
        posted.push(body);
        return new Promise((resolve) => {
          answer = resolve;
        });
      },
      now: Date.now,
      isPaused: () => false,
      onDelivery: () => {},
      dropWhenBusy: true,
    });
    const tracing = { spanId: 's', type: 'X-Amzn-Trace-Id', value: 'v' } as const;

    dispatcher.enqueue(startEvent(Date.now(), 'first', '$LATEST', tracing));
    await eventually(() => posted.length === 1);
    dispatcher.enqueue(startEvent(Date.now(), 'second', '$LATEST', tracing));
    await eventually(() => dispatcher.droppedRecords === 1);
    answer?.({ status: 200 });
    await eventually(() => posted.length === 2);
    answer?.({ status: 200 });

    expect(dispatcher.droppedRecords).toBe(1);
    expect(posted[1]).toContain('platform.logsDropped');
    expect(posted[1]).not.toContain('"second"');
    dispatcher.stop();
  });

  it('does not retry a failed POST: the batch is dropped and reported', async () => {
    const posted: string[] = [];
    const dispatcher = new TelemetryDispatcher({
      subscription,
      post: async (_uri, body) => {
        posted.push(body);
        return posted.length === 1 ? { error: 'connection refused' } : { status: 200 };
      },
      now: Date.now,
      isPaused: () => false,
      onDelivery: () => {},
      dropWhenBusy: true,
    });

    dispatcher.enqueue(
      reportEvent(Date.now(), {
        requestId: 'r',
        status: 'success',
        durationMs: 1,
        memorySizeMB: 128,
        maxMemoryUsedMB: 1,
        tracing: { spanId: 's', type: 'X-Amzn-Trace-Id', value: 'v' },
      }),
    );
    await eventually(() => posted.length === 2);

    expect(posted[1]).toContain('platform.logsDropped');
    expect(dispatcher.droppedRecords).toBe(1);
    dispatcher.stop();
  });
});

describe.concurrent('asynchronous retries', () => {
  it('runs a retry with the same request id as a new attempt', async ({ startFake }) => {
    const emulator = await startFake({ FAKE_MODE: 'wait-runtime-done', BUFFER_TIMEOUT_MS: '25' });
    await emulator.init();

    const first = await emulator.invoke({ status: 'error', errorType: 'Runtime.Unhandled' });
    const retry = await emulator.invoke({ requestId: first.requestId });
    await emulator.shutdown();

    expect(first.attempt).toBe(1);
    expect(retry).toMatchObject({ requestId: first.requestId, attempt: 2, timedOut: false });
    const invokes = emulator
      .output()
      .split('\n')
      .filter((l) => l.startsWith('invoke '));
    expect(invokes.map((l) => JSON.parse(l.slice(7)).requestId)).toEqual([first.requestId, first.requestId]);
    const reports = emulator.events().filter((e) => e.type === 'platform.report');
    expect(reports.map((e) => [recordOf(e).requestId, recordOf(e).status])).toEqual([
      [first.requestId, 'error'],
      [first.requestId, 'success'],
    ]);
  });
});

describe.concurrent('SnapStart', () => {
  it('snapshots after init and restores before the first invoke, reporting the restore', async ({
    startFake,
  }) => {
    const emulator = await startFake({ BUFFER_TIMEOUT_MS: '25' }, { snapStart: true });
    await emulator.init();
    expect(emulator.frozen()).toBe(true);

    const result = await emulator.invoke({ logs: ['after restore'] });

    // The platform's events: a line the extension printed during init may be read (and become an
    // `extension` event) at any time after it.
    const types = emulator
      .events()
      .map((e) => e.type)
      .filter((type) => type.startsWith('platform.'));
    const restoreAt = types.indexOf('platform.restoreStart');
    expect(restoreAt).toBeGreaterThan(types.indexOf('platform.initReport'));
    expect(types.slice(restoreAt, restoreAt + 4)).toEqual([
      'platform.restoreStart',
      'platform.restoreRuntimeDone',
      'platform.restoreReport',
      'platform.start',
    ]);
    const initStart = emulator.events().find((e) => e.type === 'platform.initStart');
    expect(recordOf(initStart).initializationType).toBe('snap-start');
    const report = emulator
      .events()
      .find((e) => e.type === 'platform.report' && recordOf(e).requestId === result.requestId);
    const metrics = recordOf(report).metrics as Record<string, unknown>;
    expect(metrics.restoreDurationMs).toEqual(expect.any(Number));
    expect(metrics.billedRestoreDurationMs).toEqual(expect.any(Number));
    expect(metrics.initDurationMs).toBeUndefined();
  });
});
