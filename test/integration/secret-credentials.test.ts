/**
 * Loki credentials kept in Secrets Manager / Parameter Store (issue 15), end to end: the bundled
 * extension under the Lambda emulator reads them from the fake stores with the function's role
 * credentials (every request SigV4-verified), and pushes to the Loki receiver with them.
 */
import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BUNDLE_FILE_NAME } from '../../src/layer/bundle.js';
import { type FakeSecretStores, fakeStoresEnv, startFakeSecretStores } from '../support/aws-secret-stores.js';
import { bundledExtensionPath, lokiEnv, startBundledExtension } from '../support/extension-harness.js';
import type { LambdaEmulator } from '../support/lambda-emulator.js';
import { type LokiReceiver, startLokiReceiver } from '../support/loki-receiver.js';

const REGION = 'eu-west-1';
/** What Lambda gives the function's processes: its role's temporary credentials. */
const ROLE_CREDENTIALS = {
  accessKeyId: 'ASIAFUNCTIONROLE0042',
  secretAccessKey: 'role-secret-access-key/0042',
  sessionToken: 'IQoJb3JpZ2luX2VjEOr//////////session',
};
const TOKEN = 'glc_eyJvIjoiMTIzNDU2IiwibiI6ImxvZ3MiLCJrIjoic2VjcmV0In0';
const ROTATED_TOKEN = 'glc_eyJvIjoiMTIzNDU2IiwibiI6ImxvZ3MiLCJrIjoicm90YXRlZCJ9';
const PASSWORD = 'p4ss-from-parameter-store';
/**
 * The extension's test-only timings (LOKI_LAMBDA_TEST_TIMINGS): short cooldowns after a failed push,
 * a 10 ms wait between the SDK's attempts (seconds of backoff for throttling otherwise) and a short
 * interval before a transient failure is read again. The schedule is the same, only faster.
 */
const COOLDOWN_INITIAL_MS = 50;
const FAST = {
  cooldownInitialMs: COOLDOWN_INITIAL_MS,
  cooldownMaxMs: 400,
  secretSdkRetryDelayMs: 10,
  secretRetryInitialMs: 100,
};
/** Invocations this far apart: each push comes after the cooldown of the failed one before it. */
const SPACING_MS = 2 * COOLDOWN_INITIAL_MS;

let receiver: LokiReceiver | undefined;
let emulator: LambdaEmulator | undefined;
let stores: FakeSecretStores | undefined;

afterEach(async () => {
  await emulator?.close();
  await receiver?.close();
  await stores?.close();
  emulator = receiver = stores = undefined;
});

async function startStores(): Promise<FakeSecretStores> {
  stores = await startFakeSecretStores({ credentials: ROLE_CREDENTIALS, region: REGION });
  return stores;
}

async function start(
  env: Record<string, string>,
  auth?: Parameters<typeof startLokiReceiver>[0],
  timings: Record<string, number> = {},
) {
  receiver = await startLokiReceiver(auth);
  emulator = await startBundledExtension(
    lokiEnv(receiver.url, {
      LOKI_FLUSH_STRATEGY: 'end',
      LOKI_LAMBDA_TEST_TIMINGS: JSON.stringify({ ...FAST, ...timings }),
      ...fakeStoresEnv(stores!, ROLE_CREDENTIALS),
      ...env,
    }),
    { region: REGION },
  );
  return { receiver, emulator };
}

type Cleanup = (close: () => Promise<void>) => void;

/**
 * Stores, receiver and extension of one test alone, each closed when the test finishes: for tests
 * that run concurrently (the module's `stores`, `receiver` and `emulator` are for the others).
 */
