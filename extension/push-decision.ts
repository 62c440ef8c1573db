/**
 * The one owner of the push decision (DESIGN.md §5): a pure function of (state, trigger, now) that
 * answers "push until this deadline", "wait (until a time, or the next trigger)", "answer /next" or
 * "exit". No I/O, no timers, no clock of its own: the event loop feeds it triggers and carries out
 * what it answers, and the unit tests drive it with a fake clock.
 *
 * Pushes happen only while an invocation (or the shutdown phase) is active: after /next the sandbox
 * may be frozen at any moment, so a push is never left in flight when /next is answered.
 */

import type { FlushStrategy } from './config.js';
import { type FlushMode, initialPolicy, modeForInvocation, type PolicyState } from './flush-policy.js';

/** Every duration the decision uses; tests shrink them (test-timings.ts; the real ones are DEFAULT_TIMINGS). */
export interface Timings {
  /** Call /next at least this long before an invocation's deadline, so the function never times out on us. */
  readonly invokeDeadlineMarginMs: number;
  /** At most this long pushing after the runtime is done (`end`): the cost of a slow Loki stays bounded. */
  readonly endPushBudgetMs: number;
  /** At most this long for a push that runs while the function runs (periodic, or a full batch). */
  readonly parallelPushBudgetMs: number;
  /** At shutdown, stop waiting for the last telemetry this long before the deadline, to leave time to push. */
  readonly shutdownPushReserveMs: number;
  /** Exit this long before the shutdown deadline, pushed or not: Lambda kills the process at the deadline. */
  readonly shutdownExitMarginMs: number;
  /** After a failed push, skip optional pushes for this long, doubling up to the maximum. */
  readonly cooldownInitialMs: number;
  readonly cooldownMaxMs: number;
  /** Backoff between retries of one push request (retry-policy.ts). */
  readonly retryInitialBackoffMs: number;
  readonly retryMaxBackoffMs: number;
  /** The floor of every wait between retries, `Retry-After: 0` included. */
  readonly retryMinBackoffMs: number;
  /**
   * Beyond the buffering timeout, how long `platform.start` may take to arrive before `end` counts
   * telemetry as not flowing and stops waiting for it (telemetrySilenceMs of DecisionSettings).
   */
  readonly telemetrySilenceMarginMs: number;
}

export const DEFAULT_TIMINGS: Timings = Object.freeze({
  invokeDeadlineMarginMs: 200,
  endPushBudgetMs: 1_500,
  parallelPushBudgetMs: 2_000,
  shutdownPushReserveMs: 800,
  shutdownExitMarginMs: 400,
  cooldownInitialMs: 1_000,
  cooldownMaxMs: 16_000,
  retryInitialBackoffMs: 100,
  retryMaxBackoffMs: 2_000,
  retryMinBackoffMs: 50,
  telemetrySilenceMarginMs: 2_000,
});

export interface DecisionSettings {
  readonly strategy: FlushStrategy;
  readonly flushIntervalMs: number;
  /** A full batch: beyond this many buffered bytes, push during the invocation rather than wait. */
  readonly fullBatchBytes: number;
  readonly timings: Timings;
  /**
   * `end` stops waiting for an invocation's telemetry when not even its `platform.start` came within
   * this long of INVOKE: the buffering timeout plus telemetrySilenceMarginMs (telemetry is not
   * flowing). Default: no bound but the invocation's deadline.
   */
  readonly telemetrySilenceMs?: number;
  /**
   * Lambda Managed Instances: no INVOKE, no freeze, concurrent invocations. Pushes run from the
   * timer (every flushIntervalMs) and whenever a full batch is buffered (DESIGN.md §6). Default false.
   */
  readonly continuous?: boolean;
}

/** What the decision sees of the world besides its state: the clock and the buffer. */
export interface Now {
  readonly ms: number;
  readonly bufferedEntries: number;
  readonly bufferedBytes: number;
}

