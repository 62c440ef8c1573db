import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli.js';
import type { ProcessIo } from '../../src/io.js';
import { PINNED_NODE_VERSION } from '../../src/layer/node-binary.js';
import { DIRECT_UPLOAD_LIMIT_BYTES } from '../../src/layer/targets.js';
import { readZip } from '../support/read-zip.js';

/**
 * Verified Node tarballs are cached here across test files and runs (the first run fetches them from
 * the npm registry with `npm pack`, as a user's first `build` does).
 */
const NODE_CACHE_DIR =
  process.env.LOKI_LAMBDA_TEST_CACHE_DIR ??
  fileURLToPath(new URL('../../.loki-lambda-cache', import.meta.url));
/** Lambda's limit for everything a function unzips. */
const UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024;
const BUILD_TIMEOUT_MS = 300_000;

interface JsonLayer {
  flavor: string;
  arch: string;
  path: string;
  sizeBytes: number;
  sha256Hex: string;
  sha256Base64: string;
  nodeVersion: string | null;
  compatibleRuntimes: string[];
}

async function runCli(args: string[], env: Record<string, string | undefined>, cwd: string) {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  const io: ProcessIo = {
    stdout: sink((s) => {
      out += s;
    }),
    stderr: sink((s) => {
      err += s;
    }),
    env,
    cwd,
  };
  const code = await run(args, io);
  return { code, out, err };
}

let work: string;
let first: Awaited<ReturnType<typeof runCli>>;
let second: Awaited<ReturnType<typeof runCli>>;
let layers: JsonLayer[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'loki-lambda-build-it-'));
  first = await runCli(
    ['build', '--flavor', 'slim,standalone', '--out-dir', 'first', '--cache-dir', NODE_CACHE_DIR, '--json'],
    process.env,
    work,
  );
  // The second build runs without npm on PATH: it can only succeed from the cache (offline).
  second = await runCli(
    ['build', '--flavor', 'slim,standalone', '--out-dir', 'second', '--cache-dir', NODE_CACHE_DIR, '--json'],
    { ...process.env, PATH: '/nonexistent-loki-lambda-test' },
    work,
  );
  layers = first.code === 0 ? (JSON.parse(first.out) as { layers: JsonLayer[] }).layers : [];
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function layer(flavor: string, arch: string): JsonLayer {
  const found = layers.find((l) => l.flavor === flavor && l.arch === arch);
  if (!found) throw new Error(`no ${flavor} ${arch} layer in ${JSON.stringify(layers)}`);
  return found;
}

// The al2 zips (Bun) are built and run by layer-run.test.ts; building them twice here would add a minute.
describe('loki-lambda build (all four zips)', () => {
  it('succeeds and prints one JSON document describing the four zips', () => {
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(layers.map((l) => `${l.flavor}-${l.arch}`)).toEqual([
      'slim-x86_64',
      'slim-arm64',
      'standalone-x86_64',
      'standalone-arm64',
    ]);
    for (const l of layers) {
      expect(l.path).toBe(join(work, 'first', `loki-lambda-${l.flavor}-${l.arch}.zip`));
      expect(l.sha256Hex).toMatch(/^[0-9a-f]{64}$/);
      expect(Buffer.from(l.sha256Base64, 'base64').toString('hex')).toBe(l.sha256Hex);
      expect(l.nodeVersion).toBe(l.flavor === 'standalone' ? PINNED_NODE_VERSION : null);
      expect(l.compatibleRuntimes).toContain('nodejs22.x');
    }
    expect(layer('standalone', 'arm64').compatibleRuntimes).toContain('provided.al2023');
    expect(layer('slim', 'arm64').compatibleRuntimes).not.toContain('provided.al2023');
  });

  it('writes files whose size matches what it printed', async () => {
    for (const l of layers) expect((await readFile(l.path)).length).toBe(l.sizeBytes);
  });

  it('lays out each zip as Lambda expects, with the launcher and Node executable', async () => {
    for (const l of layers) {
      const entries = readZip(await readFile(l.path)).map((e) => `${e.name} ${e.mode.toString(8)}`);
      const expected = [
        'extensions/ 755',
        'extensions/loki-lambda 755',
        'loki-lambda/ 755',
        'loki-lambda/index.cjs 644',
        'loki-lambda/index.cjs.map 644',
      ];
      if (l.flavor === 'standalone') expected.push('loki-lambda/node 755', 'loki-lambda/node.LICENSE 644');
      expected.push('loki-lambda/secrets.cjs 644', 'loki-lambda/secrets.cjs.map 644');
      expect(entries, l.path).toEqual(expected);
    }
  });

  it('ships a Node binary for the layer’s architecture in the standalone zips', async () => {
    const machineOf = async (path: string) => {
      const node = readZip(await readFile(path)).find((e) => e.name === 'loki-lambda/node')!;
      // ELF header: e_machine at offset 18 (62 = x86-64, 183 = AArch64).
      return node.content().readUInt16LE(18);
    };

    expect(await machineOf(layer('standalone', 'x86_64').path)).toBe(62);
    expect(await machineOf(layer('standalone', 'arm64').path)).toBe(183);
  });

  it('builds byte-identical zips the second time, offline from the cache', async () => {
    expect(second.err).toBe('');
    expect(second.code).toBe(0);
    const again = (JSON.parse(second.out) as { layers: JsonLayer[] }).layers;
    expect(again.map((l) => l.sha256Hex)).toEqual(layers.map((l) => l.sha256Hex));
    for (const l of layers) {
      const twin = join(work, 'second', `loki-lambda-${l.flavor}-${l.arch}.zip`);
      expect((await readFile(twin)).equals(await readFile(l.path)), twin).toBe(true);
    }
  });

  it('keeps the standalone zips within Lambda’s 50 MB upload and 250 MB unzipped limits', async () => {
    for (const l of layers.filter((x) => x.flavor === 'standalone')) {
      const unzipped = readZip(await readFile(l.path)).reduce((sum, e) => sum + e.size, 0);
      expect(l.sizeBytes, l.path).toBeLessThan(DIRECT_UPLOAD_LIMIT_BYTES);
      expect(unzipped, l.path).toBeLessThan(UNZIPPED_LIMIT_BYTES);
    }
  });
});
