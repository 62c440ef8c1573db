import { fileURLToPath } from 'node:url';

/**
 * The tests' cache directory: verified Node and Bun tarballs are kept here across test files and runs
 * (the first run fetches them from the npm registry with `npm pack`, as a user's first `build` does).
 */
export const TEST_CACHE_DIR =
  process.env.LOKI_LAMBDA_TEST_CACHE_DIR ??
  fileURLToPath(new URL('../../.loki-lambda-cache', import.meta.url));

/** Whether a process with this id is running (a lock's or a run directory's owner). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
