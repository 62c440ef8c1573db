/**
 * The push decision, trigger by trigger, with a fake clock: each case plays the triggers that lead
 * to a situation, then one more, and checks what the decision answers.
 */
import { describe, expect, it } from 'vitest';
import { BUSY_INVOCATIONS_PER_MINUTE } from '../../extension/flush-policy.js';
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
const FULL = 1_000;
/** A step: at clock `at`, with `entries`/`bytes` buffered, this trigger happens. */
interface Step {
  readonly at: number;
  readonly trigger: Trigger;
  readonly entries?: number;
  readonly bytes?: number;
}

function settings(overrides: Partial<DecisionSettings> = {}): DecisionSettings {
  return { strategy: 'end', flushIntervalMs: 10_000, fullBatchBytes: FULL, timings: T, ...overrides };
}

/** Plays the steps from a fresh state at clock 0; returns every action and note. */
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
  return { last: actions.at(-1), actions, notes, state };
}

const invoke = (requestId = 'r1', deadlineMs = 3_000): Trigger => ({ kind: 'invoke', requestId, deadlineMs });
const runtimeDone = (requestId = 'r1'): Trigger => ({ kind: 'runtimeDone', requestId });
const report = (requestId = 'r1'): Trigger => ({ kind: 'report', requestId });
const telemetry: Trigger = { kind: 'telemetry' };
const tick: Trigger = { kind: 'tick' };
const pushed = (failed = false, delivered = !failed): Trigger => ({ kind: 'pushed', failed, delivered });
const shutdown = (deadlineMs: number): Trigger => ({ kind: 'shutdown', reason: 'spindown', deadlineMs });

const push = (deadlineMs: number): Action => ({ kind: 'push', deadlineMs });
const wait = (untilMs?: number): Action => ({ kind: 'wait', untilMs });
const next: Action = { kind: 'next' };
const exit: Action = { kind: 'exit', reason: 'spindown' };

/** One invocation (r0) that ran and pushed at clock 0..100, so the push decision starts from a known point. */
const afterOneInvocation: Step[] = [
  { at: 0, trigger: invoke('r0', 3_000) },
  { at: 50, trigger: runtimeDone('r0'), entries: 1 },
  { at: 100, trigger: pushed() },
];

describe('push decision: INVOKE', () => {
  it.each<[string, Step[], DecisionSettings, Action]>([
    [
      'end: waits for the runtime to be done, at most until the deadline minus the margin',
      [{ at: 10, trigger: invoke('r1', 3_010), entries: 5 }],
      settings(),
      wait(3_010 - T.invokeDeadlineMarginMs),
    ],
    [
      'periodic: pushes in parallel with the function when the interval has passed',
      [{ at: 10_000, trigger: invoke('r1', 13_000), entries: 5 }],
      settings({ strategy: 'periodic' }),
      push(10_000 + T.parallelPushBudgetMs),
    ],
    [
      'periodic: the push never runs past the invocation deadline minus the margin',
      [{ at: 10_000, trigger: invoke('r1', 11_000), entries: 5 }],
      settings({ strategy: 'periodic' }),
      push(11_000 - T.invokeDeadlineMarginMs),
    ],
    [
      'periodic: answers /next at once before the interval has passed',
      [{ at: 9_999, trigger: invoke('r1', 13_000), entries: 5 }],
      settings({ strategy: 'periodic' }),
      next,
    ],
    [
      'periodic: a full batch buffered at the INVOKE is pushed before the interval has passed, and /next waits for it',
      [{ at: 5_000, trigger: invoke('r1', 8_000), entries: 30, bytes: FULL }],
      settings({ strategy: 'periodic' }),
      push(5_000 + T.parallelPushBudgetMs),
    ],
    [
      'periodic: answers /next at once when nothing is buffered',
      [{ at: 20_000, trigger: invoke('r1', 23_000), entries: 0 }],
      settings({ strategy: 'periodic' }),
      next,
    ],
  ])('%s', (_name, steps, config, expected) => {
    expect(play(steps, config).last).toEqual(expected);
  });
});

