import { describe, expect, it } from 'vitest';
import { EntryMaker, MAX_LINE_BYTES, truncateLine } from '../../extension/entries.js';
import type { TelemetryEvent } from '../../extension/telemetry.js';

const T = '2026-11-26T10:00:00.123Z';
const T_MS = Date.parse(T);

function make(events: TelemetryEvent[]) {
  const maker = new EntryMaker(() => T_MS);
  return events.map((event) => maker.make(event));
}

describe('EntryMaker', () => {
  it('sends function lines as written and gives text lines the request id of the invocation in progress', () => {
    const [start, text] = make([
      { time: T, type: 'platform.start', record: { requestId: 'req-1', version: '$LATEST' } },
      { time: T, type: 'function', record: '2026-11-26T10:00:00.123Z\treq-1\tINFO\thello\n' },
    ]);

    expect(start).toMatchObject({
      source: 'platform',
      line: 'START RequestId: req-1 Version: $LATEST',
      requestId: 'req-1',
    });
    expect(text).toMatchObject({
      source: 'function',
      line: '2026-11-26T10:00:00.123Z\treq-1\tINFO\thello',
      requestId: 'req-1',
      timeMs: T_MS,
    });
  });

  it('sends JSON-format records as compact JSON with their own request id', () => {
    const record = { timestamp: T, level: 'INFO', requestId: 'req-9', message: { a: 1 } };

    const [entry] = make([{ time: T, type: 'function', record }]);

    expect(entry).toMatchObject({ line: JSON.stringify(record), requestId: 'req-9' });
  });

  it('gives entries of one stream that share a millisecond increasing nanoseconds', () => {
    const entries = make([
      { time: T, type: 'function', record: 'a' },
      { time: T, type: 'function', record: 'a' },
      { time: T, type: 'platform.start', record: { requestId: 'r' } },
      { time: T, type: 'function', record: 'a' },
    ]);

    expect(entries.map((e) => [e?.source, e?.nanosInMs])).toEqual([
      ['function', 0],
      ['function', 1],
      ['platform', 0],
      ['function', 2],
    ]);
  });

  it.each([
    [
      'platform.runtimeDone',
      { requestId: 'r', status: 'success', metrics: { durationMs: 12.5 } },
      'END RequestId: r',
    ],
    [
      'platform.runtimeDone',
      { requestId: 'r', status: 'timeout', errorType: 'Sandbox.Timedout' },
      'END RequestId: r\tStatus: timeout\tError Type: Sandbox.Timedout',
    ],
    [
      'platform.report',
      {
        requestId: 'r',
        status: 'success',
        metrics: {
          durationMs: 2.634,
          billedDurationMs: 3,
          memorySizeMB: 128,
          maxMemoryUsedMB: 69,
          initDurationMs: 185.53,
        },
      },
      'REPORT RequestId: r\tDuration: 2.63 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 69 MB\tInit Duration: 185.53 ms',
    ],
    [
      'platform.initStart',
      {
        initializationType: 'on-demand',
        phase: 'init',
        runtimeVersion: 'nodejs:20.v13',
        runtimeVersionArn: 'arn:x',
      },
      'INIT_START\tRuntime Version: nodejs:20.v13\tRuntime Version ARN: arn:x\tPhase: init',
    ],
    [
      'platform.initReport',
      { initializationType: 'on-demand', phase: 'init', status: 'success', metrics: { durationMs: 100 } },
      'INIT_REPORT\tInit Duration: 100 ms\tPhase: init\tStatus: success',
    ],
    [
      'platform.extension',
      { name: 'loki-lambda', state: 'Ready', events: ['INVOKE', 'SHUTDOWN'] },
      'EXTENSION\tName: loki-lambda\tState: Ready\tEvents: [INVOKE,SHUTDOWN]',
    ],
    [
      'platform.logsDropped',
      { reason: 'Consumer seems to have fallen behind', droppedRecords: 3, droppedBytes: 400 },
      'LOGS_DROPPED Lambda dropped 3 log records (400 bytes) before they reached loki-lambda: Consumer seems to have fallen behind',
    ],
    ['platform.somethingNew', { x: 1 }, 'SOMETHINGNEW {"x":1}'],
  ])('writes %s as one readable line', (type, record, line) => {
    const [entry] = make([{ time: T, type, record }]);

    expect(entry?.line).toBe(line);
  });

  it('ignores event types that carry no log and survives records of the wrong shape', () => {
    const entries = make([
      { time: T, type: 'unknown', record: {} },
      { time: 'not a time', type: 'platform.report', record: 'not an object' },
    ]);

    expect(entries[0]).toBeUndefined();
    expect(entries[1]).toMatchObject({ line: 'REPORT RequestId: ', timeMs: T_MS });
  });

  it('after an event dated two minutes ahead, equal lines at the right time stay distinct (never merged by Loki)', () => {
    const maker = new EntryMaker(() => T_MS);
    const future = new Date(T_MS + 120_000).toISOString();
    const stamps = [
      { time: future, type: 'function', record: 'clock jumped' },
      { time: T, type: 'function', record: 'same' },
      { time: T, type: 'function', record: 'same' },
      { time: T, type: 'function', record: 'same' },
    ].map((event) => maker.make(event));

    const keys = stamps.map((e) => `${e?.timeMs}.${e?.nanosInMs} ${e?.line}`);
    expect(new Set(keys).size).toBe(4);
    // Never later than our own clock allows, and never going back.
    const ns = stamps.map((e) => (e?.timeMs ?? 0) * 1e6 + (e?.nanosInMs ?? 0));
    expect(ns).toEqual([...ns].sort((a, b) => a - b));
    expect(Math.max(...stamps.map((e) => e?.timeMs ?? 0))).toBeLessThanOrEqual(T_MS + 1_000);
  });

  it('keeps a stream monotonic when the clock goes back, carrying into the next millisecond', () => {
    const maker = new EntryMaker(
      () => T_MS,
      () => {},
      true,
      999_999,
    );
    const before = new Date(T_MS - 5).toISOString();
    const stamps = [
      maker.make({ time: T, type: 'function', record: 'x' }),
      maker.make({ time: T, type: 'function', record: 'x' }),
      maker.make({ time: before, type: 'function', record: 'x' }),
    ].map((e) => [e?.timeMs, e?.nanosInMs]);

    expect(stamps).toEqual([
      [T_MS, 999_999],
      [T_MS + 1, 0],
      [T_MS + 1, 1],
    ]);
  });

  it('two sandboxes writing the same line in the same millisecond give different timestamps', () => {
    const sandboxA = new EntryMaker(
      () => T_MS,
      () => {},
      true,
      123_456,
    );
    const sandboxB = new EntryMaker(
      () => T_MS,
      () => {},
      true,
      654_321,
    );
    const event = { time: T, type: 'function', record: 'Processing SQS message' };

    const [a, b] = [sandboxA.make(event), sandboxB.make(event)];

    expect([a?.timeMs, a?.nanosInMs]).not.toEqual([b?.timeMs, b?.nanosInMs]);
  });

  it('replaces lone surrogates so the line is valid UTF-8', () => {
    const [entry] = make([{ time: T, type: 'function', record: 'bad \ud800 char' }]);

    expect(entry?.line).toBe('bad \ufffd char');
  });
});

describe('truncateLine', () => {
  it('keeps lines within the limit unchanged', () => {
    const line = 'x'.repeat(MAX_LINE_BYTES);

    expect(truncateLine(line)).toBe(line);
  });

  it('cuts longer lines to the limit on a character boundary and says how long they were', () => {
    const line = '€'.repeat(100_000); // 300,000 bytes

    const cut = truncateLine(line);

    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(MAX_LINE_BYTES);
    expect(cut).toMatch(/^€+ …\[truncated by loki-lambda: 300000 bytes, limit 262144\]$/);
  });
});
