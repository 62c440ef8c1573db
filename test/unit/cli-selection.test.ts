import {
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetLayerVersionByArnCommand,
  LambdaClient,
  ListFunctionsCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SLIM_RUNTIMES } from '../../src/layer/targets.js';
import { type CliSetup, functionArn, functionConfig, layerArn, REGION, runCli } from '../support/aws-cli.js';

const lambda = mockClient(LambdaClient);
const NEW_LAYER = layerArn('loki-lambda-slim-arm64', 4);
const LOKI_FLAGS = ['--loki-url', 'https://loki.example.com', '--app', 'shop', '--env', 'prod'];

function attach(args: readonly string[], setup: CliSetup = {}) {
  return runCli(['attach', ...args, '--region', REGION, '--layer-arn', NEW_LAYER, ...LOKI_FLAGS], setup);
}

function updatedFunctions(): string[] {
  return lambda
    .commandCalls(UpdateFunctionConfigurationCommand)
    .map((call) => call.args[0].input.FunctionName ?? '');
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
  lambda
    .on(GetFunctionConfigurationCommand)
    .callsFake((input: { FunctionName: string }) =>
      functionConfig(input.FunctionName.split(':').at(-1) ?? input.FunctionName),
    );
});

afterEach(() => {
  lambda.reset();
});

describe('attach: which functions, and with what settings', () => {
  it('refuses a function whose merged settings the extension would reject (its own LOKI_FLUSH_INTERVAL_MS=50), changing nothing', async () => {
    lambda
      .on(GetFunctionConfigurationCommand)
      .resolves(functionConfig('orders', { Environment: { Variables: { LOKI_FLUSH_INTERVAL_MS: '50' } } }));

    const result = await attach(['orders', '--yes']);

    expect(result.code).toBe(1);
    expect(updatedFunctions()).toEqual([]);
    expect(result.stdout).not.toContain('updated    orders');
    expect(result.stdout).toContain('LOKI_FLUSH_INTERVAL_MS');
    expect(result.stdout).toContain('refused    orders');
  });

  it('plans and updates once a function named both by its name and by its ARN', async () => {
    const result = await attach(['orders', functionArn('orders'), '--yes', '--json']);

    expect(result.code).toBe(0);
    expect(updatedFunctions()).toEqual(['orders']);
    const document = JSON.parse(result.stdout) as { functions: unknown[]; summary: { updated: number } };
    expect(document.functions).toHaveLength(1);
    expect(document.summary.updated).toBe(1);
  });

  it('plans once a function named and also matched by --functions-regex', async () => {
    lambda.on(ListFunctionsCommand).resolves({ Functions: [{ FunctionName: 'orders' }] });

    const result = await attach([functionArn('orders'), '--functions-regex', '^ord', '--yes']);

    expect(result.code).toBe(0);
    expect(updatedFunctions()).toEqual([functionArn('orders')]);
    expect(result.stdout).toContain('1 function: 1 updated');
  });

  it('stops an exponential --functions-regex with a message saying what to fix, changing nothing', async () => {
    lambda.on(ListFunctionsCommand).resolves({
      Functions: [{ FunctionName: 'orders' }, { FunctionName: `${'a'.repeat(48)}!` }],
    });

    // A 50 ms limit instead of 1 s: without any, this pattern would run for ages on the 49-character name.
    const result = await attach(['--functions-regex', '^(a+)+$', '--yes'], {
      deps: { namePatternBudgetMs: 50 },
    });

    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('--functions-regex ^(a+)+$ did not finish matching the function names');
    expect(result.stderr).toContain('simplify it');
    expect(updatedFunctions()).toEqual([]);
  });

  it.each([
    ['text', []],
    ['--json', ['--json']],
  ])(
    'on Ctrl-C while applying, finishes the update in progress, starts no other, reports what was updated and exits 130 (%s)',
    async (_output, json) => {
      const interrupt = new AbortController();
      lambda.on(UpdateFunctionConfigurationCommand).callsFake(() => {
        interrupt.abort();
        return {};
      });

      // One update at a time, so that the interruption falls between two of them.
      const result = await attach(['orders', 'payments', 'billing', '--yes', '--concurrency', '1', ...json], {
        interrupt,
      });

      expect(result.code).toBe(130);
      expect(updatedFunctions()).toEqual(['orders']);
      expect(result.stderr).toContain('interrupted: finishing the update in progress');
      if (json.length === 0) {
        expect(result.stdout).toContain('updated    orders');
        expect(result.stdout).toContain('stopped    payments (not changed: interrupted by Ctrl-C)');
        expect(result.stdout).toContain(
          '3 functions: 1 updated, 0 unchanged, 0 refused, 0 failed, 2 not changed',
        );
      } else {
        const document = JSON.parse(result.stdout) as {
          functions: Array<{ function: string; outcome: string }>;
          summary: Record<string, number>;
        };
        expect(document.functions.map((fn) => [fn.function, fn.outcome])).toEqual([
          ['orders', 'updated'],
          ['payments', 'interrupted'],
          ['billing', 'interrupted'],
        ]);
        expect(document.summary).toMatchObject({ updated: 1, interrupted: 2 });
      }
    },
  );
});