export type Trigger =
  /** Lambda's INVOKE event: a new attempt of `requestId` (a retried invocation reuses the id). */
  | { readonly kind: 'invoke'; readonly requestId: string; readonly deadlineMs: number }
  | { readonly kind: 'shutdown'; readonly reason: string; readonly deadlineMs: number }
  /** Telemetry was buffered (a full batch is just telemetry arriving with enough of it buffered). */
  | { readonly kind: 'telemetry' }
  | { readonly kind: 'start'; readonly requestId: string }
  | { readonly kind: 'runtimeDone'; readonly requestId: string }
  | { readonly kind: 'report'; readonly requestId: string }
  /**
   * The push in flight ended. `failed`: Loki could not take the logs in time (the rest stays
   * buffered); `delivered`: it accepted at least one batch.
   */
  | {
      readonly kind: 'pushed';
      readonly failed: boolean;
      readonly delivered: boolean;
      /** Loki's Retry-After, when longer than the push's budget: the cooldown lasts at least that long. */
      readonly retryAfterMs?: number;
    }
  /** A time the decision asked to be woken at has come (a deadline, the end of a cooldown). */
  | { readonly kind: 'tick' };

export type Action =
  | { readonly kind: 'push'; readonly deadlineMs: number }
  /** Bring the deadline of the push in flight forward (its remaining requests are cut then). */
  | { readonly kind: 'shorten'; readonly deadlineMs: number }
  /** Nothing to do until the next trigger, or until `untilMs` (then send a `tick`). */
  | { readonly kind: 'wait'; readonly untilMs: number | undefined }
  /** The invocation is over for us: call /next (nothing is in flight). */
  | { readonly kind: 'next' }
  | { readonly kind: 'exit'; readonly reason: string };

interface Invocation {
  readonly kind: 'invocation';
  readonly requestId: string;
  /** 1 for the first INVOKE of this request id, 2 for a retry, ... */
  readonly attempt: number;
  readonly mode: FlushMode;
  readonly latestNextAtMs: number;
  /** When INVOKE arrived: the telemetry silence bound counts from here. */
  readonly invokedAtMs: number;
  /** `end`: when the runtime was done (or its deadline came): the end push's budget starts then. */
  readonly doneAtMs: number | undefined;
  /** The push this invocation owes (end: after the runtime is done; periodic: at its start) was made or skipped. */
  readonly settled: boolean;
}

interface Shutdown {
  readonly kind: 'shutdown';
  readonly reason: string;
  readonly deadlineMs: number;
  readonly lastRequestId: string | undefined;
  readonly pushed: boolean;
}

/** Between invocations: /next was called and the sandbox may freeze; nothing is pushed. */
interface Between {
  readonly kind: 'between';
  readonly lastRequestId: string | undefined;
}

type Phase = Between | Invocation | Shutdown;

/** Per request id, how many INVOKEs, starts, runtimeDones and reports were seen (retries reuse the id). */
interface RequestProgress {
  readonly invokes: number;
  readonly starts: number;
  readonly runtimeDones: number;
  readonly reports: number;
}

/** Enough request ids for any realistic reordering, bounded memory. */
const REMEMBERED_REQUESTS = 64;

export interface PushState {
  readonly settings: DecisionSettings;
  readonly policy: PolicyState;
  readonly phase: Phase;
  /** The one in-flight guard: the deadline of the push running now, if any. */
  readonly pushingUntilMs: number | undefined;
  readonly lastPushAtMs: number;
  /** Optional pushes wait until then after Loki failed; the step doubles with each failure. */
  readonly cooldownUntilMs: number;
  readonly cooldownStepMs: number;
  readonly requests: ReadonlyMap<string, RequestProgress>;
}

export interface Decision {
  readonly state: PushState;
  readonly action: Action;
  /** Diagnostic sentences (the loop prints them with LOKI_DEBUG). */
  readonly notes: readonly string[];
}

export function initialState(settings: DecisionSettings, nowMs: number): PushState {
  return {
    settings,
    policy: initialPolicy(settings.strategy),
    phase: { kind: 'between', lastRequestId: undefined },
    pushingUntilMs: undefined,
    lastPushAtMs: nowMs,
    cooldownUntilMs: 0,
    cooldownStepMs: 0,
    requests: new Map(),
  };
}

/** The decision: fold the trigger into the state, then settle what to do now. */
export function decide(state: PushState, trigger: Trigger, now: Now): Decision {
  const notes: string[] = [];
  const next = settle(apply(state, trigger, now, notes), now, notes);
  return { ...next, notes };
}

