import { describe, expect, it } from 'vitest';
import { parseQueryResponse, parseStreams } from '../../src/loki/client.js';
import { baseUrlOf, queryHeaders } from '../../src/loki/connection.js';
import { EntryCursor } from '../../src/loki/cursor.js';
import { parseDurationMs } from '../../src/loki/duration.js';
import type { LokiEntry } from '../../src/loki/entry.js';
import { reconnectDelayMs } from '../../src/loki/follow.js';
import { buildQuery, withFilter } from '../../src/loki/logql.js';
import { levelOf, renderEntry } from '../../src/render/tail.js';

const LABELS = { application: 'shop', environment: 'prod', function: 'orders', source: 'function' };

function entry(timestampNs: bigint, line: string, labels: Record<string, string> = LABELS): LokiEntry {
  return { timestampNs, line, labels, metadata: {} };
}

describe('tail: the LogQL it builds', () => {
  it('selects the function with its application and environment, narrowed by source and a line filter', () => {
    expect(
      buildQuery({
        functionName: 'orders',
        application: 'shop',
        environment: 'prod',
        source: 'platform',
        filter: 'say "hi"',
      }),
    ).toBe(
      '{application="shop", environment="prod", function="orders", source="platform"} |= "say \\"hi\\""',
    );
  });

  it('selects by function name alone when the labels are unknown', () => {
    expect(buildQuery({ functionName: 'orders' })).toBe('{function="orders"}');
  });

  it("adds the filter to the user's own query", () => {
    expect(withFilter('{app="x"} != "debug"', 'error')).toBe('{app="x"} != "debug" |= "error"');
  });
});

describe('tail: where Loki is', () => {
  it.each([
    ['https://loki.example.com', 'https://loki.example.com'],
    ['https://loki.example.com/', 'https://loki.example.com'],
    ['https://loki.example.com/loki/api/v1/push', 'https://loki.example.com'],
    ['https://gw.example.com/tenant-a/loki/api/v1/push', 'https://gw.example.com/tenant-a'],
    ['http://127.0.0.1:3100/api/prom/push', 'http://127.0.0.1:3100'],
  ])('turns LOKI_ENDPOINT_URL %s into the base address %s', (endpoint, base) => {
    expect(baseUrlOf(endpoint)).toBe(base);
  });

  it("sends the extension's auth header and the tenant, but no push content type", () => {
    const headers = queryHeaders(
      { addr: 'https://l', auth: { kind: 'basic', username: 'u', password: 'p' }, orgId: 'team-a' },
      'loki-lambda/test',
    );

    expect(headers).toEqual({
      Authorization: `Basic ${Buffer.from('u:p').toString('base64')}`,
      'X-Scope-OrgID': 'team-a',
      'User-Agent': 'loki-lambda/test',
    });
  });
});

describe("tail: reading Loki's answers", () => {
  it('takes structured metadata from categorized values', () => {
    const entries = parseQueryResponse(
      JSON.stringify({
        status: 'success',
        data: {
          resultType: 'streams',
          encodingFlags: ['categorize-labels'],
          result: [
            { stream: LABELS, values: [['1000', 'hello', { structuredMetadata: { request_id: 'r-1' } }]] },
          ],
        },
      }),
    );

    expect(entries).toEqual([
      { timestampNs: 1000n, line: 'hello', labels: LABELS, metadata: { request_id: 'r-1' } },
    ]);
  });

  it('moves request_id and function_version out of the stream labels when Loki merged them in', () => {
    const entries = parseStreams([
      { stream: { ...LABELS, request_id: 'r-2', function_version: '7' }, values: [['2000', 'merged']] },
    ]);

    expect(entries[0]?.labels).toEqual(LABELS);
    expect(entries[0]?.metadata).toEqual({ request_id: 'r-2', function_version: '7' });
  });

  it('says so when a metric query returns numbers instead of lines', () => {
    expect(() =>
      parseQueryResponse(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } })),
    ).toThrow('the query returned matrix, not log lines');
  });
});

