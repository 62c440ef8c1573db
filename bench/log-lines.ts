/** Log lines for the benchmarks: realistic-looking, of a fixed length, every one distinct. */

const WORDS = [
  'GET',
  'POST',
  'order',
  'cart',
  'user',
  'checkout',
  'payment',
  'accepted',
  'retrying',
  'cache',
  'miss',
  'hit',
  'latency',
  'items',
  'warehouse',
  'eu-west-1',
] as const;

/** A deterministic generator (mulberry32), so every run logs the same text. */
function random32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const next = random32(6);

/** A line of exactly `bytes` ASCII bytes whose first characters are `prefix` (keep it unique). */
export function logLine(prefix: string, bytes: number): string {
  let line = `${prefix} INFO`;
  while (line.length < bytes) {
    const word = WORDS[Math.floor(next() * WORDS.length)] ?? 'x';
    line += ` ${word}=${Math.floor(next() * 100_000)}`;
  }
  return line.slice(0, bytes);
}
