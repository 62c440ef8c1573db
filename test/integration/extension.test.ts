import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, expect } from 'vitest';
import { lokiEnv, startBundledExtension } from '../support/extension-harness.js';
import { type ReceivedEntry, startLokiReceiver } from '../support/loki-receiver.js';
import { it } from '../support/tracked-test.js';

const FUNCTION_NAME = 'checkout';

function bySource(entries: readonly ReceivedEntry[], source: string): ReceivedEntry[] {
  return entries.filter((e) => e.labels.source === source);
}

describe.concurrent('the bundled extension under the Lambda emulator', () => {
  it('delivers every line of 100 invocations exactly once, in order, with labels, timestamps and request ids', async ({
    track,
  }) => {
    const receiver = track(await startLokiReceiver());
    const emulator = track(
      await startBundledExtension(
        lokiEnv(receiver.url, { LOKI_EXTRA_LABELS: 'team,payments', LOKI_FLUSH_STRATEGY: 'end' }),
        { functionName: FUNCTION_NAME },
      ),
    );
    const requestIds: string[] = [];

    for (let i = 0; i < 100; i++) {
      const json = { timestamp: new Date().toISOString(), level: 'INFO', message: `json ${i}` };
      const result = await emulator.invoke({ logs: [`text line ${i}`, json, `text line ${i} again`] });
      requestIds.push(result.requestId);
      expect(result.timedOut).toBe(false);
    }
    const shutdown = await emulator.shutdown();

    // What the function wrote, as Lambda's telemetry carried it: text as is, JSON records compact.
    let requestId = '';
    const expected = emulator.events().flatMap((event) => {
      if (event.type === 'platform.start') requestId = (event.record as { requestId: string }).requestId;
      if (event.type !== 'function') return [];
      return [
        { line: typeof event.record === 'string' ? event.record : JSON.stringify(event.record), requestId },
      ];
    });
    expect(expected).toHaveLength(300);

    const functionLines = bySource(receiver.entries(), 'function');
    expect(functionLines.map((e) => ({ line: e.line, requestId: e.metadata.request_id }))).toEqual(expected);
    expect(functionLines[0]?.labels).toEqual({
      application: 'shop',
      environment: 'test',
      function: FUNCTION_NAME,
      source: 'function',
      team: 'payments',
    });
    expect(functionLines[0]?.metadata.function_version).toBe('$LATEST');
    const timestamps = functionLines.map((e) => e.timestampNs);
    expect([...timestamps].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(timestamps);
    expect(new Set(timestamps).size).toBe(timestamps.length);
    const platform = bySource(receiver.entries(), 'platform').map((e) => e.line);
    for (const requestId of requestIds) {
      expect(platform).toContain(`START RequestId: ${requestId} Version: $LATEST`);
      expect(platform).toContain(`END RequestId: ${requestId}`);
      expect(platform.filter((line) => line.startsWith(`REPORT RequestId: ${requestId}\t`))).toHaveLength(1);
    }
    expect(shutdown).toMatchObject({ exitCode: 0, exitedBeforeDeadline: true, killed: false });
  }, 120_000);

  it('has each invocation’s lines in Loki when the invocation ends (flush strategy end)', async ({
    track,
  }) => {
    const receiver = track(await startLokiReceiver());
    const emulator = track(
      await startBundledExtension(lokiEnv(receiver.url, { LOKI_FLUSH_STRATEGY: 'end' })),
    );

    const result = await emulator.invoke({ logs: ['before the end'], durationMs: 50 });

    const lines = receiver.entries().map((e) => e.line);
    expect(lines).toContain('before the end');
    expect(lines).toContain(`END RequestId: ${result.requestId}`);
  });

  it('uses the event time of each Telemetry event as the entry timestamp (within its millisecond: the sandbox’s nanosecond offset)', async ({
    track,
  }) => {
    const receiver = track(await startLokiReceiver());
    const emulator = track(
      await startBundledExtension(lokiEnv(receiver.url, { LOKI_FLUSH_STRATEGY: 'end' })),
    );

    await emulator.invoke({ logs: ['stamped'] });
    await emulator.shutdown();

    const event = emulator.events().find((e) => e.type === 'function' && e.record === 'stamped');
    const entry = receiver.entries().find((e) => e.line === 'stamped');
    expect((entry?.timestampNs ?? 0n) / 1_000_000n).toBe(BigInt(Date.parse(event?.time ?? '')));
  });

  it('pushes the last invocation’s report before exiting at SHUTDOWN, before the deadline', async ({
    track,
  }) => {
    const receiver = track(await startLokiReceiver());
    const emulator = track(
      await startBundledExtension(lokiEnv(receiver.url, { LOKI_FLUSH_STRATEGY: 'end' })),
    );
    const result = await emulator.invoke({ logs: ['last words'] });

    const shutdown = await emulator.shutdown({ reason: 'spindown', deadlineInMs: 2000 });

    expect(shutdown).toMatchObject({ exitCode: 0, exitedBeforeDeadline: true });
    expect(receiver.entries().map((e) => e.line)).toContainEqual(
      expect.stringMatching(`^REPORT RequestId: ${result.requestId}\t`),
    );
  });

  it('keeps the function working when misconfigured, and says what is wrong in one line', async ({
    track,
  }) => {
    const receiver = track(await startLokiReceiver());
    const emulator = track(
      await startBundledExtension({
        LOKI_ENDPOINT_URL: 'ftp://nowhere',
        LOKI_EXTRA_LABELS: 'bad-name,x',
        LOKI_BEARER_TOKEN: 'misconfigured-secret-token',
        LOKI_LISTENER_PORT: '0',
      }),
    );

    const results = [await emulator.invoke({ logs: ['a'] }), await emulator.invoke({ logs: ['b'] })];
    const shutdown = await emulator.shutdown();

    expect(results.map((r) => r.timedOut)).toEqual([false, false]);
    expect(shutdown).toMatchObject({ exitCode: 0, exitedBeforeDeadline: true });
    const lines = emulator.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^loki-lambda: configuration error, logs will NOT be shipped/);
    expect(lines[0]).toContain('LOKI_ENDPOINT_URL must use http:// or https://');
    expect(lines[0]).toContain('LOKI_APPLICATION_LABEL is required');
    expect(lines[0]).toContain('LOKI_ENV_LABEL is required');
    expect(lines[0]).toContain('label name "bad-name"');
    expect(emulator.output()).not.toContain('misconfigured-secret-token');
    expect(receiver.requests()).toHaveLength(0);
  });

  it('ships with the safe bound when LOKI_MAX_BUFFER_BYTES is too large for the function’s memory, and says so in one line', async ({
    track,
  }) => {
    const receiver = track(await startLokiReceiver());
    const emulator = track(
      await startBundledExtension(
        lokiEnv(receiver.url, {
          LOKI_FLUSH_STRATEGY: 'end',
          LOKI_MAX_BUFFER_BYTES: String(512 * 1024 * 1024),
        }),
        { memorySizeMb: 128 },
      ),
    );

    await emulator.invoke({ logs: ['still shipped'] });
    await emulator.shutdown();

    const lines = emulator.output().trim().split('\n');
    expect(lines).toEqual([
      'loki-lambda: configuration problem, logs are shipped with a safe value instead: LOKI_MAX_BUFFER_BYTES=536870912 is too large for a function of 128 MB (at most 16777216, an 8th of its memory); using 8388608',
    ]);
    expect(receiver.entries().map((e) => e.line)).toContain('still shipped');
  });

  it('never prints the token or the password, even with LOKI_DEBUG', async ({ track }) => {
    const receiver = track(
      await startLokiReceiver({ auth: { bearerToken: 'tok-SECRET-123' }, tenantRequired: true }),
    );
    const emulator = track(
      await startBundledExtension(
        lokiEnv(receiver.url, {
          LOKI_BEARER_TOKEN: 'tok-SECRET-123',
          LOKI_TENANT_ID: 'team-a',
          LOKI_DEBUG: 'true',
        }),
      ),
    );
    await emulator.invoke({ logs: ['with auth'] });
    await receiver.inject({ kind: 'status', status: 401, body: 'bad token tok-SECRET-123?', times: 1 });
    await emulator.invoke({ logs: ['rejected'] });
    await emulator.shutdown();

    expect(receiver.entries().map((e) => e.line)).toContain('with auth');
    expect(receiver.entries()[0]?.tenant).toBe('team-a');
    expect(emulator.output()).toContain('[debug]');
    expect(emulator.output()).not.toContain('tok-SECRET-123');
  });

  it('ships with basic auth', async ({ track }) => {
    const receiver = track(
      await startLokiReceiver({ auth: { username: 'loki-user', password: 'pa55-SECRET' } }),
    );
    const emulator = track(
      await startBundledExtension(
        lokiEnv(receiver.url, {
          LOKI_USERNAME: 'loki-user',
          LOKI_PASSWORD: 'pa55-SECRET',
          LOKI_DEBUG: 'true',
        }),
      ),
    );

    await emulator.invoke({ logs: ['basic'] });
    await emulator.shutdown();

    expect(receiver.entries().map((e) => e.line)).toContain('basic');
    expect(emulator.output()).not.toContain('pa55-SECRET');
  });

  it('pushes over HTTPS, trusting the CA given to Node (NODE_EXTRA_CA_CERTS)', async ({ track }) => {
    const receiver = track(await startLokiReceiver());
    const tls = new URL('../support/fixtures/tls/', import.meta.url);
    const upstream = new URL(receiver.url);
    // TLS in front of the receiver, as a load balancer terminates it in front of Loki.
    const proxy = createServer(
      { key: readFileSync(new URL('key.pem', tls)), cert: readFileSync(new URL('cert.pem', tls)) },
      (req, res) => {
        const forward = request(
          {
            host: upstream.hostname,
            port: upstream.port,
            path: req.url,
            method: req.method,
            headers: req.headers,
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        req.pipe(forward);
      },
    );
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = proxy.address() as AddressInfo;
      const emulator = track(
        await startBundledExtension(
          lokiEnv(`https://127.0.0.1:${port}`, {
            LOKI_FLUSH_STRATEGY: 'end',
            NODE_EXTRA_CA_CERTS: new URL('cert.pem', tls).pathname,
          }),
        ),
      );

      await emulator.invoke({ logs: ['over tls'] });
      await emulator.shutdown();

      expect(receiver.entries().map((e) => e.line)).toContain('over tls');
      expect(receiver.requests().every((r) => r.status === 204)).toBe(true);
    } finally {
      proxy.closeAllConnections();
      proxy.close();
    }
  });
});
