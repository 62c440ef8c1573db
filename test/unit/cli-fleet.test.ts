import {
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetLayerVersionByArnCommand,
  LambdaClient,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListTagsCommand,
  PublishVersionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SLIM_RUNTIMES } from '../../src/layer/targets.js';
import { VERSION } from '../../src/version.js';
import { functionArn, functionConfig, layerArn, REGION, runCli } from '../support/aws-cli.js';

const lambda = mockClient(LambdaClient);
const NEW_LAYER = layerArn('loki-lambda-slim-arm64', 4);
const LOKI_FLAGS = ['--loki-url', 'https://loki.example.com', '--app', 'shop', '--env', 'prod'];
const TAGS: Record<string, Record<string, string>> = {};

function attach(args: readonly string[], setup: Parameters<typeof runCli>[1] = {}) {
  return runCli(['attach', ...args, '--region', REGION, '--layer-arn', NEW_LAYER, ...LOKI_FLAGS], setup);
}

function updated(): string[] {
  return lambda
    .commandCalls(UpdateFunctionConfigurationCommand)
    .map((c) => c.args[0].input.FunctionName ?? '');
}

beforeEach(() => {
  lambda.reset();
  for (const key of Object.keys(TAGS)) delete TAGS[key];
  lambda.on(GetLayerVersionByArnCommand).resolves({
    LayerVersionArn: NEW_LAYER,
    CompatibleArchitectures: ['arm64'],
    CompatibleRuntimes: [...SLIM_RUNTIMES],
  });
  lambda.on(UpdateFunctionConfigurationCommand).resolves({});
  lambda.on(GetFunctionCommand).resolves({ Configuration: { LastUpdateStatus: 'Successful' } });
  lambda
    .on(GetFunctionConfigurationCommand)
    .callsFake(({ FunctionName }: { FunctionName: string }) => functionConfig(FunctionName));
  lambda.on(ListTagsCommand).callsFake(({ Resource }: { Resource: string }) => ({
    Tags: TAGS[Resource.split(':').at(-1) ?? ''] ?? {},
  }));
  lambda.on(ListAliasesCommand).resolves({ Aliases: [] });
  lambda.on(TagResourceCommand).resolves({});
  lambda.on(UntagResourceCommand).resolves({});
});

