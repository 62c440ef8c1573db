import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetLayerVersionByArnCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { functionArn, functionConfig, layerArn, makeWorkDir, runCli } from '../support/aws-cli.js';

const lambda = mockClient(LambdaClient);
const LAYER = layerArn('loki-lambda-slim-arm64', 4);
let work: Awaited<ReturnType<typeof makeWorkDir>>;

beforeEach(async () => {
  lambda.reset();
  work = await makeWorkDir();
  lambda.on(GetLayerVersionByArnCommand).resolves({ CompatibleArchitectures: ['arm64'] });
  lambda.on(GetFunctionConfigurationCommand).resolves(functionConfig('orders'));
  lambda.on(UpdateFunctionConfigurationCommand).resolves({});
  lambda.on(GetFunctionCommand).resolves({ Configuration: { LastUpdateStatus: 'Successful' } });
});

afterEach(async () => {
  await work.cleanup();
});

function sentVariables() {
  return lambda.commandCalls(UpdateFunctionConfigurationCommand)[0]?.args[0].input.Environment?.Variables;
}

describe('configuration file and precedence', () => {
  it('takes settings from loki-lambda.config.json; flags win over the environment, the environment over the file', async () => {
    await writeFile(
      join(work.dir, 'loki-lambda.config.json'),
      JSON.stringify({
        region: 'eu-central-1',
        lokiUrl: 'https://file.example.com',
        app: 'from-file',
        env: 'staging',
        layerArn: LAYER,
      }),
    );

    const result = await runCli(['attach', 'orders', '--env', 'prod', '--yes'], {
      cwd: work.dir,
      env: { LOKI_APPLICATION_LABEL: 'from-env', LOKI_TENANT_ID: 'tenant-from-env', AWS_REGION: 'us-east-1' },
    });

    expect(result.code).toBe(0);
    expect(result.regions).toEqual(['eu-central-1']);
    expect(sentVariables()).toEqual({
      APP_MODE: 'prod',
      LOKI_ENDPOINT_URL: 'https://file.example.com',
      LOKI_APPLICATION_LABEL: 'from-env',
      LOKI_ENV_LABEL: 'prod',
      LOKI_TENANT_ID: 'tenant-from-env',
    });
    expect(result.stdout).toContain('+ LOKI_APPLICATION_LABEL=from-env  (from the shell environment)');
    expect(result.stdout).toContain('+ LOKI_ENDPOINT_URL=https://file.example.com  (from the config file)');
    expect(result.stdout).toContain('+ LOKI_ENV_LABEL=prod  (from --env)');
  });

  it('reads the file named by --config', async () => {
    await writeFile(
      join(work.dir, 'ci.json'),
      JSON.stringify({ functions: ['orders'], layerArn: LAYER, lokiUrl: 'https://l', app: 'a', env: 'e' }),
    );

    const result = await runCli(['attach', '--config', 'ci.json', '--region', 'eu-west-1', '--yes'], {
      cwd: work.dir,
    });

    expect(result.code).toBe(0);
    expect(lambda.commandCalls(UpdateFunctionConfigurationCommand)[0]?.args[0].input.FunctionName).toBe(
      'orders',
    );
  });

  it('reports every problem of the file at once: unknown settings, wrong types and secrets', async () => {
    await writeFile(
      join(work.dir, 'loki-lambda.config.json'),
      JSON.stringify({ regoin: 'eu-west-1', public: 'yes', bearerToken: 'do-not-commit-me' }),
    );

    const result = await runCli(['publish'], { cwd: work.dir });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown setting "regoin"');
    expect(result.stderr).toContain('"public" must be true or false');
    expect(result.stderr).toContain(
      '"bearerToken" does not belong in a config file; use LOKI_BEARER_TOKEN or "bearerTokenFile"',
    );
    expect(result.stderr).not.toContain('do-not-commit-me');
    expect(lambda.calls()).toHaveLength(0);
  });

  it('says so when --config names a file that does not exist', async () => {
    const result = await runCli(['detach', 'orders', '--config', 'missing.json'], { cwd: work.dir });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('missing.json: it does not exist');
  });
});

describe('region resolution', () => {
  const attachArgs = (fn: string) => [
    'attach',
    fn,
    '--layer-arn',
    LAYER,
    '--loki-url',
    'https://l',
    '--app',
    'a',
    '--env',
    'e',
    '--dry-run',
  ];

  it('fails with a clear message, before any AWS call, when no region can be found', async () => {
    const result = await runCli(attachArgs('orders'), { cwd: work.dir, env: {} });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no AWS region: pass --region');
    expect(result.regions).toEqual([]);
  });

  it('uses the region of a function ARN', async () => {
    const result = await runCli(attachArgs(functionArn('orders', 'ap-south-1')), {
      cwd: work.dir,
      env: { AWS_REGION: 'us-east-1' },
    });

    expect(result.code).toBe(0);
    expect(result.regions).toEqual(['ap-south-1']);
  });

  it('uses AWS_REGION, then AWS_DEFAULT_REGION', async () => {
    const both = await runCli(attachArgs('orders'), {
      cwd: work.dir,
      env: { AWS_REGION: 'us-east-2', AWS_DEFAULT_REGION: 'us-west-1' },
    });
    const fallback = await runCli(attachArgs('orders'), {
      cwd: work.dir,
      env: { AWS_DEFAULT_REGION: 'us-west-1' },
    });

    expect(both.regions).toEqual(['us-east-2']);
    expect(fallback.regions).toEqual(['us-west-1']);
  });

  it('refuses a --region that contradicts the function ARN', async () => {
    const result = await runCli(
      [...attachArgs(functionArn('orders', 'ap-south-1')), '--region', 'eu-west-1'],
      { cwd: work.dir },
    );

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--region eu-west-1 does not match the function ARN's region ap-south-1");
  });
});
