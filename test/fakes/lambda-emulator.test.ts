import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import {
  FAKE_EXTENSION_FILE,
  FAKE_EXTENSION_NAME,
  itWithFakeExtension,
  type StartFake,
} from '../support/fake-extension-fixture.js';
import { type LambdaEmulator, startLambdaEmulator, type TelemetryEvent } from '../support/lambda-emulator.js';

const FIXTURE = FAKE_EXTENSION_FILE;
const NAME = FAKE_EXTENSION_NAME;

interface Fakes {
  /** `startFake` (see fake-extension-fixture.ts), initialised: the extension registered and called /next. */
  initFake: StartFake;
  /** An executable launcher like /opt/extensions/NAME: a shell that starts node as its child (no exec). */
  writeLauncher: (name: string) => Promise<string>;
}

/**
 * Each test's emulators and files are its own and go when it ends: the tests share nothing and run
 * side by side (most of their time is a process starting, or a deadline).
 */
const it = itWithFakeExtension.extend<Fakes>({
  initFake: async ({ startFake }, use) => {
    await use(async (env = {}, options = {}) => {
      const emulator = await startFake(env, options);
      const init = await emulator.init();
      expect(init).toMatchObject({ ok: true, registered: true });
      return emulator;
    });
  },
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern (none here).
  writeLauncher: async ({}, use) => {
    const dirs: string[] = [];
    await use(async (name) => {
      const dir = await mkdtemp(join(tmpdir(), 'lambda-emulator-'));
      dirs.push(dir);
      const path = join(dir, name);
      await writeFile(path, `#!/bin/sh\n"${process.execPath}" "${FIXTURE}"\n`);
      await chmod(path, 0o755);
      return path;
    });
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  },
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The first line of the extension's output starting with `prefix`, once it is there: the extension's
 * stdout can reach the emulator after the HTTP call the extension made next.
 */
async function outputLine(emulator: LambdaEmulator, prefix: string): Promise<string | undefined> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const line = emulator
      .output()
      .split('\n')
      .find((l) => l.startsWith(prefix));
    if (line !== undefined || Date.now() > deadline) return line;
    await sleep(10);
  }
}

function api(emulator: LambdaEmulator, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`http://${emulator.runtimeApi}${path}`, init);
}

function deliveredEvents(emulator: LambdaEmulator): TelemetryEvent[] {
  return emulator
    .deliveries()
    .filter((delivery) => delivery.ok)
    .flatMap((delivery) => delivery.events);
}

function recordOf(event: TelemetryEvent | undefined): Record<string, unknown> {
  return (event?.record ?? {}) as Record<string, unknown>;
}

function isReportFor(requestId: string) {
  return (event: TelemetryEvent) =>
    event.type === 'platform.report' && recordOf(event).requestId === requestId;
}

function ticks(text: string): number {
  return text.split('\n').filter((line) => line === 'tick').length;
}

