/**
 * Benchmark 3, throughput: log lines per second through one extension process — telemetry POSTs of
 * 1,000 lines of 200 bytes straight to its listener, until the receiver has stored every line —
 * against the same POSTs answered by a listener that only JSON.parses them (the ceiling); one
 * invocation follows each POST for both, as for a function that writes 1,000 lines per invocation.
 * Also gives the extension's peak RSS under that load for benchmark 4.
 */
import { lokiEnv } from '../test/support/extension-harness.js';
import { type LambdaEmulator, startLambdaEmulator } from '../test/support/lambda-emulator.js';
import { type HotFunction, hottestFunctions } from './cpu-profile.js';
import {
  cpuTimeMs,
  type HeapVariant,
  peakRssBytes,
  readableBundlePath,
  Subject,
  subjectOptions,
  variantLabel,
} from './processes.js';
import { ReceiverThread } from './receiver-thread.js';
import { type BenchmarkReport, ratio } from './report.js';
import { median, rotated } from './stats.js';
import {
  BATCH_LINE_BYTES,
  LINES_PER_BATCH,
  listenerUrl,
  TelemetryPoster,
  telemetryBatches,
} from './telemetry-poster.js';

export const THROUGHPUT_GOAL_RATIO = 0.6;
/** Issue 12: CPU per line at most this multiple of the JSON.parse-only listener's. */
export const CPU_GOAL_RATIO = 1.5;
const DELIVERY_TIMEOUT_MS = 120_000;
const PROFILE_TOP_FUNCTIONS = 12;

export interface ThroughputBenchOptions {
  readonly rounds: number;
  readonly batchesPerRound: number;
  /** Profile the extension (unminified bundle) with node --cpu-prof into this directory. */
  readonly cpuProfDir: string | undefined;
  /** The bundled bench/receiver-worker.ts: the receiver runs in its own thread. */
  readonly receiverWorkerFile: string;
  /** Run the extension and the ceiling with the launcher's heap flags for this memory size. */
  readonly variant?: HeapVariant | undefined;
}

export interface ThroughputResult {
  readonly report: BenchmarkReport;
  readonly peakRssBytes: number;
  readonly ceilingPeakRssBytes: number;
}

interface Round {
  readonly linesPerSecond: number;
  /** CPU time (user + system) the listening process used per 1,000 lines. */
  readonly cpuMsPerThousandLines: number;
}

/** CPU time `pid` uses while `work` runs, per 1,000 of `lines`. */
async function cpuPerThousand(pid: number, lines: number, work: () => Promise<void>): Promise<number> {
  const before = await cpuTimeMs(pid);
  await work();
  return (((await cpuTimeMs(pid)) - before) * 1000) / lines;
}

