import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { builtLayerKey, recordBuiltLayer, reusableLayer } from './built-cache.js';
import {
  BUNDLE_FILE_NAME,
  bundleExtension,
  type ExtensionBundle,
  SECRETS_BUNDLE_FILE_NAME,
} from './bundle.js';
import { OutDirError } from './errors.js';
import {
  BUN_BINARY_PATH,
  BUNDLE_PATH,
  LAUNCHER_PATH,
  LAUNCHER_SCRIPT,
  NODE_BINARY_PATH,
  PAYLOAD_DIR,
} from './launcher.js';
import { loadBunBinary, loadNodeBinary, type NodeBinary } from './node-binary.js';
import type { NpmRunner } from './npm.js';
import { ARCHES, type Arch, FLAVORS, type Flavor, layerZipName } from './targets.js';
import { createDeterministicZip, EXECUTABLE_MODE, FILE_MODE, type ZipFile } from './zip.js';

/** One layer zip written by `buildLayers`. */
export interface BuiltLayer {
  readonly flavor: Flavor;
  readonly arch: Arch;
  /** Absolute path of the zip. */
  readonly path: string;
  readonly sizeBytes: number;
  readonly sha256Hex: string;
  /** The same digest in base64: what Lambda shows as a layer version's `Content.CodeSha256`. */
  readonly sha256Base64: string;
  /** The Node.js version inside a standalone layer; null for slim. */
  readonly nodeVersion: string | null;
  /** The Bun version inside an al2 layer (Amazon Linux 2 runtimes); absent otherwise. */
  readonly bunVersion?: string;
}

export interface BuildLayersOptions {
  readonly arches: readonly Arch[];
  readonly flavors: readonly Flavor[];
  readonly outDir: string;
  /** Where verified Node tarballs are kept between builds (see `defaultCacheDir`). */
  readonly cacheDir: string;
  /** Runs npm to download a Node tarball; defaults to the user's npm in the current directory. */
  readonly runNpm: NpmRunner;
  readonly onProgress?: (message: string) => void;
  /** The extension's entry point; defaults to this package's `extension/main.ts`. */
  readonly extensionEntry?: string;
  /**
   * Reuse a zip of `outDir` built before from the same inputs (see `builtLayerKey`) instead of
   * building it again: for the cache directory of attach, deploy, publish and upgrade.
   */
  readonly reuse?: boolean;
}

export const SOURCE_MAP_PATH = `${PAYLOAD_DIR}/${BUNDLE_FILE_NAME}.map`;
export const SECRETS_BUNDLE_PATH = `${PAYLOAD_DIR}/${SECRETS_BUNDLE_FILE_NAME}`;
export const SECRETS_SOURCE_MAP_PATH = `${SECRETS_BUNDLE_PATH}.map`;
export const NODE_LICENSE_PATH = `${PAYLOAD_DIR}/node.LICENSE`;
export const BUN_LICENSE_PATH = `${PAYLOAD_DIR}/bun.LICENSE`;

/** The files of one layer (DESIGN.md §2), with their modes. */
export function layerFiles(
  bundle: ExtensionBundle,
  node: NodeBinary | null,
  bun: NodeBinary | null = null,
): ZipFile[] {
  const files: ZipFile[] = [
    { path: LAUNCHER_PATH, content: Buffer.from(LAUNCHER_SCRIPT), mode: EXECUTABLE_MODE },
    { path: BUNDLE_PATH, content: bundle.code, mode: FILE_MODE },
    { path: SOURCE_MAP_PATH, content: bundle.sourceMap, mode: FILE_MODE },
    { path: SECRETS_BUNDLE_PATH, content: bundle.secretsReader.code, mode: FILE_MODE },
    { path: SECRETS_SOURCE_MAP_PATH, content: bundle.secretsReader.sourceMap, mode: FILE_MODE },
  ];
  if (node) {
    files.push({ path: NODE_BINARY_PATH, content: node.binary, mode: EXECUTABLE_MODE });
    files.push({ path: NODE_LICENSE_PATH, content: node.license, mode: FILE_MODE });
  }
  if (bun) {
    files.push({ path: BUN_BINARY_PATH, content: bun.binary, mode: EXECUTABLE_MODE });
    files.push({ path: BUN_LICENSE_PATH, content: bun.license, mode: FILE_MODE });
  }
  return files;
}