function apply(state: PushState, trigger: Trigger, now: Now, notes: string[]): PushState {
  const { timings } = state.settings;
  switch (trigger.kind) {
    case 'invoke': {
      const progress = progressOf(state, trigger.requestId);
      const choice = modeForInvocation(state.policy, now.ms);
      if (choice.switched !== undefined) notes.push(choice.switched);
      return {
        ...state,
        policy: choice.policy,
        requests: withProgress(state.requests, trigger.requestId, {
          ...progress,
          invokes: progress.invokes + 1,
        }),
        phase: {
          kind: 'invocation',
          requestId: trigger.requestId,
          attempt: progress.invokes + 1,
          mode: choice.mode,
          latestNextAtMs: trigger.deadlineMs - timings.invokeDeadlineMarginMs,
          invokedAtMs: now.ms,
          doneAtMs: undefined,
          settled: false,
        },
      };
    }
    case 'shutdown':
      notes.push(`SHUTDOWN (${trigger.reason}), ${trigger.deadlineMs - now.ms} ms left`);
      return {
        ...state,
        phase: {
          kind: 'shutdown',
          reason: trigger.reason,
          deadlineMs: trigger.deadlineMs,
          lastRequestId: lastRequestIdOf(state.phase),
          pushed: false,
        },
      };
    case 'start':
    case 'runtimeDone':
    case 'report': {
      const progress = progressOf(state, trigger.requestId);
      const counted =
        trigger.kind === 'start'
          ? { ...progress, starts: progress.starts + 1 }
          : trigger.kind === 'runtimeDone'
            ? { ...progress, runtimeDones: progress.runtimeDones + 1 }
            : { ...progress, reports: progress.reports + 1 };
      return { ...state, requests: withProgress(state.requests, trigger.requestId, counted) };
    }
    case 'pushed': {
      const settled = { ...state, pushingUntilMs: undefined };
      if (trigger.failed) {
        // Doubles while Loki keeps failing; starts over when it took something in between.
        const previous = trigger.delivered ? 0 : state.cooldownStepMs;
        const step = Math.min(timings.cooldownMaxMs, Math.max(timings.cooldownInitialMs, previous * 2));
        const untilMs = Math.max(now.ms + step, now.ms + (trigger.retryAfterMs ?? 0));
        return { ...settled, cooldownStepMs: step, cooldownUntilMs: untilMs };
      }
      return trigger.delivered ? { ...settled, cooldownStepMs: 0, cooldownUntilMs: 0 } : settled;
    }
    case 'telemetry':
    case 'tick':
      return state;
  }
}

function settle(state: PushState, now: Now, notes: string[]): { state: PushState; action: Action } {
  const { phase } = state;
  if (phase.kind === 'between' && state.settings.continuous) return settleContinuous(state, now);
  if (phase.kind === 'between') return settleBetween(state, phase, now);
  if (phase.kind === 'shutdown') return settleShutdown(state, phase, now);
  return phase.mode === 'end'
    ? settleEnd(state, phase, now, notes)
    : settlePeriodic(state, phase, now, notes);
}

/**
 * Between invocations nothing is pushed, with one exception: while the last invocation's runtime
 * still runs (its runtimeDone has not come), the sandbox cannot be frozen yet, and telemetry filling
 * the buffer proves it. Then a full batch is pushed at once rather than let the bound drop logs
 * (`periodic` answered /next at the start of the invocation, so it cannot hold it any more). If the
 * freeze comes first, the push resumes at the thaw and its entries are kept until Loki has them.
 */
function settleBetween(state: PushState, phase: Between, now: Now): { state: PushState; action: Action } {
  if (state.pushingUntilMs !== undefined || phase.lastRequestId === undefined) {
    return { state, action: waitUntil(undefined) };
  }
  const progress = progressOf(state, phase.lastRequestId);
  const runtimeRuns = progress.runtimeDones < progress.invokes;
  if (!runtimeRuns || now.bufferedBytes < state.settings.fullBatchBytes || coolingDown(state, now)) {
    return { state, action: waitUntil(undefined) };
  }
  return push(state, now.ms + state.settings.timings.parallelPushBudgetMs, now);
}