export async function runThroughputBench(options: ThroughputBenchOptions): Promise<ThroughputResult> {
  const receiver = await ReceiverThread.start(options.receiverWorkerFile);
  const emulators: LambdaEmulator[] = [];
  try {
    const profiling =
      options.cpuProfDir === undefined
        ? {}
        : {
            nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`],
            extensionFile: await readableBundlePath(),
          };
    // Ship function lines only, so the receiver's count is exactly the lines posted.
    const env = lokiEnv(receiver.url, { LOKI_FLUSH_STRATEGY: 'end', LOKI_LOG_TYPES: 'function' });
    const extension = await startLambdaEmulator({
      ...(await subjectOptions(Subject.bundled, env, { ...profiling, variant: options.variant })),
      freeze: false,
    });
    emulators.push(extension);
    const ceiling = await startLambdaEmulator({
      ...(await subjectOptions(Subject.minimalTelemetry, {}, { variant: options.variant })),
      freeze: false,
    });
    emulators.push(ceiling);
    for (const emulator of emulators) {
      const init = await emulator.init();
      if (!init.ok) throw new Error(`throughput: init failed: ${init.errorType} ${init.errorMessage}`);
    }
    const toExtension = new TelemetryPoster(listenerUrl(extension));
    const toCeiling = new TelemetryPoster(listenerUrl(ceiling));
    const pid = extension.pid() ?? 0;
    let delivered = 0;

    const extensionRound = async (): Promise<Round> => {
      const batches = telemetryBatches(options.batchesPerRound);
      const lines = batches.length * LINES_PER_BATCH;
      const startedAt = performance.now();
      const cpuMsPerThousandLines = await cpuPerThousand(pid, lines, async () => {
        // One invocation per batch, as a function writing 1,000 lines each time: `end` pushes after it.
        for (const batch of batches) {
          await toExtension.postAll([batch]);
          await extension.invoke({ durationMs: 1 });
        }
        delivered += lines;
        await receiver.waitForEntries(delivered, DELIVERY_TIMEOUT_MS);
      });
      return { linesPerSecond: (lines * 1000) / (performance.now() - startedAt), cpuMsPerThousandLines };
    };
    const ceilingRound = async (): Promise<Round> => {
      const batches = telemetryBatches(options.batchesPerRound);
      const lines = batches.length * LINES_PER_BATCH;
      const startedAt = performance.now();
      // The same invocations: the ceiling answers each /next too.
      const cpuMsPerThousandLines = await cpuPerThousand(ceiling.pid() ?? 0, lines, async () => {
        for (const batch of batches) {
          await toCeiling.postAll([batch]);
          await ceiling.invoke({ durationMs: 1 });
        }
      });
      return { linesPerSecond: (lines * 1000) / (performance.now() - startedAt), cpuMsPerThousandLines };
    };

    const extensionRounds: Round[] = [];
    const ceilingRounds: Round[] = [];
    const arms = [
      async () => extensionRounds.push(await extensionRound()),
      async () => ceilingRounds.push(await ceilingRound()),
    ];
    for (let round = 0; round < options.rounds; round++) {
      for (const arm of rotated(arms, round)) await arm();
    }
    const peakRss = await peakRssBytes(pid);
    const ceilingPeakRss = await peakRssBytes(ceiling.pid() ?? 0);
    toExtension.close();
    toCeiling.close();
    for (const emulator of emulators) await emulator.shutdown();
    const hot =
      options.cpuProfDir === undefined
        ? []
        : await hottestFunctions(options.cpuProfDir, PROFILE_TOP_FUNCTIONS);

    const extensionRate = median(extensionRounds.map((r) => r.linesPerSecond));
    const cpuMs = median(extensionRounds.map((r) => r.cpuMsPerThousandLines));
    const ceilingCpuMs = median(ceilingRounds.map((r) => r.cpuMsPerThousandLines));
    const ceilingRate = median(ceilingRounds.map((r) => r.linesPerSecond));
    const goalRatio = ratio(extensionRate, ceilingRate);
    return {
      peakRssBytes: peakRss,
      ceilingPeakRssBytes: ceilingPeakRss,
      report: {
        title: `Throughput: log lines/s through one extension process${variantLabel(options.variant)}`,
        details: [
          `${options.rounds} interleaved rounds of ${options.batchesPerRound} POSTs of ${LINES_PER_BATCH} function lines of ${BATCH_LINE_BYTES} bytes (one POST in flight, as Lambda sends them), medians`,
          'one invocation after each POST, for both (a function writing 1,000 lines per invocation)',
          'extension: flush strategy `end` (it pushes after each invocation); a round ends when the receiver has stored every line',
          'ceiling: the minimal telemetry extension, whose listener only JSON.parses each batch; a round ends at its last /next',
          'CPU per 1,000 lines: user + system time of the listening process (/proc/PID/stat), the figure least disturbed by other load on the machine',
          ...profileLines(options.cpuProfDir, hot),
        ],
        figures: [
          {
            name: 'loki-lambda, lines/s',
            value: extensionRate,
            unit: 'lines/s',
            baseline: { name: 'JSON.parse-only listener', value: ceilingRate },
            goal: {
              text: `>= ${THROUGHPUT_GOAL_RATIO.toFixed(2)}x`,
              met: goalRatio >= THROUGHPUT_GOAL_RATIO,
            },
            note: `${((extensionRate * BATCH_LINE_BYTES) / 2 ** 20).toFixed(1)} MiB/s of log text`,
          },
          {
            name: 'loki-lambda, CPU per 1,000 lines',
            value: cpuMs,
            unit: 'ms',
            baseline: { name: 'JSON.parse-only listener', value: ceilingCpuMs },
            goal: {
              text: `<= ${CPU_GOAL_RATIO.toFixed(2)}x`,
              met: ratio(cpuMs, ceilingCpuMs) <= CPU_GOAL_RATIO,
            },
            note: 'parse + entries + protobuf + snappy + HTTP + the invocations, against parse alone',
          },
        ],
      },
    };
  } finally {
    for (const emulator of emulators) await emulator.close();
    await receiver.close();
  }
}

function profileLines(dir: string | undefined, hot: readonly HotFunction[]): string[] {
  if (dir === undefined) return [];
  return [
    `CPU profile of the extension (unminified bundle) in ${dir}; most self time:`,
    ...hot.map(
      (f) =>
        `    ${(100 * f.share).toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(0).padStart(6)} ms  ${f.name}`,
    ),
  ];
}
