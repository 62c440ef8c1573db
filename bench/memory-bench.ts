/**
 * Benchmark 4, memory: peak RSS (VmHWM) of the extension at steady state (50 invocations/s, from
 * benchmark 2), under full load (benchmark 3) and during a Loki outage with LOKI_MAX_BUFFER_BYTES
 * set, against the register-only extension. During the outage the telemetry keeps coming (several
 * times the buffer bound); the peak must follow the bound, not the input.
 */

import { entryCostBytes } from '../extension/entry-cost.js';
import { lokiEnv } from '../test/support/extension-harness.js';
import { type LambdaEmulator, startLambdaEmulator } from '../test/support/lambda-emulator.js';
import type { SteadyStatePeakRss } from './overhead-bench.js';
import { sleep } from './pacer.js';
import { type HeapVariant, peakRssBytes, Subject, subjectOptions, variantLabel } from './processes.js';
import { ReceiverThread } from './receiver-thread.js';
import { type BenchmarkReport, ratio } from './report.js';
import {
  BATCH_LINE_BYTES,
  LINES_PER_BATCH,
  listenerUrl,
  TelemetryPoster,
  telemetryBatches,
} from './telemetry-poster.js';

/** Issue 12's goals: steady RSS of `end` and busy `auto` against the register-only extension, full-load peak. */
export const STEADY_STATE_GOAL_RATIO = 1.15;
export const FULL_LOAD_GOAL_MIB = 96;
const MIB = 2 ** 20;
/** What the extension counts for one line of the batches (extension/entry-cost.ts). */
const COUNTED_ENTRY_BYTES = entryCostBytes('x'.repeat(BATCH_LINE_BYTES), BATCH_LINE_BYTES);
/** An invocation after every this many batches, so the extension tries (and fails) to push. */
const BATCHES_PER_INVOCATION = 20;
/** After Loki is back, invoke this often until the kept entries arrive (a failure cooldown may delay them). */
const RECOVERY_INVOKE_EVERY_MS = 500;
const RECOVERY_TIMEOUT_MS = 30_000;

export interface MemoryBenchOptions {
  readonly steadyState: SteadyStatePeakRss;
  readonly throughputPeakRssBytes: number;
  readonly maxBufferBytes: number;
  /** Telemetry posted during each half of the outage, as a multiple of maxBufferBytes. */
  readonly outageInputFactor: number;
  readonly receiverWorkerFile: string;
  /** Run the extensions with the launcher's heap flags for this memory size. */
  readonly variant?: HeapVariant | undefined;
}

const mib = (bytes: number): number => bytes / MIB;

/** Memory beyond the control may be this multiple of the bound (issue 12: the bound is real memory). */
export const OUTAGE_BOUND_FACTOR = 1;

