/**
 * The processes a benchmark runs under the Lambda emulator: the bundled extension and the baseline
 * extensions of bench/baselines/, plus what /proc says about a process.
 */
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BUNDLE_FILE_NAME, BUNDLE_FORMAT, findExtensionEntry } from '../src/layer/bundle.js';
import { heapFlagsFor } from '../src/layer/launcher.js';
import { bundledExtensionPath } from '../test/support/extension-harness.js';
import type { EmulatorOptions } from '../test/support/lambda-emulator.js';

export const EXTENSION_NAME = 'loki-lambda';
/** USER_HZ on Linux: 100 on every architecture Lambda runs. */
const CLOCK_TICKS_PER_SECOND = 100;

/** The extensions compared, by the name printed beside their figures. */
export const Subject = {
  bundled: 'loki-lambda (bundled)',
  minimalTelemetry: 'minimal telemetry extension',
  registerOnly: 'register-only extension',
} as const;
export type Subject = (typeof Subject)[keyof typeof Subject];

export function baselinePath(file: string): string {
  return fileURLToPath(new URL(`./baselines/${file}`, import.meta.url));
}

/**
 * A function's memory size and the V8 flags the layer's launcher derives from it
 * (src/layer/launcher.ts), to run a benchmark as the extension runs in such a function.
 */
export interface HeapVariant {
  readonly memorySizeMb: number;
  readonly nodeArgs: readonly string[];
}

export function heapVariant(memorySizeMb: number): HeapVariant {
  return { memorySizeMb, nodeArgs: heapFlagsFor(memorySizeMb) };
}

/** What a report's title says about the variant. */
export function variantLabel(variant: HeapVariant | undefined): string {
  return variant === undefined
    ? ''
    : ` [launcher's heap flags for ${variant.memorySizeMb} MB: ${variant.nodeArgs.join(' ')}]`;
}

/** Emulator options that start `subject` as Lambda would (node + one file); `nodeArgs` go before the file. */
export async function subjectOptions(
  subject: Subject,
  env: Record<string, string>,
  run: {
    readonly nodeArgs?: readonly string[];
    readonly extensionFile?: string;
    readonly variant?: HeapVariant | undefined;
  } = {},
): Promise<EmulatorOptions> {
  const nodeArgs = [...(run.variant?.nodeArgs ?? []), ...(run.nodeArgs ?? [])];
  const file =
    subject === Subject.bundled
      ? (run.extensionFile ?? (await bundledExtensionPath()))
      : baselinePath(subject === Subject.minimalTelemetry ? 'minimal-telemetry.cjs' : 'register-only.cjs');
  return {
    command: process.execPath,
    args: [...nodeArgs, file],
    extensionName: EXTENSION_NAME,
    env: { ...env, EXTENSION_NAME },
    ...(run.variant === undefined ? {} : { memorySizeMb: run.variant.memorySizeMb }),
  };
}

/** Peak resident set size (VmHWM) of a live process, in bytes. */
export async function peakRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(kb) * 1024;
}

/** CPU time (user + system) a live process has used so far, in milliseconds. */
export async function cpuTimeMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at ") ": utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * The extension bundled like the shipped one but not minified, so that a CPU profile names its
 * functions (node --cpu-prof does not apply source maps). Used only with --cpu-prof.
 */
export async function readableBundlePath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'loki-lambda-bench-readable-'));
  const outfile = join(dir, BUNDLE_FILE_NAME);
  await build({
    entryPoints: [findExtensionEntry()],
    bundle: true,
    platform: 'node',
    format: BUNDLE_FORMAT,
    target: 'node18',
    minify: false,
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}

/**
 * CPU time every thread of a live process has run so far, in milliseconds, from
 * /proc/PID/task/TID/schedstat (nanoseconds, unlike the 10 ms ticks of /proc/PID/stat).
 */
export async function threadsCpuTimeMs(pid: number): Promise<number> {
  let ns = 0;
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    try {
      ns += Number((await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8')).split(' ')[0]);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return ns / 1e6;
}
