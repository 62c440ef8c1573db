/**
 * Issue 12, item 3: with Loki answering 204 throughout, nothing is dropped, whatever the strategy,
 * even when one invocation writes more than the buffer bound. Each load was measured losing lines
 * before: `end` with a 256 KiB bound, `periodic` with 2 MiB, and busy `auto` with 16 MiB and one
 * invocation writing about 24 MiB.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BUSY_INVOCATIONS_PER_MINUTE } from '../../extension/flush-policy.js';
import { lokiEnv, startBundledExtension } from '../support/extension-harness.js';
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

const lines = (prefix: string, count: number, width: number) =>
  Array.from({ length: count }, (_, i) => `${prefix} ${i} ${'x'.repeat(width)}`);

describe('nothing is dropped while Loki accepts pushes', () => {
  it('end, 256 KiB bound: one invocation of 3,000 lines', async () => {
    receiver = await startLokiReceiver();
    emulator = await startBundledExtension(
      lokiEnv(receiver.url, { LOKI_FLUSH_STRATEGY: 'end', LOKI_MAX_BUFFER_BYTES: String(256 * 1024) }),
    );

    await emulator.invoke({ logs: lines('end', 3_000, 100), logSpacingMs: 0.5 });
    await emulator.shutdown();

    expect(shipped(receiver)).toEqual(written(emulator));
    expect(shipped(receiver, 'extension')).toEqual([]);
    expect(emulator.output()).toBe('');
  });

  it('periodic, 2 MiB bound: 20 invocations of 1,000 lines', async () => {
    receiver = await startLokiReceiver();
    emulator = await startBundledExtension(
      lokiEnv(receiver.url, {
        LOKI_FLUSH_STRATEGY: 'periodic',
        LOKI_MAX_BUFFER_BYTES: String(2 * 1024 * 1024),
      }),
    );

    for (let i = 0; i < 20; i++) {
      await emulator.invoke({ logs: lines(`periodic ${i}`, 1_000, 200), logSpacingMs: 0.2 });
    }
    await emulator.shutdown();

    expect(shipped(receiver)).toEqual(written(emulator));
    expect(shipped(receiver, 'extension')).toEqual([]);
    expect(emulator.output()).toBe('');
  });

  it('auto once busy, 16 MiB bound: one invocation writing about 24 MiB', async () => {
    receiver = await startLokiReceiver();
    emulator = await startBundledExtension(
      lokiEnv(receiver.url, { LOKI_DEBUG: 'true', LOKI_MAX_BUFFER_BYTES: String(16 * 1024 * 1024) }),
    );
    for (let i = 0; i < BUSY_INVOCATIONS_PER_MINUTE; i++) {
      await emulator.invoke({ logs: [`warm ${i}`] });
    }

    await emulator.invoke({ logs: lines('busy', 9_000, 2_700), logSpacingMs: 0.5, timeoutMs: 60_000 });
    await emulator.shutdown({ deadlineInMs: 10_000 });

    expect(emulator.output()).toContain('switching to periodic pushes');
    expect(shipped(receiver)).toEqual(written(emulator));
    expect(shipped(receiver, 'extension')).toEqual([]);
  }, 120_000);
});