async function startAlone(
  onFinished: Cleanup,
  configure: (stores: FakeSecretStores) => Record<string, string>,
  timings: Record<string, number> = {},
) {
  const stores = await startFakeSecretStores({ credentials: ROLE_CREDENTIALS, region: REGION });
  onFinished(() => stores.close());
  const env = configure(stores);
  const receiver = await startLokiReceiver({ auth: { bearerToken: TOKEN } });
  onFinished(() => receiver.close());
  const emulator = await startBundledExtension(
    lokiEnv(receiver.url, {
      LOKI_FLUSH_STRATEGY: 'end',
      LOKI_LAMBDA_TEST_TIMINGS: JSON.stringify({ ...FAST, ...timings }),
      ...fakeStoresEnv(stores, ROLE_CREDENTIALS),
      ...env,
    }),
    { region: REGION },
  );
  onFinished(() => emulator.close());
  return { stores, receiver, emulator };
}

const linesMentioning = (output: string, text: string) =>
  output.split('\n').filter((line) => line.includes(text));

function expectNoSecretIn(output: string, ...secrets: string[]): void {
  for (const secret of secrets) {
    expect(output).not.toContain(secret);
    expect(output).not.toContain(secret.slice(0, 12));
  }
}

describe('Loki credentials from Secrets Manager and Parameter Store', () => {
  it('ships with a bearer token read from a Secrets Manager secret, signed with the function’s role', async () => {
    const arn = (await startStores()).putSecret('loki/token', TOKEN);
    const { receiver, emulator } = await start(
      { LOKI_BEARER_TOKEN_SECRET_ARN: arn, LOKI_DEBUG: 'true' },
      { auth: { bearerToken: TOKEN } },
    );

    const result = await emulator.invoke({ logs: ['from a secret'] });
    await emulator.shutdown();

    expect(result.timedOut).toBe(false);
    expect(receiver.entries().map((e) => e.line)).toContain('from a secret');
    expect(receiver.requests().map((r) => [r.status, r.headers.authorization])).toContainEqual([
      204,
      `Bearer ${TOKEN}`,
    ]);
    expect(stores!.requests).toEqual([
      expect.objectContaining({ service: 'secretsmanager', id: arn, signature: 'valid', status: 200 }),
    ]);
    expectNoSecretIn(emulator.output(), TOKEN);
  });

  it('ends init without waiting for the secret: only the first push waits for it', async () => {
    const arn = (await startStores()).putSecret('loki/slow-token', TOKEN);
    let release = () => {};
    stores!.setFault(arn, { kind: 'held', until: new Promise<void>((resolve) => (release = resolve)) });

    // Init ends while the store still holds the read (the emulator fails init after 10 s otherwise).
    const { receiver, emulator } = await start(
      { LOKI_BEARER_TOKEN_SECRET_ARN: arn },
      { auth: { bearerToken: TOKEN } },
    );
    const answeredAtInitEnd = stores!.requests.length;
    // The store answers while the first push waits for the secret.
    setTimeout(release, 100);
    const result = await emulator.invoke({ logs: ['held until the secret came'], timeoutMs: 10_000 });
    const shippedAtInvocationEnd = receiver.entries().map((e) => e.line);
    await emulator.shutdown();

    expect(answeredAtInitEnd).toBe(0);
    expect(result.timedOut).toBe(false);
    expect(shippedAtInvocationEnd).toContain('held until the secret came');
    expect(stores!.requests).toEqual([expect.objectContaining({ id: arn, status: 200 })]);
  });

  it('takes one key of a JSON secret (ARN#key)', async () => {
    const arn = (await startStores()).putSecret(
      'loki/json',
      JSON.stringify({ url: 'https://loki.example.com', token: TOKEN, other: 'x' }),
    );
    const { receiver, emulator } = await start(
      { LOKI_BEARER_TOKEN_SECRET_ARN: `${arn}#token` },
      { auth: { bearerToken: TOKEN } },
    );

    await emulator.invoke({ logs: ['from a JSON secret'] });
    await emulator.shutdown();

    expect(receiver.entries().map((e) => e.line)).toContain('from a JSON secret');
    expectNoSecretIn(emulator.output(), TOKEN);
  });

  it('ships with a bearer token from an SSM SecureString, decrypted', async () => {
    (await startStores()).putParameter('/loki/token', TOKEN, 'SecureString');
    const { receiver, emulator } = await start(
      { LOKI_BEARER_TOKEN_SSM_NAME: '/loki/token' },
      { auth: { bearerToken: TOKEN } },
    );

    await emulator.invoke({ logs: ['from parameter store'] });
    await emulator.shutdown();

    expect(receiver.requests().map((r) => r.headers.authorization)).toContain(`Bearer ${TOKEN}`);
    expect(stores!.requests).toEqual([
      expect.objectContaining({
        service: 'ssm',
        id: '/loki/token',
        withDecryption: true,
        signature: 'valid',
      }),
    ]);
    expectNoSecretIn(emulator.output(), TOKEN);
  });

  it('ships with basic auth whose password is in Parameter Store or Secrets Manager', async () => {
    const arn = (await startStores()).putSecret('loki/password', PASSWORD);
    stores!.putParameter('/loki/password', PASSWORD);
    const basic = `Basic ${Buffer.from(`loki-user:${PASSWORD}`).toString('base64')}`;

    const sources: Record<string, string>[] = [
      { LOKI_PASSWORD_SSM_NAME: '/loki/password' },
      { LOKI_PASSWORD_SECRET_ARN: arn },
    ];
    for (const source of sources) {
      const { receiver, emulator } = await start(
        { LOKI_USERNAME: 'loki-user', LOKI_DEBUG: 'true', ...source },
        { auth: { username: 'loki-user', password: PASSWORD } },
      );
      await emulator.invoke({ logs: ['basic from a store'] });
      await emulator.shutdown();

      expect(receiver.requests().map((r) => r.headers.authorization)).toContain(basic);
      expect(receiver.entries().map((e) => e.line)).toContain('basic from a store');
      expectNoSecretIn(emulator.output(), PASSWORD, basic.slice(6));
      await emulator.close();
      await receiver.close();
    }
  });

  it('re-reads a rotated secret once when Loki refuses the old token, then pushes with the new one', async () => {
    const arn = (await startStores()).putSecret('loki/rotating', TOKEN);
    const { receiver, emulator } = await start(
      { LOKI_BEARER_TOKEN_SECRET_ARN: arn },
      { auth: { bearerToken: TOKEN } },
    );
    await emulator.invoke({ logs: ['before rotation'] });

    stores!.putSecret('loki/rotating', ROTATED_TOKEN);
    receiver.setAuth({ bearerToken: ROTATED_TOKEN });
    await emulator.invoke({ logs: ['after rotation'] });
    await emulator.invoke({ logs: ['later still'] });
    await emulator.shutdown();

    expect(receiver.entries().map((e) => e.line)).toEqual(
      expect.arrayContaining(['before rotation', 'after rotation', 'later still']),
    );
    expect(receiver.requests().map((r) => [r.status, r.headers.authorization])).toEqual([
      [204, `Bearer ${TOKEN}`],
      [401, `Bearer ${TOKEN}`],
      [204, `Bearer ${ROTATED_TOKEN}`],
      ...receiver
        .requests()
        .slice(3)
        .map(() => [204, `Bearer ${ROTATED_TOKEN}`]),
    ]);
    expect(stores!.requests.map((r) => r.status)).toEqual([200, 200]);
    expect(emulator.output()).not.toContain('rejected');
    expectNoSecretIn(emulator.output(), TOKEN, ROTATED_TOKEN);
  });

  it('reports a refusal after the one re-read when the secret did not change', async () => {
    const arn = (await startStores()).putSecret('loki/wrong', TOKEN);
    const { receiver, emulator } = await start(
      { LOKI_BEARER_TOKEN_SECRET_ARN: arn },
      { auth: { bearerToken: ROTATED_TOKEN } },
    );

    const result = await emulator.invoke({ logs: ['refused'] });
    await emulator.invoke({ logs: ['refused again'] });
    await emulator.shutdown();

    expect(result.timedOut).toBe(false);
    // The first read, one re-read after the first refusal, and no more until Loki accepts again.
    expect(stores!.requests).toHaveLength(2);
    expect(linesMentioning(emulator.output(), 'Loki rejected a push').length).toBeGreaterThan(0);
    expect(linesMentioning(emulator.output(), 'Loki rejected a push')[0]).toContain('HTTP 401');
    expect(receiver.entries()).toEqual([]);
    expectNoSecretIn(emulator.output(), TOKEN);
  });
});