async function prepareOutDir(outDir: string): Promise<void> {
  try {
    await mkdir(outDir, { recursive: true });
    await access(outDir, constants.W_OK);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new OutDirError(
      `Cannot write to the output directory ${outDir} (${reason}); choose a writable directory with --out-dir.`,
      { cause: error },
    );
  }
}

/** Writes through a temporary file so that a zip on disk is always complete. */
async function writeAtomically(path: string, content: Buffer): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, content);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Zips written at once. Deflating a runtime binary (~120 MB into ~45 MB) takes ~5 s of zlib's thread
 * pool, so two side by side halve a multi-zip build on two cores. Each holds its binary and its zip
 * in memory while it is written (~170 MB), which is why this stays small.
 */
const CONCURRENT_ZIPS = Math.min(2, availableParallelism());

/**
 * `work` over the items, at most `limit` at once, results in the items' order. After a failure no
 * new item starts; the running ones finish (no zip is left half written), then the first error is thrown.
 */
async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && failure === undefined) {
      const index = next++;
      try {
        results[index] = await work(items[index]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}

/** Keeps the canonical order (ARCHES, FLAVORS) and drops duplicates. */
function selected<T extends string>(all: readonly T[], wanted: readonly T[]): T[] {
  return all.filter((value) => wanted.includes(value));
}

/**
 * Bundles the extension once and writes one deterministic layer zip per flavor and arch into
 * `outDir` as `loki-lambda-<flavor>-<arch>.zip`, two at a time on a machine with two cores or more.
 * Standalone layers get the pinned Node binary, from the cache or downloaded with npm (and then cached).
 */
export async function buildLayers(options: BuildLayersOptions): Promise<BuiltLayer[]> {
  const { cacheDir, onProgress } = options;
  const outDir = resolve(options.outDir);
  const flavors = selected(FLAVORS, options.flavors);
  const arches = selected(ARCHES, options.arches);
  // Only a composition root should default to the process's own environment; this default is for
  // callers (publish, deploy) that have no reason to change how npm runs.
  const { runNpm } = options;

  await prepareOutDir(outDir);
  onProgress?.('Bundling the extension');
  const bundle = await bundleExtension(options.extensionEntry);

  const targets = flavors.flatMap((flavor) => arches.map((arch) => ({ flavor, arch })));
  return inParallel(targets, CONCURRENT_ZIPS, async ({ flavor, arch }): Promise<BuiltLayer> => {
    const name = layerZipName(flavor, arch);
    const path = join(outDir, name);
    const key = options.reuse === true ? builtLayerKey(bundle, flavor, arch) : undefined;
    const reusable = key === undefined ? undefined : await reusableLayer(path, key);
    if (reusable !== undefined) {
      onProgress?.(`Reusing ${name} (built before from the same sources)`);
      return reusable;
    }
    const node =
      flavor === 'standalone' ? await loadNodeBinary(arch, { cacheDir, runNpm, onProgress }) : null;
    const bun = flavor === 'al2' ? await loadBunBinary(arch, { cacheDir, runNpm, onProgress }) : null;
    onProgress?.(`Writing ${name}`);
    const zip = await createDeterministicZip(layerFiles(bundle, node, bun));
    await writeAtomically(path, zip);
    const digest = createHash('sha256').update(zip).digest();
    const layer: BuiltLayer = {
      flavor,
      arch,
      path,
      sizeBytes: zip.length,
      sha256Hex: digest.toString('hex'),
      sha256Base64: digest.toString('base64'),
      nodeVersion: node?.version ?? null,
      ...(bun ? { bunVersion: bun.version } : {}),
    };
    if (key !== undefined) await recordBuiltLayer(layer, key);
    return layer;
  });
}
