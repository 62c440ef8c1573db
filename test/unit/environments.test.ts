import { afterEach, describe, expect, it } from 'vitest';
import { createLastResort } from '../../extension/last-resort.js';
import type { Logger } from '../../extension/logger.js';
import { formatPlatformEvent } from '../../extension/platform-lines.js';
import { type ExtensionEvent, subscriptionProblem } from '../../extension/runtime-api.js';
import type { TelemetryEvent } from '../../extension/telemetry.js';
import { startTelemetryListener, type TelemetryListener } from '../../extension/telemetry-listener.js';

const TIME = '2024-05-01T10:00:00.000Z';

describe('the answer to a Telemetry API subscription', () => {
  it.each([
    { case: 'a plain 200 OK', status: 200, body: 'OK', problem: undefined },
    { case: 'a 200 with an empty body', status: 200, body: '', problem: undefined },
    {
      case: 'aws-lambda-rie’s 202 with Telemetry.NotSupported',
      status: 202,
      body: '{"errorMessage":"Telemetry API is not supported","errorType":"Telemetry.NotSupported"}',
      problem: 'Telemetry.NotSupported: Telemetry API is not supported',
    },
    {
      case: 'a 400 ValidationError (e.g. the wrong schema on Managed Instances)',
      status: 400,
      body: '{"errorMessage":"schemaVersion must be 2025-01-29","errorType":"ValidationError"}',
      problem: 'HTTP 400, ValidationError: schemaVersion must be 2025-01-29',
    },
    { case: 'a 500 with a text body', status: 500, body: 'boom', problem: 'HTTP 500, boom' },
    { case: 'a 403 without a body', status: 403, body: '', problem: 'HTTP 403, no explanation given' },
  ])('$case: $problem', ({ status, body, problem }) => {
    expect(subscriptionProblem(status, body)).toBe(problem);
  });
});