describe.concurrent('Extensions API registration', () => {
  it('answers a registration with an identifier and the function metadata', async ({ startFake }) => {
    const emulator = await startFake({}, { functionName: 'orders' });

    const response = await api(emulator, '/2020-01-01/extension/register', {
      method: 'POST',
      headers: { 'Lambda-Extension-Name': NAME },
      body: JSON.stringify({ events: ['INVOKE', 'SHUTDOWN'] }),
    });

    expect(response.status).toBe(200);
    expect(response.headers.get('lambda-extension-identifier')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.json()).toEqual({
      functionName: 'orders',
      functionVersion: '$LATEST',
      handler: 'index.handler',
    });
    expect(emulator.registeredName()).toBe(NAME);
  });

  it.for([
    {
      case: 'a missing Lambda-Extension-Name',
      headers: {} as Record<string, string>,
      body: { events: ['INVOKE'] },
      errorType: 'Extension.InvalidExtensionName',
    },
    {
      case: 'an event type other than INVOKE and SHUTDOWN',
      headers: { 'Lambda-Extension-Name': NAME },
      body: { events: ['INVOKE', 'RESTORE'] },
      errorType: 'Extension.InvalidEventType',
    },
    {
      case: 'a name other than the extension file name',
      headers: { 'Lambda-Extension-Name': 'other-name' },
      body: { events: ['INVOKE'] },
      errorType: 'Extension.InvalidExtensionName',
    },
    {
      case: 'deprecated configurationKeys',
      headers: { 'Lambda-Extension-Name': NAME },
      body: { events: ['INVOKE'], configurationKeys: ['KEY'] },
      errorType: 'InvalidRequestFormat',
    },
  ])(
    'rejects $case with 403 and a Lambda error body',
    async ({ headers, body, errorType }, { startFake }) => {
      const emulator = await startFake();

      const response = await api(emulator, '/2020-01-01/extension/register', {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      });

      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({ errorType, errorMessage: expect.any(String) });
      expect(emulator.registeredName()).toBeUndefined();
    },
  );

  it('rejects registering again, or under another name, once init is over', async ({ initFake }) => {
    const emulator = await initFake();

    const again = await api(emulator, '/2020-01-01/extension/register', {
      method: 'POST',
      headers: { 'Lambda-Extension-Name': NAME },
      body: JSON.stringify({ events: ['INVOKE'] }),
    });
    const late = await api(emulator, '/2020-01-01/extension/register', {
      method: 'POST',
      headers: { 'Lambda-Extension-Name': 'latecomer' },
      body: JSON.stringify({ events: ['INVOKE'] }),
    });

    expect(again.status).toBe(403);
    expect(await again.json()).toMatchObject({ errorType: 'Extension.InvalidExtensionState' });
    expect(late.status).toBe(403);
    expect(await late.json()).toMatchObject({ errorType: 'Extension.RegistrationClosed' });
  });

  it('refuses /event/next without a known extension identifier', async ({ initFake }) => {
    const emulator = await initFake();

    const missing = await api(emulator, '/2020-01-01/extension/event/next');
    const unknown = await api(emulator, '/2020-01-01/extension/event/next', {
      headers: { 'Lambda-Extension-Identifier': '00000000-0000-4000-8000-000000000000' },
    });

    expect(missing.status).toBe(403);
    expect(await missing.json()).toMatchObject({ errorType: 'Extension.MissingExtensionIdentifier' });
    expect(unknown.status).toBe(403);
    expect(await unknown.json()).toMatchObject({ errorType: 'Extension.UnknownExtensionIdentifier' });
  });

  it('insists on an extension name when the command is a node binary', async () => {
    await expect(startLambdaEmulator({ command: process.execPath, args: [FIXTURE] })).rejects.toThrow(
      /extensionName is required/,
    );
  });
});