describe('attach across a fleet', () => {
  it('selects by tags (all must match) and leaves out --exclude-regex matches', async () => {
    lambda.on(ListFunctionsCommand).resolves({
      Functions: ['orders', 'orders-test', 'billing', 'search'].map((name) => ({
        FunctionName: name,
        FunctionArn: functionArn(name),
      })),
    });
    TAGS.orders = { team: 'payments', env: 'prod' };
    TAGS['orders-test'] = { team: 'payments', env: 'prod' };
    TAGS.billing = { team: 'payments', env: 'dev' };

    const result = await attach([
      '--tag',
      'team=payments',
      '--tag',
      'env=prod',
      '--exclude-regex',
      '-test$',
      '--yes',
    ]);

    expect(result.code).toBe(0);
    expect(updated()).toEqual(['orders']);
  });

  it('says how many functions --all selected in the prompt', async () => {
    lambda.on(ListFunctionsCommand).resolves({
      Functions: ['a', 'b', 'c'].map((name) => ({ FunctionName: name, FunctionArn: functionArn(name) })),
    });

    const result = await attach(['--all'], { interactive: true, answer: false });

    expect(result.prompts).toEqual([
      `Apply these changes to 3 functions (selected with --all: every function of ${REGION} that needs a change)? [y/N] `,
    ]);
    expect(updated()).toEqual([]);
  });

  it('refuses --exclude-regex alone: it selects nothing by itself', async () => {
    const result = await attach(['--exclude-regex', 'test', '--yes']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('name at least one function, or use --functions-regex, --tag or --all');
    expect(updated()).toEqual([]);
  });

  it('updates at most --concurrency functions at once and prints each result as it finishes', async () => {
    const names = Array.from({ length: 30 }, (_, i) => `fn-${String(i).padStart(2, '0')}`);
    let inFlight = 0;
    let maxInFlight = 0;
    lambda.on(UpdateFunctionConfigurationCommand).callsFake(async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight--;
      return {};
    });

    const result = await attach([...names, '--concurrency', '4', '--yes']);

    expect(result.code).toBe(0);
    expect(maxInFlight).toBe(4);
    expect(result.stdout.match(/^updated {4}fn-\d\d$/gm)).toHaveLength(30);
    expect(result.stdout).toContain('30 functions: 30 updated');
  });

  it('reads the functions --concurrency at a time, and plans them in the order given', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `fn-${String(i).padStart(2, '0')}`);
    let reading = 0;
    let mostReading = 0;
    lambda
      .on(GetFunctionConfigurationCommand)
      .callsFake(async ({ FunctionName }: { FunctionName: string }) => {
        mostReading = Math.max(mostReading, ++reading);
        // The first names answer last: the plans must still come in the order given.
        await new Promise((resolve) => setTimeout(resolve, 24 - 2 * names.indexOf(FunctionName)));
        reading--;
        return functionConfig(FunctionName);
      });

    const result = await attach([...names, '--concurrency', '4', '--dry-run']);

    expect(result.code).toBe(0);
    expect(mostReading).toBe(4);
    expect(result.stdout.match(/^fn-\d\d(?= \()/gm)).toEqual(names);
  });

  it('prints a result line when its update finishes, not in plan order at the end', async () => {
    lambda
      .on(UpdateFunctionConfigurationCommand)
      .callsFake(async ({ FunctionName }: { FunctionName: string }) => {
        await new Promise((resolve) => setTimeout(resolve, FunctionName === 'slow' ? 100 : 1));
        return {};
      });

    const result = await attach(['slow', 'fast', '--concurrency', '2', '--yes']);

    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n').filter((line) => line.startsWith('updated '));
    expect(lines).toEqual(['updated    fast', 'updated    slow']);
  });

  it('shows a progress line on a terminal and none in a log', async () => {
    const atTerminal = await attach(['a', 'b', '--yes'], { interactive: true });
    const inLog = await attach(['a', 'b', '--yes']);

    expect(atTerminal.stderr).toContain('2/2 done, 0 failed');
    expect(inLog.stderr).not.toContain('done, 0 failed');
  });

  it('reports a failure among many, keeps going and exits 1', async () => {
    lambda
      .on(UpdateFunctionConfigurationCommand, { FunctionName: 'b' })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));

    const result = await attach(['a', 'b', 'c', '--yes']);

    expect(result.code).toBe(1);
    expect(updated().sort()).toEqual(['a', 'b', 'c']);
    expect(result.stdout).toMatch(/^failed {5}b: /m);
    expect(result.stdout).toContain('3 functions: 2 updated, 0 unchanged, 0 refused, 1 failed');
  });

  it('tags each instrumented function with the CLI version, and detach removes the tag', async () => {
    await attach(['orders', '--yes']);

    expect(lambda.commandCalls(TagResourceCommand).map((c) => c.args[0].input)).toEqual([
      { Resource: functionArn('orders'), Tags: { 'loki-lambda:version': VERSION } },
    ]);

    TAGS.orders = { 'loki-lambda:version': VERSION };
    lambda.on(GetFunctionConfigurationCommand).resolves(
      functionConfig('orders', {
        Layers: [{ Arn: NEW_LAYER }],
        Environment: { Variables: { LOKI_ENDPOINT_URL: 'https://loki.example.com' } },
      }),
    );
    const detached = await runCli(['detach', 'orders', '--region', REGION, '--yes']);

    expect(detached.code).toBe(0);
    expect(lambda.commandCalls(UntagResourceCommand).map((c) => c.args[0].input)).toEqual([
      { Resource: functionArn('orders'), TagKeys: ['loki-lambda:version'] },
    ]);
  });

  it('warns in the plan when CloudFormation deploys the function and when aliases point at published versions', async () => {
    TAGS.orders = { 'aws:cloudformation:stack-name': 'shop-prod' };
    lambda.on(ListAliasesCommand).resolves({ Aliases: [{ Name: 'live', FunctionVersion: '7' }] });

    const result = await attach(['orders', '--dry-run', '--json']);

    const document = JSON.parse(result.stdout);
    expect(document.functions[0].notes).toEqual([
      expect.stringContaining(
        'deployed with CloudFormation (SAM, CDK or the Serverless Framework) (tag aws:cloudformation:stack-name=shop-prod)',
      ),
      expect.stringContaining('aliases on published versions (live -> 7)'),
    ]);
    expect(result.stderr).toContain('note: deployed with CloudFormation');
  });

  it('publishes a function version after the update and moves the alias to it', async () => {
    lambda.on(PublishVersionCommand).resolves({ Version: '8' });
    lambda.on(UpdateAliasCommand).resolves({});

    const result = await attach(['orders', '--publish-version', '--alias', 'live', '--yes']);

    expect(result.code).toBe(0);
    expect(lambda.commandCalls(PublishVersionCommand)[0]?.args[0].input.FunctionName).toBe('orders');
    expect(lambda.commandCalls(UpdateAliasCommand).map((c) => c.args[0].input)).toEqual([
      { FunctionName: 'orders', Name: 'live', FunctionVersion: '8' },
    ]);
    expect(result.stdout).toContain('published  orders version 8, alias live moved to it');
  });

  it('refuses --alias without --publish-version', async () => {
    const result = await attach(['orders', '--alias', 'live', '--yes']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('add --publish-version');
  });
});
