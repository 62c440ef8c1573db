import {
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetLayerVersionByArnCommand,
  LambdaClient,
  ListFunctionsCommand,
  ResourceConflictException,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SLIM_RUNTIMES, STANDALONE_RUNTIMES } from '../../src/layer/targets.js';
import { functionConfig, layerArn, REGION, runCli } from '../support/aws-cli.js';

const lambda = mockClient(LambdaClient);
const TOKEN = 'glc_super-secret-token-value';
const NEW_LAYER = layerArn('loki-lambda-slim-arm64', 4);
const LOKI_FLAGS = ['--loki-url', 'https://loki.example.com', '--app', 'shop', '--env', 'prod'];
const LOKI_ENV = {
  LOKI_ENDPOINT_URL: 'https://loki.example.com',
  LOKI_APPLICATION_LABEL: 'shop',
  LOKI_ENV_LABEL: 'prod',
};

function attach(args: readonly string[], env: Record<string, string> = {}) {
  return runCli(['attach', ...args, '--region', REGION, '--layer-arn', NEW_LAYER, ...LOKI_FLAGS], {
    env: { LOKI_BEARER_TOKEN: TOKEN, ...env },
  });
}

function updateCalls() {
  return lambda.commandCalls(UpdateFunctionConfigurationCommand).map((call) => call.args[0].input);
}

beforeEach(() => {
  lambda.reset();
  lambda.on(GetLayerVersionByArnCommand).resolves({
    LayerVersionArn: NEW_LAYER,
    CompatibleArchitectures: ['arm64'],
    CompatibleRuntimes: [...SLIM_RUNTIMES],
  });
  lambda.on(UpdateFunctionConfigurationCommand).resolves({});
  lambda.on(GetFunctionCommand).resolves({ Configuration: { LastUpdateStatus: 'Successful' } });
});

afterEach(() => {
  lambda.reset();
});