describe.concurrent('Telemetry API subscription', () => {
  const valid = {
    schemaVersion: '2022-12-13',
    types: ['platform', 'function'],
    buffering: { maxItems: 1000, maxBytes: 262144, timeoutMs: 100 },
    destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:4243/' },
  };

  function subscribe(emulator: LambdaEmulator, body: unknown, id = emulator.extensionId()) {
    return api(emulator, '/2022-07-01/telemetry', {
      method: 'PUT',
      headers: { 'Lambda-Extension-Identifier': id ?? '' },
      body: JSON.stringify(body),
    });
  }

  it.for([
    {
      case: 'an unknown schema version',
      body: { ...valid, schemaVersion: '2021-01-01' },
      says: /schemaVersion/,
    },
    { case: 'no types', body: { ...valid, types: [] }, says: /types should not be empty/ },
    { case: 'an unknown type', body: { ...valid, types: ['platform', 'logs'] }, says: /types must be/ },
    {
      case: 'maxItems below 1000',
      body: { ...valid, buffering: { ...valid.buffering, maxItems: 999 } },
      says: /maxItems/,
    },
    {
      case: 'maxItems above 10000',
      body: { ...valid, buffering: { ...valid.buffering, maxItems: 10001 } },
      says: /maxItems/,
    },
    {
      case: 'maxBytes below 262144',
      body: { ...valid, buffering: { ...valid.buffering, maxBytes: 262143 } },
      says: /maxBytes/,
    },
    {
      case: 'maxBytes above 1048576',
      body: { ...valid, buffering: { ...valid.buffering, maxBytes: 1048577 } },
      says: /maxBytes/,
    },
    {
      case: 'timeoutMs below 25',
      body: { ...valid, buffering: { ...valid.buffering, timeoutMs: 24 } },
      says: /timeoutMs/,
    },
    {
      case: 'timeoutMs above 30000',
      body: { ...valid, buffering: { ...valid.buffering, timeoutMs: 30001 } },
      says: /timeoutMs/,
    },
    {
      case: 'a URI without port',
      body: { ...valid, destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain/' } },
      says: /URI port is not provided/,
    },
    {
      case: 'an unknown protocol',
      body: { ...valid, destination: { protocol: 'UDP', URI: 'http://sandbox.localdomain:4243/' } },
      says: /protocol/,
    },
  ])('rejects $case with 400 ValidationError', async ({ body, says }, { initFake }) => {
    const emulator = await initFake();

    const response = await subscribe(emulator, body);

    expect(response.status).toBe(400);
    const answer = (await response.json()) as { errorType: string; errorMessage: string };
    expect(answer.errorType).toBe('ValidationError');
    expect(answer.errorMessage).toMatch(says);
  });

  it('applies the documented buffering defaults when buffering is omitted', async ({ initFake }) => {
    const emulator = await initFake();

    const response = await subscribe(emulator, { ...valid, buffering: undefined });

    expect(response.status).toBe(200);
    expect(await response.text()).toBe('OK');
    expect(emulator.subscription?.buffering).toEqual({ maxItems: 1000, maxBytes: 262144, timeoutMs: 1000 });
  });

  it('refuses a subscription without the extension identifier', async ({ initFake }) => {
    const emulator = await initFake();

    const response = await subscribe(emulator, valid, '');

    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ errorType: 'Extension.MissingExtensionIdentifier' });
  });
});

describe.concurrent('init', () => {
  it('reports an extension that crashes before registering', async ({ startFake }) => {
    const emulator = await startFake({ FAKE_MODE: 'crash-before-register' });

    const init = await emulator.init();

    expect(init).toMatchObject({ ok: false, registered: false, errorType: 'Extension.Crash', exitCode: 3 });
    await expect(emulator.invoke()).rejects.toThrow(/initialized/);
  });

  it('reports an extension that never registers, and kills it at the init timeout', async ({ startFake }) => {
    const emulator = await startFake({ FAKE_MODE: 'never-register' }, { initTimeoutMs: 300 });

    const init = await emulator.init();

    expect(init).toMatchObject({
      ok: false,
      registered: false,
      errorType: 'Sandbox.Timedout',
      signal: 'SIGKILL',
    });
  });

  it('reports the init error an extension posts', async ({ startFake }) => {
    const emulator = await startFake({ FAKE_MODE: 'init-error' });

    const init = await emulator.init();

    expect(init).toMatchObject({ ok: false, registered: true, errorType: 'Extension.ConfigInvalid' });
    expect(emulator.extensionErrors()).toEqual([
      expect.objectContaining({ kind: 'init', errorType: 'Extension.ConfigInvalid' }),
    ]);
  });

  it('gives the extension the Lambda environment and nothing of the test runner', async ({ initFake }) => {
    const emulator = await initFake(
      { FAKE_MODE: 'print-env' },
      { functionName: 'orders', memorySizeMb: 256 },
    );

    const line = await outputLine(emulator, 'env ');
    const env = JSON.parse(line?.slice('env '.length) ?? '{}') as Record<string, string>;
    expect(env).toMatchObject({
      AWS_LAMBDA_RUNTIME_API: emulator.runtimeApi,
      AWS_LAMBDA_FUNCTION_NAME: 'orders',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_REGION: 'us-east-1',
      FAKE_MODE: 'print-env',
    });
    expect(process.env.VITEST).toBeDefined();
    expect(env.VITEST).toBeUndefined();
  });

  it('hands init events that happened before the subscription to the subscriber', async ({ initFake }) => {
    const emulator = await initFake({ FAKE_MODE: 'wait-runtime-done', BUFFER_TIMEOUT_MS: '25' });

    await emulator.invoke();

    const types = deliveredEvents(emulator).map((event) => event.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'platform.initStart',
        'platform.initRuntimeDone',
        'platform.telemetrySubscription',
        'platform.extension',
        'platform.initReport',
      ]),
    );
  });
});

