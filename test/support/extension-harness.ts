/**
 * Runs the *bundled* extension as Lambda would: a child process under the Runtime API emulator,
 * shipping to the Loki-compatible receiver.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { version as esbuildVersion } from 'esbuild';
import {
  BUNDLE_FILE_NAME,
  bundleExtension,
  PREBUILT_SECRETS_READER_DIR,
  SECRETS_BUNDLE_FILE_NAME,
} from '../../src/layer/bundle.js';
import { type EmulatorOptions, type LambdaEmulator, startLambdaEmulator } from './lambda-emulator.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Beside the other tools' caches, so it goes with node_modules and is never shared between checkouts. */
const BUNDLE_CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'loki-lambda-test-bundles');

let bundlePath: Promise<string> | undefined;

/**
 * extension/main.ts (and the secret reader beside it) bundled as `loki-lambda build` does. Bundling
 * takes seconds (the reader holds the AWS SDK), so it is done once per content, not once per test
 * file: the bundles are kept under a key of everything that goes into them, and every file and
 * worker of the run (and the next run, when nothing changed) uses the same ones.
 */
export function bundledExtensionPath(): Promise<string> {
  bundlePath ??= (async () => {
    const dir = join(BUNDLE_CACHE_DIR, await bundleInputsKey());
    const file = join(dir, BUNDLE_FILE_NAME);
    if (existsSync(file)) return file;
    // Written beside it and renamed into place: a worker never sees half a bundle, and when two
    // build the same key at once, either result is the same bytes.
    const building = `${dir}.${randomUUID()}.tmp`;
    await mkdir(building, { recursive: true });
    const bundle = await bundleExtension();
    await writeFile(join(building, SECRETS_BUNDLE_FILE_NAME), bundle.secretsReader.code);
    await writeFile(join(building, BUNDLE_FILE_NAME), bundle.code);
    try {
      await rename(building, dir);
    } catch (error) {
      // Another worker renamed its build into place first.
      await rm(building, { recursive: true, force: true });
      if (!existsSync(file)) throw error;
    }
    await removeStaleBundles(dir);
    return file;
  })();
  return bundlePath;
}

/** Bundles of earlier sources, a day old: no run still uses them. */
async function removeStaleBundles(current: string): Promise<void> {
  const dayAgo = Date.now() - 24 * 60 * 60 * 1000;
  for (const name of await readdir(BUNDLE_CACHE_DIR)) {
    const dir = join(BUNDLE_CACHE_DIR, name);
    if (dir === current) continue;
    const modified = await stat(dir).then(
      (info) => info.mtimeMs,
      () => Date.now(),
    );
    if (modified < dayAgo) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A hash of everything the bundles are made from: the extension's sources (it imports nothing
 * outside extension/), the bundler's code and options, the version it stamps in, the locked
 * dependencies (protobufjs, snappyjs, the AWS SDK) and esbuild's version.
 */
async function bundleInputsKey(): Promise<string> {
  const hash = createHash('sha256');
  const extensionDir = join(ROOT, 'extension');
  const sources = (await readdir(extensionDir, { recursive: true })).filter((f) => f.endsWith('.ts')).sort();
  const files = [
    ...sources.map((f) => join(extensionDir, f)),
    join(ROOT, 'src', 'layer', 'bundle.ts'),
    join(ROOT, 'package.json'),
    join(ROOT, 'package-lock.json'),
    // Present only between `npm pack`'s prepack and postpack; bundleExtension then uses it.
    join(ROOT, PREBUILT_SECRETS_READER_DIR, SECRETS_BUNDLE_FILE_NAME),
  ].filter((file) => existsSync(file));
  hash.update(`esbuild ${esbuildVersion}\n`);
  for (const file of files) {
    hash.update(`${file.slice(ROOT.length)}\n`);
    hash.update(await readFile(file));
  }
  return hash.digest('hex').slice(0, 32);
}

/** LOKI_* settings for a test: fast telemetry batches, a free listener port. */
export function lokiEnv(lokiUrl: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    LOKI_ENDPOINT_URL: lokiUrl,
    LOKI_APPLICATION_LABEL: 'shop',
    LOKI_ENV_LABEL: 'test',
    LOKI_LISTENER_PORT: '0',
    LOKI_BUFFER_TIMEOUT_MS: '25',
    ...overrides,
  };
}

/** Starts the emulator with the bundled extension and completes Lambda's init phase. */
export async function startBundledExtension(
  env: Record<string, string>,
  options: Partial<EmulatorOptions> = {},
): Promise<LambdaEmulator> {
  const emulator = await startLambdaEmulator({
    command: process.execPath,
    args: [await bundledExtensionPath()],
    extensionName: 'loki-lambda',
    env,
    ...options,
  });
  const init = await emulator.init();
  if (!init.ok) {
    await emulator.close();
    throw new Error(`extension init failed: ${init.errorType} ${init.errorMessage}\n${emulator.output()}`);
  }
  return emulator;
}
