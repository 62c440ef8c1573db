import { defineConfig } from 'vitest/config';
import { SlowestFirstSequencer } from './test/support/slowest-first-sequencer.js';

/**
 * Three projects, one `npm test` (vitest run runs them all):
 * - unit: the code's own tests, in-process, no child processes of the extension (`npm run test:unit`);
 * - fakes: the tests of the Lambda emulator and the Loki receiver themselves (test/support);
 * - integration: the built extension and the CLI as child processes against those fakes.
 */
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start real processes; two cores in CI.
    maxWorkers: 2,
    sequence: { sequencer: SlowestFirstSequencer },
    projects: [
      // Unit and fakes test files share one module graph per worker (isolate: false): loading the AWS
      // SDK and the rest once instead of once per file was most of their time. A file that patches a
      // shared module (aws-sdk-client-mock) must not rely on another file having undone it.
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], isolate: false } },
      { extends: true, test: { name: 'fakes', include: ['test/fakes/**/*.test.ts'], isolate: false } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // A new directory per run for the layer zips that build.test and layer-run.test share.
          globalSetup: ['test/support/shared-layers-setup.ts'],
        },
      },
    ],
  },
});