describe('push decision: telemetry arrived and full batches', () => {
  it.each<[string, Step[], Action]>([
    [
      'less than a full batch while the function runs: keeps waiting for runtimeDone',
      [
        { at: 0, trigger: invoke() },
        { at: 100, trigger: telemetry, entries: 3, bytes: FULL - 1 },
      ],
      wait(3_000 - T.invokeDeadlineMarginMs),
    ],
    [
      'a full batch while the function runs: pushes it at once, in parallel, within the parallel budget',
      [
        { at: 0, trigger: invoke() },
        { at: 100, trigger: telemetry, entries: 30, bytes: FULL },
      ],
      push(100 + T.parallelPushBudgetMs),
    ],
    [
      'a full batch between invocations: never pushes (the sandbox may be frozen mid-push)',
      [...afterOneInvocation, { at: 200, trigger: telemetry, entries: 30, bytes: FULL * 5 }],
      wait(),
    ],
    [
      'periodic, a full batch after /next while the runtime still runs: pushes at once (the sandbox cannot be frozen yet)',
      [
        { at: 0, trigger: invoke('r1', 3_000) },
        { at: 100, trigger: telemetry, entries: 30, bytes: FULL },
      ],
      push(100 + T.parallelPushBudgetMs),
    ],
    [
      'periodic, less than a full batch after /next: waits (the next push is at an INVOKE)',
      [
        { at: 0, trigger: invoke('r1', 3_000) },
        { at: 100, trigger: telemetry, entries: 3, bytes: FULL - 1 },
      ],
      wait(),
    ],
    [
      'periodic, the push after /next ended and the runtime still runs: pushes the next full batch',
      [
        { at: 0, trigger: invoke('r1', 3_000) },
        { at: 100, trigger: telemetry, entries: 30, bytes: FULL },
        { at: 300, trigger: pushed(), entries: 31, bytes: FULL + 1 },
      ],
      push(300 + T.parallelPushBudgetMs),
    ],
    [
      'periodic, a full batch after the runtime is done: waits (the sandbox may freeze at any moment)',
      [
        { at: 0, trigger: invoke('r1', 3_000) },
        { at: 100, trigger: runtimeDone('r1'), entries: 3 },
        { at: 150, trigger: telemetry, entries: 30, bytes: FULL },
      ],
      wait(),
    ],
    [
      'a full batch while a push is in flight: waits for it (one push at a time)',
      [
        { at: 0, trigger: invoke() },
        { at: 100, trigger: telemetry, entries: 30, bytes: FULL },
        { at: 200, trigger: telemetry, entries: 60, bytes: FULL * 2 },
      ],
      wait(),
    ],
    [
      'a full batch while Loki cools down: waits for the cooldown to end, not for more telemetry',
      [
        { at: 0, trigger: invoke('r1', 30_000) },
        { at: 100, trigger: telemetry, entries: 30, bytes: FULL },
        { at: 200, trigger: pushed(true), entries: 30, bytes: FULL },
        { at: 300, trigger: telemetry, entries: 40, bytes: FULL },
      ],
      wait(200 + T.cooldownInitialMs),
    ],
  ])('%s', (name, steps, expected) => {
    const strategy = name.startsWith('periodic') ? 'periodic' : 'end';
    expect(play(steps, settings({ strategy })).last).toEqual(expected);
  });
});

