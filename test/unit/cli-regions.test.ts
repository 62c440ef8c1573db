import {
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListLayerVersionsCommand,
  ListTagsCommand,
  PublishLayerVersionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LayerBuilder } from '../../src/layer/builder.js';
import { fakeZip, functionArn, functionConfig, layerArn, makeWorkDir, runCli } from '../support/aws-cli.js';

const lambda = mockClient(LambdaClient);
const LOKI_FLAGS = ['--loki-url', 'https://loki.example.com', '--app', 'shop', '--env', 'prod'];
const NAMES = Array.from({ length: 100 }, (_, i) => `fn-${String(i).padStart(3, '0')}`);
let work: Awaited<ReturnType<typeof makeWorkDir>>;

/** The region of the client a request was sent with (each region has its own client). */
async function regionOf(getClient: () => LambdaClient): Promise<string> {
  return getClient().config.region();
}

/** Each update as [region of the client, function, layers it set]. */
async function updates(): Promise<Array<[string, string, string[]]>> {
  return Promise.all(
    lambda
      .commandCalls(UpdateFunctionConfigurationCommand)
      .map(
        async (call) =>
          [
            await (call.thisValue as LambdaClient).config.region(),
            call.args[0].input.FunctionName ?? '',
            call.args[0].input.Layers ?? [],
          ] as [string, string, string[]],
      ),
  );
}

beforeEach(async () => {
  lambda.reset();
  work = await makeWorkDir();
  lambda.on(ListFunctionsCommand).callsFake(async (_input, getClient) => {
    const region = await regionOf(getClient);
    return {
      Functions: NAMES.map((name) => ({ FunctionName: name, FunctionArn: functionArn(name, region) })),
    };
  });
  lambda
    .on(GetFunctionConfigurationCommand)
    .callsFake(async ({ FunctionName }: { FunctionName: string }, getClient) => {
      const region = await regionOf(getClient);
      const name = FunctionName.split(':').at(-1) ?? FunctionName;
      return functionConfig(name, { FunctionArn: functionArn(name, region) });
    });
  lambda.on(ListLayerVersionsCommand).resolves({ LayerVersions: [] });
  lambda.on(PublishLayerVersionCommand).callsFake(async (input: { LayerName: string }, getClient) => ({
    LayerVersionArn: layerArn(input.LayerName, 1, await regionOf(getClient)),
    Version: 1,
    CompatibleArchitectures: ['arm64'],
  }));
  lambda
    .on(UpdateFunctionConfigurationCommand)
    .callsFake(async ({ FunctionName }: { FunctionName: string }, getClient) => {
      if (FunctionName === 'fn-007' && (await regionOf(getClient)) === 'us-east-1')
        throw Object.assign(new Error('Rate exceeded for fn-007'), { name: 'AccessDeniedException' });
      return {};
    });
  lambda.on(GetFunctionCommand).resolves({ Configuration: { LastUpdateStatus: 'Successful' } });
  lambda.on(ListTagsCommand).resolves({ Tags: {} });
  lambda.on(ListAliasesCommand).resolves({ Aliases: [] });
  lambda.on(TagResourceCommand).resolves({});
  lambda.on(UntagResourceCommand).resolves({});
});

afterEach(async () => {
  await work.cleanup();
});

