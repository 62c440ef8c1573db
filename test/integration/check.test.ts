import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HttpGet } from '../../src/loki/http-get.js';
import { functionConfig, REGION } from '../support/aws-cli.js';
import { type LokiReceiver, type LokiReceiverOptions, startLokiReceiver } from '../support/loki-receiver.js';
import { type LokiCliSetup, startLokiCli } from '../support/loki-tail-cli.js';
import { unusedPort } from '../support/ports.js';

const lambda = mockClient(LambdaClient);
const TOKEN = 'glc_check-secret-token';
const receivers: LokiReceiver[] = [];

async function start(options: LokiReceiverOptions = {}): Promise<LokiReceiver> {
  const receiver = await startLokiReceiver(options);
  receivers.push(receiver);
  return receiver;
}

function functionWith(variables: Record<string, string>) {
  lambda
    .on(GetFunctionConfigurationCommand, { FunctionName: 'orders' })
    .resolves(functionConfig('orders', { Environment: { Variables: variables } }));
}

async function check(args: readonly string[], setup: LokiCliSetup = {}) {
  const run = startLokiCli(['check', ...args], {
    ...setup,
    loki: { sleep: async () => {}, ...setup.loki },
  });
  const code = await run.done;
  return { code, stdout: run.stdout.text, stderr: run.stderr.text };
}

/** The mark and title of each step line, e.g. `ok   auth accepted`. */
function stepLines(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((text) => /^ {2}(ok|FAIL|-|\?) +(.+?) {2}/.exec(text))
    .filter((match) => match !== null)
    .map((match) => `${match[1]} ${match[2]}`);
}

beforeEach(() => {
  lambda.reset();
});

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
  lambda.reset();
});

