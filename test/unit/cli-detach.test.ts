import {
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { functionConfig, layerArn, REGION, runCli } from '../support/aws-cli.js';

const lambda = mockClient(LambdaClient);

beforeEach(() => {
  lambda.reset();
  lambda.on(UpdateFunctionConfigurationCommand).resolves({});
  lambda.on(GetFunctionCommand).resolves({ Configuration: { LastUpdateStatus: 'Successful' } });
});

describe('loki-lambda detach', () => {
  it('removes our layer and the LOKI_* variables and leaves everything else as it was', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(
      functionConfig('orders', {
        Layers: [{ Arn: layerArn('insights', 12) }, { Arn: layerArn('loki-lambda-standalone-arm64', 3) }],
        Environment: {
          Variables: {
            APP_MODE: 'prod',
            LOKI_ENDPOINT_URL: 'https://loki.example.com',
            LOKI_BEARER_TOKEN: 'secret-1',
          },
        },
      }),
    );

    const result = await runCli(['detach', 'orders', '--region', REGION, '--yes']);

    expect(result.code).toBe(0);
    expect(lambda.commandCalls(UpdateFunctionConfigurationCommand).map((c) => c.args[0].input)).toEqual([
      {
        FunctionName: 'orders',
        RevisionId: 'rev-orders',
        Layers: [layerArn('insights', 12)],
        Environment: { Variables: { APP_MODE: 'prod' } },
      },
    ]);
    expect(result.stdout).toContain(`    - ${layerArn('loki-lambda-standalone-arm64', 3)}`);
    expect(result.stdout).toContain('    - LOKI_BEARER_TOKEN');
    expect(result.stdout).not.toContain('secret-1');
    expect(result.stdout).toContain('updated    orders');
  });

  it('matches our layer by the --layer-name given', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(
      functionConfig('orders', {
        Layers: [{ Arn: layerArn('acme-loki-slim-arm64', 1) }, { Arn: layerArn('insights', 1) }],
      }),
    );

    await runCli(['detach', 'orders', '--region', REGION, '--layer-name', 'acme-loki', '--yes']);

    expect(lambda.commandCalls(UpdateFunctionConfigurationCommand)[0]?.args[0].input.Layers).toEqual([
      layerArn('insights', 1),
    ]);
  });

  it('says there is nothing to change when the function has neither the layer nor LOKI_* variables', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(functionConfig('orders'));

    const result = await runCli(['detach', 'orders', '--region', REGION]);

    expect(result.code).toBe(0);
    expect(lambda.commandCalls(UpdateFunctionConfigurationCommand)).toHaveLength(0);
    expect(result.stdout).toContain('unchanged  orders (nothing to change)');
  });

  it('changes nothing in a dry run', async () => {
    lambda
      .on(GetFunctionConfigurationCommand)
      .resolves(functionConfig('orders', { Layers: [{ Arn: layerArn('loki-lambda-slim-arm64', 3) }] }));

    const result = await runCli(['detach', 'orders', '--region', REGION, '--dry-run']);

    expect(result.code).toBe(0);
    expect(lambda.commandCalls(UpdateFunctionConfigurationCommand)).toHaveLength(0);
    expect(result.stdout).toContain('1 function: 1 would change');
  });
});
