/**
 * The push decision where Lambda is not a plain on-demand sandbox (DESIGN.md §6): telemetry that does
 * not flow, retried request ids, and Lambda Managed Instances (no INVOKE, no freeze).
 */
import { describe, expect, it } from 'vitest';
import {
  type Action,
  DEFAULT_TIMINGS,
  type DecisionSettings,
  decide,
  initialState,
  type PushState,
  type Trigger,
} from '../../extension/push-decision.js';

const T = DEFAULT_TIMINGS;
const SILENCE = 1_200;

interface Step {
  readonly at: number;
  readonly trigger: Trigger;
  readonly entries?: number;
  readonly bytes?: number;
}

function settings(overrides: Partial<DecisionSettings> = {}): DecisionSettings {
  return {
    strategy: 'end',
    flushIntervalMs: 1_000,
    fullBatchBytes: 10_000,
    timings: T,
    telemetrySilenceMs: SILENCE,
    ...overrides,
  };
}

function play(steps: readonly Step[], config = settings()) {
  let state: PushState = initialState(config, 0);
  const actions: Action[] = [];
  const notes: string[] = [];
  for (const step of steps) {
    const entries = step.entries ?? 0;
    const decision = decide(state, step.trigger, {
      ms: step.at,
      bufferedEntries: entries,
      bufferedBytes: step.bytes ?? entries * 100,
    });
    state = decision.state;
    actions.push(decision.action);
    notes.push(...decision.notes);
  }
  return { last: actions.at(-1), actions, notes };
}

const invoke = (requestId = 'r1', deadlineMs = 30_000): Trigger => ({
  kind: 'invoke',
  requestId,
  deadlineMs,
});
const start = (requestId = 'r1'): Trigger => ({ kind: 'start', requestId });
const runtimeDone = (requestId = 'r1'): Trigger => ({ kind: 'runtimeDone', requestId });
const report = (requestId = 'r1'): Trigger => ({ kind: 'report', requestId });
const telemetry: Trigger = { kind: 'telemetry' };
const tick: Trigger = { kind: 'tick' };
const pushed: Trigger = { kind: 'pushed', failed: false, delivered: true };
const shutdown = (deadlineMs: number): Trigger => ({ kind: 'shutdown', reason: 'spindown', deadlineMs });

describe('telemetry that is not flowing', () => {
  it('wakes at the silence bound, not at the deadline, while not even platform.start came', () => {
    const { last } = play([{ at: 0, trigger: invoke() }]);

    expect(last).toEqual({ kind: 'wait', untilMs: SILENCE });
  });

  it('answers /next at the silence bound and says why', () => {
    const { last, notes } = play([
      { at: 0, trigger: invoke() },
      { at: SILENCE, trigger: tick },
    ]);

    expect(last).toEqual({ kind: 'next' });
    expect(notes).toEqual([
      `no telemetry at all for r1 within ${SILENCE} ms (not even platform.start); not waiting for it`,
    ]);
  });

  it('keeps waiting for runtimeDone once platform.start arrived (the function simply runs long)', () => {
    const { last } = play([
      { at: 0, trigger: invoke() },
      { at: 200, trigger: start() },
      { at: SILENCE, trigger: tick },
    ]);

    expect(last).toEqual({ kind: 'wait', untilMs: 30_000 - T.invokeDeadlineMarginMs });
  });
});

describe('a retried invocation (same request id, new attempt)', () => {
  it('does not take the first attempt’s runtimeDone for the retry’s', () => {
    const { last } = play([
      { at: 0, trigger: invoke('r1') },
      { at: 10, trigger: start('r1') },
      { at: 20, trigger: runtimeDone('r1') },
      { at: 30, trigger: invoke('r1') },
      { at: 40, trigger: start('r1') },
      { at: 50, trigger: telemetry, entries: 1 },
    ]);

    expect(last).toEqual({ kind: 'wait', untilMs: 30_000 - T.invokeDeadlineMarginMs });
  });

  it('waits at SHUTDOWN for the retry’s own report', () => {
    const { actions } = play([
      { at: 0, trigger: invoke('r1') },
      { at: 10, trigger: start('r1') },
      { at: 20, trigger: runtimeDone('r1') },
      { at: 21, trigger: report('r1') },
      { at: 30, trigger: invoke('r1') },
      { at: 40, trigger: start('r1') },
      { at: 50, trigger: runtimeDone('r1'), entries: 1 },
      { at: 60, trigger: pushed },
      { at: 100, trigger: shutdown(2_100) },
      { at: 150, trigger: report('r1'), entries: 1 },
    ]);

    expect(actions.at(-2)).toEqual({ kind: 'wait', untilMs: 2_100 - T.shutdownPushReserveMs });
    expect(actions.at(-1)).toEqual({ kind: 'push', deadlineMs: 2_100 - T.shutdownExitMarginMs });
  });
});

describe('Lambda Managed Instances (continuous)', () => {
  const continuous = settings({ continuous: true, strategy: 'auto' });

  it('waits for the timer when telemetry arrives, then pushes when the interval has passed', () => {
    const { actions } = play(
      [
        { at: 100, trigger: telemetry, entries: 3 },
        { at: 1_000, trigger: tick, entries: 3 },
      ],
      continuous,
    );

    expect(actions).toEqual([
      { kind: 'wait', untilMs: 1_000 },
      { kind: 'push', deadlineMs: 1_000 + T.parallelPushBudgetMs },
    ]);
  });

  it('pushes a full batch at once, without waiting for the timer', () => {
    const { last } = play([{ at: 100, trigger: telemetry, entries: 100, bytes: 10_000 }], continuous);

    expect(last).toEqual({ kind: 'push', deadlineMs: 100 + T.parallelPushBudgetMs });
  });

  it('keeps one push in flight and re-arms the timer after it', () => {
    const { actions } = play(
      [
        { at: 1_000, trigger: telemetry, entries: 3 },
        { at: 1_100, trigger: telemetry, entries: 5 },
        { at: 1_200, trigger: pushed, entries: 2 },
      ],
      continuous,
    );

    expect(actions).toEqual([
      { kind: 'push', deadlineMs: 1_000 + T.parallelPushBudgetMs },
      { kind: 'wait', untilMs: undefined },
      { kind: 'wait', untilMs: 2_000 },
    ]);
  });

  it('at SHUTDOWN waits for the report of every invocation that started, then pushes everything', () => {
    const { actions } = play(
      [
        { at: 10, trigger: start('a') },
        { at: 11, trigger: start('b') },
        { at: 20, trigger: report('a'), entries: 4 },
        { at: 100, trigger: shutdown(2_100), entries: 4 },
        { at: 300, trigger: report('b'), entries: 5 },
      ],
      continuous,
    );

    expect(actions.at(-2)).toEqual({ kind: 'wait', untilMs: 2_100 - T.shutdownPushReserveMs });
    expect(actions.at(-1)).toEqual({ kind: 'push', deadlineMs: 2_100 - T.shutdownExitMarginMs });
  });
});
