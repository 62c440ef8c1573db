import { describe, expect, it } from 'vitest';
import { DeliveryReport } from '../../extension/delivery-report.js';
import { noticeEntry } from '../../extension/entries.js';
import { EntryBuffer } from '../../extension/entry-buffer.js';
import { entryCostBytes } from '../../extension/entry-cost.js';
import { countBufferDrops, Flusher } from '../../extension/flusher.js';
import { createLogger } from '../../extension/logger.js';
import type { PushOutcome } from '../../extension/loki-push.js';

function setup(outcomes: Array<PushOutcome | Error>, maxBufferBytes = 1_000_000) {
  const buffer = new EntryBuffer(maxBufferBytes);
  const sent: string[][] = [];
  const logged: string[] = [];
  const clock = 1_000;
  const log = createLogger((line) => logged.push(line), false);
  const report = new DeliveryReport(log, `LOKI_MAX_BUFFER_BYTES=${maxBufferBytes}`);
  const flusher = new Flusher({
    buffer,
    send: async (entries) => {
      const outcome = outcomes.shift() ?? { kind: 'accepted' };
      if (outcome instanceof Error) throw outcome;
      if (outcome.kind === 'accepted') sent.push(entries.map((e) => e.line));
      return outcome;
    },
    report,
    batchBytes: Math.floor(maxBufferBytes / 2),
    notice: (line) => noticeEntry(line, clock),
    now: () => clock,
    log,
  });
  /** As the telemetry listener does: add, then count what the bound dropped. */
  const add = (...lines: string[]) => {
    for (const line of lines) buffer.add(noticeEntry(line, clock));
    countBufferDrops(buffer, report);
  };
  return { buffer, flusher, report, sent, logged, add };
}

