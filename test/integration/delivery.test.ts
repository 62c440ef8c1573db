/**
 * Delivery (issue 13): what the built extension does when Loki's answers are not the happy path —
 * a redirect, a body too large, entries too far behind, a push still running when the runtime is
 * done. Each test fails on the extension as it was before.
 */
import { describe, expect } from 'vitest';
import type { LogEntry } from '../../extension/entries.js';
import { createHttpPost } from '../../extension/http-post.js';
import { pushHeaders, pushWithRetry } from '../../extension/loki-push.js';
import { compressPushBody, encodePushRequest, streamLabelStrings } from '../../extension/push-encoder.js';
import { lokiEnv, startBundledExtension } from '../support/extension-harness.js';
import { DEFAULT_FUNCTION_NAME, type LambdaEmulator } from '../support/lambda-emulator.js';
import { type LokiReceiver, startLokiReceiver } from '../support/loki-receiver.js';
import { it } from '../support/tracked-test.js';

/** Short cooldowns, so a fault followed by a recovery takes a second, not 16. */
const FAST = {
  LOKI_LAMBDA_TEST_TIMINGS: JSON.stringify({ cooldownInitialMs: 50, cooldownMaxMs: 200 }),
};

/** The lines of one stream as a Loki query returns them: by timestamp, whatever order pushes arrived in. */
function shipped(loki: LokiReceiver, source = 'function'): string[] {
  return loki
    .entries()
    .filter((e) => e.labels.source === source)
    .sort((a, b) => (a.timestampNs < b.timestampNs ? -1 : a.timestampNs > b.timestampNs ? 1 : 0))
    .map((e) => e.line);
}

