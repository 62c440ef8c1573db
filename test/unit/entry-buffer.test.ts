import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../../extension/entries.js';
import { EntryBuffer } from '../../extension/entry-buffer.js';

function entry(line: string, sizeBytes = 100): LogEntry {
  return { source: 'function', timeMs: 0, nanosInMs: 0, line, requestId: undefined, sizeBytes };
}

describe('EntryBuffer', () => {
  it('hands out the oldest entries first, up to a byte size', () => {
    const buffer = new EntryBuffer(10_000);
    for (const line of ['a', 'b', 'c']) buffer.add(entry(line));

    expect(buffer.take(250).map((e) => e.line)).toEqual(['a', 'b']);
    expect(buffer.take(250).map((e) => e.line)).toEqual(['c']);
    expect(buffer.length).toBe(0);
    expect(buffer.sizeBytes).toBe(0);
  });

  it('hands out an entry larger than the size asked for rather than none', () => {
    const buffer = new EntryBuffer(10_000);
    buffer.add(entry('big', 5_000));

    expect(buffer.take(100).map((e) => e.line)).toEqual(['big']);
  });

  it('drops the oldest entries beyond its bound and reports how many once', () => {
    const buffer = new EntryBuffer(300);
    for (const line of ['a', 'b', 'c', 'd', 'e']) buffer.add(entry(line));

    expect(buffer.take(10_000).map((e) => e.line)).toEqual(['c', 'd', 'e']);
    expect(buffer.takeDropReport()).toEqual({ entries: 2, bytes: 200 });
    expect(buffer.takeDropReport()).toBeUndefined();
  });

  it('puts entries that could not be sent back in front, in order', () => {
    const buffer = new EntryBuffer(10_000);
    for (const line of ['a', 'b', 'c']) buffer.add(entry(line));
    const taken = buffer.take(150);
    buffer.add(entry('d'));

    buffer.putBack(taken);

    expect(buffer.take(10_000).map((e) => e.line)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('keeps its bound when entries are put back, dropping the oldest', () => {
    const buffer = new EntryBuffer(200);
    buffer.add(entry('a'));
    buffer.add(entry('b'));
    const taken = buffer.take(200);
    buffer.add(entry('c'));
    buffer.add(entry('d'));

    buffer.putBack(taken);

    expect(buffer.take(10_000).map((e) => e.line)).toEqual(['c', 'd']);
    expect(buffer.takeDropReport()).toEqual({ entries: 2, bytes: 200 });
  });
});
