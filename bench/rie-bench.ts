/**
 * Issue 11, invoke latency under an emulator without a Telemetry API (aws-lambda-rie: sam local, the
 * Lambda base images, LocalStack): the duration of an invoke, start to end, with the bundled extension
 * vs with an extension that only registers and answers /next (the same as no extension: the RIE holds
 * each invoke until every extension called /next again). Goal: < 50 ms more with the layer.
 */
import { lokiEnv } from '../test/support/extension-harness.js';
import { startLambdaEmulator } from '../test/support/lambda-emulator.js';
import { startLokiReceiver } from '../test/support/loki-receiver.js';
import { Subject, subjectOptions } from './processes.js';
import type { BenchmarkReport } from './report.js';
import { median, percentile } from './stats.js';

/** The function itself runs this long per invoke. */
export const RIE_RUNTIME_DURATION_MS = 20;
export const RIE_GOAL_EXTRA_MS = 50;

export interface RieBenchOptions {
  readonly invocations: number;
}

async function invokeDurations(subject: Subject, invocations: number): Promise<number[]> {
  const receiver = await startLokiReceiver();
  const emulator = await startLambdaEmulator({
    ...(await subjectOptions(subject, lokiEnv(receiver.url, { LOKI_FLUSH_STRATEGY: 'end' }))),
    mode: 'rie',
  });
  try {
    const init = await emulator.init();
    if (!init.ok) throw new Error(`${subject} failed init: ${init.errorType} ${emulator.output()}`);
    const durations: number[] = [];
    for (let i = 0; i < invocations; i++) {
      const result = await emulator.invoke({
        logs: [`line ${i}`],
        durationMs: RIE_RUNTIME_DURATION_MS,
        timeoutMs: 30_000,
      });
      durations.push(result.durationMs);
    }
    await emulator.shutdown();
    return durations;
  } finally {
    await emulator.close();
    await receiver.close();
  }
}

export async function runRieBench(options: RieBenchOptions): Promise<BenchmarkReport> {
  const baseline = await invokeDurations(Subject.registerOnly, options.invocations);
  const bundled = await invokeDurations(Subject.bundled, options.invocations);
  const extraP50 = median(bundled) - median(baseline);
  const extraP99 = percentile(bundled, 99) - percentile(baseline, 99);
  return {
    title: 'invoke latency under aws-lambda-rie (no Telemetry API)',
    details: [
      `${options.invocations} invokes per extension, the runtime takes ${RIE_RUNTIME_DURATION_MS} ms`,
      'baseline: an extension that only registers and answers /next (an invoke waits for every extension)',
    ],
    figures: [
      {
        name: 'invoke duration p50',
        value: median(bundled),
        unit: 'ms',
        baseline: { name: Subject.registerOnly, value: median(baseline) },
      },
      {
        name: 'invoke duration p99',
        value: percentile(bundled, 99),
        unit: 'ms',
        baseline: { name: Subject.registerOnly, value: percentile(baseline, 99) },
      },
      {
        name: 'added by the layer, p50',
        value: extraP50,
        unit: 'ms',
        goal: { text: `< ${RIE_GOAL_EXTRA_MS} ms`, met: extraP50 < RIE_GOAL_EXTRA_MS },
        note: `p99 difference ${extraP99.toFixed(2)} ms: the tail follows the machine's load`,
      },
    ],
  };
}