describe('push decision: runtimeDone (end)', () => {
  it.each<[string, Step[], Action]>([
    [
      'pushes everything buffered within the end budget',
      [
        { at: 0, trigger: invoke() },
        { at: 400, trigger: runtimeDone(), entries: 7 },
      ],
      push(400 + T.endPushBudgetMs),
    ],
    [
      'the end push never runs past the invocation deadline minus the margin',
      [
        { at: 0, trigger: invoke('r1', 1_000) },
        { at: 400, trigger: runtimeDone(), entries: 7 },
      ],
      push(1_000 - T.invokeDeadlineMarginMs),
    ],
    [
      'with nothing buffered: answers /next at once',
      [
        { at: 0, trigger: invoke() },
        { at: 400, trigger: runtimeDone(), entries: 0 },
      ],
      next,
    ],
    [
      "another request's runtimeDone does not end this invocation",
      [
        { at: 0, trigger: invoke('r1') },
        { at: 400, trigger: runtimeDone('r0'), entries: 7 },
      ],
      wait(3_000 - T.invokeDeadlineMarginMs),
    ],
    [
      'a runtimeDone that arrived before the INVOKE was handled still counts',
      [
        { at: 0, trigger: runtimeDone('r1') },
        { at: 10, trigger: invoke('r1'), entries: 7 },
      ],
      push(10 + T.endPushBudgetMs),
    ],
    [
      'a retried invocation (same request id) waits for the runtimeDone of its own attempt',
      [
        { at: 0, trigger: invoke('r1') },
        { at: 100, trigger: runtimeDone('r1'), entries: 1 },
        { at: 150, trigger: pushed() },
        { at: 5_000, trigger: invoke('r1', 8_000), entries: 0 },
        { at: 5_100, trigger: telemetry, entries: 2 },
      ],
      wait(8_000 - T.invokeDeadlineMarginMs),
    ],
    [
      'while a full-batch push runs: waits for it, then pushes the rest within the budget counted from runtimeDone',
      [
        { at: 0, trigger: invoke() },
        { at: 100, trigger: telemetry, entries: 30, bytes: FULL },
        { at: 400, trigger: runtimeDone(), entries: 40, bytes: FULL },
        { at: 900, trigger: pushed(), entries: 10 },
      ],
      push(400 + T.endPushBudgetMs),
    ],
    [
      "a full-batch push whose deadline is past the end budget: brings it forward to runtimeDone + the budget (end's bound holds)",
      [
        { at: 0, trigger: invoke('r1', 30_000) },
        { at: 100, trigger: telemetry, entries: 30, bytes: FULL },
        { at: 400, trigger: runtimeDone(), entries: 40, bytes: FULL },
      ],
      { kind: 'shorten', deadlineMs: 400 + T.endPushBudgetMs },
    ],
    [
      'after the shortened push: answers /next when no time is left of the budget',
      [
        { at: 0, trigger: invoke('r1', 30_000) },
        { at: 100, trigger: telemetry, entries: 30, bytes: FULL },
        { at: 400, trigger: runtimeDone(), entries: 40, bytes: FULL },
        { at: 400 + T.endPushBudgetMs, trigger: pushed(true), entries: 40, bytes: FULL },
      ],
      next,
    ],
    [
      'after the end push: answers /next, with nothing in flight',
      [
        { at: 0, trigger: invoke() },
        { at: 400, trigger: runtimeDone(), entries: 7 },
        { at: 450, trigger: pushed() },
      ],
      next,
    ],
    [
      'while Loki cools down: answers /next without pushing (logs wait for a later attempt)',
      [
        { at: 0, trigger: invoke('r1', 30_000) },
        { at: 100, trigger: telemetry, entries: 30, bytes: FULL },
        { at: 200, trigger: pushed(true), entries: 30, bytes: FULL },
        { at: 400, trigger: runtimeDone(), entries: 31, bytes: FULL },
      ],
      next,
    ],
  ])('%s', (_name, steps, expected) => {
    expect(play(steps).last).toEqual(expected);
  });

  it('no runtimeDone before the deadline: answers /next at the deadline tick (no time is left to push), and says so', () => {
    const { last, notes } = play([
      { at: 0, trigger: invoke('r1', 1_000) },
      { at: 800, trigger: tick, entries: 2 },
    ]);

    expect(last).toEqual(next);
    expect(notes).toContain('no runtimeDone for r1 before its deadline; pushing what arrived');
  });
});

describe('push decision: SHUTDOWN', () => {
  it.each<[string, Step[], Action]>([
    [
      "waits for the last invocation's report, until the push reserve before the deadline",
      [...afterOneInvocation, { at: 1_000, trigger: shutdown(3_000), entries: 2 }],
      wait(3_000 - T.shutdownPushReserveMs),
    ],
    [
      'pushes everything once the report arrives, until the exit margin before the deadline',
      [
        ...afterOneInvocation,
        { at: 1_000, trigger: shutdown(3_000), entries: 2 },
        { at: 1_100, trigger: report('r0'), entries: 3 },
      ],
      push(3_000 - T.shutdownExitMarginMs),
    ],
    [
      'stops waiting for the report when the reserve begins, and pushes',
      [
        ...afterOneInvocation,
        { at: 1_000, trigger: shutdown(3_000), entries: 2 },
        { at: 3_000 - T.shutdownPushReserveMs, trigger: tick, entries: 2 },
      ],
      push(3_000 - T.shutdownExitMarginMs),
    ],
    [
      'pushes even while Loki cools down: it is the last chance',
      [
        { at: 0, trigger: invoke('r0', 30_000) },
        { at: 100, trigger: telemetry, entries: 30, bytes: FULL },
        { at: 200, trigger: pushed(true), entries: 30, bytes: FULL },
        { at: 300, trigger: runtimeDone('r0'), entries: 30, bytes: FULL },
        { at: 400, trigger: report('r0'), entries: 30, bytes: FULL },
        { at: 500, trigger: shutdown(2_500), entries: 30, bytes: FULL },
      ],
      push(2_500 - T.shutdownExitMarginMs),
    ],
    [
      'exits at once with nothing buffered',
      [...afterOneInvocation, { at: 120, trigger: report('r0') }, { at: 1_000, trigger: shutdown(3_000) }],
      exit,
    ],
    [
      'exits after the shutdown push, whatever it achieved',
      [
        { at: 0, trigger: shutdown(2_000), entries: 4 },
        { at: 1_600, trigger: pushed(true), entries: 4 },
      ],
      exit,
    ],
  ])('%s', (_name, steps, expected) => {
    expect(play(steps).last).toEqual(expected);
  });
});

