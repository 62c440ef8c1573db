import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { functionConfig, REGION } from '../support/aws-cli.js';
import { type LokiReceiver, type LokiReceiverOptions, startLokiReceiver } from '../support/loki-receiver.js';
import {
  type FunctionLabels,
  GatedWebSockets,
  type LokiCliRun,
  type ShippedLine,
  shipLines,
  startLokiCli,
} from '../support/loki-tail-cli.js';
import { unusedPort } from '../support/ports.js';

const lambda = mockClient(LambdaClient);
const FN: FunctionLabels = { functionName: 'orders', application: 'shop', environment: 'prod' };
const OTHER_FN: FunctionLabels = { functionName: 'payments', application: 'shop', environment: 'prod' };
const TOKEN = 'glc_tail-secret-token';
/** Lines are stamped a little in the past, as Lambda logs reach Loki after they were written. */
const BASE_MS = Date.now() - 120_000;

const receivers: LokiReceiver[] = [];
const runs: LokiCliRun[] = [];

async function start(options: LokiReceiverOptions = {}): Promise<LokiReceiver> {
  const receiver = await startLokiReceiver(options);
  receivers.push(receiver);
  return receiver;
}

function functionWithLoki(receiver: LokiReceiver, extra: Record<string, string> = {}) {
  lambda.on(GetFunctionConfigurationCommand, { FunctionName: 'orders' }).resolves(
    functionConfig('orders', {
      Environment: {
        Variables: {
          LOKI_ENDPOINT_URL: receiver.pushUrl,
          LOKI_APPLICATION_LABEL: 'shop',
          LOKI_ENV_LABEL: 'prod',
          ...extra,
        },
      },
    }),
  );
}

function tail(args: readonly string[], setup: Parameters<typeof startLokiCli>[1] = {}): LokiCliRun {
  const run = startLokiCli(['tail', ...args, '--region', REGION], setup);
  runs.push(run);
  return run;
}

function line(text: string, offsetMs: number, extra: Partial<ShippedLine> = {}): ShippedLine {
  return { source: 'function', line: text, timeMs: BASE_MS + offsetMs, ...extra };
}

async function ship(receiver: LokiReceiver, lines: readonly ShippedLine[], labels = FN, headers = {}) {
  expect(await shipLines(receiver.pushUrl, labels, lines, headers)).toBe(204);
}

/** The log lines printed, in order (the raw format prints only the line). */
function printed(run: LokiCliRun): string[] {
  return run.stdout.text.split('\n').filter((text) => text !== '');
}

beforeEach(() => {
  lambda.reset();
});

afterEach(async () => {
  for (const run of runs.splice(0)) {
    run.interrupt();
    run.sleeper.release();
    await run.done;
  }
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
  lambda.reset();
});