describe.concurrent('invocation', () => {
  it('delivers INVOKE with the request id, deadline, function ARN and trace header', async ({ initFake }) => {
    const emulator = await initFake({}, { functionName: 'orders' });

    const result = await emulator.invoke({ requestId: 'req-1', timeoutMs: 3000 });

    const line = await outputLine(emulator, 'invoke ');
    const event = JSON.parse(line?.slice('invoke '.length) ?? '{}');
    expect(event).toEqual({
      eventType: 'INVOKE',
      requestId: 'req-1',
      deadlineMs: Math.round(result.startedAtMs + 3000),
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:orders',
      tracing: { type: 'X-Amzn-Trace-Id', value: expect.stringMatching(/^Root=1-/) },
    });
  });

  it('delivers platform events and function logs of an invocation in order', async ({ initFake }) => {
    const emulator = await initFake({ FAKE_MODE: 'wait-runtime-done', BUFFER_TIMEOUT_MS: '25' });

    await emulator.invoke({
      requestId: 'req-2',
      logs: ['plain line', { level: 'WARN', message: 'structured' }],
      logSpacingMs: 5,
    });

    const events = deliveredEvents(emulator).filter(
      (event) => event.type === 'function' || recordOf(event).requestId === 'req-2',
    );
    expect(events.map((event) => event.type)).toEqual([
      'platform.start',
      'function',
      'function',
      'platform.runtimeDone',
    ]);
    expect(recordOf(events[0])).toMatchObject({ requestId: 'req-2', version: '$LATEST' });
    expect(events[1]?.record).toBe('plain line');
    expect(events[2]?.record).toEqual({
      timestamp: expect.any(String),
      level: 'WARN',
      requestId: 'req-2',
      message: 'structured',
    });
    expect(recordOf(events[3])).toMatchObject({
      requestId: 'req-2',
      status: 'success',
      metrics: { durationMs: expect.any(Number), producedBytes: 0 },
      spans: [
        expect.objectContaining({ name: 'responseLatency' }),
        expect.objectContaining({ name: 'responseDuration' }),
      ],
    });
  });

  it('measures the extension time from runtimeDone delivery to its next /event/next', async ({
    initFake,
  }) => {
    const emulator = await initFake({ FAKE_MODE: 'wait-runtime-done', BUFFER_TIMEOUT_MS: '25' });

    const result = await emulator.invoke();

    expect(result.timedOut).toBe(false);
    expect(result.runtimeDoneDeliveredAtMs).toBeDefined();
    expect(result.extensionOverheadMs).toBe(result.nextCalledAtMs! - result.runtimeDoneDeliveredAtMs!);
    expect(result.extensionOverheadMs).toBeGreaterThanOrEqual(0);
  });

  it('gives no extension time when /event/next came before runtimeDone was delivered', async ({
    initFake,
  }) => {
    const emulator = await initFake({ BUFFER_TIMEOUT_MS: '30000' });

    const result = await emulator.invoke({ durationMs: 20 });

    expect(result.runtimeDoneDeliveredAtMs).toBeUndefined();
    expect(result.extensionOverheadMs).toBeNaN();
  });

  it('times out an invocation whose extension never calls /event/next again', async ({ initFake }) => {
    const emulator = await initFake({ FAKE_MODE: 'hang-invoke' });

    const result = await emulator.invoke({ requestId: 'req-3', timeoutMs: 200 });

    expect(result).toMatchObject({ timedOut: true, nextCalledAtMs: undefined });
    expect(recordOf(emulator.events().find(isReportFor('req-3')))).toMatchObject({ status: 'timeout' });
  });
});