describe('loki-lambda attach', () => {
  it('adds the layer and the LOKI_* variables to a fresh function, keeping its other variables', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(functionConfig('orders'));

    const result = await attach(['orders', '--yes']);

    expect(result.code).toBe(0);
    expect(updateCalls()).toEqual([
      {
        FunctionName: 'orders',
        RevisionId: 'rev-orders',
        Layers: [NEW_LAYER],
        Environment: { Variables: { APP_MODE: 'prod', ...LOKI_ENV, LOKI_BEARER_TOKEN: TOKEN } },
      },
    ]);
    expect(lambda.commandCalls(GetFunctionCommand).map((c) => c.args[0].input)).toEqual([
      { FunctionName: 'orders' },
    ]);
    expect(result.stdout).toContain(`    + ${NEW_LAYER}`);
    expect(result.stdout).toContain('    + LOKI_ENV_LABEL=prod');
    expect(result.stdout).toContain('    + LOKI_BEARER_TOKEN=****');
    expect(result.stdout).toContain('environment (1 other variable kept)');
    expect(result.stdout).toContain('updated    orders');
    expect(result.stdout).toContain('1 function: 1 updated, 0 unchanged, 0 refused, 0 failed');
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
  });

  it('replaces an older version of our layer in place and keeps the other layers in order', async () => {
    const before = [layerArn('insights', 12), layerArn('loki-lambda-slim-arm64', 2), layerArn('secrets', 3)];
    lambda.on(GetFunctionConfigurationCommand).resolves(
      functionConfig('orders', {
        Layers: before.map((Arn) => ({ Arn })),
        Environment: { Variables: { APP_MODE: 'prod', ...LOKI_ENV, LOKI_BEARER_TOKEN: TOKEN } },
      }),
    );

    const result = await attach(['orders', '--yes']);

    expect(result.code).toBe(0);
    expect(updateCalls()).toEqual([
      {
        FunctionName: 'orders',
        RevisionId: 'rev-orders',
        Layers: [layerArn('insights', 12), NEW_LAYER, layerArn('secrets', 3)],
      },
    ]);
    expect(result.stdout).toContain(`    - ${layerArn('loki-lambda-slim-arm64', 2)}`);
    expect(result.stdout).toContain(`    = ${layerArn('insights', 12)}`);
    expect(result.stdout).toContain('    (no change)');
  });

  it('replaces a version of the other flavor instead of adding a second copy of the extension', async () => {
    lambda
      .on(GetFunctionConfigurationCommand)
      .resolves(functionConfig('orders', { Layers: [{ Arn: layerArn('loki-lambda-standalone-arm64', 7) }] }));

    await attach(['orders', '--yes']);

    expect(updateCalls()[0]?.Layers).toEqual([NEW_LAYER]);
  });

  it('merges the environment: changes only LOKI_* values and shows the change', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(
      functionConfig('orders', {
        Environment: { Variables: { DB_HOST: 'db.internal', ...LOKI_ENV, LOKI_ENV_LABEL: 'staging' } },
        Layers: [{ Arn: NEW_LAYER }],
      }),
    );

    const result = await attach(['orders', '--yes'], {});

    expect(updateCalls()).toEqual([
      {
        FunctionName: 'orders',
        RevisionId: 'rev-orders',
        Environment: { Variables: { DB_HOST: 'db.internal', ...LOKI_ENV, LOKI_BEARER_TOKEN: TOKEN } },
      },
    ]);
    expect(result.stdout).toContain('    ~ LOKI_ENV_LABEL: staging -> prod');
    expect(result.stdout).not.toContain('db.internal');
  });

  it('switches from basic auth to a bearer token by removing the basic auth variables', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(
      functionConfig('orders', {
        Environment: { Variables: { ...LOKI_ENV, LOKI_USERNAME: 'u', LOKI_PASSWORD: 'old-password' } },
        Layers: [{ Arn: NEW_LAYER }],
      }),
    );

    const result = await attach(['orders', '--yes']);

    expect(updateCalls()[0]?.Environment?.Variables).toEqual({ ...LOKI_ENV, LOKI_BEARER_TOKEN: TOKEN });
    expect(result.stdout).toContain('    - LOKI_PASSWORD');
    expect(result.stdout + result.stderr).not.toContain('old-password');
  });

  it('says there is nothing to change and exits 0 when the function is already set up', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(
      functionConfig('orders', {
        Layers: [{ Arn: NEW_LAYER }],
        Environment: { Variables: { APP_MODE: 'prod', ...LOKI_ENV, LOKI_BEARER_TOKEN: TOKEN } },
      }),
    );

    const result = await attach(['orders', '--yes']);

    expect(result.code).toBe(0);
    expect(updateCalls()).toEqual([]);
    expect(result.stdout).toContain('nothing to change');
    expect(result.stdout).toContain('unchanged  orders');
  });

  it('refuses a sixth layer and says what to do, without calling UpdateFunctionConfiguration', async () => {
    const five = [1, 2, 3, 4, 5].map((n) => ({ Arn: layerArn(`other-${n}`, 1) }));
    lambda.on(GetFunctionConfigurationCommand).resolves(functionConfig('orders', { Layers: five }));

    const result = await attach(['orders', '--yes']);

    expect(result.code).toBe(1);
    expect(updateCalls()).toEqual([]);
    expect(result.stdout).toContain('the function would have 6 layers and Lambda allows at most 5');
    expect(result.stdout).toContain('Remove a layer it no longer needs');
    expect(result.stdout).toContain('refused    orders');
  });

  it('refuses when the variables would exceed 4 KB as Lambda counts them (compact JSON)', async () => {
    // {"BIG":"xxx…"} is 4,000 bytes and fits; with the LOKI_* variables added it would not.
    lambda
      .on(GetFunctionConfigurationCommand)
      .resolves(functionConfig('orders', { Environment: { Variables: { BIG: 'x'.repeat(3990) } } }));

    const result = await attach(['orders', '--yes']);

    expect(result.code).toBe(1);
    expect(updateCalls()).toEqual([]);
    expect(result.stdout).toMatch(/its environment variables would take \d+ bytes and Lambda allows 4096/);
  });

  it('refuses a LOKI_MAX_BUFFER_BYTES too large for the function’s memory, naming its memory size', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(
      functionConfig('orders', {
        MemorySize: 128,
        Environment: { Variables: { LOKI_MAX_BUFFER_BYTES: String(64 * 1024 * 1024) } },
      }),
    );

    const result = await attach(['orders', '--yes']);

    expect(result.code).toBe(1);
    expect(updateCalls()).toEqual([]);
    expect(result.stdout).toContain(
      'LOKI_MAX_BUFFER_BYTES=67108864 is too large for a function of 128 MB (at most 16777216, an 8th of its memory)',
    );
    expect(result.stdout).toContain('refused    orders');
  });

  it('accepts the same LOKI_MAX_BUFFER_BYTES on a function with enough memory', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(
      functionConfig('orders', {
        MemorySize: 1024,
        Environment: { Variables: { LOKI_MAX_BUFFER_BYTES: String(64 * 1024 * 1024) } },
      }),
    );

    const result = await attach(['orders', '--yes']);

    expect(result.code).toBe(0);
    expect(updateCalls()).toHaveLength(1);
  });

  it('refuses a function whose architecture the layer was not built for', async () => {
    lambda
      .on(GetFunctionConfigurationCommand)
      .resolves(functionConfig('orders', { Architectures: ['x86_64'] }));

    const result = await attach(['orders', '--yes']);

    expect(result.code).toBe(1);
    expect(updateCalls()).toEqual([]);
    expect(result.stdout).toContain('the function runs on x86_64 but the layer is built for arm64');
    expect(result.stdout).toContain('publish --arch x86_64');
  });

  it('refuses the slim flavor on a runtime without Node.js and points to the standalone flavor', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(functionConfig('orders', { Runtime: 'python3.12' }));

    const result = await attach(['orders', '--yes']);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain('the slim flavor runs on the function');
    expect(result.stdout).toContain('--flavor standalone');
  });

  it('refuses a layer of another flavor on an Amazon Linux 2 runtime and names the al2 flavor', async () => {
    lambda
      .on(GetLayerVersionByArnCommand)
      .resolves({ CompatibleArchitectures: ['arm64'], CompatibleRuntimes: [...STANDALONE_RUNTIMES] });
    lambda.on(GetFunctionConfigurationCommand).resolves(functionConfig('legacy', { Runtime: 'python3.9' }));

    const result = await attach(['legacy', '--yes']);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain('runtime python3.9 runs on Amazon Linux 2, whose glibc 2.26 is too old');
    expect(result.stdout).toContain('Use the al2 flavor, which runs the extension with Bun');
  });

  it('refuses a container-image function: Lambda does not add layers to those', async () => {
    lambda
      .on(GetFunctionConfigurationCommand)
      .resolves(functionConfig('imaged', { PackageType: 'Image', Runtime: undefined }));

    const result = await attach(['imaged', '--yes']);

    expect(result.code).toBe(1);
    expect(updateCalls()).toEqual([]);
    expect(result.stdout).toContain('container-image function');
    expect(result.stdout).toContain('Dockerfile');
  });

  it('shows the plan in a dry run, changes nothing and needs no secret', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(functionConfig('orders'));

    const result = await runCli([
      'attach',
      'orders',
      '--region',
      REGION,
      '--layer-arn',
      NEW_LAYER,
      ...LOKI_FLAGS,
      '--dry-run',
    ]);

    expect(result.code).toBe(0);
    expect(updateCalls()).toEqual([]);
    expect(result.stdout).toContain(`    + ${NEW_LAYER}`);
    expect(result.stdout).toContain('planned    orders (dry run: not changed)');
    expect(result.stdout).toContain('(dry run: nothing was changed)');
  });

  it('re-reads and re-plans after an update conflicts with one in progress, then succeeds', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(functionConfig('orders'));
    lambda
      .on(UpdateFunctionConfigurationCommand)
      .rejectsOnce(new ResourceConflictException({ message: 'An update is in progress', $metadata: {} }))
      .resolves({});

    const result = await attach(['orders', '--yes']);

    expect(result.code).toBe(0);
    const calls = updateCalls();
    expect(calls).toHaveLength(2);
    expect(calls[1]).toEqual(calls[0]);
    expect(lambda.commandCalls(GetFunctionConfigurationCommand)).toHaveLength(2);
    expect(result.sleeps).toEqual([1000]);
    expect(result.stderr).toContain('orders: another update of it is in progress; reading it again');
    expect(result.stdout).toContain('updated    orders');
  });

  it('gives up after a few plans when the function keeps changing (RevisionId), and says so', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(functionConfig('orders'));
    lambda.on(UpdateFunctionConfigurationCommand).rejects(
      Object.assign(new Error('The RevisionId provided does not match'), {
        name: 'PreconditionFailedException',
      }),
    );

    const result = await attach(['orders', '--yes']);

    expect(result.code).toBe(1);
    expect(updateCalls()).toHaveLength(4);
    expect(result.sleeps).toEqual([1000, 2000, 4000]);
    expect(result.stdout).toContain('failed     orders: the function changed after it was planned');
  });

  it('reports an update that Lambda says failed, from the waiter', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(functionConfig('orders'));
    lambda.on(GetFunctionCommand).resolves({
      Configuration: { LastUpdateStatus: 'Failed', LastUpdateStatusReason: 'KMS key is disabled' },
    });

    const result = await attach(['orders', '--yes']);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'failed     orders: the update of orders did not succeed: KMS key is disabled',
    );
  });

  it('waits while the update is in progress before reporting success', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(functionConfig('orders'));
    lambda
      .on(GetFunctionCommand)
      .resolvesOnce({ Configuration: { LastUpdateStatus: 'InProgress' } })
      .resolves({ Configuration: { LastUpdateStatus: 'Successful' } });

    const result = await attach(['orders', '--yes']);

    expect(result.code).toBe(0);
    expect(lambda.commandCalls(GetFunctionCommand)).toHaveLength(2);
  });

  it('reports each function, a summary, and exits 1 when one of several failed', async () => {
    lambda.on(GetFunctionConfigurationCommand, { FunctionName: 'a' }).resolves(functionConfig('a'));
    lambda.on(GetFunctionConfigurationCommand, { FunctionName: 'b' }).resolves(functionConfig('b'));
    lambda
      .on(GetFunctionConfigurationCommand, { FunctionName: 'gone' })
      .rejects(Object.assign(new Error('Function not found: gone'), { name: 'ResourceNotFoundException' }));
    lambda
      .on(UpdateFunctionConfigurationCommand, { FunctionName: 'b' })
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));

    const result = await attach(['a', 'b', 'gone', '--yes']);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain('updated    a');
    expect(result.stdout).toContain('failed     b: access denied: User is not authorized');
    expect(result.stdout).toContain('failed     gone: not found in eu-west-1: Function not found: gone');
    expect(result.stdout).toContain('3 functions: 1 updated, 0 unchanged, 0 refused, 2 failed');
  });

  it('selects functions by --functions-regex across every ListFunctions page', async () => {
    lambda.on(ListFunctionsCommand, { Marker: undefined }).resolves({
      Functions: [{ FunctionName: 'shop-api' }, { FunctionName: 'admin' }],
      NextMarker: 'page2',
    });
    lambda
      .on(ListFunctionsCommand, { Marker: 'page2' })
      .resolves({ Functions: [{ FunctionName: 'shop-worker' }] });
    lambda
      .on(GetFunctionConfigurationCommand)
      .callsFake((input: { FunctionName: string }) => functionConfig(input.FunctionName));

    const result = await attach(['--functions-regex', '^shop-', '--yes']);

    expect(result.code).toBe(0);
    expect(updateCalls().map((c) => c.FunctionName)).toEqual(['shop-api', 'shop-worker']);
    expect(result.stdout).toContain('2 functions: 2 updated');
  });

  it('does not apply without --yes when there is no terminal to ask', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(functionConfig('orders'));

    const result = await attach(['orders']);

    expect(result.code).toBe(2);
    expect(updateCalls()).toEqual([]);
    expect(result.stderr).toContain('pass --yes to apply without a prompt');
  });

  it('asks at a terminal and applies only when the answer is yes', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(functionConfig('orders'));
    const base = ['attach', 'orders', '--region', REGION, '--layer-arn', NEW_LAYER, ...LOKI_FLAGS];

    const declined = await runCli(base, { interactive: true, answer: false });
    expect(declined.prompts).toEqual(['Apply these changes to 1 function? [y/N] ']);
    expect(declined.code).toBe(1);
    expect(updateCalls()).toEqual([]);

    const accepted = await runCli(base, { interactive: true, answer: true });
    expect(accepted.code).toBe(0);
    expect(updateCalls()).toHaveLength(1);
  });

  it('refuses invalid Loki settings with the extension’s own messages before calling AWS', async () => {
    const result = await runCli(
      [
        'attach',
        'orders',
        '--region',
        REGION,
        '--loki-url',
        'ftp://loki',
        '--env',
        'prod',
        '--extra-labels',
        'team',
      ],
      {},
    );

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--loki-url (LOKI_ENDPOINT_URL) must use http:// or https://');
    expect(result.stderr).toContain('--extra-labels (LOKI_EXTRA_LABELS) must be "name1,value1,name2,value2"');
    expect(lambda.calls()).toHaveLength(0);
  });

  it('names the flag of a required setting the function does not have yet (--app is required)', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(functionConfig('orders'));

    const result = await runCli(
      [
        'attach',
        'orders',
        '--region',
        REGION,
        '--layer-arn',
        NEW_LAYER,
        '--loki-url',
        'https://l',
        '--env',
        'prod',
      ],
      { env: { LOKI_BEARER_TOKEN: TOKEN } },
    );

    expect(result.code).toBe(1);
    expect(updateCalls()).toEqual([]);
    expect(result.stdout).toContain('--app is required (LOKI_APPLICATION_LABEL: the application label)');
    expect(result.stdout).toContain('refused    orders');
  });

  it('hints at the expected form of --extra-labels given as team=payments or team:payments', async () => {
    for (const labels of ['team=payments', 'team:payments']) {
      const result = await runCli([
        'attach',
        'orders',
        '--region',
        REGION,
        ...LOKI_FLAGS,
        '--extra-labels',
        labels,
      ]);

      expect(result.code).toBe(2);
      expect(result.stderr).toContain('hint: --extra-labels takes names and values separated by commas');
      expect(result.stderr).toContain('--extra-labels team,payments');
    }
    expect(lambda.calls()).toHaveLength(0);
  });

  it('reads the bearer token from --bearer-token-file and never prints it', async () => {
    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'loki-token-'));
    await writeFile(join(dir, 'token'), `${TOKEN}\n`);
    lambda.on(GetFunctionConfigurationCommand).resolves(functionConfig('orders'));

    const result = await runCli(
      [
        'attach',
        'orders',
        '--region',
        REGION,
        '--layer-arn',
        NEW_LAYER,
        ...LOKI_FLAGS,
        '--bearer-token-file',
        'token',
        '--yes',
        '--json',
      ],
      { cwd: dir },
    );

    expect(result.code).toBe(0);
    expect(updateCalls()[0]?.Environment?.Variables?.LOKI_BEARER_TOKEN).toBe(TOKEN);
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
    const document = JSON.parse(result.stdout);
    expect(document.functions[0]).toMatchObject({
      function: 'orders',
      outcome: 'updated',
      layers: { before: [], after: [NEW_LAYER] },
    });
    expect(document.functions[0].environment).toContainEqual({
      name: 'LOKI_BEARER_TOKEN',
      before: null,
      after: '****',
      source: 'flag',
    });
    expect(document.summary).toEqual({ updated: 1, unchanged: 0, planned: 0, refused: 0, failed: 0 });
  });
});