export async function runMemoryBench(options: MemoryBenchOptions): Promise<BenchmarkReport> {
  const { steadyState, maxBufferBytes } = options;
  const downReceiver = await ReceiverThread.start(options.receiverWorkerFile);
  const upReceiver = await ReceiverThread.start(options.receiverWorkerFile);
  const emulators: LambdaEmulator[] = [];
  const start = async (receiver: ReceiverThread): Promise<LambdaEmulator> => {
    const env = lokiEnv(receiver.url, {
      LOKI_FLUSH_STRATEGY: 'end',
      LOKI_LOG_TYPES: 'function',
      LOKI_MAX_BUFFER_BYTES: String(maxBufferBytes),
    });
    const emulator = await startLambdaEmulator({
      ...(await subjectOptions(Subject.bundled, env, { variant: options.variant })),
      freeze: false,
    });
    emulators.push(emulator);
    const init = await emulator.init();
    if (!init.ok) throw new Error(`memory: init failed: ${init.errorType} ${init.errorMessage}`);
    return emulator;
  };
  try {
    // Two extensions get the same telemetry: one while its Loki is down, the control while it is up.
    const outage = await start(downReceiver);
    const control = await start(upReceiver);
    const subjects = [
      { emulator: outage, poster: new TelemetryPoster(listenerUrl(outage)) },
      { emulator: control, poster: new TelemetryPoster(listenerUrl(control)) },
    ];
    const countedBatchBytes = LINES_PER_BATCH * COUNTED_ENTRY_BYTES;
    const batchesPerHalf = Math.ceil((options.outageInputFactor * maxBufferBytes) / countedBatchBytes);
    const peaks = async (): Promise<{ outage: number; control: number }> => ({
      outage: await peakRssBytes(outage.pid() ?? 0),
      control: await peakRssBytes(control.pid() ?? 0),
    });

    await downReceiver.inject({ kind: 'down' });
    const feed = async (batches: number): Promise<void> => {
      for (let sent = 0; sent < batches; sent += BATCHES_PER_INVOCATION) {
        const count = Math.min(BATCHES_PER_INVOCATION, batches - sent);
        for (const subject of subjects) {
          await subject.poster.postAll(telemetryBatches(count));
          await subject.emulator.invoke({ durationMs: 1 });
        }
      }
    };
    await feed(batchesPerHalf);
    const half = await peaks();
    await feed(batchesPerHalf);
    const all = await peaks();

    // Loki back: what the bound kept is delivered, with a note of what was dropped.
    await downReceiver.inject({ kind: 'up' });
    const recoveryStartedAt = performance.now();
    // Until what the bound kept has arrived: several pushes (a batch is at most half the bound).
    let delivered = 0;
    let previous = -1;
    while (
      (delivered === 0 || delivered !== previous) &&
      performance.now() - recoveryStartedAt < RECOVERY_TIMEOUT_MS
    ) {
      previous = delivered;
      await outage.invoke({ durationMs: 1 });
      await sleep(RECOVERY_INVOKE_EVERY_MS);
      delivered = (await downReceiver.counts()).entries;
    }
    const recoveryMs = performance.now() - recoveryStartedAt;
    for (const subject of subjects) subject.poster.close();
    for (const emulator of emulators) await emulator.shutdown();

    const postedMib = mib(2 * batchesPerHalf * countedBatchBytes);
    const extra = all.outage - all.control;
    const bounded = extra <= OUTAGE_BOUND_FACTOR * maxBufferBytes;
    const registerOnly = { name: 'register-only extension', value: mib(steadyState.registerOnlyBytes) };
    return {
      title: `Memory: peak RSS (VmHWM) of the extension${variantLabel(options.variant)}`,
      details: [
        `steady state: after ${steadyState.invocations} invocations at 50/s with 10 lines each (benchmark 2)`,
        'full load: at the end of benchmark 3',
        `outage: LOKI_MAX_BUFFER_BYTES=${maxBufferBytes} (${mib(maxBufferBytes).toFixed(0)} MiB); ${postedMib.toFixed(0)} MiB of lines (as the extension counts them) posted in two halves, an invocation every ${BATCHES_PER_INVOCATION} batches, to an extension whose Loki is down and to a control whose Loki is up`,
        `outage: peak ${mib(half.outage).toFixed(1)} MiB after ${options.outageInputFactor}x the bound, ${mib(all.outage).toFixed(1)} MiB after ${2 * options.outageInputFactor}x; control ${mib(half.control).toFixed(1)} / ${mib(all.control).toFixed(1)} MiB`,
        `after Loki came back: ${delivered} entries delivered within ${(recoveryMs / 1000).toFixed(1)} s (the bound holds about ${Math.floor(maxBufferBytes / COUNTED_ENTRY_BYTES)} lines; the rest was dropped, oldest first, and reported)`,
      ],
      figures: [
        {
          name: 'steady state, auto',
          value: mib(steadyState.autoBytes),
          unit: 'MiB',
          baseline: registerOnly,
          goal: {
            text: `<= ${STEADY_STATE_GOAL_RATIO.toFixed(2)}x`,
            met: ratio(steadyState.autoBytes, steadyState.registerOnlyBytes) <= STEADY_STATE_GOAL_RATIO,
          },
        },
        {
          name: 'steady state, end',
          value: mib(steadyState.endBytes),
          unit: 'MiB',
          baseline: registerOnly,
          goal: {
            text: `<= ${STEADY_STATE_GOAL_RATIO.toFixed(2)}x`,
            met: ratio(steadyState.endBytes, steadyState.registerOnlyBytes) <= STEADY_STATE_GOAL_RATIO,
          },
        },
        {
          name: 'full load (throughput run)',
          value: mib(options.throughputPeakRssBytes),
          unit: 'MiB',
          baseline: registerOnly,
          goal: {
            text: `<= ${FULL_LOAD_GOAL_MIB} MiB`,
            met: mib(options.throughputPeakRssBytes) <= FULL_LOAD_GOAL_MIB,
          },
          note: 'V8 heap under 260 KB batches at full speed',
        },
        {
          name: 'Loki outage',
          value: mib(all.outage),
          unit: 'MiB',
          baseline: { name: 'control extension, Loki up, same input', value: mib(all.control) },
          goal: { text: `<= control + ${OUTAGE_BOUND_FACTOR}x LOKI_MAX_BUFFER_BYTES`, met: bounded },
          note: `${mib(extra).toFixed(1)} MiB over the control = ${(extra / maxBufferBytes).toFixed(2)}x the bound; vs register-only ${ratio(all.outage, steadyState.registerOnlyBytes).toFixed(2)}x`,
        },
      ],
    };
  } finally {
    for (const emulator of emulators) await emulator.close();
    await downReceiver.close();
    await upReceiver.close();
  }
}
