/**
 * Benchmark 2, added duration per invocation: from `platform.runtimeDone` being delivered to the
 * extension's next /next, p50 and p99, for `end` and for `auto` at 50 invocations/s with the sandbox
 * frozen between events as in Lambda, pushing to the loopback receiver. Baseline of `end`: a bare
 * POST of a push of the same size (its own round trip), from a separate process.
 *
 * Also measures the steady-state peak RSS of each extension for benchmark 4.
 */
import { lokiEnv } from '../test/support/extension-harness.js';
import {
  type InvokeResult,
  type LambdaEmulator,
  startLambdaEmulator,
} from '../test/support/lambda-emulator.js';
import { type LokiReceiver, startLokiReceiver } from '../test/support/loki-receiver.js';
import { BarePusher } from './bare-pusher.js';
import { logLine } from './log-lines.js';
import { paced } from './pacer.js';
import { type HeapVariant, peakRssBytes, Subject, subjectOptions, variantLabel } from './processes.js';
import type { BenchmarkReport } from './report.js';
import { median, percentile, rotated } from './stats.js';

export const INVOCATIONS_PER_SECOND = 50;
export const LINES_PER_INVOCATION = 10;
export const LINE_BYTES = 200;
export const RUNTIME_DURATION_MS = 5;
/** Goal: `end` adds at most this much (p50) beyond the push's own round trip. */
export const END_GOAL_BEYOND_PUSH_MS = 3;
/** Goal: `auto`, once busy, adds at most this much (p50). */
export const AUTO_BUSY_GOAL_MS = 1;
/** Invocations before measuring: `auto` turns periodic after 20 in a minute. */
const WARMUP_INVOCATIONS = 30;

export interface OverheadBenchOptions {
  readonly rounds: number;
  readonly invocationsPerRound: number;
  /** Run every extension with the launcher's heap flags for this memory size. */
  readonly variant?: HeapVariant | undefined;
}

export interface SteadyStatePeakRss {
  readonly endBytes: number;
  readonly autoBytes: number;
  readonly registerOnlyBytes: number;
  readonly invocations: number;
}

/**
 * What the extension added to the invocation: runtimeDone delivered -> /next; when /next came before
 * that delivery, the time it came after the runtime finished (0 if the extension was already waiting).
 */
export function addedMs(result: InvokeResult): number {
  const { runtimeDoneAtMs: done, runtimeDoneDeliveredAtMs: delivered, nextCalledAtMs: next } = result;
  if (next === undefined || done === undefined) return Number.NaN;
  if (delivered !== undefined && delivered <= next) return next - delivered;
  return Math.max(0, next - done);
}

interface Arm {
  readonly name: string;
  readonly run: (count: number) => Promise<void>;
}

async function startSubject(
  subject: Subject,
  env: Record<string, string>,
  functionName: string,
  variant: HeapVariant | undefined,
): Promise<LambdaEmulator> {
  const emulator = await startLambdaEmulator({
    ...(await subjectOptions(subject, env, { variant })),
    functionName,
  });
  const init = await emulator.init();
  if (!init.ok) throw new Error(`${functionName}: init failed: ${init.errorType} ${init.errorMessage}`);
  return emulator;
}

function invocationLogs(tag: string, index: number): string[] {
  return Array.from({ length: LINES_PER_INVOCATION }, (_, line) =>
    logLine(`${tag}-${index}-${line}`, LINE_BYTES),
  );
}