function written(lambda: LambdaEmulator): string[] {
  return lambda
    .events()
    .filter((e) => e.type === 'function')
    .map((e) => String(e.record));
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.concurrent('delivery when Loki answers otherwise than 204', () => {
  it('a redirect (http -> https) is reported as a configuration problem naming the Location, and the entries are kept', async ({
    track,
  }) => {
    const receiver = track(await startLokiReceiver());
    const emulator = track(
      await startBundledExtension(lokiEnv(receiver.url, { ...FAST, LOKI_FLUSH_STRATEGY: 'end' })),
    );
    await receiver.inject({
      kind: 'redirect',
      status: 301,
      location: 'https://loki.example.com/loki/api/v1/push',
      times: 2,
    });

    await emulator.invoke({ logs: ['while redirected'] });
    await pause(300);
    await emulator.invoke({ logs: ['fixed'] });
    await emulator.shutdown();

    expect(emulator.output()).toContain(
      "configuration problem: Loki's URL redirects (HTTP 301) to https://loki.example.com/loki/api/v1/push; set LOKI_ENDPOINT_URL",
    );
    expect(shipped(receiver)).toEqual(['while redirected', 'fixed']);
  });

  it('a push over the body-size limit (413) is split and every entry arrives', async ({ track }) => {
    const receiver = track(await startLokiReceiver({ maxBodyBytes: 4_000 }));
    const emulator = track(
      await startBundledExtension(lokiEnv(receiver.url, { LOKI_FLUSH_STRATEGY: 'end' })),
    );
    // Lines that do not compress away: about 30 KB in all.
    const lines = Array.from({ length: 300 }, (_, i) => `line ${i} ${Math.random().toString(36).repeat(4)}`);

    await emulator.invoke({ logs: lines });
    await emulator.shutdown();

    expect(receiver.requests().some((r) => r.status === 413)).toBe(true);
    expect(shipped(receiver)).toEqual(written(emulator));
    expect(emulator.output()).not.toContain('rejected');
  });

  it('entries too far behind (another sandbox pushed newer ones): says so and how many, ships what Loki still takes', async ({
    track,
  }) => {
    // Loki's window is 1 h; 300 ms here, so that the backlog falls behind it in half a second.
    const receiver = track(await startLokiReceiver({ outOfOrderWindowMs: 300 }));
    const emulator = track(
      await startBundledExtension(lokiEnv(receiver.url, { ...FAST, LOKI_FLUSH_STRATEGY: 'end' })),
    );
    await receiver.inject({ kind: 'down' });
    await emulator.invoke({ logs: ['backlog 1', 'backlog 2'] });
    await pause(500);
    // Another sandbox of the same function pushes newer entries to the same stream meanwhile.
    await receiver.inject({ kind: 'up' });
    await pushFromAnotherSandbox(receiver, 'from the other sandbox');
    await pause(300);

    await emulator.invoke({ logs: ['fresh'] });
    await emulator.shutdown();

    expect(emulator.output()).toMatch(
      /Loki refused 2 of \d+ entries as too far behind the newest entry of their stream .*; it stored the other \d+/,
    );
    expect(shipped(receiver)).toEqual(['from the other sandbox', 'fresh']);
    expect(shipped(receiver, 'extension')).toContainEqual(expect.stringMatching(/\[.*too_far_behind=2.*\]$/));
  });

  it('end: the 1.5 s bound after runtimeDone holds even when a full-batch push is already running', async ({
    track,
  }) => {
    const receiver = track(await startLokiReceiver());
    const emulator = track(
      await startBundledExtension(
        lokiEnv(receiver.url, {
          LOKI_FLUSH_STRATEGY: 'end',
          LOKI_MAX_BUFFER_BYTES: String(1024 * 1024),
          // The parallel budget far longer than the end budget, so the bound shows.
          LOKI_LAMBDA_TEST_TIMINGS: JSON.stringify({ parallelPushBudgetMs: 20_000, endPushBudgetMs: 100 }),
        }),
      ),
    );
    await receiver.inject({ kind: 'hang', times: 1 });
    // About 600 KB written in the first 200 ms: more than a full batch (half the bound).
    const lines = Array.from({ length: 1_000 }, (_, i) => `big ${i} ${'x'.repeat(400)}`);

    const result = await emulator.invoke({
      logs: lines,
      logSpacingMs: 0.2,
      durationMs: 500,
      timeoutMs: 30_000,
    });
    // A long shutdown deadline: the batch the cut push kept goes out then, even on a busy machine.
    await emulator.shutdown({ deadlineInMs: 10_000 });

    // A full batch went out and hung; the invocation still ended within the end budget after
    // runtimeDone (here 100 ms, plus the telemetry's delivery), not at the hung push's own deadline
    // (20 s here; 2 s before this fix).
    expect(receiver.requests()[0]?.fault).toBe('hang');
    expect(result.endedAtMs - (result.runtimeDoneAtMs ?? 0)).toBeLessThan(1_500);
    expect(shipped(receiver)).toEqual(lines);
  }, 60_000);
});

/** A push of one line to the function stream this test's sandbox writes, as a second sandbox would. */
async function pushFromAnotherSandbox(loki: LokiReceiver, line: string): Promise<void> {
  const labels = streamLabelStrings({
    application: 'shop',
    environment: 'test',
    functionName: DEFAULT_FUNCTION_NAME,
    extraLabels: [],
  });
  const entry: LogEntry = {
    source: 'function',
    timeMs: Date.now(),
    nanosInMs: 0,
    line,
    requestId: undefined,
    sizeBytes: 1,
  };
  const http = createHttpPost();
  const body = compressPushBody(encodePushRequest([entry], labels, { functionVersion: '$LATEST' }));
  const deps = {
    post: http.post,
    now: Date.now,
    sleep: async (ms: number) => {
      await pause(ms);
    },
    random: Math.random,
  };
  const outcome = await pushWithRetry(
    deps,
    loki.pushUrl,
    pushHeaders({ pushUrl: '', auth: { kind: 'none' }, tenantId: undefined }, 'test'),
    body,
    Date.now() + 2_000,
  );
  http.close();
  if (outcome.kind !== 'accepted')
    throw new Error(`the other sandbox's push failed: ${JSON.stringify(outcome)}`);
}