describe('when the credential cannot be read, the function runs on and one line says why', () => {
  const cases = [
    {
      name: 'access denied (Secrets Manager)',
      fault: { kind: 'access-denied' },
      variable: 'LOKI_BEARER_TOKEN_SECRET_ARN',
      says: ['access denied', 'secretsmanager:GetSecretValue'],
    },
    {
      name: 'access denied (Parameter Store)',
      fault: { kind: 'access-denied' },
      variable: 'LOKI_BEARER_TOKEN_SSM_NAME',
      says: ['access denied', 'ssm:GetParameter'],
    },
    {
      name: 'a missing secret',
      fault: undefined,
      missing: true,
      variable: 'LOKI_BEARER_TOKEN_SECRET_ARN',
      says: ['no such secret', 'secretsmanager:GetSecretValue'],
    },
    {
      name: 'a missing parameter',
      fault: undefined,
      missing: true,
      variable: 'LOKI_BEARER_TOKEN_SSM_NAME',
      says: ['no such parameter', 'ssm:GetParameter'],
    },
    {
      name: 'a KMS key the role may not use (Secrets Manager)',
      fault: { kind: 'kms' },
      variable: 'LOKI_BEARER_TOKEN_SECRET_ARN',
      says: ['kms:Decrypt'],
    },
    {
      name: 'a KMS key the role may not use (Parameter Store)',
      fault: { kind: 'kms' },
      variable: 'LOKI_BEARER_TOKEN_SSM_NAME',
      says: ['kms:Decrypt'],
    },
    {
      name: 'throttling that does not pass',
      fault: { kind: 'throttling' },
      variable: 'LOKI_BEARER_TOKEN_SECRET_ARN',
      says: ['throttled', 'secretsmanager:GetSecretValue'],
    },
    {
      name: 'a secret that is not JSON when a key is asked for',
      fault: undefined,
      jsonKey: 'token',
      variable: 'LOKI_BEARER_TOKEN_SECRET_ARN',
      says: ['not a JSON object', 'no key "token"'],
    },
  ] as const;

  // Each case is its own sandbox, store and Loki, and mostly waits: they run side by side.
  for (const c of cases) {
    it.concurrent(c.name, { timeout: 30_000 }, async ({ expect, onTestFinished }) => {
      let reference = '';
      const { stores, receiver, emulator } = await startAlone(onTestFinished, (stores) => {
        const ssm = c.variable.endsWith('_SSM_NAME');
        const arn = stores.putSecret('loki/faulty', TOKEN);
        stores.putParameter('/loki/faulty', TOKEN);
        const id = ssm ? ('missing' in c ? '/loki/none' : '/loki/faulty') : 'missing' in c ? `${arn}x` : arn;
        reference = 'jsonKey' in c ? `${id}#${c.jsonKey}` : id;
        if (c.fault !== undefined) stores.setFault(id, c.fault);
        return { [c.variable]: reference };
      });

      // A lasting failure is reported at once; a transient one when the first push's own read fails too.
      const results = [];
      for (let i = 0; i < 40 && (i < 2 || !emulator.output().includes(`${c.variable} (`)); i++) {
        results.push(await emulator.invoke({ logs: [`line ${i}`] }));
        // Spaced out, so that pushes come after the cooldown of the failed ones.
        await new Promise((resolve) => setTimeout(resolve, SPACING_MS));
      }
      const shutdown = await emulator.shutdown();

      expect(results.every((r) => !r.timedOut)).toBe(true);
      expect(shutdown).toMatchObject({ exitCode: 0, killed: false });
      const lines = linesMentioning(emulator.output(), c.variable);
      expect(lines, emulator.output()).toHaveLength(1);
      expect(lines[0]).toContain(reference);
      for (const text of c.says) expect(lines[0]).toContain(text);
      expect(lines[0]).toContain('the function runs normally');
      expect(receiver.requests()).toEqual([]);
      expect(stores.requests.every((r) => r.signature === 'valid')).toBe(true);
      expectNoSecretIn(emulator.output(), TOKEN);
    });
  }

  it.concurrent('a read that times out', { timeout: 30_000 }, async ({ expect, onTestFinished }) => {
    let arn = '';
    // The read timeout shrunk too (3 s for users): the store's 60 s is far beyond it either way.
    const { receiver, emulator } = await startAlone(
      onTestFinished,
      (stores) => {
        arn = stores.putSecret('loki/hanging', TOKEN);
        stores.setFault(arn, { kind: 'slow', ms: 60_000 });
        return { LOKI_BEARER_TOKEN_SECRET_ARN: arn };
      },
      { secretReadTimeoutMs: 300 },
    );

    // The init read times out quietly (a freeze can make any read look late); the push's own read says so.
    const results = [];
    for (let i = 0; i < 40 && !emulator.output().includes('no answer within'); i++) {
      results.push(await emulator.invoke({ logs: [`line ${i}`] }));
      // Invocations spaced out, so that pushes come after the cooldown of the failed ones.
      await new Promise((resolve) => setTimeout(resolve, SPACING_MS));
    }
    const shutdown = await emulator.shutdown();

    expect(results.every((r) => !r.timedOut)).toBe(true);
    expect(shutdown).toMatchObject({ exitCode: 0, killed: false });
    const lines = linesMentioning(emulator.output(), 'LOKI_BEARER_TOKEN_SECRET_ARN');
    expect(lines, emulator.output()).toHaveLength(1);
    expect(lines[0]).toContain('no answer within 300 ms');
    expect(lines[0]).toContain('secretsmanager:GetSecretValue');
    expect(receiver.requests()).toEqual([]);
  });
});