export async function runOverheadBench(
  options: OverheadBenchOptions,
): Promise<{ report: BenchmarkReport; peakRss: SteadyStatePeakRss }> {
  const receiver = await startLokiReceiver();
  const emulators: LambdaEmulator[] = [];
  const pusher = BarePusher.start(receiver.pushUrl);
  try {
    const url = receiver.url;
    const end = await startSubject(
      Subject.bundled,
      lokiEnv(url, { LOKI_FLUSH_STRATEGY: 'end' }),
      'bench-end',
      options.variant,
    );
    emulators.push(end);
    const auto = await startSubject(
      Subject.bundled,
      lokiEnv(url, { LOKI_FLUSH_STRATEGY: 'auto', LOKI_DEBUG: 'true' }),
      'bench-auto',
      options.variant,
    );
    emulators.push(auto);
    const registerOnly = await startSubject(Subject.registerOnly, {}, 'bench-register-only', options.variant);
    emulators.push(registerOnly);

    const samples = { end: [] as number[], auto: [] as number[], bare: [] as number[] };
    const pushesBefore = { auto: 0 };
    let invocationCounter = 0;
    const invokeMany =
      (emulator: LambdaEmulator, tag: string, sink: number[] | undefined) => (count: number) =>
        paced(count, INVOCATIONS_PER_SECOND, async () => {
          const result = await emulator.invoke({
            logs: invocationLogs(tag, invocationCounter++),
            durationMs: RUNTIME_DURATION_MS,
          });
          if (result.timedOut) throw new Error(`${tag}: an invocation timed out`);
          sink?.push(addedMs(result));
        });

    // Warm up (and let `auto` see a busy function); learn the size of the `end` extension's pushes.
    const requestsBeforeWarmup = receiver.requests().length;
    await invokeMany(end, 'end', undefined)(WARMUP_INVOCATIONS);
    const endPushes = receiver.requests().slice(requestsBeforeWarmup + 1);
    const pushBytes = median(endPushes.map((r) => Number(r.headers['content-length'] ?? Number.NaN)));
    const pushEntries = Math.round(median(endPushes.map((r) => r.entriesInRequest)));
    await invokeMany(auto, 'auto', undefined)(WARMUP_INVOCATIONS);
    await invokeMany(registerOnly, 'register-only', undefined)(WARMUP_INVOCATIONS);
    const bareBodies: number[] = [];
    for (let i = 0; i < WARMUP_INVOCATIONS; i++) await pusher.push(pusher.body(pushEntries, LINE_BYTES));

    const autoRequestsBefore = receiver.requests().length;
    pushesBefore.auto = autoRequestsBefore;
    const arms: Arm[] = [
      { name: 'end', run: invokeMany(end, 'end', samples.end) },
      { name: 'auto', run: invokeMany(auto, 'auto', samples.auto) },
      { name: 'register-only', run: invokeMany(registerOnly, 'register-only', undefined) },
      {
        name: 'bare push',
        run: (count) =>
          paced(count, INVOCATIONS_PER_SECOND, async () => {
            const push = await pusher.push(pusher.body(pushEntries, LINE_BYTES));
            if (push.status !== 204) throw new Error(`bare push answered ${push.status}`);
            samples.bare.push(push.roundTripMs);
            bareBodies.push(push.bodyBytes);
          }),
      },
    ];
    let autoPushes = 0;
    for (let round = 0; round < options.rounds; round++) {
      for (const arm of rotated(arms, round)) {
        const before = receiver.requests().length;
        await arm.run(options.invocationsPerRound);
        if (arm.name === 'auto') autoPushes += receiver.requests().length - before;
      }
    }
    const peakRss: SteadyStatePeakRss = {
      endBytes: await peakRssBytes(end.pid() ?? 0),
      autoBytes: await peakRssBytes(auto.pid() ?? 0),
      registerOnlyBytes: await peakRssBytes(registerOnly.pid() ?? 0),
      invocations: WARMUP_INVOCATIONS + options.rounds * options.invocationsPerRound,
    };
    const autoSwitched = auto.output().includes('switching to periodic');

    for (const emulator of emulators) await emulator.shutdown();
    const lost = lostLines(receiver, emulators.slice(0, 2));

    const endP50 = percentile(samples.end, 50);
    const bareP50 = percentile(samples.bare, 50);
    const autoP50 = percentile(samples.auto, 50);
    const measured = options.rounds * options.invocationsPerRound;
    const report: BenchmarkReport = {
      title: `Added duration per invocation: runtimeDone delivered -> next /next${variantLabel(options.variant)}`,
      details: [
        `${measured} measured invocations per strategy (after ${WARMUP_INVOCATIONS} warm-up), ${options.rounds} interleaved rounds, paced at ${INVOCATIONS_PER_SECOND}/s`,
        `each invocation: ${LINES_PER_INVOCATION} function lines of ${LINE_BYTES} bytes, runtime ${RUNTIME_DURATION_MS} ms; sandbox frozen between events; telemetry buffering timeout 25 ms`,
        `end pushes once per invocation: median ${pushEntries} entries, ${Math.round(pushBytes)} bytes on the wire; bare pushes of ${pushEntries} lines, median ${Math.round(median(bareBodies))} bytes`,
        `auto: ${autoSwitched ? 'switched to periodic during warm-up' : 'DID NOT switch to periodic'}; ${autoPushes} pushes in ${measured} measured invocations; ${samples.auto.filter((x) => x === 0).length} invocations found the extension already waiting at /next`,
        lost === 0
          ? 'every line of both extensions reached the receiver'
          : `${lost} lines did not reach the receiver`,
      ],
      figures: [
        {
          name: 'end, p50',
          value: endP50,
          unit: 'ms',
          baseline: { name: 'bare push round trip p50', value: bareP50 },
          goal: {
            text: `<= push + ${END_GOAL_BEYOND_PUSH_MS} ms`,
            met: endP50 - bareP50 <= END_GOAL_BEYOND_PUSH_MS,
          },
          note: `${(endP50 - bareP50).toFixed(2)} ms beyond the push`,
        },
        {
          name: 'end, p99',
          value: percentile(samples.end, 99),
          unit: 'ms',
          baseline: { name: 'bare push round trip p99', value: percentile(samples.bare, 99) },
        },
        {
          name: 'auto when busy, p50',
          value: autoP50,
          unit: 'ms',
          baseline: { name: 'bare push round trip p50', value: bareP50 },
          goal: { text: `<= ${AUTO_BUSY_GOAL_MS} ms`, met: autoP50 <= AUTO_BUSY_GOAL_MS },
        },
        {
          name: 'auto when busy, p99',
          value: percentile(samples.auto, 99),
          unit: 'ms',
          baseline: { name: 'bare push round trip p99', value: percentile(samples.bare, 99) },
        },
      ],
    };
    return { report, peakRss };
  } finally {
    pusher.close();
    for (const emulator of emulators) await emulator.close();
    await receiver.close();
  }
}

/** Function lines the emulators' runtimes wrote that the receiver does not have. */
function lostLines(receiver: LokiReceiver, emulators: readonly LambdaEmulator[]): number {
  const shipped = new Set(receiver.entries().map((entry) => entry.line));
  let lost = 0;
  for (const emulator of emulators) {
    for (const event of emulator.events()) {
      if (event.type === 'function' && !shipped.has(String(event.record))) lost++;
    }
  }
  return lost;
}
