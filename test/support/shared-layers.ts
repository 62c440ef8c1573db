/**
 * The layer zips of one test run, built once by the real `build` command and shared by the test files
 * that need them: build.test.ts checks what it printed and wrote, layer-run.test.ts runs the zips.
 * Each big zip (a ~120 MB runtime deflated) costs seconds of CPU, and the two files run side by side
 * in two workers, so the first to ask builds under a lock file and the other waits and reads the same
 * result. The directory is new for every `vitest run` (shared-layers-setup.ts), so every run tests
 * zips its own code built.
 */
import { mkdir, mkdtemp, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { inject } from 'vitest';
import { run } from '../../src/cli.js';
import type { ProcessIo } from '../../src/io.js';
import { isAlive, TEST_CACHE_DIR } from './test-cache.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's directory for shared layer zips; empty until a test file builds them. */
    sharedLayersDir?: string;
  }
}

/** Every flavor for both architectures: what build.test checks and layer-run.test runs. */
export const SHARED_BUILD_FLAVORS = 'slim,standalone,al2';
export const SHARED_BUILD_ARCHES = 'x86_64,arm64';

/** What one in-process run of the CLI printed and returned. */
export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** One `loki-lambda` command run in this process, with its output captured. */
export async function runCli(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Promise<CliRun> {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  const io: ProcessIo = {
    stdout: sink((s) => {
      out += s;
    }),
    stderr: sink((s) => {
      err += s;
    }),
    env: { ...env },
    cwd,
  };
  const code = await run([...args], io);
  return { code, out, err };
}

export interface SharedBuild {
  /** `loki-lambda build --flavor slim,standalone,al2 --arch x86_64,arm64 --json` as it ran. */
  readonly result: CliRun;
  /** The directory the zips were written to (`--out-dir`). */
  readonly outDir: string;
}

const POLL_MS = 200;

/** Takes the lock file, or says who holds it. */
async function tryLock(lockFile: string): Promise<boolean> {
  try {
    const handle = await open(lockFile, 'wx');
    await handle.writeFile(String(process.pid));
    await handle.close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // A holder that died (a crashed worker) leaves its lock behind: take it over.
    const holder = Number(await readFile(lockFile, 'utf8').catch(() => ''));
    if (holder > 0 && !isAlive(holder)) await rm(lockFile, { force: true });
    return false;
  }
}

let fallbackDir: Promise<string> | undefined;

/** The run's shared directory; a private one when vitest runs without the integration project's setup. */
async function sharedDir(): Promise<string> {
  const provided = inject('sharedLayersDir');
  if (provided !== undefined) {
    await mkdir(provided, { recursive: true });
    return provided;
  }
  fallbackDir ??= mkdtemp(join(tmpdir(), 'loki-lambda-shared-layers-'));
  return fallbackDir;
}

/**
 * Every layer zip of this test run: built by the real `build` command (in this process, with the
 * process's environment and the test tarball cache) by whichever test file asks first, read by the
 * others. A failed build is shared too, with its output, so each file reports it.
 */
export async function sharedLayerBuild(): Promise<SharedBuild> {
  const dir = await sharedDir();
  const outDir = join(dir, 'layers');
  const resultFile = join(dir, 'build.json');
  const lockFile = join(dir, 'build.lock');
  for (;;) {
    const done = await readFile(resultFile, 'utf8').catch(() => undefined);
    if (done !== undefined) return { result: JSON.parse(done) as CliRun, outDir };
    if (await tryLock(lockFile)) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  try {
    // Another file may have finished between our look and our lock.
    const done = await readFile(resultFile, 'utf8').catch(() => undefined);
    if (done !== undefined) return { result: JSON.parse(done) as CliRun, outDir };
    const result = await runCli(
      [
        'build',
        '--flavor',
        SHARED_BUILD_FLAVORS,
        '--arch',
        SHARED_BUILD_ARCHES,
        '--out-dir',
        outDir,
        '--cache-dir',
        TEST_CACHE_DIR,
        '--json',
      ],
      process.env,
      dir,
    );
    await writeFile(`${resultFile}.tmp`, JSON.stringify(result));
    await rename(`${resultFile}.tmp`, resultFile);
    return { result, outDir };
  } finally {
    await rm(lockFile, { force: true });
  }
}