describe.concurrent('telemetry batching', () => {
  it('sends at most maxItems events per POST, one POST at a time', async ({ initFake }) => {
    const emulator = await initFake({
      TELEMETRY_TYPES: 'function',
      BUFFER_MAX_ITEMS: '1000',
      BUFFER_TIMEOUT_MS: '30000',
      FAKE_MODE: 'ignore-shutdown',
    });

    await emulator.invoke({ logs: Array.from({ length: 2500 }, (_, i) => `line ${i}`) });
    await emulator.shutdown({ deadlineInMs: 300 });

    const deliveries = emulator.deliveries();
    expect(deliveries.map((delivery) => delivery.events.length)).toEqual([1000, 1000, 500]);
    expect(deliveries.every((delivery) => delivery.ok)).toBe(true);
    for (let i = 1; i < deliveries.length; i += 1) {
      expect(deliveries[i]!.sentAtMs).toBeGreaterThanOrEqual(deliveries[i - 1]!.answeredAtMs!);
    }
  });

  it('cuts a batch before it would pass maxBytes', async ({ initFake }) => {
    const emulator = await initFake({
      TELEMETRY_TYPES: 'function',
      BUFFER_MAX_ITEMS: '10000',
      BUFFER_MAX_BYTES: '262144',
      BUFFER_TIMEOUT_MS: '30000',
      FAKE_MODE: 'ignore-shutdown',
    });

    await emulator.invoke({ logs: Array.from({ length: 6 }, () => 'x'.repeat(100_000)) });
    await emulator.shutdown({ deadlineInMs: 300 });

    const deliveries = emulator.deliveries();
    expect(deliveries.map((delivery) => delivery.events.length)).toEqual([2, 2, 2]);
    expect(deliveries.every((delivery) => delivery.bytes <= 262_144)).toBe(true);
  });

  it('sends a batch that is not full once timeoutMs has passed', async ({ initFake }) => {
    // The extension waits for runtimeDone, which only the buffering timeout can bring.
    const emulator = await initFake({ FAKE_MODE: 'wait-runtime-done', BUFFER_TIMEOUT_MS: '25' });

    const result = await emulator.invoke({ logs: ['a', 'b', 'c'] });

    const carrier = emulator
      .deliveries()
      .find((delivery) => delivery.events.some((event) => event.type === 'platform.runtimeDone'));
    expect(carrier?.events.length).toBeLessThan(1000);
    expect(carrier?.answeredAtMs).toBeLessThanOrEqual(result.endedAtMs);
  });

  it('records failed deliveries, retries them, and reports the drop', async ({ initFake }) => {
    const emulator = await initFake({
      SUBSCRIBE_URI: 'http://sandbox.localdomain:1/',
      BUFFER_TIMEOUT_MS: '25',
      FAKE_MODE: 'ignore-shutdown',
    });

    await emulator.invoke({ requestId: 'req-4' });
    await emulator.shutdown({ deadlineInMs: 600 });

    const failures = emulator.deliveries().filter((delivery) => !delivery.ok);
    expect(failures.length).toBeGreaterThanOrEqual(3);
    expect(failures[0]).toMatchObject({ status: undefined, error: expect.stringMatching(/ECONNREFUSED/) });
    expect(failures.slice(0, 3).map((delivery) => delivery.attempt)).toEqual([1, 2, 3]);
    expect(failures.some((delivery) => delivery.events.some((e) => e.type === 'platform.logsDropped'))).toBe(
      true,
    );
  });
});

