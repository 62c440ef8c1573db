import {
  GetFunctionConfigurationCommand,
  type GetFunctionConfigurationCommandOutput,
  LambdaClient,
  ListFunctionsCommand,
  ListLayerVersionsCommand,
  ListTagsCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { functionArn, functionConfig, layerArn, REGION, runCli } from '../support/aws-cli.js';

const lambda = mockClient(LambdaClient);
const PASSWORD = 'S3CRET-pa55word';
const SETTINGS = {
  LOKI_ENDPOINT_URL: 'https://loki.example.com',
  LOKI_APPLICATION_LABEL: 'shop',
  LOKI_ENV_LABEL: 'prod',
};

/** A mixed fleet: outdated, invalid, not instrumented, and a container image (not supported). */
const FLEET: Record<string, GetFunctionConfigurationCommandOutput> = {
  orders: functionConfig('orders', {
    Runtime: 'python3.13',
    Layers: [{ Arn: layerArn('loki-lambda-standalone-arm64', 7) }],
    Environment: {
      Variables: {
        ...SETTINGS,
        LOKI_ENDPOINT_URL: `https://loki.example.com/loki/api/v1/push?api_key=${PASSWORD}`,
      },
    },
  }),
  payments: functionConfig('payments', {
    Layers: [{ Arn: layerArn('loki-lambda-slim-arm64', 3) }],
    Environment: {
      Variables: { ...SETTINGS, LOKI_FLUSH_STRATEGY: 'periodic', LOKI_FLUSH_INTERVAL_MS: '50' },
    },
  }),
  legacy: functionConfig('legacy', { Runtime: 'python3.13', Layers: [] }),
  images: functionConfig('images', { Runtime: undefined, PackageType: 'Image', Layers: [] }),
};

beforeEach(() => {
  lambda.reset();
  lambda.on(ListFunctionsCommand).resolves({
    Functions: Object.keys(FLEET).map((name) => ({ FunctionName: name, FunctionArn: functionArn(name) })),
  });
  lambda
    .on(GetFunctionConfigurationCommand)
    .callsFake(async ({ FunctionName }: { FunctionName: string }) => FLEET[FunctionName]);
  lambda.on(ListLayerVersionsCommand).resolves({ LayerVersions: [] });
  lambda.on(ListLayerVersionsCommand, { LayerName: 'loki-lambda-standalone-arm64' }).resolves({
    LayerVersions: [{ Version: 9, LayerVersionArn: layerArn('loki-lambda-standalone-arm64', 9) }],
  });
  lambda
    .on(ListLayerVersionsCommand, { LayerName: 'loki-lambda-slim-arm64' })
    .resolves({ LayerVersions: [{ Version: 3, LayerVersionArn: layerArn('loki-lambda-slim-arm64', 3) }] });
});

describe('loki-lambda status', () => {
  it('prints one line per function of the region and a summary, and exits 0 without --fail-on', async () => {
    const result = await runCli(['status', '--region', REGION]);

    expect(result.code).toBe(0);
    const line = (name: string) =>
      result.stdout.split('\n').find((l) => l.trimStart().startsWith(`${name} `));
    expect(line('orders')).toMatch(
      /instrumented {2}v7 standalone {2}outdated \(v9 published\) {2}flush auto/,
    );
    expect(line('orders')).toContain('https://loki.example.com/loki/api/v1/push?api_key=****');
    expect(line('orders')).toContain('settings valid');
    expect(line('payments')).toMatch(/v3 slim {2}up to date {2}flush periodic/);
    expect(line('payments')).toContain('settings INVALID: LOKI_FLUSH_INTERVAL_MS');
    expect(line('legacy')).toContain('not instrumented  python3.13 arm64');
    expect(line('images')).toContain('(not supported)');
    expect(result.stdout).toContain(
      '4 functions: 2 instrumented (1 outdated, 1 with invalid settings), 1 not instrumented, 1 not supported, 0 unreadable',
    );
    expect(result.stdout + result.stderr).not.toContain(PASSWORD.slice(0, 8));
  });

  it.each([
    ['outdated', '1 outdated'],
    ['invalid', '1 invalid'],
    ['missing', '1 missing'],
  ])('exits 1 with --fail-on %s and says why', async (condition, said) => {
    const result = await runCli(['status', '--region', REGION, '--fail-on', condition]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`--fail-on: ${said}`);
  });

  it('exits 0 with --fail-on outdated when every instrumented function is current', async () => {
    const result = await runCli([
      'status',
      'payments',
      'legacy',
      '--region',
      REGION,
      '--fail-on',
      'outdated',
    ]);

    expect(result.code).toBe(0);
    expect(lambda.commandCalls(ListFunctionsCommand)).toHaveLength(0);
  });

  it('--json carries every function, the summary and the failed conditions, without secrets', async () => {
    const result = await runCli(['status', '--region', REGION, '--json', '--fail-on', 'outdated,missing']);

    const document = JSON.parse(result.stdout);
    expect(document.failedOn).toEqual(['outdated', 'missing']);
    expect(document.summary).toMatchObject({ functions: 4, instrumented: 2, outdated: 1, missing: 1 });
    expect(document.functions.find((f: { name: string }) => f.name === 'orders')).toMatchObject({
      state: 'instrumented',
      layerVersion: 7,
      newerVersion: 9,
      outdated: true,
      flavor: 'standalone',
      lokiUrl: 'https://loki.example.com/loki/api/v1/push?api_key=****',
      valid: true,
    });
    expect(result.stdout).not.toContain(PASSWORD.slice(0, 8));
  });

  it('selects by tags (all must match) and leaves out --exclude-regex matches', async () => {
    lambda.on(ListTagsCommand).callsFake(async ({ Resource }: { Resource: string }) => ({
      Tags:
        Resource.endsWith(':orders') || Resource.endsWith(':legacy') ? { team: 'payments', tier: 'web' } : {},
    }));

    const result = await runCli(
      [
        'status',
        '--region',
        REGION,
        '--tag',
        'team=payments',
        '--tag',
        'tier=web',
        '--exclude-regex',
        '^leg',
      ],
      {},
    );

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('1 functions: 1 instrumented');
    expect(result.stdout).toMatch(/^\s+orders\s/m);
  });

  it('reads a fleet of 200 functions in two regions, each region with its own client, within the concurrency limit', async () => {
    const names = Array.from({ length: 100 }, (_, i) => `fn-${String(i).padStart(3, '0')}`);
    lambda.on(ListFunctionsCommand).resolves({
      Functions: names.map((name) => ({ FunctionName: name })),
    });
    let inFlight = 0;
    let maxInFlight = 0;
    lambda
      .on(GetFunctionConfigurationCommand)
      .callsFake(async ({ FunctionName }: { FunctionName: string }) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight--;
        return functionConfig(FunctionName, { Layers: [{ Arn: layerArn('loki-lambda-slim-arm64', 3) }] });
      });

    const result = await runCli([
      'status',
      '--region',
      'eu-west-1,us-east-1',
      '--concurrency',
      '5',
      '--json',
      '--fail-on',
      'outdated',
    ]);

    expect(result.code).toBe(0); // every function has the newest layer (its settings are invalid, not gated)
    const document = JSON.parse(result.stdout);
    expect(result.regions).toEqual(['eu-west-1', 'us-east-1']);
    expect(document.summary.functions).toBe(200);
    expect(new Set(document.functions.map((f: { region: string }) => f.region))).toEqual(
      new Set(['eu-west-1', 'us-east-1']),
    );
    expect(maxInFlight).toBeLessThanOrEqual(5);
    expect(maxInFlight).toBeGreaterThan(1);
  });

  it('lists its regions side by side, and prints them in the order given', async () => {
    // The first region's listing waits (up to 2 s) for the second's: they overlap only when listed at once.
    let firstWaiting = false;
    let overlapped = false;
    let secondArrived: () => void = () => undefined;
    const second = new Promise<void>((resolve) => {
      secondArrived = resolve;
    });
    let calls = 0;
    lambda.on(ListFunctionsCommand).callsFake(async () => {
      calls++;
      if (calls === 1) {
        firstWaiting = true;
        await Promise.race([second, new Promise((resolve) => setTimeout(resolve, 2_000))]);
        firstWaiting = false;
      } else {
        overlapped = firstWaiting;
        secondArrived();
      }
      return { Functions: [{ FunctionName: 'orders', FunctionArn: functionArn('orders') }] };
    });

    const result = await runCli(['status', '--region', 'eu-west-1,us-east-1', '--json']);

    expect(overlapped).toBe(true);
    const document = JSON.parse(result.stdout);
    expect(document.functions.map((f: { region: string }) => f.region)).toEqual(['eu-west-1', 'us-east-1']);
  });

  it('refuses a region that is not a region name, before calling AWS', async () => {
    const result = await runCli(['status', '--region', 'eu-west-1,europe']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--region is "europe", which is not an AWS region name');
    expect(lambda.calls()).toHaveLength(0);
  });

  it('reports a function it cannot read and exits 1', async () => {
    lambda
      .on(GetFunctionConfigurationCommand, { FunctionName: 'gone' })
      .rejects(Object.assign(new Error('Function not found: gone'), { name: 'ResourceNotFoundException' }));

    const result = await runCli(['status', 'gone', 'legacy', '--region', REGION]);

    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/gone\s+cannot read it:/);
  });
});
