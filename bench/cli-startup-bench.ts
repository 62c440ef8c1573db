/**
 * CLI start-up: wall time of `loki-lambda --help` and `loki-lambda build --help` (spawn -> exit)
 * against `node -e 0`, the floor any Node CLI pays. The CLI is compiled to dist/ first so that the
 * figures are those of the sources; runs are interleaved in rotating order and medians reported.
 */
import { execFile, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BenchmarkReport } from './report.js';
import { median, percentile, rotated } from './stats.js';

const ROOT_DIR = fileURLToPath(new URL('..', import.meta.url));
const CLI_FILE = fileURLToPath(new URL('../bin/loki-lambda.js', import.meta.url));

export interface CliStartupBenchOptions {
  readonly runsPerSubject: number;
}

/** What is started, by the name printed beside its figures. */
const SUBJECTS = {
  baseline: { name: 'node -e 0', args: ['-e', '0'] },
  help: { name: 'loki-lambda --help', args: [CLI_FILE, '--help'] },
  buildHelp: { name: 'loki-lambda build --help', args: [CLI_FILE, 'build', '--help'] },
} as const;
type SubjectKey = keyof typeof SUBJECTS;

/** Spawn -> exit of `node ...args`, in milliseconds; output is discarded. */
function timeRun(args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT_DIR, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(performance.now() - started);
      else reject(new Error(`node ${args.join(' ')} exited with ${code}`));
    });
  });
}

export async function runCliStartupBench(options: CliStartupBenchOptions): Promise<BenchmarkReport> {
  // The same dist/ as npm install and npm pack compile.
  await promisify(execFile)(process.execPath, ['scripts/build-dist.mjs'], { cwd: ROOT_DIR });
  const keys = Object.keys(SUBJECTS) as SubjectKey[];
  const samples = new Map<SubjectKey, number[]>(keys.map((key) => [key, []]));
  // One unmeasured start each: the first spawn pays for cold file caches.
  for (const key of keys) await timeRun(SUBJECTS[key].args);
  for (let round = 0; round < options.runsPerSubject; round++) {
    for (const key of rotated(keys, round)) samples.get(key)?.push(await timeRun(SUBJECTS[key].args));
  }
  const of = (key: SubjectKey): number[] => samples.get(key) ?? [];
  const baseline = { name: SUBJECTS.baseline.name, value: median(of('baseline')) };
  const figure = (key: 'help' | 'buildHelp') => ({
    name: `${SUBJECTS[key].name}, median`,
    value: median(of(key)),
    unit: 'ms',
    baseline,
    note: `p90 ${percentile(of(key), 90).toFixed(1)} ms vs ${percentile(of('baseline'), 90).toFixed(1)} ms`,
  });
  return {
    title: 'CLI start-up: spawn -> exit',
    details: [
      `${options.runsPerSubject} interleaved runs per command, medians (p90 in the note)`,
      'dist/ compiled with scripts/build-dist.mjs first (as npm install does); each run is `node bin/loki-lambda.js ...`',
    ],
    figures: [figure('help'), figure('buildHelp')],
  };
}