describe('attach, detach and upgrade in several regions', () => {
  it('attaches 200 functions over two regions, each with the layer published in its own region, and reports a failure', async () => {
    const result = await runCli(
      ['attach', '--all', '--region', 'eu-west-1,us-east-1', ...LOKI_FLAGS, '--yes', '--json'],
      { cwd: work.dir },
    );

    expect(result.code).toBe(1);
    expect(result.regions).toEqual(['eu-west-1', 'us-east-1']);
    // One layer version per region, published with that region's client (the regions publish at once).
    const published = await Promise.all(
      lambda
        .commandCalls(PublishLayerVersionCommand)
        .map(async (call) => [
          await (call.thisValue as LambdaClient).config.region(),
          call.args[0].input.LayerName,
        ]),
    );
    expect(published.sort()).toEqual([
      ['eu-west-1', 'loki-lambda-slim-arm64'],
      ['us-east-1', 'loki-lambda-slim-arm64'],
    ]);
    // Every function gets the layer of its own region.
    const done = await updates();
    expect(done).toHaveLength(200);
    for (const [region, , layers] of done)
      expect(layers).toEqual([layerArn('loki-lambda-slim-arm64', 1, region)]);

    const document = JSON.parse(result.stdout);
    expect(document.regions).toEqual(['eu-west-1', 'us-east-1']);
    expect(document.functions).toHaveLength(200);
    expect(document.summary).toMatchObject({ updated: 199, failed: 1 });
    const failed = document.functions.filter((f: { outcome: string }) => f.outcome === 'failed');
    expect(failed).toEqual([expect.objectContaining({ region: 'us-east-1', function: 'fn-007' })]);
    expect(document.layers.map((l: { region: string }) => l.region)).toEqual(['eu-west-1', 'us-east-1']);
  });

  it('applies the regions side by side, with at most --concurrency updates at once in all', async () => {
    const running = new Map<string, number>();
    let most = 0;
    let bothAtOnce = false;
    lambda.on(UpdateFunctionConfigurationCommand).callsFake(async (_input, getClient) => {
      const region = await regionOf(getClient);
      running.set(region, (running.get(region) ?? 0) + 1);
      const total = [...running.values()].reduce((sum, n) => sum + n, 0);
      most = Math.max(most, total);
      bothAtOnce ||= [...running.values()].every((n) => n > 0) && running.size === 2;
      await new Promise((resolve) => setTimeout(resolve, 2));
      running.set(region, (running.get(region) ?? 0) - 1);
      return {};
    });

    const result = await runCli(
      [
        'attach',
        ...NAMES.slice(0, 12),
        '--region',
        'eu-west-1,us-east-1',
        ...LOKI_FLAGS,
        '--concurrency',
        '4',
        '--yes',
      ],
      { cwd: work.dir },
    );

    expect(result.code).toBe(0);
    expect(most).toBe(4);
    expect(bothAtOnce).toBe(true);
    expect(result.stdout).toContain('all 2 regions: 24 functions: 24 updated');
  });

  it('reads and plans the regions side by side, building one at a time, and shows each one’s plans together', async () => {
    const reads: string[] = [];
    lambda
      .on(GetFunctionConfigurationCommand)
      .callsFake(async ({ FunctionName }: { FunctionName: string }, getClient) => {
        const region = await regionOf(getClient);
        reads.push(region);
        await new Promise((resolve) => setTimeout(resolve, 1));
        return functionConfig(FunctionName, { FunctionArn: functionArn(FunctionName, region) });
      });
    let building = 0;
    let mostBuilding = 0;
    const buildLayers: LayerBuilder = async ({ arches, flavors }) => {
      mostBuilding = Math.max(mostBuilding, ++building);
      await new Promise((resolve) => setTimeout(resolve, 5));
      building--;
      return Promise.all(
        flavors.flatMap((flavor) =>
          arches.map(async (arch) => ({ ...(await fakeZip(work.dir, flavor, arch)), nodeVersion: null })),
        ),
      );
    };

    const result = await runCli(
      ['attach', ...NAMES.slice(0, 12), '--region', 'eu-west-1,us-east-1', ...LOKI_FLAGS, '--dry-run'],
      { cwd: work.dir, deps: { buildLayers } },
    );

    expect(result.code).toBe(0);
    // us-east-1 did not wait for eu-west-1's reads to end.
    expect(reads.indexOf('us-east-1')).toBeLessThan(reads.lastIndexOf('eu-west-1'));
    expect(mostBuilding).toBe(1);
    const eu = result.stdout.indexOf('== eu-west-1 ==');
    const us = result.stdout.indexOf('== us-east-1 ==');
    const euPlans = result.stdout.slice(eu, us);
    expect(euPlans.match(/^fn-\d{3} \(/gm)).toHaveLength(12);
    expect(result.stdout.slice(us).match(/^fn-\d{3} \(/gm)).toHaveLength(12);
  });

  it('shows every region’s plan under its name and asks once for the whole run', async () => {
    const result = await runCli(
      ['attach', 'fn-001', 'fn-002', '--region', 'eu-west-1', '--region', 'us-east-1', ...LOKI_FLAGS],
      {
        cwd: work.dir,
        interactive: true,
        answer: true,
      },
    );

    expect(result.prompts).toEqual([
      'Apply these changes to 4 functions in 2 regions (eu-west-1, us-east-1)? [y/N] ',
    ]);
    expect(result.code).toBe(0);
    const eu = result.stdout.indexOf('== eu-west-1 ==');
    const us = result.stdout.indexOf('== us-east-1 ==');
    expect(eu).toBeGreaterThanOrEqual(0);
    expect(us).toBeGreaterThan(eu);
    expect(result.stdout).toContain('eu-west-1: 2 functions: 2 updated');
    expect(result.stdout).toContain('us-east-1: 2 functions: 2 updated');
    expect(result.stdout).toContain('all 2 regions: 4 functions: 4 updated');
  });

  it('detaches function ARNs of different regions, each with the client of its region', async () => {
    lambda
      .on(GetFunctionConfigurationCommand)
      .callsFake(async ({ FunctionName }: { FunctionName: string }, getClient) => {
        const region = await regionOf(getClient);
        const name = FunctionName.split(':').at(-1) ?? FunctionName;
        return functionConfig(name, {
          FunctionArn: functionArn(name, region),
          Layers: [{ Arn: layerArn('loki-lambda-slim-arm64', 3, region) }],
          Environment: { Variables: { LOKI_URL: 'https://loki.example.com', APP_MODE: 'prod' } },
        });
      });

    const result = await runCli(
      ['detach', functionArn('orders', 'eu-west-1'), functionArn('billing', 'ap-southeast-2'), '--yes'],
      { cwd: work.dir },
    );

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.regions).toEqual(['eu-west-1', 'ap-southeast-2']);
    expect(
      (await updates()).map(([region, name, layers]) => [region, name.split(':').at(-1), layers]),
    ).toEqual([
      ['eu-west-1', 'orders', []],
      ['ap-southeast-2', 'billing', []],
    ]);
  });

  it('goes on with the other regions when one cannot be listed, and exits 1', async () => {
    lambda.on(ListFunctionsCommand).callsFake(async (_input, getClient) => {
      const region = await regionOf(getClient);
      if (region === 'eu-west-1')
        throw Object.assign(new Error('not authorized to perform lambda:ListFunctions'), {
          name: 'AccessDeniedException',
        });
      return {
        Functions: NAMES.slice(0, 3).map((name) => ({
          FunctionName: name,
          FunctionArn: functionArn(name, region),
        })),
      };
    });

    const result = await runCli(['detach', '--all', '--region', 'eu-west-1,us-east-1', '--yes', '--json'], {
      cwd: work.dir,
    });

    expect(result.code).toBe(1);
    const document = JSON.parse(result.stdout);
    expect(document.regionErrors).toEqual([
      { region: 'eu-west-1', error: expect.stringContaining('lambda:ListFunctions') },
    ]);
    expect(document.functions.map((f: { region: string }) => f.region)).toEqual([
      'us-east-1',
      'us-east-1',
      'us-east-1',
    ]);
    expect(result.stderr).toContain('eu-west-1: ');
  });

  it('upgrades in two regions to each region’s own new layer, and reports a region whose layer cannot be published', async () => {
    lambda
      .on(GetFunctionConfigurationCommand)
      .callsFake(async ({ FunctionName }: { FunctionName: string }, getClient) => {
        const region = await regionOf(getClient);
        const name = FunctionName.split(':').at(-1) ?? FunctionName;
        return functionConfig(name, {
          FunctionArn: functionArn(name, region),
          Layers: [{ Arn: layerArn('loki-lambda-slim-arm64', 3, region) }],
        });
      });
    lambda.on(PublishLayerVersionCommand).callsFake(async (input: { LayerName: string }, getClient) => {
      const region = await regionOf(getClient);
      if (region === 'ap-southeast-2')
        throw Object.assign(new Error('not authorized to perform lambda:PublishLayerVersion'), {
          name: 'AccessDeniedException',
        });
      return {
        LayerVersionArn: layerArn(input.LayerName, 4, region),
        Version: 4,
        CompatibleArchitectures: ['arm64'],
      };
    });

    const result = await runCli(['upgrade', 'orders', '--region', 'eu-west-1,ap-southeast-2', '--yes'], {
      cwd: work.dir,
    });

    expect(result.code).toBe(1);
    expect(await updates()).toEqual([
      ['eu-west-1', 'orders', [layerArn('loki-lambda-slim-arm64', 4, 'eu-west-1')]],
    ]);
    expect(result.stdout).toContain('eu-west-1: 1 function: 1 updated');
    expect(result.stdout).toContain(
      'ap-southeast-2: 1 function: 0 updated, 0 unchanged, 0 refused, 1 failed',
    );
    expect(result.stdout).toContain('its layer could not be published in ap-southeast-2');
    // Each region asks the builder for its zip (the real builder reuses the cache directory's zip).
    expect(result.builds).toHaveLength(2);
  });

  it('refuses --layer-arn with several regions, before calling AWS', async () => {
    const result = await runCli([
      'attach',
      'orders',
      '--region',
      'eu-west-1,us-east-1',
      '--layer-arn',
      layerArn('loki-lambda-slim-arm64', 4),
      ...LOKI_FLAGS,
      '--yes',
    ]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--layer-arn names a layer of one region');
    expect(lambda.calls()).toHaveLength(0);
  });

  it('keeps refusing one --region that disagrees with a function ARN', async () => {
    const result = await runCli([
      'detach',
      functionArn('orders', 'us-east-1'),
      '--region',
      'eu-west-1',
      '--yes',
    ]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("does not match the function ARN's region");
    expect(lambda.calls()).toHaveLength(0);
  });
});
