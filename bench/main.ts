/**
 * `npm run bench` (bench/run.mjs bundles this file and calls `main`): the four benchmarks of
 * issue 6 and the CLI's start-up, each printing its figures beside a baseline measured in the same run.
 *
 *   npm run bench                      full run (a few minutes)
 *   npm run bench -- --quick           short run, noisier figures
 *   npm run bench -- --only=init,overhead,throughput,memory,heap,cli,rie
 *                                      (heap: overhead, throughput and memory again with the launcher's
 *                                      V8 flags for a 128 MB and a 1,769 MB function)
 *   npm run bench -- --json=FILE       also write every figure as JSON
 *   npm run bench -- --cpu-prof=DIR    run the extension with `node --cpu-prof` in the throughput run
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { runCliStartupBench } from './cli-startup-bench.js';
import { runInitBench } from './init-bench.js';
import { runMemoryBench } from './memory-bench.js';
import { runOverheadBench } from './overhead-bench.js';
import { type HeapVariant, heapVariant } from './processes.js';
import { type BenchmarkReport, formatReport } from './report.js';
import { runRieBench } from './rie-bench.js';
import { runThroughputBench } from './throughput-bench.js';

const BENCHMARKS = ['init', 'overhead', 'throughput', 'memory', 'heap', 'cli', 'rie'] as const;
/** Memory sizes whose launcher heap flags `heap` runs with: Lambda's default, and one full vCPU. */
const HEAP_VARIANT_MEMORY_MB = [128, 1769] as const;
type Benchmark = (typeof BENCHMARKS)[number];

interface BenchArgs {
  readonly quick: boolean;
  readonly only: ReadonlySet<Benchmark>;
  readonly jsonPath: string | undefined;
  readonly cpuProfDir: string | undefined;
}

function parseArgs(argv: readonly string[]): BenchArgs | string {
  let quick = false;
  let only = new Set<Benchmark>(BENCHMARKS);
  let jsonPath: string | undefined;
  let cpuProfDir: string | undefined;
  for (const arg of argv) {
    const [flag, value] = arg.split('=', 2);
    if (flag === '--quick') quick = true;
    else if (flag === '--only' && value !== undefined) {
      const names = value.split(',');
      const unknown = names.filter((n) => !(BENCHMARKS as readonly string[]).includes(n));
      if (unknown.length > 0)
        return `unknown benchmark ${unknown.join(', ')}; choose from ${BENCHMARKS.join(', ')}`;
      only = new Set(names as Benchmark[]);
    } else if (flag === '--json' && value !== undefined) jsonPath = value;
    else if (flag === '--cpu-prof' && value !== undefined) cpuProfDir = value;
    else return `unknown argument ${arg}; see bench/main.ts for the options`;
  }
  return { quick, only, jsonPath, cpuProfDir };
}

/** The machine the figures come from: they mean little without it. */
function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const load = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  return `${os.availableParallelism()} CPUs (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, ${os.platform()} ${os.release()}, load average ${load}`;
}

/** Files bench/run.mjs built beside this bundle. */
export interface BenchFiles {
  readonly receiverWorkerFile: string;
}

export async function main(argv: readonly string[], files: BenchFiles): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    process.stderr.write(`${args}\n`);
    return 2;
  }
  const { quick } = args;
  process.stdout.write(`loki-lambda benchmarks${quick ? ' (--quick)' : ''} on ${machine()}\n\n`);
  const reports: BenchmarkReport[] = [];
  const print = (report: BenchmarkReport): void => {
    reports.push(report);
    process.stdout.write(`${formatReport(report)}\n`);
  };
  if (args.only.has('init')) print(await runInitBench({ runsPerSubject: quick ? 8 : 40 }));
  let steadyState: Awaited<ReturnType<typeof runOverheadBench>>['peakRss'] | undefined;
  if (args.only.has('overhead') || args.only.has('memory')) {
    const overhead = await runOverheadBench({
      rounds: quick ? 3 : 10,
      invocationsPerRound: quick ? 30 : 100,
    });
    if (args.only.has('overhead')) print(overhead.report);
    steadyState = overhead.peakRss;
  }
  let throughputPeakRss: number | undefined;
  if (args.only.has('throughput') || args.only.has('memory')) {
    const throughput = await runThroughputBench({
      rounds: quick ? 2 : 5,
      batchesPerRound: quick ? 10 : 40,
      cpuProfDir: args.cpuProfDir,
      receiverWorkerFile: files.receiverWorkerFile,
    });
    if (args.only.has('throughput')) print(throughput.report);
    throughputPeakRss = throughput.peakRssBytes;
  }
  if (args.only.has('memory') && steadyState !== undefined && throughputPeakRss !== undefined) {
    print(
      await runMemoryBench({
        steadyState,
        throughputPeakRssBytes: throughputPeakRss,
        maxBufferBytes: quick ? 4 * 2 ** 20 : 8 * 2 ** 20,
        outageInputFactor: quick ? 3 : 4,
        receiverWorkerFile: files.receiverWorkerFile,
      }),
    );
  }
  if (args.only.has('heap')) {
    for (const memorySizeMb of HEAP_VARIANT_MEMORY_MB) {
      for (const report of await runHeapVariant(heapVariant(memorySizeMb), quick, files)) print(report);
    }
  }
  if (args.only.has('cli')) print(await runCliStartupBench({ runsPerSubject: quick ? 10 : 40 }));
  if (args.only.has('rie')) print(await runRieBench({ invocations: quick ? 20 : 100 }));
  if (args.jsonPath !== undefined) {
    await writeFile(args.jsonPath, `${JSON.stringify({ machine: machine(), quick, reports }, null, 2)}\n`);
  }
  return 0;
}

/** Steady state, full load and outage again, every extension started with the launcher's heap flags. */
async function runHeapVariant(
  variant: HeapVariant,
  quick: boolean,
  files: BenchFiles,
): Promise<BenchmarkReport[]> {
  const overhead = await runOverheadBench({
    rounds: quick ? 2 : 4,
    invocationsPerRound: quick ? 30 : 100,
    variant,
  });
  const throughput = await runThroughputBench({
    rounds: quick ? 2 : 3,
    batchesPerRound: quick ? 10 : 40,
    cpuProfDir: undefined,
    receiverWorkerFile: files.receiverWorkerFile,
    variant,
  });
  const memory = await runMemoryBench({
    steadyState: overhead.peakRss,
    throughputPeakRssBytes: throughput.peakRssBytes,
    maxBufferBytes: quick ? 4 * 2 ** 20 : 8 * 2 ** 20,
    outageInputFactor: quick ? 3 : 4,
    receiverWorkerFile: files.receiverWorkerFile,
    variant,
  });
  return [throughput.report, memory];
}
