/**
 * Runs the *bundled* extension as Lambda would: a child process under the Runtime API emulator,
 * shipping to the Loki-compatible receiver.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUNDLE_FILE_NAME, bundleExtension, SECRETS_BUNDLE_FILE_NAME } from '../../src/layer/bundle.js';
import { type EmulatorOptions, type LambdaEmulator, startLambdaEmulator } from './lambda-emulator.js';

let bundlePath: Promise<string> | undefined;

/** Bundles extension/main.ts (and the secret reader beside it) once per test worker, as `loki-lambda build` does. */
export function bundledExtensionPath(): Promise<string> {
  bundlePath ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loki-lambda-bundle-'));
    const bundle = await bundleExtension();
    const file = join(dir, BUNDLE_FILE_NAME);
    await writeFile(file, bundle.code);
    await writeFile(join(dir, SECRETS_BUNDLE_FILE_NAME), bundle.secretsReader.code);
    return file;
  })();
  return bundlePath;
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