describe('functions without a credential in AWS', () => {
  it('never load the secret reader: the extension runs without secrets.cjs beside it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loki-lambda-no-reader-'));
    const alone = join(dir, BUNDLE_FILE_NAME);
    await copyFile(await bundledExtensionPath(), alone);
    receiver = await startLokiReceiver({ auth: { bearerToken: TOKEN } });
    const { startLambdaEmulator } = await import('../support/lambda-emulator.js');
    emulator = await startLambdaEmulator({
      command: process.execPath,
      args: [alone],
      extensionName: 'loki-lambda',
      env: lokiEnv(receiver.url, { LOKI_BEARER_TOKEN: TOKEN, LOKI_FLUSH_STRATEGY: 'end' }),
    });
    expect((await emulator.init()).ok).toBe(true);

    await emulator.invoke({ logs: ['no reader needed'] });
    await emulator.shutdown();

    expect(receiver.entries().map((e) => e.line)).toContain('no reader needed');
  });

  it('report a conflict between two sources of one secret in the one configuration line', async () => {
    await startStores();
    const { receiver, emulator } = await start({
      LOKI_BEARER_TOKEN: TOKEN,
      LOKI_BEARER_TOKEN_SSM_NAME: '/loki/token',
    });

    await emulator.invoke({ logs: ['not shipped'] });
    await emulator.shutdown();

    const lines = linesMentioning(emulator.output(), 'configuration error');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('set only one of LOKI_BEARER_TOKEN, LOKI_BEARER_TOKEN_SSM_NAME');
    expect(receiver.requests()).toEqual([]);
    expect(stores!.requests).toEqual([]);
    expectNoSecretIn(emulator.output(), TOKEN);
  });
});
