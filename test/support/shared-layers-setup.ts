/**
 * vitest globalSetup of the integration project: a new directory for the layer zips this run shares
 * between test files (shared-layers.ts), removed when the run ends. Zips are never shared between
 * runs: each run tests what its own code builds.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { isAlive, TEST_CACHE_DIR } from './test-cache.js';

/** Beside the cached tarballs, in the repository's (ignored) .loki-lambda-cache by default. */
const RUNS_DIR = join(TEST_CACHE_DIR, 'test-runs');
const RUN_PREFIX = 'layers-';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // What a run that was killed left behind (its vitest process is gone).
  await mkdir(RUNS_DIR, { recursive: true });
  for (const name of await readdir(RUNS_DIR)) {
    const pid = Number(name.slice(RUN_PREFIX.length));
    if (name.startsWith(RUN_PREFIX) && pid > 0 && !isAlive(pid)) {
      await rm(join(RUNS_DIR, name), { recursive: true, force: true });
    }
  }
  const dir = join(RUNS_DIR, `${RUN_PREFIX}${process.pid}`);
  await rm(dir, { recursive: true, force: true });
  project.provide('sharedLayersDir', dir);
  // In watch mode every rerun is a run of its own: it builds from the code as it is now.
  project.onTestsRerun(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