describe('loki-lambda tail', () => {
  it('prints the history oldest first, then new lines as they arrive, and exits 0 on Ctrl-C', async () => {
    const receiver = await start();
    functionWithLoki(receiver);
    await ship(receiver, [
      line('START RequestId: r-1 Version: $LATEST', 0, { source: 'platform', requestId: 'r-1' }),
      line('2024-05-01T10:00:00.010Z\tr-1\tINFO\tfirst order', 10, { requestId: 'r-1' }),
    ]);
    await ship(receiver, [line('someone else', 20)], OTHER_FN);

    const run = tail(['orders']);
    await run.stdout.waitForText('first order');
    await receiver.tails.waitForTails(1);
    await ship(receiver, [
      line('2024-05-01T10:00:01.000Z\tr-2\tERROR\tpayment failed', 1000, { requestId: 'r-2' }),
    ]);
    await run.stdout.waitForText('payment failed');
    run.interrupt();

    expect(await run.done).toBe(0);
    const lines = printed(run);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z platform +r-1 START RequestId: r-1/);
    expect(lines[1]).toContain('function INFO  r-1 2024-05-01T10:00:00.010Z\tr-1\tINFO\tfirst order');
    expect(lines[2]).toContain('function ERROR r-2');
    expect(run.stdout.text).not.toContain('someone else');
    expect(run.stdout.text).not.toContain('\u001b[');
    expect(receiver.tails.requests()[0]?.query).toBe(
      '{application="shop", environment="prod", function="orders"}',
    );
  });

  it.each([
    ['dropped abruptly (a proxy or network cut)', false],
    ['closed by Loki at its maximum tail duration', true],
  ])(
    'reconnects after the websocket is %s and prints every line once, also those sent while disconnected',
    async (_what, graceful) => {
      const receiver = await start();
      functionWithLoki(receiver);
      await ship(receiver, [line('a1', 0), line('a2', 1)]);
      const sockets = new GatedWebSockets();
      sockets.hold(2);
      const run = tail(['orders', '-o', 'raw'], { sockets });
      await run.stdout.waitForText('a2');
      await receiver.tails.waitForTails(1);
      await ship(receiver, [line('b1', 2000)]);
      await run.stdout.waitForText('b1');

      receiver.tails.drop({ graceful });
      await sockets.waitForAttempts(2);
      await ship(receiver, [line('c1', 3000), line('c2', 3001)]);
      await ship(receiver, [line('late platform line', 1500, { source: 'platform' })]);
      sockets.release(2);
      await receiver.tails.waitForTails(2);
      await run.stdout.waitForText('c2');
      await ship(receiver, [line('d1', 4000)]);
      await run.stdout.waitForText('d1');
      run.interrupt();

      expect(await run.done).toBe(0);
      expect(printed(run)).toEqual(['a1', 'a2', 'b1', 'late platform line', 'c1', 'c2', 'd1']);
      const resumedFrom = receiver.tails.requests()[1]!.startNs;
      expect(resumedFrom).toBeLessThanOrEqual(BigInt(BASE_MS + 1500) * 1_000_000n);
    },
  );

  it('falls back to polling query_range when websockets are refused, without repeating lines', async () => {
    const receiver = await start();
    functionWithLoki(receiver);
    receiver.tails.refuseWebsockets(true);
    await ship(receiver, [line('h1', 0)]);

    const run = tail(['orders', '-o', 'raw']);
    await run.sleeper.waitForSleeps(1);
    await ship(receiver, [line('p1', 1000), line('p2', 1001)]);
    run.sleeper.release();
    await run.stdout.waitForText('p2');
    await run.sleeper.waitForSleeps(2);
    await ship(receiver, [line('p3', 2000)]);
    run.sleeper.release();
    await run.stdout.waitForText('p3');
    await run.sleeper.waitForSleeps(3);
    run.interrupt();

    expect(await run.done).toBe(0);
    expect(printed(run)).toEqual(['h1', 'p1', 'p2', 'p3']);
    expect(run.stderr.text).toContain("Loki's tail websocket is not available (HTTP 400: websocket:");
    expect(run.stderr.text).toContain('polling every 2 s instead');
    expect(run.sleeper.requested[0]).toBe(2000);
    expect(receiver.tails.requests()).toEqual([]);
  });

  it('prints one JSON object per line with labels and structured metadata in jsonl', async () => {
    const receiver = await start();
    functionWithLoki(receiver);
    await ship(receiver, [line('{"level":"WARN","msg":"slow"}', 0, { requestId: 'r-9' })]);

    const run = tail(['orders', '-o', 'jsonl', '--no-follow']);

    expect(await run.done).toBe(0);
    expect(printed(run).map((text) => JSON.parse(text))).toEqual([
      {
        time: new Date(BASE_MS).toISOString(),
        timestamp: `${BigInt(BASE_MS) * 1_000_000n}`,
        labels: { application: 'shop', environment: 'prod', function: 'orders', source: 'function' },
        metadata: { request_id: 'r-9', function_version: '$LATEST' },
        line: '{"level":"WARN","msg":"slow"}',
      },
    ]);
  });

  it('colors the level only when stdout is a terminal', async () => {
    const receiver = await start();
    functionWithLoki(receiver);
    await ship(receiver, [line('{"level":"ERROR","msg":"boom"}', 0)]);

    const run = tail(['orders', '--no-follow'], { stdoutIsTty: true });

    expect(await run.done).toBe(0);
    expect(run.stdout.text).toContain('\u001b[31mERROR\u001b[0m');
  });

  it('narrows by --source and --filter, and shows only the newest --limit lines of history', async () => {
    const receiver = await start();
    functionWithLoki(receiver);
    await ship(receiver, [line('REPORT RequestId: r-1', 0, { source: 'platform' })]);
    await ship(receiver, [
      line('order 1 ok', 1),
      line('order 2 failed', 2),
      line('order 3 ok', 3),
      line('order 4 ok', 4),
    ]);

    const sourced = tail([
      'orders',
      '--source',
      'function',
      '--filter',
      ' ok',
      '--limit',
      '2',
      '-o',
      'raw',
      '--no-follow',
    ]);

    expect(await sourced.done).toBe(0);
    expect(printed(sourced)).toEqual(['order 3 ok', 'order 4 ok']);
  });

  it('reads Loki with the flags and LOKI_* variables of logcli, sending the token and tenant but never printing them', async () => {
    const receiver = await start({ auth: { bearerToken: TOKEN }, tenantRequired: true });
    lambda
      .on(GetFunctionConfigurationCommand)
      .rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException' }));
    await ship(receiver, [line('tenant line', 0)], FN, {
      authorization: `Bearer ${TOKEN}`,
      'x-scope-orgid': 'team-a',
    });

    const run = tail(['orders', '-o', 'raw', '--no-follow'], {
      env: { LOKI_ADDR: receiver.url, LOKI_BEARER_TOKEN: TOKEN, LOKI_ORG_ID: 'team-a' },
    });

    expect(await run.done).toBe(0);
    expect(printed(run)).toEqual(['tenant line']);
    expect(run.stderr.text).toContain('cannot read the settings of orders');
    expect(run.stderr.text).toContain('selecting its logs by function name only');
    expect(run.stdout.text + run.stderr.text).not.toContain(TOKEN);
  });

  it("uses the function's own credentials and tenant when the address comes from the function", async () => {
    const receiver = await start({ auth: { username: 'shipper', password: 'pa55' }, tenantRequired: true });
    functionWithLoki(receiver, { LOKI_USERNAME: 'shipper', LOKI_PASSWORD: 'pa55', LOKI_TENANT_ID: 'team-a' });
    const auth = `Basic ${Buffer.from('shipper:pa55').toString('base64')}`;
    await ship(receiver, [line('basic line', 0)], FN, { authorization: auth, 'x-scope-orgid': 'team-a' });

    const run = tail(['orders', '-o', 'raw', '--no-follow']);

    expect(await run.done).toBe(0);
    expect(printed(run)).toEqual(['basic line']);
    expect(run.stdout.text + run.stderr.text).not.toContain('pa55');
  });
});