/** `end`: full batches while the function runs; everything once its runtime is done; then /next. */
function settleEnd(
  state: PushState,
  phase: Invocation,
  now: Now,
  notes: string[],
): { state: PushState; action: Action } {
  const { timings, fullBatchBytes } = state.settings;
  const telemetrySilenceMs = state.settings.telemetrySilenceMs ?? Infinity;
  const progress = progressOf(state, phase.requestId);
  const runtimeDone = progress.runtimeDones >= phase.attempt;
  // Not even platform.start came: telemetry is not flowing, so never hold the invocation for it.
  const silentUntilMs = progress.starts >= phase.attempt ? Infinity : phase.invokedAtMs + telemetrySilenceMs;
  if (
    phase.doneAtMs === undefined &&
    (runtimeDone || now.ms >= phase.latestNextAtMs || now.ms >= silentUntilMs)
  ) {
    if (!runtimeDone && now.ms >= silentUntilMs && now.ms < phase.latestNextAtMs) {
      notes.push(
        `no telemetry at all for ${phase.requestId} within ${telemetrySilenceMs} ms (not even platform.start); not waiting for it`,
      );
    } else if (!runtimeDone) {
      notes.push(`no runtimeDone for ${phase.requestId} before its deadline; pushing what arrived`);
    }
    const done: Invocation = { ...phase, doneAtMs: now.ms };
    return settleEnd({ ...state, phase: done }, done, now, notes);
  }
  if (state.pushingUntilMs !== undefined) {
    // The end budget counts from runtimeDone, whatever push is running then (e.g. a full batch).
    const endDeadlineMs =
      phase.doneAtMs === undefined
        ? undefined
        : Math.min(phase.latestNextAtMs, phase.doneAtMs + timings.endPushBudgetMs);
    if (endDeadlineMs !== undefined && state.pushingUntilMs > endDeadlineMs) {
      return {
        state: { ...state, pushingUntilMs: endDeadlineMs },
        action: { kind: 'shorten', deadlineMs: endDeadlineMs },
      };
    }
    return { state, action: waitUntil(undefined) };
  }
  if (phase.doneAtMs === undefined) {
    // The function still runs: push a full batch at once, in parallel with it.
    const cooling = coolingDown(state, now);
    if (now.bufferedBytes >= fullBatchBytes && !cooling) {
      return push(state, Math.min(phase.latestNextAtMs, now.ms + timings.parallelPushBudgetMs), now);
    }
    const wakeForBatch = now.bufferedBytes >= fullBatchBytes && cooling ? state.cooldownUntilMs : Infinity;
    return { state, action: waitUntil(Math.min(phase.latestNextAtMs, wakeForBatch, silentUntilMs)) };
  }
  const endDeadlineMs = Math.min(phase.latestNextAtMs, phase.doneAtMs + timings.endPushBudgetMs);
  if (!phase.settled) {
    const settled = { ...state, phase: { ...phase, settled: true } };
    if (now.bufferedEntries > 0 && now.ms < endDeadlineMs) {
      if (!coolingDown(state, now)) return push(settled, endDeadlineMs, now);
      notes.push(`Loki failed recently; ${now.bufferedEntries} entries wait for a later attempt`);
    }
    return toNext(settled);
  }
  return toNext(state);
}

/**
 * `periodic`: at the start of an invocation, push when the interval has passed or a full batch is
 * buffered (then /next waits for that push rather than let the bound drop logs); then /next.
 */
function settlePeriodic(
  state: PushState,
  phase: Invocation,
  now: Now,
  notes: string[],
): { state: PushState; action: Action } {
  const { timings, flushIntervalMs } = state.settings;
  if (state.pushingUntilMs !== undefined) return { state, action: waitUntil(undefined) };
  if (phase.settled) return toNext(state);
  const settled = { ...state, phase: { ...phase, settled: true } };
  const due =
    now.ms - state.lastPushAtMs >= flushIntervalMs || now.bufferedBytes >= state.settings.fullBatchBytes;
  if (!due || now.bufferedEntries === 0) return toNext(settled);
  if (coolingDown(state, now)) {
    notes.push(`Loki failed recently; ${now.bufferedEntries} entries wait for a later attempt`);
    return toNext(settled);
  }
  return push(settled, Math.min(phase.latestNextAtMs, now.ms + timings.parallelPushBudgetMs), now);
}

