/**
 * The bundled extension wherever Lambda runs a function (DESIGN.md §6): local emulators without a
 * Telemetry API, SnapStart, and telemetry it cannot make sense of. Each test runs the built extension
 * under the Lambda emulator and checks what reached the Loki receiver and what the extension did.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bundledExtensionPath, lokiEnv, startBundledExtension } from '../support/extension-harness.js';
import type { LambdaEmulator } from '../support/lambda-emulator.js';
import { type LokiReceiver, startLokiReceiver } from '../support/loki-receiver.js';

let receiver: LokiReceiver | undefined;
let emulator: LambdaEmulator | undefined;

afterEach(async () => {
  await emulator?.close();
  await receiver?.close();
  emulator = undefined;
  receiver = undefined;
});

function lines(source: string): string[] {
  return (receiver?.entries() ?? []).filter((e) => e.labels.source === source).map((e) => e.line);
}

describe('under an emulator without a Telemetry API (aws-lambda-rie: sam local, base images, LocalStack)', () => {
  it('says once why logs are not shipped, adds no wait to any invoke, and exits cleanly on SHUTDOWN', async () => {
    receiver = await startLokiReceiver();
    emulator = await startBundledExtension(lokiEnv(receiver.url, { LOKI_FLUSH_STRATEGY: 'end' }), {
      mode: 'rie',
    });

    const results = [];
    for (let i = 0; i < 5; i++) {
      results.push(await emulator.invoke({ logs: [`line ${i}`], durationMs: 100, timeoutMs: 10_000 }));
    }
    const shutdown = await emulator.shutdown();

    const said = emulator
      .output()
      .split('\n')
      .filter((line) => line.includes('Telemetry API is not available'));
    expect(said).toEqual([
      'loki-lambda: the Telemetry API is not available here (Telemetry.NotSupported: Telemetry API is not supported); logs will NOT be shipped, the function runs normally',
    ]);
    for (const result of results) {
      // The extension was back at /next before the runtime finished: the invoke ended with the runtime.
      expect(result.timedOut).toBe(false);
      expect(result.nextCalledAtMs).toBeLessThan(result.runtimeDoneAtMs ?? 0);
    }
    expect(shutdown).toMatchObject({ exitCode: 0, exitedBeforeDeadline: true, killed: false });
    expect(receiver.requests()).toEqual([]);
  }, 60_000);
});

/** A small deterministic generator, so a failing fuzz case can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function malformedBatch(random: () => number, index: number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const time = pick(['2024-01-01T00:00:00.000Z', 'not a time', '', '9999-99-99', new Date().toISOString()]);
  const type = pick([
    'function',
    'extension',
    'platform.start',
    'platform.runtimeDone',
    'platform.report',
    'platform.extension',
    'platform.telemetrySubscription',
    'platform.logsDropped',
    'platform.restoreReport',
    'platform.unknownThing',
    'something',
  ]);
  const weird: unknown[] = [
    null,
    42,
    -1e308,
    'text',
    '\ud800 lone surrogate',
    [],
    [null, { toString: 1 }],
    { toString: 1, valueOf: 2 },
    { requestId: 7, metrics: 'x', events: [{ toString: 1 }], types: [[{}]] },
    { requestId: `r${index}`, metrics: { durationMs: 'fast', billedDurationMs: null } },
    { __proto__: { polluted: true }, constructor: { prototype: 1 } },
    'x'.repeat(Math.floor(random() * 5000)),
  ];
  const record = pick(weird);
  const event = { time, type, record };
  switch (Math.floor(random() * 8)) {
    case 0:
      return JSON.stringify([event]).slice(0, Math.floor(random() * 40)); // truncated JSON
    case 1:
      return JSON.stringify({ not: 'an array', events: [event] });
    case 2:
      return JSON.stringify([event, 1, 'two', null, [event]]);
    case 3:
      return Buffer.from(Array.from({ length: 64 }, () => Math.floor(random() * 256))).toString('latin1');
    case 4:
      return JSON.stringify([{ type, record }]); // no time
    case 5:
      return JSON.stringify(
        Array.from({ length: 20 }, () => ({ time, type: pick(['function', type]), record })),
      );
    default:
      return JSON.stringify([event]);
  }
}

describe('telemetry that could crash the process', () => {
  it('survives the two crashing bodies of issue 11 and 1,000 random or malformed batches, and ships on', async () => {
    receiver = await startLokiReceiver();
    emulator = await startBundledExtension(
      lokiEnv(receiver.url, { LOKI_FLUSH_STRATEGY: 'end', LOKI_DEBUG: 'true' }),
      // The test posts to the listener between invocations, so the sandbox must not be frozen.
      { freeze: false },
    );
    const uri = emulator.subscription?.destination.URI ?? '';
    const listener = uri.replace('sandbox.localdomain', '127.0.0.1');
    const post = (body: string) =>
      fetch(listener, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const deep = `${'['.repeat(6000)}${']'.repeat(6000)}`;
    const now = new Date().toISOString();

    const crashing = [
      `[{"time":"${now}","type":"function","record":{"nested":${deep}}}]`,
      `[{"time":"${now}","type":"platform.extension","record":{"name":"x","state":"Ready","events":[{"toString":1}]}}]`,
    ];
    for (const body of crashing) expect((await post(body)).status).toBe(200);
    const random = seededRandom(11);
    // The same 1,000 batches (made in order from the seed), four POSTs at a time: whatever comes, it must survive.
    const batches = Array.from({ length: 1000 }, (_, i) => malformedBatch(random, i));
    for (let i = 0; i < batches.length; i += 4) {
      await Promise.all(batches.slice(i, i + 4).map((body) => post(body)));
    }
    const result = await emulator.invoke({ logs: ['still shipping'] });
    const shutdown = await emulator.shutdown();

    expect(result).toMatchObject({ timedOut: false, extensionExited: false });
    expect(emulator.environmentError()).toBeUndefined();
    expect(lines('function')).toContain('still shipping');
    // The record nested too deep to serialize is shipped as a marker line, not lost silently.
    expect(lines('function').some((line) => line.startsWith('[loki-lambda: record not serializable'))).toBe(
      true,
    );
    expect(lines('platform')).toContain('EXTENSION\tName: x\tState: Ready\tEvents: [{"toString":1}]');
    expect(shutdown).toMatchObject({ exitCode: 0, exitedBeforeDeadline: true, killed: false });
    expect(emulator.output()).not.toMatch(/unexpected error/);
  }, 120_000);
});

describe('SnapStart', () => {
  it('ships the restore like CloudWatch shows it, and never reuses a connection opened before the snapshot', async () => {
    receiver = await startLokiReceiver();
    emulator = await startBundledExtension(lokiEnv(receiver.url, { LOKI_FLUSH_STRATEGY: 'end' }), {
      snapStart: true,
    });

    const first = await emulator.invoke({ logs: ['after the restore'] });
    const second = await emulator.invoke({ logs: ['same sandbox, kept connection'] });
    // Lambda snapshots once, after init; snapshotting again here leaves a Loki connection open at it.
    emulator.snapshot();
    const third = await emulator.invoke({ logs: ['after a second restore'] });
    await emulator.shutdown();

    const platform = lines('platform');
    expect(
      platform.filter((l) => l.startsWith('RESTORE_START\tRuntime Version: nodejs:20.v1\t')),
    ).toHaveLength(2);
    expect(platform.filter((l) => /^RESTORE_REPORT\tRestore Duration: [\d.]+ ms$/.test(l))).toHaveLength(2);
    expect(platform).toContain('RESTORE_RUNTIME_DONE\tStatus: success');
    const report = platform.find((l) => l.startsWith(`REPORT RequestId: ${first.requestId}`));
    expect(report).toMatch(/\tRestore Duration: [\d.]+ ms\tBilled Restore Duration: \d+ ms/);
    expect(report).not.toMatch(/Init Duration/);
    expect(lines('function')).toEqual([
      'after the restore',
      'same sandbox, kept connection',
      'after a second restore',
    ]);
    const pushes = receiver.requests();
    expect(second.timedOut).toBe(false);
    // Pushes in order: after restore 1 (fresh), within the same sandbox (reused), after restore 2 (fresh).
    const indexes = pushes.filter((p) => p.entriesInRequest > 0).map((p) => p.socketRequestIndex);
    expect(indexes.slice(0, 3)).toEqual([1, 2, 1]);
    expect(third.timedOut).toBe(false);
  }, 60_000);
});

describe('asynchronous retries (Lambda retries a failed async invocation with the same request id)', () => {
  it('has the retry’s lines in Loki when the retry ends, and its REPORT after SHUTDOWN', async () => {
    receiver = await startLokiReceiver();
    emulator = await startBundledExtension(lokiEnv(receiver.url, { LOKI_FLUSH_STRATEGY: 'end' }));

    const first = await emulator.invoke({
      logs: ['attempt 1 fails'],
      status: 'error',
      errorType: 'Runtime.Unhandled',
    });
    const retry = await emulator.invoke({
      requestId: first.requestId,
      logs: ['attempt 2 works'],
      durationMs: 50,
    });
    const atRetryEnd = lines('function');
    await emulator.shutdown();

    expect(retry.attempt).toBe(2);
    // `end` waited for the retry's own runtimeDone, not the first attempt's.
    expect(retry.nextCalledAtMs).toBeGreaterThanOrEqual(retry.runtimeDoneAtMs ?? Infinity);
    expect(atRetryEnd).toEqual(['attempt 1 fails', 'attempt 2 works']);
    const reports = lines('platform').filter((l) => l.startsWith(`REPORT RequestId: ${first.requestId}\t`));
    expect(reports).toHaveLength(2);
    expect(reports[0]).toMatch(/Status: error\tError Type: Runtime.Unhandled/);
    expect(reports[1]).not.toMatch(/Status:/);
  }, 60_000);
});

describe('telemetry that is not flowing', () => {
  it('stops waiting for an invocation’s telemetry after the buffering timeout plus the margin, not at its deadline', async () => {
    receiver = await startLokiReceiver();
    emulator = await startBundledExtension(
      lokiEnv(receiver.url, {
        LOKI_FLUSH_STRATEGY: 'end',
        LOKI_BUFFER_TIMEOUT_MS: '100',
        LOKI_DEBUG: 'true',
        // The margin shrunk from 2 s (the extension's test-only timings): the rule is the same.
        LOKI_LAMBDA_TEST_TIMINGS: JSON.stringify({ telemetrySilenceMarginMs: 200 }),
      }),
      { deliverTelemetry: false },
    );

    const result = await emulator.invoke({ logs: ['never delivered'], timeoutMs: 20_000 });
    // No telemetry comes at shutdown either: the extension waits for it until 800 ms before the deadline.
    await emulator.shutdown({ deadlineInMs: 1_000 });

    expect(result.timedOut).toBe(false);
    // 100 ms buffering timeout + 200 ms margin; the deadline was 20 s away.
    expect((result.nextCalledAtMs ?? Infinity) - result.startedAtMs).toBeLessThan(10_000);
    const said = emulator
      .output()
      .split('\n')
      .filter((l) => l.includes('no telemetry at all'));
    expect(said).toEqual([
      `loki-lambda: [debug] no telemetry at all for ${result.requestId} within 300 ms (not even platform.start); not waiting for it`,
    ]);
  }, 60_000);
});

describe('Lambda Managed Instances', () => {
  it('ships every line of 20 invocations run 4 at a time exactly once, each with its request id, and shuts down cleanly', async () => {
    receiver = await startLokiReceiver();
    emulator = await startBundledExtension(
      lokiEnv(receiver.url, { LOKI_FLUSH_INTERVAL_MS: '300', LOKI_BUFFER_TIMEOUT_MS: '100' }),
      { mode: 'managed-instances' },
    );

    const results = [];
    for (let wave = 0; wave < 5; wave++) {
      results.push(
        ...(await Promise.all(
          [0, 1, 2, 3].map((slot) => {
            const n = wave * 4 + slot;
            return emulator!.invoke({
              logs: [`invocation ${n} line 1`, `invocation ${n} line 2`, `invocation ${n} line 3`],
              logSpacingMs: 20,
              durationMs: 80,
            });
          }),
        )),
      );
    }
    // No freeze: pushes run from the timer while the function idles.
    await receiver.waitForEntries(60, 10_000);
    const shutdown = await emulator.shutdown();

    expect(emulator.registeredName()).toBe('loki-lambda');
    expect(emulator.environmentError()).toBeUndefined();
    expect(shutdown).toMatchObject({ exitCode: 0, exitedBeforeDeadline: true, killed: false });
    const functionEntries = (receiver.entries() ?? []).filter((e) => e.labels.source === 'function');
    expect(functionEntries).toHaveLength(60);
    results.forEach((result, n) => {
      const mine = functionEntries.filter((e) => e.metadata.request_id === result.requestId);
      expect(mine.map((e) => JSON.parse(e.line).message)).toEqual([
        `invocation ${n} line 1`,
        `invocation ${n} line 2`,
        `invocation ${n} line 3`,
      ]);
    });
    const platform = lines('platform');
    for (const result of results) {
      expect(platform.filter((l) => l.startsWith(`START RequestId: ${result.requestId}`))).toHaveLength(1);
      expect(platform.filter((l) => l.startsWith(`REPORT RequestId: ${result.requestId}\t`))).toHaveLength(1);
    }
    expect(emulator.deliveries().every((d) => d.ok)).toBe(true);
  }, 90_000);
});

describe('an unexpected error that escapes everything (uncaughtException, unhandledRejection)', () => {
  it('is reported once; the extension then answers every event, ends no invocation early and exits cleanly', async () => {
    // Preloaded into the extension's process: a throw and a rejection nobody catches, when the test
    // sends SIGUSR2 (during an invocation, so the process is not frozen).
    const dir = await mkdtemp(join(tmpdir(), 'loki-lambda-fault-'));
    const fault = join(dir, 'fault.cjs');
    await writeFile(
      fault,
      "process.on('SIGUSR2', () => {\n" +
        "  setTimeout(() => { throw new Error('injected failure'); }, 0);\n" +
        "  setTimeout(() => { Promise.reject(new Error('injected rejection')); }, 100);\n" +
        '});\n',
    );
    receiver = await startLokiReceiver();
    emulator = await startBundledExtension(lokiEnv(receiver.url, { LOKI_FLUSH_STRATEGY: 'end' }), {
      args: ['--require', fault, await bundledExtensionPath()],
      // The injected rejection must run when it is due, even if the invocation has ended by then.
      freeze: false,
    });

    const during = emulator.invoke({ logs: ['spans the failure'], durationMs: 600, timeoutMs: 20_000 });
    setTimeout(() => process.kill(emulator!.pid()!, 'SIGUSR2'), 100);
    const results = [await during];
    for (let i = 0; i < 3; i++) results.push(await emulator.invoke({ durationMs: 20, timeoutMs: 20_000 }));
    const shutdown = await emulator.shutdown();

    const reported = emulator
      .output()
      .split('\n')
      .filter((line) => line.includes('unexpected error'));
    expect(reported).toEqual([
      'loki-lambda: unexpected error, logs are no longer shipped; the function runs normally: Error: injected failure',
    ]);
    for (const result of results) {
      expect(result).toMatchObject({ timedOut: false, extensionExited: false });
      expect(result.nextCalledAtMs).toBeDefined();
    }
    expect(emulator.environmentError()).toBeUndefined();
    expect(shutdown).toMatchObject({ exitCode: 0, exitedBeforeDeadline: true, killed: false });
  }, 60_000);
});
