import { describe, expect, it } from 'vitest';
import { noticeEntry } from '../../extension/entries.js';
import { EntryBuffer } from '../../extension/entry-buffer.js';
import { entryCostBytes } from '../../extension/entry-cost.js';
import { FAILURE_COOLDOWN_INITIAL_MS, Flusher } from '../../extension/flusher.js';
import { createLogger } from '../../extension/logger.js';
import type { PushOutcome } from '../../extension/loki-push.js';

function setup(outcomes: Array<PushOutcome | Error>, maxBufferBytes = 1_000_000) {
  const buffer = new EntryBuffer(maxBufferBytes);
  const sent: string[][] = [];
  const logged: string[] = [];
  let clock = 1_000;
  const flusher = new Flusher({
    buffer,
    send: async (entries) => {
      const outcome = outcomes.shift() ?? { kind: 'accepted' };
      if (outcome instanceof Error) throw outcome;
      if (outcome.kind === 'accepted') sent.push(entries.map((e) => e.line));
      return outcome;
    },
    dropNotice: (entries, bytes) => noticeEntry(`dropped ${entries} (${bytes} bytes)`, clock),
    now: () => clock,
    log: createLogger((line) => logged.push(line), false),
  });
  const add = (...lines: string[]) => {
    for (const line of lines) buffer.add(noticeEntry(line, clock));
  };
  return { buffer, flusher, sent, logged, add, advance: (ms: number) => (clock += ms) };
}

describe('Flusher', () => {
  it('keeps entries Loki could not take, says so once, and cools down before the next optional push', async () => {
    const { flusher, buffer, sent, logged, add, advance } = setup([
      { kind: 'failed', reason: 'cannot reach Loki (ECONNREFUSED)' },
      { kind: 'failed', reason: 'cannot reach Loki (ECONNREFUSED)' },
    ]);
    add('a', 'b');

    const first = await flusher.flush(10_000);
    const coolingAfterFirst = flusher.coolingDown();
    advance(FAILURE_COOLDOWN_INITIAL_MS);
    const coolingLater = flusher.coolingDown();
    await flusher.flush(10_000);
    const third = await flusher.flush(10_000);

    expect(first).toEqual({ sent: 0, rejected: 0, incomplete: true });
    expect([coolingAfterFirst, coolingLater]).toEqual([true, false]);
    expect(third).toEqual({ sent: 2, rejected: 0, incomplete: false });
    expect(sent).toEqual([['a', 'b']]);
    expect(buffer.length).toBe(0);
    expect(logged.filter((l) => l.includes('cannot push to Loki'))).toHaveLength(1);
    expect(logged).toContain('loki-lambda: Loki accepts pushes again\n');
    expect(flusher.coolingDown()).toBe(false);
  });

  it('drops a batch Loki rejects, logs why, and goes on with the rest', async () => {
    const { flusher, logged, add } = setup([{ kind: 'rejected', status: 400, reason: 'entry too old' }]);
    add('old');

    const result = await flusher.flush(10_000);

    expect(result).toEqual({ sent: 0, rejected: 1, incomplete: false });
    expect(logged).toEqual(['loki-lambda: Loki rejected a push of 1 entries (HTTP 400): entry too old\n']);
  });

  it('drops a batch whose encoding throws instead of retrying it forever', async () => {
    const { flusher, sent, logged, add } = setup([new Error('boom')]);
    add('poison');

    const first = await flusher.flush(10_000);
    add('next');
    const second = await flusher.flush(10_000);

    expect(first).toEqual({ sent: 0, rejected: 1, incomplete: false });
    expect(second).toEqual({ sent: 1, rejected: 0, incomplete: false });
    expect(sent).toEqual([['next']]);
    expect(logged[0]).toBe('loki-lambda: dropped a push of 1 entries: could not encode or send: boom\n');
  });

  it('ships a notice of what the buffer bound dropped once Loki accepts again', async () => {
    // The bound holds two one-letter entries.
    const oneLetter = entryCostBytes('a', 1);
    const { flusher, sent, add } = setup([{ kind: 'failed', reason: 'down' }], 2 * oneLetter + 10);
    add('a', 'b', 'c', 'd');

    await flusher.flush(10_000);
    await flusher.flush(10_000);

    expect(sent.flat()).toEqual(['c', 'd', `dropped 2 (${2 * oneLetter} bytes)`]);
  });

  it('stops at its deadline, leaving the rest buffered', async () => {
    const { flusher, buffer, add } = setup([]);
    add('late');

    const result = await flusher.flush(500);

    expect(result).toEqual({ sent: 0, rejected: 0, incomplete: true });
    expect(buffer.length).toBe(1);
  });
});