describe('tail: remembering what was printed', () => {
  it('accepts an entry once, and distinguishes streams and lines at the same timestamp', () => {
    const cursor = new EntryCursor(0n, 100n);

    expect(cursor.accept(entry(10n, 'a'))).toBe(true);
    expect(cursor.accept(entry(10n, 'a'))).toBe(false);
    expect(cursor.accept(entry(10n, 'b'))).toBe(true);
    expect(cursor.accept(entry(10n, 'a', { ...LABELS, source: 'platform' }))).toBe(true);
  });

  it('resumes the overlap before the newest entry, never below the floor', () => {
    const cursor = new EntryCursor(1000n, 300n);

    expect(cursor.resumeFromNs(1100n)).toBe(1000n);
    cursor.accept(entry(5000n, 'x'));
    expect(cursor.resumeFromNs(1100n)).toBe(4700n);
    cursor.raiseFloor(4900n);
    expect(cursor.resumeFromNs(1100n)).toBe(4900n);
  });

  it('forgets entries no resumed query can return, yet still skips those it can', () => {
    const cursor = new EntryCursor(0n, 100n);
    for (let ns = 0n; ns <= 1000n; ns += 10n) cursor.accept(entry(ns, `line ${ns}`));

    expect(cursor.size).toBeLessThan(30);
    expect(cursor.accept(entry(950n, 'line 950'))).toBe(false);
  });

  it('hashes long lines but still tells them apart', () => {
    const cursor = new EntryCursor(0n, 100n);
    const long = 'x'.repeat(1000);

    expect(cursor.accept(entry(1n, `${long}a`))).toBe(true);
    expect(cursor.accept(entry(1n, `${long}b`))).toBe(true);
    expect(cursor.accept(entry(1n, `${long}a`))).toBe(false);
  });
});

describe('tail: output', () => {
  it.each([
    ['{"level":"warn","message":"slow"}', 'WARN'],
    ['2024-05-01T10:00:00.000Z\tr-1\tERROR\tInvoke Error', 'ERROR'],
    ['[INFO]\t2024-05-01T10:00:00.000Z\tr-1\thello', 'INFO'],
    ['REPORT RequestId: r-1\tDuration: 1.00 ms', undefined],
    [
      'an error happened somewhere far into a long line that is not at the start at all, really: ERROR',
      undefined,
    ],
  ])('finds the level of %j', (line, level) => {
    expect(levelOf(line)).toBe(level);
  });

  it('prints time, source, level, request id and line in the default format', () => {
    const text = renderEntry(
      { ...entry(1_714_557_600_123_000_000n, '{"level":"INFO"}'), metadata: { request_id: 'r-1' } },
      { format: 'default', color: false, showFunction: false },
    );

    expect(text).toBe('2024-05-01T10:00:00.123Z function INFO  r-1 {"level":"INFO"}\n');
  });

  it('shows the function when a custom query may span several', () => {
    const text = renderEntry(entry(0n, 'x'), { format: 'default', color: false, showFunction: true });

    expect(text).toBe('1970-01-01T00:00:00.000Z orders function       - x\n');
  });

  it('prints the line alone in raw', () => {
    expect(renderEntry(entry(0n, 'just this'), { format: 'raw', color: true, showFunction: false })).toBe(
      'just this\n',
    );
  });
});

describe('tail: durations and retries', () => {
  it.each([
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['90s', 90_000],
    ['1.5h', 5_400_000],
  ])('reads --since %s', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each(['', '10', 'ten minutes', '0m', '-5m'])('refuses --since %j', (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });

  it('reconnects at once after a healthy connection, then backs off up to a cap', () => {
    expect([0, 1, 2, 3, 10, 100].map(reconnectDelayMs)).toEqual([0, 500, 1000, 2000, 30_000, 30_000]);
  });
});
