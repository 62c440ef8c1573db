import { homedir } from 'node:os';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Ora } from 'ora';
import { type CliIo, ExitCode } from '../io.js';
import type { BuiltLayer } from '../layer/build-layers.js';
import { defaultCacheDir } from '../layer/cache-dir.js';
import { NodeDownloadError, NodeIntegrityError } from '../layer/node-binary.js';
import { createNpmRunner } from '../layer/npm.js';
import {
  ARCHES,
  type Arch,
  DIRECT_UPLOAD_LIMIT_BYTES,
  FLAVORS,
  type Flavor,
  runtimesFor,
} from '../layer/targets.js';

export const OUT_DIR_DEFAULT = 'dist/layers';

interface BuildFlags {
  readonly arch?: string[];
  readonly flavor?: string[];
  readonly outDir: string;
  readonly cacheDir?: string;
  readonly json?: boolean;
}

/** Accepts a flag more than once and comma-separated lists: `--arch x86_64,arm64`. */
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((part) => part.trim())];
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}

function parseChoices<T extends string>(flag: string, values: readonly string[], allowed: readonly T[]): T[] {
  if (values.length === 0) return [...allowed];
  for (const value of values) {
    if (!(allowed as readonly string[]).includes(value)) {
      throw new UsageError(`unknown ${flag} "${value}": use ${allowed.join(' or ')}`);
    }
  }
  return values as T[];
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** The human-readable result: one line per zip (path, size, SHA-256), then what each flavor serves. */
export function renderBuiltLayers(layers: readonly BuiltLayer[], cwd: string): string {
  const lines = layers.map(
    (layer) => `${displayPath(layer.path, cwd)}  ${formatBytes(layer.sizeBytes)}  sha256:${layer.sha256Hex}`,
  );
  const flavors = [...new Set(layers.map((layer) => layer.flavor))];
  for (const flavor of flavors) {
    lines.push(
      flavor === 'slim'
        ? `slim: Node.js runtimes only (${runtimesFor('slim').join(', ')})`
        : `standalone: bundles Node.js ${layers.find((l) => l.nodeVersion)?.nodeVersion}, for every Amazon Linux 2023 runtime; not for Amazon Linux 2 runtimes (glibc 2.26)`,
    );
  }
  if (layers.some((layer) => layer.sizeBytes > DIRECT_UPLOAD_LIMIT_BYTES)) {
    lines.push('Zips over 50 MiB cannot be uploaded to Lambda directly; publish them through S3.');
  }
  return `${lines.join('\n')}\n`;
}

/** The `--json` document: the same facts, for CI. */
export function renderBuiltLayersJson(layers: readonly BuiltLayer[]): string {
  const document = {
    layers: layers.map((layer) => ({
      flavor: layer.flavor,
      arch: layer.arch,
      path: layer.path,
      sizeBytes: layer.sizeBytes,
      sha256Hex: layer.sha256Hex,
      sha256Base64: layer.sha256Base64,
      nodeVersion: layer.nodeVersion,
      compatibleRuntimes: runtimesFor(layer.flavor),
    })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

async function runBuild(flags: BuildFlags, io: CliIo): Promise<number> {
  let arches: Arch[];
  let flavors: Flavor[];
  try {
    arches = parseChoices('--arch', flags.arch ?? [], ARCHES);
    flavors = parseChoices('--flavor', flags.flavor ?? [], FLAVORS);
  } catch (error) {
    io.stderr.write(`loki-lambda build: ${(error as Error).message}\n`);
    return ExitCode.usage;
  }
  const outDir = resolve(io.cwd, flags.outDir);
  const cacheDir = flags.cacheDir
    ? resolve(io.cwd, flags.cacheDir)
    : defaultCacheDir(io.env, process.platform, io.env.HOME || homedir());

  // Loaded here (esbuild, archiver; ora only for a spinner) so that the other commands start without them.
  const { buildLayers, OutDirError } = await import('../layer/build-layers.js');
  let spinner: Ora | undefined;
  if (io.stdout.isTTY && flags.json !== true) {
    // The decision is ours (a terminal, and no --json), so ora is told rather than left to guess.
    const { default: ora } = await import('ora');
    spinner = ora({ stream: io.stdout, isEnabled: true, text: 'Building the layers' }).start();
  }
  try {
    const layers = await buildLayers({
      arches,
      flavors,
      outDir,
      cacheDir,
      runNpm: createNpmRunner(io.cwd, io.env),
      onProgress: (message) => {
        if (spinner) spinner.text = message;
      },
    });
    spinner?.stop();
    io.stdout.write(flags.json === true ? renderBuiltLayersJson(layers) : renderBuiltLayers(layers, io.cwd));
    return ExitCode.ok;
  } catch (error) {
    spinner?.stop();
    if (error instanceof OutDirError) {
      io.stderr.write(`loki-lambda build: ${error.message}\n`);
      return ExitCode.usage;
    }
    if (error instanceof NodeDownloadError || error instanceof NodeIntegrityError) {
      io.stderr.write(`loki-lambda build: ${error.message}\n`);
      return ExitCode.failure;
    }
    throw error;
  }
}

export function registerBuildCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command('build')
    .description('bundle the extension and write the layer zips (no AWS account needed)')
    .option(
      '--arch <arch>',
      `architecture to build: ${ARCHES.join(' or ')} (repeatable; default: both)`,
      collect,
      [],
    )
    .option(
      '--flavor <flavor>',
      'slim (Node.js runtimes, uses their Node) or standalone (any runtime, ships Node) (repeatable; default: both)',
      collect,
    )
    .option('--out-dir <dir>', 'directory for loki-lambda-<flavor>-<arch>.zip', OUT_DIR_DEFAULT)
    .option(
      '--cache-dir <dir>',
      'where downloaded Node.js tarballs are kept (default: your user cache directory)',
    )
    .option('--json', 'print one JSON document describing the zips, and no progress')
    .action(async (flags: BuildFlags) => {
      setExitCode(await runBuild(flags, io));
    });
}
