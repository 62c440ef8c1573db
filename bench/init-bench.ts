/**
 * Benchmark 1, init: process start -> first /next, for the bundled extension against the minimal
 * telemetry extension (goal <= 1.10x) and, for information, the register-only extension. Runs are
 * interleaved in rotating order; medians are reported because single starts are noisy.
 */
import { lokiEnv } from '../test/support/extension-harness.js';
import { startLambdaEmulator } from '../test/support/lambda-emulator.js';
import { Subject, subjectOptions, threadsCpuTimeMs } from './processes.js';
import { type BenchmarkReport, ratio } from './report.js';
import { median, percentile, rotated } from './stats.js';

export const INIT_GOAL_RATIO = 1.1;
/** Where the bundled extension would push; nothing is pushed during init. */
const UNUSED_LOKI_URL = 'http://127.0.0.1:9/loki/api/v1/push';

export interface InitBenchOptions {
  readonly runsPerSubject: number;
}

interface InitSample {
  /** Process start -> first /next, wall clock. */
  readonly wallMs: number;
  /** CPU time of all the process's threads until then (the sandbox is frozen at the first /next). */
  readonly cpuMs: number;
}

async function timeInit(subject: Subject): Promise<InitSample> {
  const emulator = await startLambdaEmulator(await subjectOptions(subject, lokiEnv(UNUSED_LOKI_URL)));
  try {
    const init = await emulator.init();
    if (!init.ok) throw new Error(`${subject} init failed: ${init.errorType} ${init.errorMessage}`);
    return { wallMs: init.durationMs, cpuMs: await threadsCpuTimeMs(emulator.pid() ?? 0) };
  } finally {
    await emulator.close();
  }
}

export async function runInitBench(options: InitBenchOptions): Promise<BenchmarkReport> {
  const subjects = [Subject.bundled, Subject.minimalTelemetry, Subject.registerOnly];
  const samples = new Map<Subject, InitSample[]>(subjects.map((s) => [s, []]));
  // One unmeasured start each: the first spawn pays for cold file caches.
  for (const subject of subjects) await timeInit(subject);
  for (let round = 0; round < options.runsPerSubject; round++) {
    for (const subject of rotated(subjects, round)) samples.get(subject)?.push(await timeInit(subject));
  }
  const of = (subject: Subject): number[] => (samples.get(subject) ?? []).map((s) => s.wallMs);
  const cpuOf = (subject: Subject): number => median((samples.get(subject) ?? []).map((s) => s.cpuMs));
  const bundled = median(of(Subject.bundled));
  const minimal = median(of(Subject.minimalTelemetry));
  const registerOnly = median(of(Subject.registerOnly));
  const goalRatio = ratio(bundled, minimal);
  const cpuGoalRatio = ratio(cpuOf(Subject.bundled), cpuOf(Subject.minimalTelemetry));
  return {
    title: 'Init: process start -> first /next',
    details: [
      `${options.runsPerSubject} interleaved starts per extension, medians (p90 in the note)`,
      'each started as `node <file>` under the Lambda emulator, like /opt/extensions/* without the launcher',
      'CPU: all threads of the process until its first /next (/proc/PID/task/*/schedstat); steadier than wall time on a busy machine',
    ],
    figures: [
      {
        name: 'loki-lambda bundled, median',
        value: bundled,
        unit: 'ms',
        baseline: { name: 'minimal telemetry extension', value: minimal },
        goal: { text: `<= ${INIT_GOAL_RATIO.toFixed(2)}x`, met: goalRatio <= INIT_GOAL_RATIO },
        note: `p90 ${percentile(of(Subject.bundled), 90).toFixed(1)} ms vs ${percentile(of(Subject.minimalTelemetry), 90).toFixed(1)} ms`,
      },
      {
        name: 'loki-lambda bundled, CPU until first /next, median',
        value: cpuOf(Subject.bundled),
        unit: 'ms',
        baseline: { name: 'minimal telemetry extension', value: cpuOf(Subject.minimalTelemetry) },
        goal: { text: `<= ${INIT_GOAL_RATIO.toFixed(2)}x`, met: cpuGoalRatio <= INIT_GOAL_RATIO },
      },
      {
        name: 'loki-lambda bundled, median',
        value: bundled,
        unit: 'ms',
        baseline: { name: 'register-only extension', value: registerOnly },
        note: 'for information',
      },
      {
        name: 'loki-lambda bundled, CPU until first /next, median',
        value: cpuOf(Subject.bundled),
        unit: 'ms',
        baseline: { name: 'register-only extension', value: cpuOf(Subject.registerOnly) },
        note: 'for information',
      },
      {
        name: 'minimal telemetry extension, median',
        value: minimal,
        unit: 'ms',
        baseline: { name: 'register-only extension', value: registerOnly },
        note: 'what listening and subscribing cost any extension',
      },
    ],
  };
}