/** Shutdown: wait briefly for the last invocation's report, push everything, exit before the deadline. */
function settleShutdown(state: PushState, phase: Shutdown, now: Now): { state: PushState; action: Action } {
  const { timings } = state.settings;
  if (state.pushingUntilMs !== undefined) return { state, action: waitUntil(undefined) };
  const exitAtMs = phase.deadlineMs - timings.shutdownExitMarginMs;
  if (phase.pushed) return { state, action: { kind: 'exit', reason: phase.reason } };
  const reportWaitEndsMs = phase.deadlineMs - timings.shutdownPushReserveMs;
  if (phase.lastRequestId !== undefined && now.ms < reportWaitEndsMs) {
    const progress = progressOf(state, phase.lastRequestId);
    // The last invocation's report (and any late lines) may still be in Lambda's telemetry buffer.
    if (progress.reports < progress.invokes) return { state, action: waitUntil(reportWaitEndsMs) };
  }
  if (state.settings.continuous && now.ms < reportWaitEndsMs) {
    // Managed Instances: no INVOKE; every invocation that started must have its report.
    const unreported = [...state.requests.values()].some((p) => p.reports < p.starts);
    if (unreported) return { state, action: waitUntil(reportWaitEndsMs) };
  }
  const pushed = { ...state, phase: { ...phase, pushed: true } };
  if (now.bufferedEntries === 0 || now.ms >= exitAtMs)
    return { state: pushed, action: { kind: 'exit', reason: phase.reason } };
  return push(pushed, exitAtMs, now);
}

/**
 * Lambda Managed Instances: never frozen, invocations overlap and none is announced, so pushes run
 * from the timer (once flushIntervalMs has passed since the last one) and as soon as a full batch is
 * buffered, each bounded by the parallel push budget.
 */
function settleContinuous(state: PushState, now: Now): { state: PushState; action: Action } {
  const { timings, fullBatchBytes, flushIntervalMs } = state.settings;
  if (state.pushingUntilMs !== undefined || now.bufferedEntries === 0) {
    return { state, action: waitUntil(undefined) };
  }
  const dueAtMs = now.bufferedBytes >= fullBatchBytes ? now.ms : state.lastPushAtMs + flushIntervalMs;
  const startAtMs = Math.max(dueAtMs, state.cooldownUntilMs);
  if (now.ms < startAtMs) return { state, action: waitUntil(startAtMs) };
  return push(state, now.ms + timings.parallelPushBudgetMs, now);
}

function push(state: PushState, deadlineMs: number, now: Now): { state: PushState; action: Action } {
  return {
    state: { ...state, pushingUntilMs: deadlineMs, lastPushAtMs: now.ms },
    action: { kind: 'push', deadlineMs },
  };
}

function toNext(state: PushState): { state: PushState; action: Action } {
  return {
    state: { ...state, phase: { kind: 'between', lastRequestId: lastRequestIdOf(state.phase) } },
    action: { kind: 'next' },
  };
}

function waitUntil(untilMs: number | undefined): Action {
  return { kind: 'wait', untilMs: untilMs === undefined || !Number.isFinite(untilMs) ? undefined : untilMs };
}

/** True while Loki recently failed: a push that is not required would most likely only add billed time. */
function coolingDown(state: PushState, now: Now): boolean {
  return now.ms < state.cooldownUntilMs;
}

function lastRequestIdOf(phase: Phase): string | undefined {
  return phase.kind === 'invocation' ? phase.requestId : phase.lastRequestId;
}

function progressOf(state: PushState, requestId: string): RequestProgress {
  return state.requests.get(requestId) ?? { invokes: 0, starts: 0, runtimeDones: 0, reports: 0 };
}

function withProgress(
  requests: ReadonlyMap<string, RequestProgress>,
  requestId: string,
  progress: RequestProgress,
): ReadonlyMap<string, RequestProgress> {
  const updated = new Map(requests);
  updated.delete(requestId); // re-inserted last: the oldest id is forgotten first
  updated.set(requestId, progress);
  if (updated.size > REMEMBERED_REQUESTS) {
    const oldest = updated.keys().next().value;
    if (oldest !== undefined) updated.delete(oldest);
  }
  return updated;
}
