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

/** Every function line the emulator's runtime wrote, in order. */
function writtenLines(lambda: LambdaEmulator): string[] {
  return lambda
    .events()
    .filter((e) => e.type === 'function')
    .map((e) => String(e.record));
}

function shippedFunctionLines(loki: LokiReceiver): string[] {
  return loki
    .entries()
    .filter((e) => e.labels.source === 'function')
    .map((e) => e.line);
}

describe('flush strategies, with the sandbox frozen between invocations as in Lambda', () => {
  it('periodic: pushes at most once per interval, in parallel with the function, and delivers everything at shutdown', async () => {
    receiver = await startLokiReceiver();
    emulator = await startBundledExtension(
      lokiEnv(receiver.url, { LOKI_FLUSH_STRATEGY: 'periodic', LOKI_FLUSH_INTERVAL_MS: '300' }),
    );

    for (let i = 0; i < 30; i++) await emulator.invoke({ logs: [`periodic ${i}`], durationMs: 20 });
    const pushesDuringBurst = receiver.requests().length;
    const shutdown = await emulator.shutdown();

    expect(pushesDuringBurst).toBeGreaterThan(0);
    expect(pushesDuringBurst).toBeLessThan(30);
    expect(shippedFunctionLines(receiver)).toEqual(writtenLines(emulator));
    expect(shutdown).toMatchObject({ exitCode: 0, exitedBeforeDeadline: true });
  });

  it('periodic: does not hold an invocation for its own logs (they ship with a later push)', async () => {
    receiver = await startLokiReceiver();
    emulator = await startBundledExtension(
      lokiEnv(receiver.url, { LOKI_FLUSH_STRATEGY: 'periodic', LOKI_FLUSH_INTERVAL_MS: '60000' }),
    );

    await emulator.invoke({ logs: ['not yet'] });

    expect(receiver.requests()).toHaveLength(0);
    await emulator.shutdown();
    expect(shippedFunctionLines(receiver)).toEqual(['not yet']);
  });

  it('auto: pushes per invocation while rare, stops pushing in the critical path under a burst, loses nothing across the switch', async () => {
    receiver = await startLokiReceiver();
    emulator = await startBundledExtension(lokiEnv(receiver.url, { LOKI_DEBUG: 'true' }));
    const burst = BUSY_INVOCATIONS_PER_MINUTE + 20;
    const inLokiWhenEnded: boolean[] = [];

    for (let i = 0; i < burst; i++) {
      await emulator.invoke({ logs: [`auto ${i}`] });
      inLokiWhenEnded.push(shippedFunctionLines(receiver).includes(`auto ${i}`));
    }
    const pushesDuringBurst = receiver.requests().length;
    await emulator.shutdown();

    // Rare at first: each invocation's lines are in Loki when it ends.
    expect(inLokiWhenEnded.slice(0, BUSY_INVOCATIONS_PER_MINUTE - 1).every(Boolean)).toBe(true);
    // Busy: the last invocations end without a push of their own (default interval 10 s).
    expect(inLokiWhenEnded.slice(BUSY_INVOCATIONS_PER_MINUTE + 1).some(Boolean)).toBe(false);
    expect(pushesDuringBurst).toBeLessThan(BUSY_INVOCATIONS_PER_MINUTE + 2);
    expect(emulator.output()).toContain('switching to periodic pushes');
    // Nothing lost or duplicated across the switch, and the rest arrives at SHUTDOWN.
    expect(shippedFunctionLines(receiver)).toEqual(writtenLines(emulator));
  });

  it('end: pushes a full batch while the function still runs instead of holding it to the end', async () => {
    receiver = await startLokiReceiver();
    emulator = await startBundledExtension(lokiEnv(receiver.url, { LOKI_FLUSH_STRATEGY: 'end' }));
    const lines = Array.from({ length: 1500 }, (_, i) => `big ${i} ${'x'.repeat(1000)}`);

    const result = await emulator.invoke({ logs: lines, durationMs: 1000 });

    // About 1.5 MB: the first full batch (1 MiB) went out before the runtime was done.
    expect(receiver.requests()[0]?.receivedAtMs).toBeLessThan(result.runtimeDoneAtMs ?? 0);
    expect(shippedFunctionLines(receiver)).toEqual(lines);
  });
});