describe('loki-lambda check', () => {
  it("passes every step for a function whose settings work, pushing the test line on the extension's own stream", async () => {
    const receiver = await start({ auth: { bearerToken: TOKEN }, tenantRequired: true });
    functionWith({
      LOKI_ENDPOINT_URL: receiver.url,
      LOKI_APPLICATION_LABEL: 'shop',
      LOKI_ENV_LABEL: 'prod',
      LOKI_BEARER_TOKEN: TOKEN,
      LOKI_TENANT_ID: 'team-a',
      LOKI_EXTRA_LABELS: 'team,payments',
    });

    const result = await check(['orders', '--region', REGION]);

    expect(result.code).toBe(0);
    expect(stepLines(result.stdout)).toEqual([
      'ok settings',
      'ok URL reachable',
      'ok auth accepted',
      'ok tenant',
      'ok push accepted',
      'ok line readable',
    ]);
    expect(result.stdout).toContain('accepted (bearer token)');
    expect(result.stdout).toContain('X-Scope-OrgID team-a accepted');
    expect(result.stdout).toContain('OK: the test line reached Loki and was read back');
    const [stored] = receiver.entries();
    expect(stored?.labels).toEqual({
      application: 'shop',
      environment: 'prod',
      function: 'orders',
      source: 'extension',
      team: 'payments',
    });
    expect(stored?.tenant).toBe('team-a');
    expect(result.stdout).toContain(`Test line: ${stored?.line}`);
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
  });

  it('checks settings given as flags and LOKI_* variables, with the function label loki-lambda-check', async () => {
    const receiver = await start({ auth: { username: 'shipper', password: 'pa55' } });

    const result = await check(
      ['--loki-url', receiver.pushUrl, '--app', 'shop', '--env', 'dev', '--username', 'shipper'],
      {
        env: { LOKI_PASSWORD: 'pa55' },
      },
    );

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('accepted (basic auth as shipper)');
    expect(result.stdout).toContain('none sent; Loki did not ask for one');
    expect(receiver.entries()[0]?.labels.function).toBe('loki-lambda-check');
    expect(result.stdout + result.stderr).not.toContain('pa55');
  });

  it('fails at "auth accepted" when Loki refuses the token, and skips the later steps', async () => {
    const receiver = await start({ auth: { bearerToken: TOKEN } });
    functionWith({
      LOKI_ENDPOINT_URL: receiver.url,
      LOKI_APPLICATION_LABEL: 'shop',
      LOKI_ENV_LABEL: 'prod',
      LOKI_BEARER_TOKEN: 'expired-token-value',
    });

    const result = await check(['orders', '--region', REGION]);

    expect(result.code).toBe(1);
    expect(stepLines(result.stdout)).toEqual([
      'ok settings',
      'ok URL reachable',
      'FAIL auth accepted',
      '- tenant',
      '- push accepted',
      '- line readable',
    ]);
    expect(result.stdout).toContain(
      'FAILED at "auth accepted": refused with bearer token (HTTP 401 unauthorized): check LOKI_BEARER_TOKEN (and that it may write logs)',
    );
    expect(result.stdout).toContain('Logs from this configuration will not reach Loki.');
    expect(result.stdout + result.stderr).not.toContain('expired-token-value');
    expect(receiver.entries()).toEqual([]);
  });

  it('fails at "tenant" when a multi-tenant Loki answers 401 no org id', async () => {
    const receiver = await start({ tenantRequired: true });

    const result = await check(['--loki-url', receiver.url, '--app', 'shop', '--env', 'prod']);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'FAILED at "tenant": Loki is multi-tenant and answered "HTTP 401 no org id": set LOKI_TENANT_ID (sent as X-Scope-OrgID)',
    );
  });

  it('fails at "URL reachable" when nothing answers', async () => {
    const port = await unusedPort();

    const result = await check(['--loki-url', `http://127.0.0.1:${port}`, '--app', 'shop', '--env', 'prod']);

    expect(result.code).toBe(1);
    expect(stepLines(result.stdout)[1]).toBe('FAIL URL reachable');
    expect(result.stdout).toContain(
      `FAILED at "URL reachable": no answer from http://127.0.0.1:${port}/loki/api/v1/push: cannot reach Loki (ECONNREFUSED)`,
    );
  });

  it('fails at "settings" with every problem the extension would report', async () => {
    functionWith({ LOKI_ENDPOINT_URL: 'ftp://loki', LOKI_ENV_LABEL: 'prod', LOKI_USERNAME: 'u' });

    const result = await check(['orders', '--region', REGION]);

    expect(result.code).toBe(1);
    expect(stepLines(result.stdout)[0]).toBe('FAIL settings');
    expect(result.stdout).toContain('LOKI_ENDPOINT_URL must use http:// or https://, got "ftp:"');
    expect(result.stdout).toContain('LOKI_APPLICATION_LABEL is required (the application label)');
    expect(result.stdout).toContain('LOKI_USERNAME and LOKI_PASSWORD must be set together (basic auth)');
  });

  it('fails at "settings" when LOKI_MAX_BUFFER_BYTES is too large for the function’s memory, before pushing', async () => {
    const receiver = await start();
    lambda.on(GetFunctionConfigurationCommand, { FunctionName: 'orders' }).resolves(
      functionConfig('orders', {
        MemorySize: 128,
        Environment: {
          Variables: {
            LOKI_ENDPOINT_URL: receiver.url,
            LOKI_APPLICATION_LABEL: 'shop',
            LOKI_ENV_LABEL: 'prod',
            LOKI_MAX_BUFFER_BYTES: '67108864',
          },
        },
      }),
    );

    const result = await check(['orders', '--region', REGION]);

    expect(result.code).toBe(1);
    expect(stepLines(result.stdout)[0]).toBe('FAIL settings');
    expect(result.stdout).toContain(
      'LOKI_MAX_BUFFER_BYTES=67108864 is too large for a function of 128 MB (at most 16777216, an 8th of its memory)',
    );
    expect(receiver.requests()).toHaveLength(0);
  });

  it('fails at "push accepted" when Loki refuses the line', async () => {
    const receiver = await start();
    await receiver.inject({ kind: 'status', status: 400, body: 'entry too far behind' });

    const result = await check(['--loki-url', receiver.url, '--app', 'shop', '--env', 'prod']);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'FAILED at "push accepted": Loki refused the test line (HTTP 400 entry too far behind)',
    );
  });

  it('fails at "line readable" when Loki accepted the line but a query does not find it', async () => {
    const receiver = await start();
    const emptyAnswers: HttpGet = async () => ({
      status: 200,
      headers: {},
      body: JSON.stringify({ status: 'success', data: { resultType: 'streams', result: [] } }),
    });

    const result = await check(['--loki-url', receiver.url, '--app', 'shop', '--env', 'prod'], {
      loki: { httpGet: emptyAnswers },
    });

    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /FAILED at "line readable": Loki accepted the test line but \{.*\} \|= "\w+" did not find it after 5 queries/,
    );
  });

  it('passes with the read-back unverified when the credentials may only write', async () => {
    const receiver = await start();
    const forbidden: HttpGet = async () => ({ status: 403, headers: {}, body: 'access denied: logs:read\n' });

    const result = await check(['--loki-url', receiver.url, '--app', 'shop', '--env', 'prod'], {
      loki: { httpGet: forbidden },
    });

    expect(result.code).toBe(0);
    expect(stepLines(result.stdout)[5]).toBe('? line readable');
    expect(result.stdout).toContain(
      'OK: Loki accepted the test line, so logs will be shipped; reading it back was not possible.',
    );
  });

  it('prints one JSON document with --json', async () => {
    const receiver = await start();

    const result = await check(['--loki-url', receiver.url, '--app', 'shop', '--env', 'prod', '--json']);

    expect(result.code).toBe(0);
    const document = JSON.parse(result.stdout) as {
      ok: boolean;
      failedStep: unknown;
      steps: Array<{ name: string; status: string }>;
    };
    expect(document.ok).toBe(true);
    expect(document.failedStep).toBeNull();
    expect(document.steps.map((step) => `${step.name}:${step.status}`)).toEqual([
      'settings:ok',
      'reachable:ok',
      'auth:ok',
      'tenant:ok',
      'push:ok',
      'read:ok',
    ]);
  });

  it('refuses a FUNCTION together with Loki flags', async () => {
    const result = await check(['orders', '--loki-url', 'https://loki.example.com']);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'loki-lambda check: give a FUNCTION (its settings are checked) or --loki-url/--app/--env, not both\n',
    );
  });
});
