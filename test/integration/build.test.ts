import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PINNED_BUN_VERSION, PINNED_NODE_VERSION } from '../../src/layer/node-binary.js';
import { DIRECT_UPLOAD_LIMIT_BYTES } from '../../src/layer/targets.js';
import { readZip } from '../support/read-zip.js';
import { type CliRun, runCli, sharedLayerBuild } from '../support/shared-layers.js';
import { TEST_CACHE_DIR } from '../support/test-cache.js';

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
  bunVersion?: string;
  compatibleRuntimes: string[];
}

let work: string;
let firstOutDir: string;
let first: CliRun;
let second: CliRun;
let layers: JsonLayer[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'loki-lambda-build-it-'));
  // The first build: `build --flavor slim,standalone,al2 --arch x86_64,arm64 --json`, run once in this
  // test run by this file or by layer-run.test.ts (which runs the same zips), whichever comes first.
  const shared = await sharedLayerBuild();
  first = shared.result;
  firstOutDir = shared.outDir;
  // The second build runs without npm on PATH: it can only succeed from the tarball cache (offline).
  // One standalone zip shows that as well as two (both arches load their tarball the same way) and
  // costs one deflated Node binary, not two; slim comes with it.
  second = await runCli(
    [
      'build',
      '--flavor',
      'slim,standalone',
      '--arch',
      'arm64',
      '--out-dir',
      'second',
      '--cache-dir',
      TEST_CACHE_DIR,
      '--json',
    ],
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

describe('loki-lambda build (all six zips)', () => {
  it('succeeds and prints one JSON document describing the six zips', () => {
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(layers.map((l) => `${l.flavor}-${l.arch}`)).toEqual([
      'slim-x86_64',
      'slim-arm64',
      'standalone-x86_64',
      'standalone-arm64',
      'al2-x86_64',
      'al2-arm64',
    ]);
    for (const l of layers) {
      expect(l.path).toBe(join(firstOutDir, `loki-lambda-${l.flavor}-${l.arch}.zip`));
      expect(l.sha256Hex).toMatch(/^[0-9a-f]{64}$/);
      expect(Buffer.from(l.sha256Base64, 'base64').toString('hex')).toBe(l.sha256Hex);
      expect(l.nodeVersion).toBe(l.flavor === 'standalone' ? PINNED_NODE_VERSION : null);
      expect(l.bunVersion).toBe(l.flavor === 'al2' ? PINNED_BUN_VERSION : undefined);
      expect(l.compatibleRuntimes).toContain(l.flavor === 'al2' ? 'nodejs18.x' : 'nodejs22.x');
    }
    expect(layer('standalone', 'arm64').compatibleRuntimes).toContain('provided.al2023');
    expect(layer('slim', 'arm64').compatibleRuntimes).not.toContain('provided.al2023');
    expect(layer('al2', 'arm64').compatibleRuntimes).toContain('provided.al2');
    expect(layer('al2', 'arm64').compatibleRuntimes).not.toContain('nodejs22.x');
  });

  it('writes files whose size matches what it printed', async () => {
    for (const l of layers) expect((await readFile(l.path)).length).toBe(l.sizeBytes);
  });

  it('lays out each zip as Lambda expects, with the launcher and the Node or Bun executable', async () => {
    for (const l of layers) {
      const entries = readZip(await readFile(l.path)).map((e) => `${e.name} ${e.mode.toString(8)}`);
      const expected = ['extensions/ 755', 'extensions/loki-lambda 755', 'loki-lambda/ 755'];
      if (l.flavor === 'al2') expected.push('loki-lambda/bun 755', 'loki-lambda/bun.LICENSE 644');
      expected.push('loki-lambda/index.cjs 644', 'loki-lambda/index.cjs.map 644');
      if (l.flavor === 'standalone') expected.push('loki-lambda/node 755', 'loki-lambda/node.LICENSE 644');
      expected.push('loki-lambda/secrets.cjs 644', 'loki-lambda/secrets.cjs.map 644');
      expect(entries, l.path).toEqual(expected);
    }
  });

  it('ships a Node or Bun binary for the layer’s architecture in the standalone and al2 zips', async () => {
    const machineOf = async (path: string, binary: string) => {
      const entry = readZip(await readFile(path)).find((e) => e.name === `loki-lambda/${binary}`)!;
      // ELF header: e_machine at offset 18 (62 = x86-64, 183 = AArch64).
      return entry.head(64).readUInt16LE(18);
    };

    expect(await machineOf(layer('standalone', 'x86_64').path, 'node')).toBe(62);
    expect(await machineOf(layer('standalone', 'arm64').path, 'node')).toBe(183);
    expect(await machineOf(layer('al2', 'x86_64').path, 'bun')).toBe(62);
    expect(await machineOf(layer('al2', 'arm64').path, 'bun')).toBe(183);
  });

  it('builds byte-identical zips the second time, offline from the cache', async () => {
    expect(second.err).toBe('');
    expect(second.code).toBe(0);
    const again = (JSON.parse(second.out) as { layers: JsonLayer[] }).layers;
    expect(again.map((l) => `${l.flavor}-${l.arch}`)).toEqual(['slim-arm64', 'standalone-arm64']);
    for (const twin of again) {
      const original = layer(twin.flavor, twin.arch);
      expect(twin.sha256Hex, twin.path).toBe(original.sha256Hex);
      expect((await readFile(twin.path)).equals(await readFile(original.path)), twin.path).toBe(true);
    }
  });

  it('keeps the standalone zips within Lambda’s 50 MB upload limit, and every zip within 250 MB unzipped', async () => {
    for (const l of layers) {
      const unzipped = readZip(await readFile(l.path)).reduce((sum, e) => sum + e.size, 0);
      if (l.flavor === 'standalone') expect(l.sizeBytes, l.path).toBeLessThan(DIRECT_UPLOAD_LIMIT_BYTES);
      expect(unzipped, l.path).toBeLessThan(UNZIPPED_LIMIT_BYTES);
    }
  });
});
