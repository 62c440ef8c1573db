/**
 * What a buffered entry really holds in V8's heap, so that LOKI_MAX_BUFFER_BYTES bounds memory and not
 * just text. Measured on Node 20 (test/unit/entry-cost.test.ts fills a buffer through the real parse
 * path and compares the heap's growth with what this counts).
 */

/**
 * Per entry besides the line's characters: the entry object (V8 header plus six fields), the boxed
 * timestamp, the buffer's array slot (up to 1.5x while the array grows), the line's string header
 * (a sliced string keeps its parent, as a text record without its newline does) and a request id
 * string of its own (JSON-format records and platform events each carry a copy).
 */
export const ENTRY_HEAP_OVERHEAD_BYTES = 192;

/**
 * Bytes an entry holding this line costs in the heap, and at least its UTF-8 size (what it costs on
 * the wire). V8 stores a string one byte per character when every character fits in Latin-1, else
 * two: a line that is not pure ASCII is counted at two bytes per UTF-16 unit.
 */
export function entryCostBytes(line: string, utf8Bytes: number): number {
  const heapChars = utf8Bytes === line.length ? line.length : 2 * line.length;
  return Math.max(heapChars, utf8Bytes) + ENTRY_HEAP_OVERHEAD_BYTES;
}