describe.concurrent('freeze', () => {
  it('delivers the report of an invocation only after the next thaw', async ({ initFake }) => {
    const emulator = await initFake({ FAKE_MODE: 'wait-runtime-done', BUFFER_TIMEOUT_MS: '25' });

    await emulator.invoke({ requestId: 'first' });
    await sleep(200);
    const deliveredWhileFrozen = deliveredEvents(emulator).some(isReportFor('first'));
    const second = await emulator.invoke({ requestId: 'second' });

    expect(deliveredWhileFrozen).toBe(false);
    const carrier = emulator.deliveries().find((delivery) => delivery.events.some(isReportFor('first')));
    expect(carrier?.ok).toBe(true);
    expect(carrier?.sentAtMs).toBeGreaterThanOrEqual(second.startedAtMs);
    expect(recordOf(carrier?.events.find(isReportFor('first')))).toMatchObject({
      status: 'success',
      metrics: {
        durationMs: expect.any(Number),
        billedDurationMs: expect.any(Number),
        memorySizeMB: 128,
        maxMemoryUsedMB: expect.any(Number),
        initDurationMs: expect.any(Number),
      },
    });
  });

  it('stops every timer of the extension between invocations', async ({ initFake }) => {
    const emulator = await initFake({ FAKE_MODE: 'tick,ignore-shutdown' });

    await emulator.invoke();
    // Ticks printed before the freeze may still be on their way from the pipe.
    await sleep(300);
    const before = ticks(emulator.output());
    // Some 15 ticks if it were not frozen.
    await sleep(150);
    const afterFrozen = ticks(emulator.output());
    await emulator.shutdown({ deadlineInMs: 300 });

    expect(afterFrozen).toBe(before);
    expect(ticks(emulator.output())).toBeGreaterThan(afterFrozen);
  });

  it('freezes the whole process group of a launcher script that starts node', async ({
    startFake,
    writeLauncher,
  }) => {
    const launcher = await writeLauncher('fake-launcher');
    const emulator = await startFake(
      { EXTENSION_NAME: 'fake-launcher', FAKE_MODE: 'tick' },
      {
        command: launcher,
        args: [],
        extensionName: undefined,
      },
    );
    expect(await emulator.init()).toMatchObject({ ok: true });

    await emulator.invoke();
    // Ticks printed before the freeze may still be on their way from the pipe.
    await sleep(300);
    const before = ticks(emulator.output());
    // Some 15 ticks if it were not frozen.
    await sleep(150);

    expect(emulator.registeredName()).toBe('fake-launcher');
    expect(ticks(emulator.output())).toBe(before);
  });

  it('lets the extension run between invocations when freeze is off', async ({ initFake }) => {
    const emulator = await initFake({ FAKE_MODE: 'tick' }, { freeze: false });

    await emulator.invoke();
    const before = ticks(emulator.output());

    // Not frozen: it ticks on after the invocation (waiting at most 3 s on a busy machine).
    const deadline = Date.now() + 3_000;
    while (ticks(emulator.output()) <= before && Date.now() < deadline) await sleep(20);
    expect(ticks(emulator.output())).toBeGreaterThan(before);
  });
});

describe.concurrent('shutdown', () => {
  it('delivers SHUTDOWN with the reason and reports a clean exit', async ({ initFake }) => {
    const emulator = await initFake();
    await emulator.invoke();

    const result = await emulator.shutdown({ reason: 'spindown', deadlineInMs: 2000 });

    expect(emulator.output()).toContain('shutdown spindown');
    expect(result).toMatchObject({ exitCode: 0, signal: null, exitedBeforeDeadline: true, killed: false });
  });

  it('flushes the last invocation report at shutdown without waiting for timeoutMs', async ({ initFake }) => {
    const emulator = await initFake({ FAKE_MODE: 'drain-on-shutdown', BUFFER_TIMEOUT_MS: '30000' });
    await emulator.invoke({ requestId: 'last' });

    const result = await emulator.shutdown({ deadlineInMs: 2000 });

    expect(result.killed).toBe(false);
    expect(deliveredEvents(emulator).some(isReportFor('last'))).toBe(true);
  });

  it('kills an extension that ignores SHUTDOWN at the deadline', async ({ initFake }) => {
    const emulator = await initFake({ FAKE_MODE: 'ignore-shutdown' });
    await emulator.invoke();

    const result = await emulator.shutdown({ deadlineInMs: 300 });

    expect(emulator.output()).toContain('shutdown spindown');
    expect(result).toMatchObject({ signal: 'SIGKILL', exitedBeforeDeadline: false, killed: true });
  });

  it('leaves no stopped process behind when closed while frozen', async ({ initFake }) => {
    const emulator = await initFake();
    const pid = emulator.pid()!;
    expect(emulator.frozen()).toBe(true);

    await emulator.close();

    expect(() => process.kill(pid, 0)).toThrow();
  });
});
