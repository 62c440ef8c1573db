import { LambdaClient, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { layerDescription } from '../../src/aws/layer-identity.js';
import { SLIM_RUNTIMES, STANDALONE_RUNTIMES } from '../../src/layer/targets.js';
import { VERSION } from '../../src/version.js';
import { type CliSetup, fakeZip, makeWorkDir, REGION, runCli } from '../support/aws-cli.js';
import { FakeLambda } from '../support/fake-lambda.js';

/** The AWS commands against a stateful fake of Lambda (test/support/fake-lambda.ts), as a team meets them. */
const lambda = mockClient(LambdaClient);
let fake: FakeLambda;
let work: Awaited<ReturnType<typeof makeWorkDir>>;

const LOKI_FLAGS = ['--loki-url', 'https://loki.example.com', '--app', 'shop', '--env', 'prod'];
const LOKI_ENV = {
  LOKI_ENDPOINT_URL: 'https://loki.example.com',
  LOKI_APPLICATION_LABEL: 'shop',
  LOKI_ENV_LABEL: 'prod',
};
const MiB = 1024 * 1024;

function cli(argv: readonly string[], setup: CliSetup = {}) {
  return runCli([...argv, '--region', REGION], {
    cwd: work.dir,
    ...setup,
    deps: { sleep: fake.sleep, ...setup.deps },
  });
}

/** A version of the extension as `publish` writes it: our description, the zip of this build. */
async function publishedSlimArm64(layerName = 'loki-lambda-slim-arm64', unzippedBytes = 1 * MiB) {
  const zip = await fakeZip(work.dir, 'slim', 'arm64');
  return fake.addLayerVersion(layerName, {
    zip: Buffer.from(`layer slim arm64 ${zip.sizeBytes}`),
    description: layerDescription(VERSION, 'slim', 'arm64'),
    compatibleRuntimes: SLIM_RUNTIMES,
    compatibleArchitectures: ['arm64'],
    unzippedBytes,
  });
}

beforeEach(async () => {
  lambda.reset();
  fake = new FakeLambda().install(lambda);
  work = await makeWorkDir();
});

afterEach(async () => {
  await work.cleanup();
});

describe('an update already in progress (must fix 1)', () => {
  it('waits for it to finish before planning, then applies on the first try', async () => {
    const layer = await publishedSlimArm64();
    fake.addFunction('orders');
    fake.startOutsideUpdate('orders', (fn) => {
      fn.env.RELEASE = '42';
    });

    const result = await cli(['attach', 'orders', '--layer-arn', layer, ...LOKI_FLAGS, '--yes']);

    expect(result.code).toBe(0);
    expect(result.stderr).toContain('orders: an update of it is in progress; waiting for it to finish');
    expect(fake.calls('UpdateFunctionConfiguration')).toHaveLength(1);
    const fn = fake.functions.get('orders');
    expect(fn?.layers).toEqual([layer]);
    expect(fn?.env).toEqual({ APP_MODE: 'prod', RELEASE: '42', ...LOKI_ENV });
    expect(result.stdout).toContain('updated    orders');
  });

  it('re-reads and re-plans when the function changed after it was planned, and shows the new plan', async () => {
    const layer = await publishedSlimArm64();
    fake.addFunction('orders');

    // Between the plan and the update, a CI job sets LOKI_ENV_LABEL and its update completes.
    const result = await cli(['attach', 'orders', '--layer-arn', layer, ...LOKI_FLAGS], {
      interactive: true,
      deps: {
        confirm: async () => {
          fake.startOutsideUpdate('orders', (fn) => {
            fn.env.LOKI_ENV_LABEL = 'staging';
          });
          return true;
        },
      },
    });

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('orders changed while it was being updated; the new plan:');
    expect(result.stdout).toContain('~ LOKI_ENV_LABEL: staging -> prod');
    expect(fake.functions.get('orders')?.env).toEqual({ APP_MODE: 'prod', ...LOKI_ENV });
    expect(result.stdout).toContain('updated    orders');
  });

  it('re-plans after a RevisionId mismatch (the other update already completed)', async () => {
    const layer = await publishedSlimArm64();
    fake.addFunction('orders');

    const result = await cli(['attach', 'orders', '--layer-arn', layer, ...LOKI_FLAGS], {
      interactive: true,
      deps: {
        confirm: async () => {
          fake.startOutsideUpdate('orders', (fn) => {
            fn.env.RELEASE = '43';
          });
          for (let i = 0; i < 5; i++) fake.tick();
          return true;
        },
      },
    });

    expect(result.code).toBe(0);
    expect(result.stderr).toContain('orders: it changed after it was planned (RevisionId)');
    expect(fake.functions.get('orders')?.env).toEqual({ APP_MODE: 'prod', RELEASE: '43', ...LOKI_ENV });
  });
});

describe('nothing is created before confirmation (must fix 2)', () => {
  it('publishes no layer version without --yes and no terminal; the plan shows <new version>', async () => {
    fake.addFunction('orders');

    const result = await cli(['deploy', 'orders', ...LOKI_FLAGS, '--json']);

    expect(result.code).toBe(2);
    expect(fake.calls('PublishLayerVersion')).toEqual([]);
    expect(fake.calls('UpdateFunctionConfiguration')).toEqual([]);
    const document = JSON.parse(result.stdout);
    expect(document.functions[0].layers.after).toEqual(['loki-lambda-slim-arm64:<new version>']);
    expect(document.error).toContain('not applied: pass --yes');
    expect(document.layers[0]).toMatchObject({
      layerName: 'loki-lambda-slim-arm64',
      action: 'would-publish',
    });
    expect(document.layers[0].sha256Hex).toMatch(/^[0-9a-f]{64}$/);
  });

  it('publishes nothing when the answer is no, and publishes then attaches when it is yes', async () => {
    fake.addFunction('orders');
    const args = ['attach', 'orders', ...LOKI_FLAGS];

    const declined = await cli(args, { interactive: true, answer: false });
    expect(declined.code).toBe(1);
    expect(declined.stdout).toContain('+ loki-lambda-slim-arm64:<new version>');
    expect(fake.calls('PublishLayerVersion')).toEqual([]);

    const accepted = await cli(args, { interactive: true, answer: true });
    expect(accepted.code).toBe(0);
    expect(fake.layerVersions('loki-lambda-slim-arm64')).toHaveLength(1);
    expect(fake.functions.get('orders')?.layers).toEqual([
      fake.layerVersions('loki-lambda-slim-arm64')[0]?.arn,
    ]);
    expect(accepted.stderr).toMatch(/uploading loki-lambda-slim-arm64 \(\d+ B\) to Lambda/);
  });
});

describe('detach removes what the extension reads, and nothing of the application (must fix 3)', () => {
  it("keeps the application's own LOKI_* variables", async () => {
    const layer = await publishedSlimArm64();
    fake.addFunction('orders', {
      layers: [layer],
      env: {
        ...LOKI_ENV,
        LOKI_BEARER_TOKEN: 'secret-1',
        LOKI_FLUSH_STRATEGY: 'end',
        LOKI_ADDR: 'https://logs.internal',
        LOKI_QUERY_TIMEOUT: '30s',
      },
    });

    const result = await cli(['detach', 'orders', '--yes']);

    expect(result.code).toBe(0);
    expect(fake.functions.get('orders')?.env).toEqual({
      LOKI_ADDR: 'https://logs.internal',
      LOKI_QUERY_TIMEOUT: '30s',
    });
    expect(fake.functions.get('orders')?.layers).toEqual([]);
  });
});

describe('our layer is recognised by what it is, whatever its name (must fix 4)', () => {
  it('deploy --layer-name other replaces the copy already attached instead of adding a second one', async () => {
    // Two copies of the standalone extension would go over Lambda's 250 MB unzipped limit.
    fake = new FakeLambda({ unzippedBytesOf: () => 130 * MiB }).install(lambda);
    const existing = fake.addLayerVersion('loki-lambda-standalone-x86_64', {
      description: layerDescription('0.0.9', 'standalone', 'x86_64'),
      compatibleRuntimes: STANDALONE_RUNTIMES,
      compatibleArchitectures: ['x86_64'],
      unzippedBytes: 130 * MiB,
    });
    fake.addFunction('reports', {
      runtime: 'python3.12',
      architecture: 'x86_64',
      layers: [existing],
      env: { ...LOKI_ENV },
    });

    const result = await cli(['deploy', 'reports', '--layer-name', 'team-logs', ...LOKI_FLAGS, '--yes']);

    expect(result.code).toBe(0);
    const published = fake.layerVersions('team-logs-standalone-x86_64');
    expect(fake.functions.get('reports')?.layers).toEqual([published[0]?.arn]);
    expect(result.stdout).toContain(`- ${existing}`);
  });

  it('recognises a copy by its zip (same CodeSha256) when neither its name nor its description says so', async () => {
    const zip = await fakeZip(work.dir, 'slim', 'arm64');
    const copy = fake.addLayerVersion('platform-team-logging', {
      zip: Buffer.from('layer slim arm64'),
      description: 'logging for the platform team',
      compatibleRuntimes: SLIM_RUNTIMES,
      compatibleArchitectures: ['arm64'],
    });
    fake.addFunction('orders', { layers: [copy], env: { ...LOKI_ENV } });
    expect(zip.sizeBytes).toBe('layer slim arm64'.length);

    const result = await cli(['deploy', 'orders', '--yes']);

    expect(result.code).toBe(0);
    expect(fake.functions.get('orders')?.layers).toEqual([
      fake.layerVersions('loki-lambda-slim-arm64')[0]?.arn,
    ]);
  });

  it('detach removes every copy, whatever its name, and a dry run sees them', async () => {
    const mine = await publishedSlimArm64('acme-logging');
    const other = fake.addLayerVersion('insights', { description: 'Lambda Insights' });
    const copy = await publishedSlimArm64('loki-lambda-slim-arm64');
    fake.addFunction('orders', { layers: [mine, other, copy], env: { ...LOKI_ENV } });

    const dry = await cli(['detach', 'orders', '--dry-run']);
    expect(dry.stdout).toContain('1 function: 1 would change');
    expect(dry.stdout).toContain(`- ${mine}`);

    const result = await cli(['detach', 'orders', '--yes']);
    expect(result.code).toBe(0);
    expect(fake.functions.get('orders')?.layers).toEqual([other]);
  });
});

describe('settings already on the function are kept; upgrade (must fix 5)', () => {
  it('attach --layer-arn <newer> on a configured function needs no setting again', async () => {
    const old = await publishedSlimArm64();
    const newer = await publishedSlimArm64();
    fake.addFunction('orders', { layers: [old], env: { ...LOKI_ENV, LOKI_BEARER_TOKEN: 'secret-1' } });

    const result = await cli(['attach', 'orders', '--layer-arn', newer, '--yes']);

    expect(result.code).toBe(0);
    expect(fake.functions.get('orders')?.layers).toEqual([newer]);
    expect(fake.functions.get('orders')?.env).toEqual({ ...LOKI_ENV, LOKI_BEARER_TOKEN: 'secret-1' });
    expect(result.stdout).toContain('= LOKI_APPLICATION_LABEL  (kept from the function)');
    expect(result.stdout).not.toContain('secret-1');
  });

  it('upgrade moves every function with the extension to this version, keeping flavor, arch and settings', async () => {
    const oldSlim = fake.addLayerVersion('loki-lambda-slim-arm64', {
      description: layerDescription('0.0.9', 'slim', 'arm64'),
      compatibleRuntimes: SLIM_RUNTIMES,
      compatibleArchitectures: ['arm64'],
    });
    const oldStandalone = fake.addLayerVersion('acme-logs', {
      description: layerDescription('0.0.9', 'standalone', 'x86_64'),
      compatibleRuntimes: STANDALONE_RUNTIMES,
      compatibleArchitectures: ['x86_64'],
    });
    fake.addFunction('shop-api', { layers: [oldSlim], env: { ...LOKI_ENV, LOKI_DEBUG: 'true' } });
    // A Node.js function that runs the standalone flavor keeps it.
    fake.addFunction('shop-worker', {
      architecture: 'x86_64',
      layers: [oldStandalone],
      env: { ...LOKI_ENV },
    });
    fake.addFunction('shop-plain', { env: { OTHER: '1' } });

    const result = await cli(['upgrade', '--functions-regex', '^shop-', '--yes']);

    expect(result.code).toBe(0);
    expect(result.builds).toEqual([{ arches: ['arm64', 'x86_64'], flavors: ['slim', 'standalone'] }]);
    const slim = fake.layerVersions('loki-lambda-slim-arm64').at(-1)?.arn;
    const standalone = fake.layerVersions('loki-lambda-standalone-x86_64').at(-1)?.arn;
    expect(fake.functions.get('shop-api')?.layers).toEqual([slim]);
    expect(fake.functions.get('shop-api')?.env).toEqual({ ...LOKI_ENV, LOKI_DEBUG: 'true' });
    expect(fake.functions.get('shop-worker')?.layers).toEqual([standalone]);
    expect(fake.functions.get('shop-plain')?.layers).toEqual([]);
    expect(result.stdout).toContain('nothing to upgrade: loki-lambda is not attached to this function');
    expect(result.stdout).toContain('3 functions: 2 updated, 1 unchanged, 0 refused, 0 failed');
  });
});

describe('upgrade refusals', () => {
  it('moves an Amazon Linux 2 function that runs the al2 flavor to the new al2 version', async () => {
    const old = fake.addLayerVersion('loki-lambda-al2-arm64', {
      description: layerDescription('0.0.9', 'al2', 'arm64'),
      compatibleArchitectures: ['arm64'],
    });
    fake.addFunction('legacy', { runtime: 'python3.9', layers: [old], env: { ...LOKI_ENV } });

    const result = await cli(['upgrade', 'legacy', '--yes']);

    expect(result.code).toBe(0);
    expect(fake.functions.get('legacy')?.layers).toEqual([
      fake.layerVersions('loki-lambda-al2-arm64').at(-1)?.arn,
    ]);
  });

  it('refuses an Amazon Linux 2 function carrying a flavor that cannot run there instead of moving it', async () => {
    const old = await publishedSlimArm64();
    fake.addFunction('legacy', { runtime: 'nodejs18.x', layers: [old], env: { ...LOKI_ENV } });

    const result = await cli(['upgrade', 'legacy', '--yes']);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain('runtime nodejs18.x runs on Amazon Linux 2');
    expect(fake.calls('UpdateFunctionConfiguration')).toEqual([]);
    expect(fake.calls('PublishLayerVersion')).toEqual([]);
  });
});

describe('reuse any identical version (must fix 6)', () => {
  it('reuses an older version with the same CodeSha256, on a later page of ListLayerVersions', async () => {
    const zip = await fakeZip(work.dir, 'slim', 'arm64');
    const same = {
      description: layerDescription(VERSION, 'slim', 'arm64'),
      compatibleRuntimes: SLIM_RUNTIMES,
      compatibleArchitectures: ['arm64'],
    };
    const first = fake.addLayerVersion('loki-lambda-slim-arm64', {
      ...same,
      zip: Buffer.from('layer slim arm64'),
    });
    for (let i = 0; i < 60; i++) {
      fake.addLayerVersion('loki-lambda-slim-arm64', { ...same, zip: Buffer.from(`another build ${i}`) });
    }
    expect(zip.sizeBytes).toBeGreaterThan(0);

    const result = await cli(['publish', '--flavor', 'slim', '--arch', 'arm64']);

    expect(result.code).toBe(0);
    expect(fake.calls('PublishLayerVersion')).toEqual([]);
    expect(result.stdout).toContain(`reused     ${first}`);
    expect(fake.calls('ListLayerVersions').length).toBeGreaterThan(1);
  });
});

describe('where each LOKI_* value came from (must fix 7)', () => {
  it('shows in the plan that shell variables set for logcli would go on the function', async () => {
    fake.addFunction('orders');
    const layer = await publishedSlimArm64();

    const result = await cli(['attach', 'orders', '--layer-arn', layer, ...LOKI_FLAGS, '--dry-run'], {
      env: { LOKI_USERNAME: 'alice', LOKI_PASSWORD: 'S3cret-pw' },
    });

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('+ LOKI_USERNAME=alice  (from the shell environment)');
    expect(result.stdout).toContain('+ LOKI_PASSWORD=****  (from the shell environment)');
    expect(result.stdout).toContain('+ LOKI_APPLICATION_LABEL=shop  (from --app)');
    expect(result.stdout).not.toContain('S3cret-pw');
  });
});

describe('progress, JSON and messages', () => {
  it('ends every progress line with a newline', async () => {
    fake.addFunction('orders');

    const result = await cli(['deploy', 'orders', ...LOKI_FLAGS, '--yes'], {
      deps: {
        buildLayers: async ({ arches, flavors, onProgress }) => {
          onProgress?.('bundling the extension');
          onProgress?.('writing the zips');
          const zips = flavors.flatMap((f) => arches.map((a) => fakeZip(work.dir, f, a)));
          return (await Promise.all(zips)).map((zip) => ({ ...zip, nodeVersion: null }));
        },
      },
    });

    expect(result.code).toBe(0);
    expect(result.stderr).toContain('bundling the extension\nwriting the zips\n');
  });

  it('names sizes and hashes as build does: sha256Hex, IEC units', async () => {
    const result = await cli(['publish', '--flavor', 'slim', '--arch', 'arm64', '--json']);

    expect(result.code).toBe(0);
    const document = JSON.parse(result.stdout);
    expect(document.layers[0].sha256Hex).toMatch(/^[0-9a-f]{64}$/);
    expect(document.layers[0]).not.toHaveProperty('sha256');
  });

  it('says that an unknown function may be in another region', async () => {
    const result = await cli(['detach', 'gone', '--yes']);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`failed     gone: not found in ${REGION}: Function not found`);
    expect(result.stdout).toContain('pass --region');
  });

  it('refuses a region that is not a region name before calling AWS', async () => {
    for (const region of ['europe', 'eu-west1', 'eu-west-1a']) {
      const result = await runCli(['detach', 'orders', '--region', region, '--yes'], { cwd: work.dir });

      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`--region is "${region}", which is not an AWS region name`);
    }
    expect(fake.requests).toEqual([]);
  });

  it('says so when the --profile does not exist, before calling AWS', async () => {
    const { writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const config = join(work.dir, 'aws-config');
    await writeFile(config, '[default]\nregion = eu-west-1\n[profile dev]\nregion = eu-west-1\n');
    const env = { AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: join(work.dir, 'none') };

    const missing = await cli(['detach', 'orders', '--profile', 'prod', '--yes'], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`AWS profile "prod" does not exist in ${config}`);
    expect(missing.stderr).toContain('profiles there: default, dev');
    expect(missing.regions).toEqual([]);

    fake.addFunction('orders');
    const known = await cli(['detach', 'orders', '--profile', 'dev', '--yes'], { env });
    expect(known.code).toBe(0);
  });

  it('treats a missing --zip file as a usage error (exit 2), not a crash', async () => {
    const result = await cli(['publish', '--zip', 'missing/loki-lambda-slim-arm64.zip']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--zip missing/loki-lambda-slim-arm64.zip: no such file');
    expect(result.stderr).not.toContain('ENOENT');
  });
});

describe('several regions at once', () => {
  /** One fake Lambda per region, each answering the clients of its region, with one log of updates. */
  function fakesByRegion(regions: readonly string[]) {
    const fakes = new Map(regions.map((region) => [region, new FakeLambda()]));
    const routes = new Map<unknown, Map<string, (input: unknown) => unknown>>();
    for (const [region, regionFake] of fakes) {
      regionFake.install({
        on: (command: unknown) => ({
          callsFake: (handle: (input: unknown) => unknown) => {
            if (!routes.has(command)) routes.set(command, new Map());
            routes.get(command)?.set(region, handle);
          },
        }),
      });
    }
    const updates: Array<{ region: string; name: string; inProgress: number }> = [];
    lambda.reset();
    for (const [command, byRegion] of routes) {
      lambda
        .on(command as typeof UpdateFunctionConfigurationCommand)
        .callsFake(async (input: { FunctionName?: string }, getClient: () => LambdaClient) => {
          const region = await getClient().config.region();
          if (command === UpdateFunctionConfigurationCommand)
            updates.push({
              region,
              name: input.FunctionName ?? '',
              // Updates of ours not yet complete in any region when this one is asked for.
              inProgress: [...fakes.values()]
                .flatMap((f) => [...f.functions.values()])
                .filter((fn) => fn.lastUpdateStatus === 'InProgress').length,
            });
          return byRegion.get(region)?.(input);
        });
    }
    return { fakes, updates };
  }

  it('updates the functions of both regions at once, within one --concurrency in total', async () => {
    const regions = ['eu-west-1', 'us-east-1'];
    const { fakes, updates } = fakesByRegion(regions);
    for (const regionFake of fakes.values()) {
      const layer = regionFake.addLayerVersion('loki-lambda-slim-arm64', {
        description: layerDescription(VERSION, 'slim', 'arm64'),
      });
      for (const name of ['a', 'b', 'c'])
        regionFake.addFunction(name, { layers: [layer], env: { ...LOKI_ENV } });
    }

    const result = await runCli(
      ['detach', 'a', 'b', 'c', '--region', regions.join(','), '--concurrency', '2', '--yes'],
      {
        cwd: work.dir,
      },
    );

    expect(result.code).toBe(0);
    // The first two updates, one per region: us-east-1 did not wait for eu-west-1 to finish.
    expect(
      updates
        .slice(0, 2)
        .map((u) => u.region)
        .sort(),
    ).toEqual(regions);
    expect(Math.max(...updates.map((u) => u.inProgress))).toBeLessThan(2);
    for (const regionFake of fakes.values())
      for (const fn of regionFake.functions.values()) expect(fn).toMatchObject({ layers: [], env: {} });
    // Each region's results and summary under its name, in the order given.
    const eu = result.stdout.indexOf('== eu-west-1 ==\neu-west-1: 3 functions: 3 updated');
    const us = result.stdout.indexOf('== us-east-1 ==\nus-east-1: 3 functions: 3 updated');
    expect(eu).toBeGreaterThanOrEqual(0);
    expect(us).toBeGreaterThan(eu);
    expect(result.stdout).toMatch(/^us-east-1: updated {4}a$/m);
  });
});