describe('loki-lambda tail: problems', () => {
  it('says the credentials were refused (401) and exits 1, without printing the token', async () => {
    const receiver = await start({ auth: { bearerToken: TOKEN } });
    functionWithLoki(receiver);

    const run = tail(['orders', '--bearer-token', 'wrong-token-value']);

    expect(await run.done).toBe(1);
    expect(run.stderr.text).toBe(
      "loki-lambda tail: Loki refused the credentials (HTTP 401 unauthorized): pass --username/--password, --bearer-token or --bearer-token-file (or LOKI_USERNAME/LOKI_PASSWORD, LOKI_BEARER_TOKEN); a function's push credentials may not be allowed to read\n",
    );
    expect(run.stderr.text).not.toContain('wrong-token-value');
    expect(run.stdout.text).toBe('');
  });

  it('asks for --org-id when a multi-tenant Loki answers 401 no org id', async () => {
    const receiver = await start({ tenantRequired: true });

    const run = tail(['--addr', receiver.url, '--query', '{function="orders"}']);

    expect(await run.done).toBe(1);
    expect(run.stderr.text).toBe(
      'loki-lambda tail: Loki needs a tenant (HTTP 401 no org id): pass --org-id (or LOKI_ORG_ID)\n',
    );
  });

  it("reports Loki's parse error for bad LogQL (400) and exits 1", async () => {
    const receiver = await start();

    const run = tail(['--addr', receiver.url, '--query', '{function="orders"']);

    expect(await run.done).toBe(1);
    expect(run.stderr.text).toMatch(
      /^loki-lambda tail: Loki rejected the query \{function="orders": parse error at line 1, col \d+: syntax error: unexpected \$end, expecting \} or ,\n$/,
    );
  });

  it('says Loki cannot be reached and exits 1', async () => {
    const port = await unusedPort();

    const run = tail(['--addr', `http://127.0.0.1:${port}`, '--query', '{function="orders"}']);

    expect(await run.done).toBe(1);
    expect(run.stderr.text).toBe(
      `loki-lambda tail: cannot reach Loki at http://127.0.0.1:${port} (ECONNREFUSED); check --addr (or LOKI_ADDR) and that Loki is up\n`,
    );
  });

  it('asks for --addr when the function cannot be read', async () => {
    lambda
      .on(GetFunctionConfigurationCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));

    const run = tail(['orders']);

    expect(await run.done).toBe(1);
    expect(run.stderr.text).toBe(
      'loki-lambda tail: cannot read the settings of orders to find Loki (access denied: User is not authorized (see the IAM permissions in the README)); pass --addr (or set LOKI_ADDR)\n',
    );
  });

  it('asks for --addr when the function has no LOKI_ENDPOINT_URL', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(functionConfig('orders'));

    const run = tail(['orders']);

    expect(await run.done).toBe(2);
    expect(run.stderr.text).toBe(
      'loki-lambda tail: orders has no LOKI_ENDPOINT_URL (is loki-lambda attached?); pass --addr (or set LOKI_ADDR)\n',
    );
  });

  it('keeps retrying while Loki is down during the follow, then goes on without losing lines', async () => {
    const receiver = await start();
    functionWithLoki(receiver);
    await ship(receiver, [line('before', 0)]);
    const run = tail(['orders', '-o', 'raw']);
    await receiver.tails.waitForTails(1);
    await run.stdout.waitForText('before');

    await receiver.inject({ kind: 'down' });
    await run.sleeper.waitForSleeps(1);
    await receiver.inject({ kind: 'up' });
    await ship(receiver, [line('after', 1000)]);
    run.sleeper.release();
    await run.stdout.waitForText('after');
    run.interrupt();

    expect(await run.done).toBe(0);
    expect(printed(run)).toEqual(['before', 'after']);
    expect(run.stderr.text).toContain('lost the connection to Loki (ECONNREFUSED); retrying');
  });
});
