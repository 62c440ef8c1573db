import { describe, expect, it } from 'vitest';
import { EventLoop } from '../../extension/event-loop.js';
import type { PushResult } from '../../extension/flusher.js';
import { createLogger } from '../../extension/logger.js';
import { DEFAULT_TIMINGS } from '../../extension/push-decision.js';
import type { ExtensionEvent } from '../../extension/runtime-api.js';

/** A scripted Runtime API: each /next takes the next event once the test releases it. */
function scripted() {
  const calls: string[] = [];
  const waiting: Array<(event: ExtensionEvent) => void> = [];
  const next = () =>
    new Promise<ExtensionEvent>((resolve) => {
      calls.push('next');
      waiting.push(resolve);
    });
  const send = async (event: ExtensionEvent) => {
    while (waiting.length === 0) await new Promise((r) => setTimeout(r, 1));
    waiting.shift()?.(event);
  };
  return { calls, next, send };
}

function loopWith(strategy: 'end' | 'periodic') {
  const runtime = scripted();
  let buffered = 0;
  const loop = new EventLoop({
    next: runtime.next,
    push: async (deadlineMs): Promise<PushResult> => {
      runtime.calls.push(`push ${buffered} until +${deadlineMs - Date.now() > 0 ? 'later' : 'now'}`);
      const sent = buffered;
      buffered = 0;
      return { sent, rejected: 0, failed: false };
    },
    shorten: () => {},
    buffered: () => ({ entries: buffered, bytes: buffered * 100 }),
    settings: { strategy, flushIntervalMs: 10_000, fullBatchBytes: 1_000_000, timings: DEFAULT_TIMINGS },
    now: Date.now,
    log: createLogger(() => {}, false),
  });
  return { runtime, loop, buffer: (n: number) => (buffered += n) };
}

describe('EventLoop', () => {
  it('end: calls /next only after the runtime is done and its logs were pushed, and exits after SHUTDOWN', async () => {
    const { runtime, loop, buffer } = loopWith('end');
    const running = loop.run();

    await runtime.send({ eventType: 'INVOKE', requestId: 'r1', deadlineMs: Date.now() + 3_000 });
    buffer(2);
    loop.onTelemetry([{ time: new Date().toISOString(), type: 'function', record: 'hello' }]);
    const beforeRuntimeDone = [...runtime.calls];
    loop.onTelemetry([
      { time: new Date().toISOString(), type: 'platform.runtimeDone', record: { requestId: 'r1' } },
      { time: new Date().toISOString(), type: 'platform.report', record: { requestId: 'r1' } },
    ]);
    await runtime.send({ eventType: 'SHUTDOWN', shutdownReason: 'spindown', deadlineMs: Date.now() + 2_000 });

    expect(await running).toEqual({ shutdownReason: 'spindown' });
    expect(beforeRuntimeDone).toEqual(['next']);
    expect(runtime.calls).toEqual(['next', 'push 2 until +later', 'next']);
  });

  it('a broken Runtime API ends the loop with its error', async () => {
    const loop = new EventLoop({
      next: () => Promise.reject(new Error('GET /next failed')),
      push: async () => ({ sent: 0, rejected: 0, failed: false }),
      shorten: () => {},
      buffered: () => ({ entries: 0, bytes: 0 }),
      settings: { strategy: 'end', flushIntervalMs: 10_000, fullBatchBytes: 1_000, timings: DEFAULT_TIMINGS },
      now: Date.now,
      log: createLogger(() => {}, false),
    });

    await expect(loop.run()).rejects.toThrow('GET /next failed');
  });
});