describe('Flusher', () => {
  it('keeps entries Loki could not take and says so once per outage, then that Loki is back', async () => {
    const { flusher, buffer, sent, logged, add } = setup([
      { kind: 'failed', reason: 'cannot reach Loki (ECONNREFUSED)' },
      { kind: 'failed', reason: 'cannot reach Loki (ECONNREFUSED)' },
    ]);
    add('a', 'b');

    const first = await flusher.push(10_000);
    await flusher.push(10_000);
    const third = await flusher.push(10_000);

    expect(first).toEqual({ sent: 0, rejected: 0, failed: true });
    expect(third).toEqual({ sent: 2, rejected: 0, failed: false });
    expect(sent).toEqual([['a', 'b']]);
    expect(buffer.length).toBe(0);
    expect(logged.filter((l) => l.includes('cannot push to Loki'))).toHaveLength(1);
    expect(logged).toContain('loki-lambda: Loki accepts pushes again\n');
  });

  it('drops a batch Loki rejects, logs why, counts it, and goes on with the rest', async () => {
    const { flusher, report, logged, add } = setup([
      { kind: 'rejected', status: 400, reason: 'entry too old' },
    ]);
    add('old');

    const result = await flusher.push(10_000);

    expect(result).toEqual({ sent: 0, rejected: 1, failed: false });
    expect(logged).toEqual(['loki-lambda: Loki rejected a push of 1 entries (HTTP 400): entry too old\n']);
    expect(report.shutdownLine('spindown', 0)).toBe(
      'shutting down (spindown); since start: 1 in pushes Loki refused with HTTP 400 (it keeps the valid entries of such a push) [rejected_http_400=1]',
    );
  });

  it('drops a batch whose encoding throws instead of retrying it forever, and names that in the next notice', async () => {
    const { flusher, sent, logged, add } = setup([new Error('boom')]);
    add('poison');

    const first = await flusher.push(10_000);
    add('next');
    const second = await flusher.push(10_000);

    expect(first).toEqual({ sent: 0, rejected: 1, failed: false });
    expect(second).toEqual({ sent: 2, rejected: 0, failed: false });
    expect(sent).toEqual([
      [
        'next',
        `loki-lambda dropped 1 log entries (${entryCostBytes('poison', 6)} bytes): 1 dropped because they could not be encoded [encode_error=1]`,
      ],
    ]);
    expect(logged[0]).toBe('loki-lambda: dropped a push of 1 entries: could not encode or send: boom\n');
  });

  it.each<[string, PushOutcome | undefined, string]>([
    [
      'unreachable',
      { kind: 'failed', reason: 'cannot reach Loki (ECONNREFUSED)' },
      'dropped while Loki was unreachable',
    ],
    [
      'answering 503',
      { kind: 'failed', reason: 'HTTP 503', status: 503 },
      'dropped while Loki answered HTTP 503',
    ],
    [
      'accepting, only slower than the function logs',
      undefined,
      'dropped because the function logged faster than Loki accepted',
    ],
  ])(
    'names the true reason of buffer drops while Loki is %s, in the notice shipped with the next accepted push',
    async (_name, firstOutcome, reason) => {
      const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((letter) => letter.repeat(200));
      const cost = entryCostBytes(a!, 200);
      // The bound holds two 200-letter entries.
      const { flusher, sent, add } = setup(firstOutcome === undefined ? [] : [firstOutcome], 2 * cost + 10);
      add(a!);
      if (firstOutcome !== undefined) await flusher.push(10_000);
      add(b!, c!, d!);
      await flusher.push(10_000);

      const key =
        firstOutcome === undefined
          ? 'too_fast'
          : firstOutcome.kind === 'failed' && firstOutcome.status
            ? `http_${firstOutcome.status}`
            : 'unreachable';
      expect(sent.flat()).toEqual([
        c,
        d,
        `loki-lambda dropped 2 log entries (${2 * cost} bytes): 2 ${reason} (the buffer limit LOKI_MAX_BUFFER_BYTES=${2 * cost + 10} was reached) [buffer_full_${key}=2]`,
      ]);
    },
  );

  it('stops at its deadline, leaving the rest buffered', async () => {
    const { flusher, buffer, add } = setup([]);
    add('late');

    const result = await flusher.push(500);

    expect(result).toEqual({ sent: 0, rejected: 0, failed: false });
    expect(buffer.length).toBe(1);
  });

  it('splits a batch Loki finds too large (413) and pushes the halves, down to one entry', async () => {
    const { flusher, sent, add } = setup([
      { kind: 'too-large', reason: 'HTTP 413' },
      { kind: 'too-large', reason: 'HTTP 413' },
    ]);
    add('a', 'b', 'c', 'd');

    const result = await flusher.push(10_000);

    expect(result).toEqual({ sent: 4, rejected: 0, failed: false });
    expect(sent).toEqual([['a'], ['b'], ['c'], ['d']]);
  });

  it('drops a single entry still too large, counting it', async () => {
    const { flusher, report, add } = setup([{ kind: 'too-large', reason: 'HTTP 413' }]);
    add('huge');

    const result = await flusher.push(10_000);

    expect(result).toEqual({ sent: 0, rejected: 1, failed: false });
    expect(report.shutdownLine('spindown', 0)).toContain('[rejected_http_413=1]');
  });

  it('entries too far behind: says what happened and how many, counts them, and keeps what Loki stored', async () => {
    const { flusher, report, logged, add } = setup([
      { kind: 'rejected', status: 400, reason: 'entry with timestamp … ignored', tooFarBehind: 2 },
    ]);
    add('old 1', 'old 2', 'recent');

    const result = await flusher.push(10_000);

    // The one stored, and the notice saying what happened to the other two.
    expect(result).toEqual({ sent: 2, rejected: 2, failed: false });
    expect(logged).toEqual([
      "loki-lambda: Loki refused 2 of 3 entries as too far behind the newest entry of their stream (Loki's out-of-order window: another sandbox of this function pushed newer ones); it stored the other 1\n",
    ]);
    expect(report.shutdownLine('spindown', 0)).toMatch(
      /2 refused by Loki as too far behind their stream's newest entry \(Loki's out-of-order window\) \[too_far_behind=2\]$/,
    );
  });

  it("hands back a Retry-After longer than the budget, for the decision's cooldown", async () => {
    const { flusher, buffer, add } = setup([
      { kind: 'failed', reason: 'HTTP 429', status: 429, retryAfterMs: 30_000 },
    ]);
    add('a');

    const result = await flusher.push(10_000);

    expect(result).toEqual({ sent: 0, rejected: 0, failed: true, retryAfterMs: 30_000 });
    expect(buffer.length).toBe(1);
  });

  it('a redirect keeps the entries and is said once, as the configuration problem it is', async () => {
    const reason =
      "configuration problem: Loki's URL redirects (HTTP 301) to https://x/loki/api/v1/push; set …";
    const { flusher, buffer, logged, add } = setup([
      { kind: 'failed', reason, status: 301 },
      { kind: 'failed', reason, status: 301 },
    ]);
    add('kept');

    await flusher.push(10_000);
    await flusher.push(10_000);

    expect(buffer.length).toBe(1);
    expect(logged).toEqual([`loki-lambda: cannot push to Loki, keeping 1 entries for later: ${reason}\n`]);
  });
});

describe('Flusher.shorten', () => {
  it('cuts the request in flight at the new deadline and keeps its batch', async () => {
    const buffer = new EntryBuffer(1_000_000);
    const log = createLogger(() => {}, false);
    const flusher = new Flusher({
      buffer,
      // A Loki that never answers: only the signal ends the request.
      send: (_entries, _deadline, signal) =>
        new Promise((resolve) =>
          signal.addEventListener('abort', () =>
            resolve({ kind: 'failed', reason: 'Loki did not answer in time' }),
          ),
        ),
      report: new DeliveryReport(log, 'LOKI_MAX_BUFFER_BYTES=1000000'),
      batchBytes: 500_000,
      notice: (line) => noticeEntry(line, Date.now()),
      now: Date.now,
      log,
    });
    buffer.add(noticeEntry('in flight', Date.now()));
    const started = Date.now();

    const pushing = flusher.push(started + 60_000);
    flusher.shorten(started + 50);
    const result = await pushing;

    expect(result).toMatchObject({ sent: 0, failed: true });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(buffer.length).toBe(1);
  });
});
