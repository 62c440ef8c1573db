import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTRY_HEAP_OVERHEAD_BYTES, entryCostBytes } from '../../extension/entry-cost.js';

const BOUND_BYTES = 8 * 1024 * 1024;
let dir: string;
let probe: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loki-lambda-heap-probe-'));
  probe = join(dir, 'heap-probe.mjs');
  await build({
    entryPoints: [join(import.meta.dirname, '..', 'support', 'heap-probe.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: probe,
    logLevel: 'warning',
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface ProbeResult {
  readonly counted: number;
  readonly entries: number;
  readonly dropped: number;
  readonly growth: number;
}

/**
 * Two probes at a time: the other test worker may be running something timing-sensitive, and a
 * machine running the suite has two cores.
 */
const PROBES_AT_ONCE = 2;
let running = 0;
const waiting: Array<() => void> = [];

async function inTurn<T>(work: () => Promise<T>): Promise<T> {
  if (running < PROBES_AT_ONCE) running++;
  // A finishing probe hands its turn over.
  else await new Promise<void>((resolve) => waiting.push(resolve));
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

/** A fresh Node with only the buffer: its live heap growth is what the buffered entries hold. */
function measure(kind: string): Promise<ProbeResult> {
  return inTurn(() => probeOnce(kind));
}

function probeOnce(kind: string): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', probe, kind, String(BOUND_BYTES)],
      { encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`heap probe failed: ${stderr}`));
        else resolve(JSON.parse(stdout) as ProbeResult);
      },
    );
  });
}

describe('what a buffered entry costs', () => {
  // Each kind in its own process (the heap it measures is that process's), several at once.
  it.concurrent.for(['short', 'text', 'long', 'non-latin1', 'cjk', 'json', 'platform'])(
    'keeps the heap growth of a full buffer of %s lines within 1.1x LOKI_MAX_BUFFER_BYTES, counting it closely',
    { timeout: 30_000 },
    async (kind, { expect }) => {
      const result = await measure(kind);

      expect(result.dropped).toBeGreaterThan(0);
      expect(result.counted).toBeLessThanOrEqual(BOUND_BYTES);
      expect(result.growth).toBeLessThanOrEqual(1.1 * BOUND_BYTES);
      // Not so cautious that the bound holds far fewer logs than it says.
      expect(result.growth).toBeGreaterThan(0.5 * BOUND_BYTES);
    },
  );

  it('counts a line by its characters in the heap and at least its UTF-8 size', () => {
    expect(entryCostBytes('abc', 3)).toBe(3 + ENTRY_HEAP_OVERHEAD_BYTES);
    expect(entryCostBytes('é€', 5)).toBe(5 + ENTRY_HEAP_OVERHEAD_BYTES);
    expect(entryCostBytes(`${'x'.repeat(98)}€é`, 103)).toBe(200 + ENTRY_HEAP_OVERHEAD_BYTES);
  });
});
