import { fileURLToPath } from 'node:url';
import { it as base } from 'vitest';
import { type EmulatorOptions, type LambdaEmulator, startLambdaEmulator } from './lambda-emulator.js';

/** The emulator's own tests run this tiny extension (test/support/fixtures/fake-extension.mjs). */
export const FAKE_EXTENSION_FILE = fileURLToPath(new URL('./fixtures/fake-extension.mjs', import.meta.url));
export const FAKE_EXTENSION_NAME = 'fake-extension';

export type StartFake = (
  env?: Record<string, string>,
  options?: Partial<EmulatorOptions>,
) => Promise<LambdaEmulator>;

/**
 * `it` with `startFake`: an emulator for the fake extension, not yet initialised, closed when the test
 * ends. Each test's emulators are its own, so the tests (mostly a process starting) run side by side.
 */
export const itWithFakeExtension = base.extend<{ startFake: StartFake }>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern (none here).
  startFake: async ({}, use) => {
    const open: LambdaEmulator[] = [];
    await use(async (env = {}, options = {}) => {
      const emulator = await startLambdaEmulator({
        command: process.execPath,
        args: [FAKE_EXTENSION_FILE],
        extensionName: FAKE_EXTENSION_NAME,
        env,
        ...options,
      });
      open.push(emulator);
      return emulator;
    });
    await Promise.all(open.map((emulator) => emulator.close()));
  },
});
