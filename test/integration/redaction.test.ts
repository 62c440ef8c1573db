/**
 * The redaction table: every output path of the CLI and the extension (each command's text and
 * --json, errors, the plan, the extension's log lines) x every form a secret takes (a token, a cut
 * token, a password, its basic-auth base64, URL userinfo, a query key, a secret of the function's
 * environment) -> no secret, and no start of 8+ characters of one. Loopback fakes only.
 */
import {
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetLayerVersionByArnCommand,
  InvalidParameterValueException,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MASK } from '../../extension/redact.js';
import { SLIM_RUNTIMES } from '../../src/layer/targets.js';
import { functionConfig, layerArn, REGION, runCli } from '../support/aws-cli.js';
import { lokiEnv, startBundledExtension } from '../support/extension-harness.js';
import type { LambdaEmulator } from '../support/lambda-emulator.js';
import { type LokiReceiver, type LokiReceiverOptions, startLokiReceiver } from '../support/loki-receiver.js';
import { shipLines, startLokiCli } from '../support/loki-tail-cli.js';
import { unusedPort } from '../support/ports.js';

const TOKEN = 'glc_eyJrIjoiN2Q0ZWIxYTQ4ZTI5YjM1MjI2MjQ0ZmE5N2QwYWU5NTdlY2QxIiwibiI6InRvcCJ9';
const USERNAME = 'alice';
const PASSWORD = 'Pa55-w0rd-S3cret-value';
const BASIC = Buffer.from(`${USERNAME}:${PASSWORD}`).toString('base64');
const URL_PASSWORD = 'UrlS3cretPassw0rd';
const QUERY_KEY = 'qk_1234567890abcdefXYZ';
const DB_PASSWORD = 'db-hunter2-hunter2-hunter2';
const SECRETS = { TOKEN, PASSWORD, BASIC, URL_PASSWORD, QUERY_KEY, DB_PASSWORD } as const;
const NEW_LAYER = layerArn('loki-lambda-slim-arm64', 4);

const lambda = mockClient(LambdaClient);
const receivers: LokiReceiver[] = [];
let emulator: LambdaEmulator | undefined;

async function receiver(options: LokiReceiverOptions): Promise<LokiReceiver> {
  const started = await startLokiReceiver(options);
  receivers.push(started);
  return started;
}

/** The secrets (by name) of which `text` holds the whole or a start of 8+ characters. */
function leaked(text: string): string[] {
  return Object.entries(SECRETS)
    .filter(([, secret]) => {
      for (let chars = secret.length; chars >= 8; chars--)
        if (text.includes(secret.slice(0, chars))) return true;
      return false;
    })
    .map(([name]) => name);
}

async function cli(argv: readonly string[], env: Record<string, string> = {}) {
  const run = startLokiCli(argv, { env, loki: { sleep: async () => {} } });
  run.interrupt();
  const code = await run.done;
  return { code, out: `${run.stdout.text}${run.stderr.text}` };
}

function functionWith(variables: Record<string, string>) {
  lambda
    .on(GetFunctionConfigurationCommand)
    .resolves(functionConfig('orders', { Environment: { Variables: variables } }));
}

const LOKI = { LOKI_APPLICATION_LABEL: 'shop', LOKI_ENV_LABEL: 'prod' };
const OUTPUTS: ReadonlyArray<{ readonly output: string; readonly json: readonly string[] }> = [
  { output: 'text', json: [] },
  { output: '--json', json: ['--json'] },
];

beforeEach(() => {
  lambda.reset();
  lambda.on(GetLayerVersionByArnCommand).resolves({
    LayerVersionArn: NEW_LAYER,
    CompatibleArchitectures: ['arm64'],
    CompatibleRuntimes: [...SLIM_RUNTIMES],
  });
  lambda.on(GetFunctionCommand).resolves({ Configuration: { LastUpdateStatus: 'Successful' } });
});

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  lambda.reset();
});

