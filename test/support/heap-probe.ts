/**
 * Run as `node --expose-gc heap-probe.mjs KIND BOUND` (bundled by test/unit/entry-cost.test.ts):
 * feeds telemetry bodies of one kind of line through the extension's own parse -> entry -> buffer path
 * until three times the bound has been offered (so the bound drops the oldest), then prints the live
 * heap's growth beside the bound as JSON.
 */
import { EntryMaker } from '../../extension/entries.js';
import { EntryBuffer } from '../../extension/entry-buffer.js';
import { parseTelemetryBatch } from '../../extension/telemetry.js';

declare const gc: () => void;

const kind = process.argv[2] ?? 'text';
const bound = Number(process.argv[3] ?? 8 * 1024 * 1024);
const EVENTS_PER_BODY = 500;
const startMs = Date.parse('2026-01-01T00:00:00Z');

function requestIdOf(i: number): string {
  return `${String(Math.floor(i / 100)).padStart(8, '0')}-bbbb-4ccc-8ddd-eeeeeeeeeeee`;
}

/** One Telemetry event of the given kind, as Lambda would send it. */
function event(i: number): { time: string; type: string; record: unknown } {
  const time = new Date(startMs + i).toISOString();
  const filler = 'x'.repeat(i % 50);
  switch (kind) {
    case 'short':
      return { time, type: 'function', record: `ok ${i}\n` };
    case 'text':
      return {
        time,
        type: 'function',
        record: `${time}\t${requestIdOf(i)}\tINFO\tline ${i} ${'x'.repeat(130)}${filler}\n`,
      };
    case 'long':
      return { time, type: 'function', record: `line ${i} ${'x'.repeat(4000)}${filler}` };
    case 'non-latin1':
      return { time, type: 'function', record: `ligne ${i} € ${'x'.repeat(180)}${filler}\n` };
    case 'cjk':
      return { time, type: 'function', record: `日志 ${i} ${'字'.repeat(60)}${filler}\n` };
    case 'json':
      return {
        time,
        type: 'function',
        record: {
          timestamp: time,
          level: 'INFO',
          requestId: requestIdOf(i),
          message: `order ${i} ${filler}`,
        },
      };
    case 'platform': {
      const requestId = requestIdOf(i * 100);
      if (i % 3 === 0) return { time, type: 'platform.start', record: { requestId, version: '$LATEST' } };
      if (i % 3 === 1)
        return {
          time,
          type: 'platform.runtimeDone',
          record: { requestId, status: 'success', metrics: { durationMs: 12.3 } },
        };
      return {
        time,
        type: 'platform.report',
        record: {
          requestId,
          status: 'success',
          metrics: { durationMs: 12.34, billedDurationMs: 13, memorySizeMB: 128, maxMemoryUsedMB: 70 },
        },
      };
    }
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

const maker = new EntryMaker();
const buffer = new EntryBuffer(bound);
maker.make({
  time: new Date(startMs).toISOString(),
  type: 'platform.start',
  record: { requestId: requestIdOf(0) },
});
gc();
gc();
const before = process.memoryUsage().heapUsed;
let offered = 0;
/** One telemetry body through the extension's path; a function, so that the body is garbage after it. */
function offer(first: number): void {
  const body = JSON.stringify(Array.from({ length: EVENTS_PER_BODY }, (_, k) => event(first + k)));
  for (const parsed of parseTelemetryBatch(body).events) {
    const entry = maker.make(parsed);
    if (entry === undefined) continue;
    buffer.add(entry);
    offered += entry.sizeBytes;
  }
}
for (let i = 0; offered < 3 * bound; i += EVENTS_PER_BODY) offer(i);
gc();
gc();
const growth = process.memoryUsage().heapUsed - before;
process.stdout.write(
  `${JSON.stringify({ kind, bound, counted: buffer.sizeBytes, entries: buffer.length, dropped: buffer.takeDropReport()?.entries ?? 0, growth })}\n`,
);
