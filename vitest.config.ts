import { defineConfig } from 'vitest/config';

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
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'fakes', include: ['test/fakes/**/*.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'] } },
    ],
  },
});