describe.each(OUTPUTS)('the CLI never prints a secret ($output)', ({ json }) => {
  const checkFlags = (url: string) => ['check', '--loki-url', url, '--app', 'shop', '--env', 'prod', ...json];

  it.each([
    ['the whole token', undefined],
    ['a token cut after 77 characters', 77],
  ])('check: a gateway echoing %s of the bearer header in its refusal', async (_name, chars) => {
    const gateway = await receiver({ auth: { bearerToken: 'other' }, echoAuthorization: { chars } });

    const result = await cli(checkFlags(gateway.url), { LOKI_BEARER_TOKEN: TOKEN });

    expect(result.code).toBe(1);
    expect(result.out).toContain('refused with bearer token');
    expect(result.out).toContain(MASK);
    expect(leaked(result.out)).toEqual([]);
  });

  it('check: a gateway echoing the basic-auth header (base64 of user:password)', async () => {
    const gateway = await receiver({ auth: { bearerToken: 'other' }, echoAuthorization: {} });

    const result = await cli(checkFlags(gateway.url), { LOKI_USERNAME: USERNAME, LOKI_PASSWORD: PASSWORD });

    expect(result.out).toContain(`basic auth as ${USERNAME}`);
    expect(result.out).toContain(MASK);
    expect(leaked(result.out)).toEqual([]);
  });

  it("check: a function's push URL with a query key", async () => {
    const loki = await receiver({});
    functionWith({ ...LOKI, LOKI_ENDPOINT_URL: `${loki.pushUrl}?api_key=${QUERY_KEY}` });

    const result = await cli(['check', 'orders', '--region', REGION, ...json]);

    expect(result.out).toContain(`?api_key=${MASK}`);
    expect(leaked(result.out)).toEqual([]);
  });

  it("check: a function's malformed LOKI_ENDPOINT_URL with userinfo", async () => {
    functionWith({ ...LOKI, LOKI_ENDPOINT_URL: `htps//bob:${URL_PASSWORD}@loki.example.com` });

    const result = await cli(['check', 'orders', '--region', REGION, ...json]);

    expect(result.code).toBe(1);
    expect(result.out).toContain('LOKI_ENDPOINT_URL must be an http:// or https:// URL');
    expect(leaked(result.out)).toEqual([]);
  });

  it('check: a mistyped secret flag', async () => {
    const result = await cli(['check', `--bearer-tokn=${TOKEN}`, ...json]);

    expect(result.code).toBe(2);
    expect(result.out).toContain("unknown option '--bearer-tokn'");
    expect(leaked(result.out)).toEqual([]);
  });

  it('tail: a gateway echoing the bearer header in its refusal', async () => {
    const gateway = await receiver({ auth: { bearerToken: 'other' }, echoAuthorization: {} });

    const result = await cli(['tail', '--addr', gateway.url, '--query', '{a="b"}', '--no-follow'], {
      LOKI_BEARER_TOKEN: TOKEN,
    });

    expect(result.code).toBe(1);
    expect(result.out).toContain('Loki refused the credentials');
    expect(leaked(result.out)).toEqual([]);
  });

  it('tail: a gateway echoing the basic-auth header of --username/--password', async () => {
    const gateway = await receiver({ auth: { bearerToken: 'other' }, echoAuthorization: { chars: 30 } });

    const result = await cli([
      'tail',
      '--addr',
      gateway.url,
      '--query',
      '{a="b"}',
      '--no-follow',
      '--username',
      USERNAME,
      '--password',
      PASSWORD,
    ]);

    expect(result.out).toContain('Loki refused the credentials');
    expect(leaked(result.out)).toEqual([]);
  });

  it('tail: an unreachable --addr with userinfo', async () => {
    const port = await unusedPort();

    const result = await cli([
      'tail',
      '--addr',
      `http://bob:${URL_PASSWORD}@127.0.0.1:${port}`,
      '--query',
      '{a="b"}',
      '--no-follow',
    ]);

    expect(result.code).toBe(1);
    expect(result.out).toContain(`cannot reach Loki at http://${MASK}@127.0.0.1:${port}`);
    expect(leaked(result.out)).toEqual([]);
  });

  it('tail: a malformed --addr with userinfo', async () => {
    const result = await cli(['tail', '--addr', `htp:/bob:${URL_PASSWORD}@x`, '--query', '{a="b"}']);

    expect(result.code).toBe(2);
    expect(result.out).toContain('--addr (or LOKI_ADDR) must be an http:// or https:// URL');
    expect(leaked(result.out)).toEqual([]);
  });

  const attachFlags = [
    '--region',
    REGION,
    '--layer-arn',
    NEW_LAYER,
    '--app',
    'shop',
    '--env',
    'prod',
    ...json,
  ];

  it('attach: the plan of a function whose old LOKI_ENDPOINT_URL has userinfo and a query key', async () => {
    functionWith({
      ...LOKI,
      LOKI_ENDPOINT_URL: `https://bob:${URL_PASSWORD}@old.example.com/?api_key=${QUERY_KEY}`,
      LOKI_BEARER_TOKEN: TOKEN,
      DB_PASSWORD,
    });

    const result = await runCli(
      ['attach', 'orders', '--loki-url', 'https://loki.example.com', '--dry-run', ...attachFlags],
      { env: { LOKI_BEARER_TOKEN: 'glc_new-token-value' } },
    );

    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).toContain(`https://${MASK}@old.example.com/?api_key=${MASK}`);
    expect(leaked(result.stdout + result.stderr)).toEqual([]);
  });

  it('attach: a malformed --loki-url with userinfo', async () => {
    const result = await runCli([
      'attach',
      'orders',
      '--loki-url',
      `htps//bob:${URL_PASSWORD}@x`,
      ...attachFlags,
    ]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('(LOKI_ENDPOINT_URL) must be an http:// or https:// URL');
    expect(leaked(result.stdout + result.stderr)).toEqual([]);
  });

  it("attach: Lambda's environment error quoting the function's variables", async () => {
    functionWith({ APP_MODE: 'prod', DB_PASSWORD, API_KEY_HINT: 'x' });
    const variables = { APP_MODE: 'prod', DB_PASSWORD, LOKI_BEARER_TOKEN: TOKEN, LOKI_PASSWORD: PASSWORD };
    lambda.on(UpdateFunctionConfigurationCommand).rejects(
      new InvalidParameterValueException({
        $metadata: {},
        message: `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${JSON.stringify(variables)}`,
      }),
    );

    const result = await runCli(
      ['attach', 'orders', '--loki-url', 'https://loki.example.com', '--yes', ...attachFlags],
      { env: { LOKI_BEARER_TOKEN: TOKEN } },
    );

    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toContain('4KB limit');
    expect(leaked(result.stdout + result.stderr)).toEqual([]);
  });
});