describe('SnapStart platform lines, as CloudWatch shows them', () => {
  const event = (type: string, record: unknown): TelemetryEvent => ({ time: TIME, type, record });

  it('renders restoreStart, restoreRuntimeDone, restoreReport and the restore part of a REPORT', () => {
    expect(
      formatPlatformEvent(
        event('platform.restoreStart', {
          runtimeVersion: 'java:21.v20',
          runtimeVersionArn: 'arn:aws:lambda:eu-west-1::runtime:abc',
          functionName: 'f',
          functionVersion: '3',
        }),
      ),
    ).toBe(
      'RESTORE_START\tRuntime Version: java:21.v20\tRuntime Version ARN: arn:aws:lambda:eu-west-1::runtime:abc',
    );
    expect(formatPlatformEvent(event('platform.restoreRuntimeDone', { status: 'success' }))).toBe(
      'RESTORE_RUNTIME_DONE\tStatus: success',
    );
    expect(
      formatPlatformEvent(
        event('platform.restoreReport', { status: 'success', metrics: { durationMs: 423.61 } }),
      ),
    ).toBe('RESTORE_REPORT\tRestore Duration: 423.61 ms');
    expect(
      formatPlatformEvent(
        event('platform.restoreReport', {
          status: 'failure',
          errorType: 'Runtime.RestoreHookFailed',
          metrics: { durationMs: 10 },
        }),
      ),
    ).toBe('RESTORE_REPORT\tRestore Duration: 10 ms\tStatus: failure\tError Type: Runtime.RestoreHookFailed');
    expect(
      formatPlatformEvent(
        event('platform.report', {
          requestId: 'r1',
          status: 'success',
          metrics: {
            durationMs: 12.5,
            billedDurationMs: 13,
            memorySizeMB: 512,
            maxMemoryUsedMB: 100,
            restoreDurationMs: 571.67,
            billedRestoreDurationMs: 236,
          },
        }),
      ),
    ).toBe(
      'REPORT RequestId: r1\tDuration: 12.5 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: 100 MB\tRestore Duration: 571.67 ms\tBilled Restore Duration: 236 ms',
    );
  });

  it('never throws on records whose values break String() or JSON.stringify', () => {
    const deep = JSON.parse(`${'['.repeat(6000)}${']'.repeat(6000)}`);
    expect(formatPlatformEvent(event('platform.extension', { events: [{ toString: 1 }, 'SHUTDOWN'] }))).toBe(
      'EXTENSION\tEvents: [{"toString":1},SHUTDOWN]',
    );
    expect(formatPlatformEvent(event('platform.somethingNew', { deep }))).toMatch(
      /^SOMETHINGNEW \[loki-lambda: record not serializable: /,
    );
  });
});

describe('the telemetry listener', () => {
  let listener: TelemetryListener | undefined;
  const debug: string[] = [];
  const log: Logger = { info: () => {}, warn: () => {}, debug: (m) => debug.push(m), redact: (t) => t };

  afterEach(async () => {
    await listener?.close();
    listener = undefined;
    debug.length = 0;
  });

  async function start(onEvents: (events: TelemetryEvent[]) => void, maxBodyBytes?: number) {
    listener = await startTelemetryListener(0, onEvents, log, { path: '/telemetry', maxBodyBytes });
    return `http://127.0.0.1:${listener.port}`;
  }
  const batch = JSON.stringify([{ time: TIME, type: 'function', record: 'hello' }]);

  it('accepts POST on its own path only: 405 for other methods, 404 for other paths', async () => {
    const received: TelemetryEvent[] = [];
    const base = await start((events) => received.push(...events));

    const get = await fetch(`${base}/telemetry`);
    const put = await fetch(`${base}/telemetry`, { method: 'PUT', body: batch });
    const elsewhere = await fetch(`${base}/other`, { method: 'POST', body: batch });
    const right = await fetch(`${base}/telemetry`, { method: 'POST', body: batch });

    expect([get.status, put.status, elsewhere.status, right.status]).toEqual([405, 405, 404, 200]);
    expect(get.headers.get('allow')).toBe('POST');
    expect(received.map((e) => e.record)).toEqual(['hello']);
  });

  it('answers 413 to a body beyond its limit and hands nothing on', async () => {
    const received: TelemetryEvent[] = [];
    const base = await start((events) => received.push(...events), 1000);

    const big = JSON.stringify([{ time: TIME, type: 'function', record: 'x'.repeat(2000) }]);
    const response = await fetch(`${base}/telemetry`, { method: 'POST', body: big });

    expect(response.status).toBe(413);
    expect(received).toEqual([]);
    expect(debug.join('\n')).toMatch(/ignored a telemetry body of \d+ bytes \(over 1000\)/);
  });

  it('catches, counts and logs in debug an error while handling a batch, and keeps serving', async () => {
    let calls = 0;
    const base = await start(() => {
      calls++;
      if (calls <= 2) throw new TypeError('cannot convert object to primitive value');
    });

    for (let i = 0; i < 3; i++) {
      expect((await fetch(`${base}/telemetry`, { method: 'POST', body: batch })).status).toBe(200);
    }

    expect(calls).toBe(3);
    expect(debug).toEqual([
      'could not handle a telemetry batch (1 so far), skipped it: cannot convert object to primitive value',
      'could not handle a telemetry batch (2 so far), skipped it: cannot convert object to primitive value',
    ]);
  });
});

/** A scripted Runtime API `/next`: each call takes the next event, or waits for one pushed later. */
function scriptedNext() {
  const queued: ExtensionEvent[] = [];
  const waiting: Array<(event: ExtensionEvent) => void> = [];
  let calls = 0;
  return {
    next: () => {
      calls++;
      const event = queued.shift();
      if (event !== undefined) return Promise.resolve(event);
      return new Promise<ExtensionEvent>((resolve) => waiting.push(resolve));
    },
    send: (event: ExtensionEvent) => {
      const waiter = waiting.shift();
      if (waiter !== undefined) waiter(event);
      else queued.push(event);
    },
    calls: () => calls,
    waiting: () => waiting.length,
  };
}

const invoke = (requestId: string): ExtensionEvent => ({ eventType: 'INVOKE', requestId, deadlineMs: 0 });
const shutdown: ExtensionEvent = { eventType: 'SHUTDOWN', shutdownReason: 'spindown', deadlineMs: 0 };
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the last resort after an unexpected error', () => {
  it('passes events through while nothing failed', async () => {
    const api = scriptedNext();
    const resort = createLastResort(api.next, () => {});

    api.send(invoke('a'));

    expect(await resort.next()).toEqual(invoke('a'));
  });

  it('reports once, abandons the shipper and answers every event itself until SHUTDOWN', async () => {
    const api = scriptedNext();
    const reports: string[] = [];
    const resort = createLastResort(api.next, (m) => reports.push(m));
    api.send(invoke('a'));
    await resort.next(); // the shipper is now handling invocation a

    resort.fail(new RangeError('Maximum call stack size exceeded'));
    resort.fail(new Error('again'));
    await settle();
    expect(api.waiting()).toBe(1); // the fallback called /next at once: invocation a ends
    api.send(invoke('b'));
    await settle();
    expect(api.waiting()).toBe(1);
    api.send(shutdown);
    await resort.done;

    expect(reports).toEqual([
      'unexpected error, logs are no longer shipped; the function runs normally: RangeError: Maximum call stack size exceeded',
    ]);
    let shipperGotAnEvent = false;
    void resort.next().then(() => {
      shipperGotAnEvent = true;
    });
    await settle();
    expect(shipperGotAnEvent).toBe(false);
  });

  it('lets the event awaited at the failure go to the fallback, not the abandoned shipper', async () => {
    const api = scriptedNext();
    const resort = createLastResort(api.next, () => {});
    let shipperGotAnEvent = false;
    void resort.next().then(() => {
      shipperGotAnEvent = true;
    });

    resort.fail(new Error('boom'));
    await settle();
    expect(api.calls()).toBe(1); // no second /next while one is waiting
    api.send(invoke('a'));
    await settle();
    expect(api.calls()).toBe(2); // the fallback answered invocation a
    api.send(shutdown);
    await resort.done;

    expect(shipperGotAnEvent).toBe(false);
  });

  it('finishes at once when the failure comes after SHUTDOWN', async () => {
    const api = scriptedNext();
    const resort = createLastResort(api.next, () => {});
    api.send(shutdown);
    await resort.next();

    resort.fail(new Error('late'));
    await resort.done;

    expect(api.calls()).toBe(1);
  });
});