describe('push decision: Loki failed, and the cooldown', () => {
  /** A full batch pushed in invocation `id` at `at`, and Loki failing it 100 ms later. */
  const failedPushAt = (at: number, id: string): Step[] => [
    { at, trigger: invoke(id, at + 60_000) },
    { at: at + 1, trigger: telemetry, entries: 30, bytes: FULL },
    { at: at + 100, trigger: pushed(true), entries: 30, bytes: FULL },
    { at: at + 101, trigger: runtimeDone(id), entries: 30, bytes: FULL },
  ];

  it('a failure starts a cooldown; each further failure doubles it, up to the maximum', () => {
    const firstFailure = play(failedPushAt(0, 'a'));
    const cooldowns = [firstFailure.state.cooldownStepMs];
    let state = firstFailure.state;
    for (let i = 1; i < 7; i++) {
      const at = i * 100_000;
      let s = state;
      for (const step of failedPushAt(at, `r${i}`)) {
        s = decide(s, step.trigger, {
          ms: step.at,
          bufferedEntries: step.entries ?? 0,
          bufferedBytes: step.bytes ?? 0,
        }).state;
      }
      state = s;
      cooldowns.push(state.cooldownStepMs);
    }

    expect(cooldowns).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 16_000, 16_000]);
  });

  it("a Retry-After longer than the push's budget carries over into the cooldown", () => {
    const { state } = play([
      { at: 0, trigger: invoke('r1', 60_000) },
      { at: 1, trigger: telemetry, entries: 30, bytes: FULL },
      { at: 100, trigger: { kind: 'pushed', failed: true, delivered: false, retryAfterMs: 30_000 } },
    ]);

    expect(state.cooldownUntilMs).toBe(100 + 30_000);
  });

  it('a push Loki accepted ends the cooldown', () => {
    const { state } = play([
      ...failedPushAt(0, 'a'),
      { at: 2_000, trigger: invoke('b', 60_000) },
      { at: 2_100, trigger: runtimeDone('b'), entries: 3 },
      { at: 2_200, trigger: pushed(false, true) },
    ]);

    expect([state.cooldownStepMs, state.cooldownUntilMs]).toEqual([0, 0]);
  });

  it('cooldown over: the tick at its end pushes the full batch that waited', () => {
    const { last } = play([
      { at: 0, trigger: invoke('r1', 30_000) },
      { at: 100, trigger: telemetry, entries: 30, bytes: FULL },
      { at: 200, trigger: pushed(true), entries: 30, bytes: FULL },
      { at: 300, trigger: telemetry, entries: 40, bytes: FULL },
      { at: 200 + T.cooldownInitialMs, trigger: tick, entries: 40, bytes: FULL },
    ]);

    expect(last).toEqual(push(200 + T.cooldownInitialMs + T.parallelPushBudgetMs));
  });

  it('periodic: skips the push of an invocation while cooling down, and says so', () => {
    const { last, notes } = play(
      [
        { at: 10_000, trigger: invoke('a', 13_000), entries: 5 },
        { at: 10_500, trigger: pushed(true), entries: 5 },
        { at: 20_600, trigger: invoke('b', 23_600), entries: 6 },
      ],
      settings({ strategy: 'periodic', timings: { ...T, cooldownInitialMs: 60_000 } }),
    );

    expect(last).toEqual(next);
    expect(notes).toContain('Loki failed recently; 6 entries wait for a later attempt');
  });
});

describe('push decision: mode switch (auto)', () => {
  it('turns periodic at the busy rate: that invocation answers /next without waiting for runtimeDone', () => {
    const steps: Step[] = [];
    for (let i = 0; i < BUSY_INVOCATIONS_PER_MINUTE - 1; i++) {
      steps.push({ at: i * 1_000, trigger: invoke(`r${i}`, i * 1_000 + 3_000) });
      steps.push({ at: i * 1_000 + 10, trigger: runtimeDone(`r${i}`) });
    }
    steps.push({ at: 19_500, trigger: invoke('busy', 22_500), entries: 3 });

    const { actions, last, notes } = play(steps, settings({ strategy: 'auto' }));

    expect(actions[0]).toEqual(wait(3_000 - T.invokeDeadlineMarginMs));
    expect(last).toEqual(push(19_500 + T.parallelPushBudgetMs));
    expect(notes).toContain(
      `auto flush: ${BUSY_INVOCATIONS_PER_MINUTE} invocations in the last minute, switching to periodic pushes`,
    );
  });
});