describe("the extension's log lines never hold a secret", () => {
  it('when Loki (a gateway) echoes the bearer header, whole or cut, with LOKI_DEBUG', async () => {
    const gateway = await receiver({ auth: { bearerToken: 'other' }, echoAuthorization: { chars: 60 } });
    emulator = await startBundledExtension(
      lokiEnv(gateway.url, { LOKI_BEARER_TOKEN: TOKEN, LOKI_DEBUG: 'true', DB_PASSWORD }),
    );

    await emulator.invoke({ logs: [`the function logs its own ${DB_PASSWORD}`] });
    await emulator.shutdown();

    expect(emulator.output()).toContain('Loki rejected a push');
    expect(leaked(emulator.output())).toEqual([]);
  });

  it('when the basic-auth header is echoed, cut after a few characters of its base64', async () => {
    const gateway = await receiver({ auth: { bearerToken: 'other' }, echoAuthorization: { chars: 25 } });
    emulator = await startBundledExtension(
      lokiEnv(gateway.url, { LOKI_USERNAME: USERNAME, LOKI_PASSWORD: PASSWORD }),
    );

    await emulator.invoke({ logs: ['one line'] });
    await emulator.shutdown();

    expect(emulator.output()).toContain('Loki rejected a push');
    expect(leaked(emulator.output())).toEqual([]);
  });

  it('in the configuration error line, for a malformed LOKI_ENDPOINT_URL with userinfo', async () => {
    emulator = await startBundledExtension({
      ...lokiEnv('http://127.0.0.1:1', { LOKI_BEARER_TOKEN: TOKEN, LOKI_FLUSH_STRATEGY: 'bad' }),
      LOKI_ENDPOINT_URL: `htps//bob:${URL_PASSWORD}@loki.example.com?api_key=${QUERY_KEY}`,
    });

    await emulator.invoke({ logs: ['one line'] });
    await emulator.shutdown();

    expect(emulator.output()).toContain('configuration error');
    expect(leaked(emulator.output())).toEqual([]);
  });
});

describe('tail writes no terminal control sequence from a log line', () => {
  const HOSTILE =
    'ok\u001b]52;c;cm0gLXJmIH4=\u0007\u001b[2J\u001b[H\n2026-01-01T00:00:00Z function INFO  - forged line\r\u202eevil';

  async function tailOutput(format: string) {
    const loki = await receiver({});
    const labels = { functionName: 'orders', application: 'shop', environment: 'prod' };
    expect(
      await shipLines(loki.pushUrl, labels, [
        { source: 'function', line: HOSTILE, timeMs: Date.now() - 60_000 },
      ]),
    ).toBe(204);
    const run = startLokiCli([
      'tail',
      '--addr',
      loki.url,
      '--query',
      '{function="orders"}',
      '--no-follow',
      '-o',
      format,
    ]);
    expect(await run.done).toBe(0);
    return run.stdout.text;
  }

  it('escapes control characters in the default output: one entry, one line', async () => {
    const out = await tailOutput('default');

    expect(out.split('\n').filter((line) => line !== '')).toHaveLength(1);
    for (const control of ['\u001b', '\u0007', '\r', '\u202e']) expect(out).not.toContain(control);
    expect(out).toContain('ok\\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b[2J\\x1b[H\\n2026-01-01T00:00:00Z');
    expect(out).toContain('\\r\\u202eevil');
  });

  it('keeps the bytes of the line with -o raw, as logcli does', async () => {
    expect(await tailOutput('raw')).toBe(`${HOSTILE}\n`);
  });
});
