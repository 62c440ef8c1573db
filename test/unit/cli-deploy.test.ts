import {
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetLayerVersionCommand,
  LambdaClient,
  ListLayerVersionsCommand,
  PublishLayerVersionCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SLIM_RUNTIMES, STANDALONE_RUNTIMES } from '../../src/layer/targets.js';
import { fakeZip, functionConfig, layerArn, makeWorkDir, REGION, runCli } from '../support/aws-cli.js';

const lambda = mockClient(LambdaClient);
const LOKI_FLAGS = ['--loki-url', 'https://loki.example.com', '--app', 'shop', '--env', 'prod'];
let work: Awaited<ReturnType<typeof makeWorkDir>>;

beforeEach(async () => {
  lambda.reset();
  work = await makeWorkDir();
  lambda.on(ListLayerVersionsCommand).resolves({ LayerVersions: [] });
  lambda.on(PublishLayerVersionCommand).callsFake((input: { LayerName: string }) => ({
    LayerVersionArn: layerArn(input.LayerName, 1),
    Version: 1,
    CompatibleArchitectures: ['arm64'],
  }));
  lambda.on(UpdateFunctionConfigurationCommand).resolves({});
  lambda.on(GetFunctionCommand).resolves({ Configuration: { LastUpdateStatus: 'Successful' } });
});

afterEach(async () => {
  await work.cleanup();
});

describe('loki-lambda deploy', () => {
  it('builds the slim flavor for a Node.js function’s arch, publishes it and attaches it', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(functionConfig('orders'));

    const result = await runCli(['deploy', 'orders', '--region', REGION, ...LOKI_FLAGS, '--yes'], {
      cwd: work.dir,
    });

    expect(result.code).toBe(0);
    expect(result.builds).toEqual([{ arches: ['arm64'], flavors: ['slim'] }]);
    const published = lambda.commandCalls(PublishLayerVersionCommand).map((c) => c.args[0].input);
    expect(published.map((p) => [p.LayerName, p.CompatibleRuntimes])).toEqual([
      ['loki-lambda-slim-arm64', [...SLIM_RUNTIMES]],
    ]);
    expect(lambda.commandCalls(UpdateFunctionConfigurationCommand)[0]?.args[0].input.Layers).toEqual([
      layerArn('loki-lambda-slim-arm64', 1),
    ]);
    expect(result.stdout).toContain(`published  ${layerArn('loki-lambda-slim-arm64', 1)}`);
    expect(result.stdout).toContain('updated    orders');
  });

  it('chooses the standalone flavor for a Python function on x86_64 and reuses an identical version', async () => {
    lambda
      .on(GetFunctionConfigurationCommand)
      .resolves(functionConfig('reports', { Runtime: 'python3.12', Architectures: ['x86_64'] }));
    const zip = await fakeZip(work.dir, 'standalone', 'x86_64');
    lambda.on(ListLayerVersionsCommand).resolves({
      LayerVersions: [
        { Version: 9, CompatibleArchitectures: ['x86_64'], CompatibleRuntimes: [...STANDALONE_RUNTIMES] },
      ],
    });
    lambda.on(GetLayerVersionCommand).resolves({
      LayerVersionArn: layerArn('loki-lambda-standalone-x86_64', 9),
      Content: { CodeSha256: zip.sha256Base64 },
      CompatibleArchitectures: ['x86_64'],
      CompatibleRuntimes: [...STANDALONE_RUNTIMES],
    });

    const result = await runCli(['deploy', 'reports', '--region', REGION, ...LOKI_FLAGS, '--yes'], {
      cwd: work.dir,
    });

    expect(result.code).toBe(0);
    expect(result.builds).toEqual([{ arches: ['x86_64'], flavors: ['standalone'] }]);
    expect(lambda.commandCalls(PublishLayerVersionCommand)).toHaveLength(0);
    expect(lambda.commandCalls(UpdateFunctionConfigurationCommand)[0]?.args[0].input.Layers).toEqual([
      layerArn('loki-lambda-standalone-x86_64', 9),
    ]);
    expect(result.stdout).toContain('reused');
  });

  it('gives an Amazon Linux 2 function the al2 flavor (Bun), built and published for its architecture', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(functionConfig('legacy', { Runtime: 'python3.11' }));

    const result = await runCli(['deploy', 'legacy', '--region', REGION, ...LOKI_FLAGS, '--yes'], {
      cwd: work.dir,
    });

    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.builds).toEqual([{ arches: ['arm64'], flavors: ['al2'] }]);
    expect(lambda.commandCalls(PublishLayerVersionCommand)[0]?.args[0].input).toMatchObject({
      LayerName: 'loki-lambda-al2-arm64',
      CompatibleRuntimes: expect.arrayContaining(['python3.11', 'java17', 'provided.al2']),
    });
    expect(lambda.commandCalls(UpdateFunctionConfigurationCommand)[0]?.args[0].input.Layers).toEqual([
      expect.stringContaining(':layer:loki-lambda-al2-arm64:'),
    ]);
  });

  it('accepts a Lambda Managed Instances function and picks the flavor from its runtime', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(
      functionConfig('fleet', {
        Runtime: 'python3.13',
        CapacityProviderConfig: {
          LambdaManagedInstancesCapacityProviderConfig: {
            CapacityProviderArn: 'arn:aws:lambda:eu-west-1:123456789012:capacity-provider:fleet',
          },
        },
      }),
    );

    const result = await runCli(['deploy', 'fleet', '--region', REGION, ...LOKI_FLAGS, '--yes'], {
      cwd: work.dir,
    });

    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.builds).toEqual([{ arches: ['arm64'], flavors: ['standalone'] }]);
  });

  it('in a dry run builds and looks, but publishes and changes nothing', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(functionConfig('orders'));

    const result = await runCli(['deploy', 'orders', '--region', REGION, ...LOKI_FLAGS, '--dry-run'], {
      cwd: work.dir,
    });

    expect(result.code).toBe(0);
    expect(lambda.commandCalls(PublishLayerVersionCommand)).toHaveLength(0);
    expect(lambda.commandCalls(UpdateFunctionConfigurationCommand)).toHaveLength(0);
    expect(result.stdout).toContain('would publish a new version (slim, arm64');
    expect(result.stdout).toContain('    + loki-lambda-slim-arm64:<new version>');
  });
});
