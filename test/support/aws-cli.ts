import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type GetFunctionConfigurationCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import type { AwsDeps } from '../../src/aws/deps.js';
import type { LayerZip } from '../../src/aws/layer-versions.js';
import { type CliDeps, run } from '../../src/cli.js';
import type { BuiltLayer } from '../../src/layer/build-layers.js';
import type { Arch, Flavor } from '../../src/layer/targets.js';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
/** The Node.js version the fake build says a standalone zip holds. */
export const FAKE_NODE_VERSION = '22.0.0';

export function layerArn(name: string, version: number, region = REGION): string {
  return `arn:aws:lambda:${region}:${ACCOUNT}:layer:${name}:${version}`;
}

export function functionArn(name: string, region = REGION): string {
  return `arn:aws:lambda:${region}:${ACCOUNT}:function:${name}`;
}

/** A GetFunctionConfiguration answer: a Node.js 22 function on arm64 with one variable, unless overridden. */
export function functionConfig(
  name: string,
  overrides: Partial<GetFunctionConfigurationCommandOutput> = {},
): GetFunctionConfigurationCommandOutput {
  return {
    $metadata: {},
    FunctionName: name,
    FunctionArn: functionArn(name),
    Runtime: 'nodejs22.x',
    Architectures: ['arm64'],
    PackageType: 'Zip',
    Layers: [],
    Environment: { Variables: { APP_MODE: 'prod' } },
    RevisionId: `rev-${name}`,
    LastUpdateStatus: 'Successful',
    ...overrides,
  };
}

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Regions the CLI created clients for. */
  readonly regions: readonly string[];
  readonly sleeps: readonly number[];
  readonly builds: ReadonlyArray<{ arches: readonly Arch[]; flavors: readonly Flavor[] }>;
  readonly prompts: readonly string[];
}

export interface CliSetup {
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  readonly interactive?: boolean;
  readonly answer?: boolean;
  /** Ctrl-C while applying: abort it (e.g. from a mocked AWS call). */
  readonly interrupt?: AbortController;
  readonly deps?: CliDeps;
}

/** A temporary working directory where fake builds write their zips. */
export async function makeWorkDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'loki-lambda-aws-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes a small zip-like file per flavor/arch whose bytes (and so SHA-256) are stable. */
export async function fakeZip(
  dir: string,
  flavor: Flavor,
  arch: Arch,
  content = `layer ${flavor} ${arch}`,
): Promise<LayerZip> {
  const body = Buffer.from(content);
  const path = join(dir, `loki-lambda-${flavor}-${arch}.zip`);
  await writeFile(path, body);
  const digest = createHash('sha256').update(body).digest();
  return {
    flavor,
    arch,
    path,
    sizeBytes: body.length,
    sha256Hex: digest.toString('hex'),
    sha256Base64: digest.toString('base64'),
  };
}

/** Runs the whole CLI in-process with the given mocks, an instant sleep and a fake build. */
export async function runCli(argv: readonly string[], setup: CliSetup = {}): Promise<CliRun> {
  const stdout = new Capture();
  const stderr = new Capture();
  const regions: string[] = [];
  const sleeps: number[] = [];
  const builds: Array<{ arches: readonly Arch[]; flavors: readonly Flavor[] }> = [];
  const prompts: string[] = [];
  const cwd = setup.cwd ?? tmpdir();
  const deps: Partial<AwsDeps> = {
    createLambdaClient: async (region) => {
      regions.push(region);
      return new LambdaClient({ region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    },
    createS3Client: async (region) =>
      new S3Client({ region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
    buildLayers: async ({ arches, flavors }) => {
      builds.push({ arches, flavors });
      const zips: BuiltLayer[] = [];
      for (const flavor of flavors) {
        for (const arch of arches) {
          const nodeVersion = flavor === 'standalone' ? FAKE_NODE_VERSION : null;
          zips.push({ ...(await fakeZip(cwd, flavor, arch)), nodeVersion });
        }
      }
      return zips;
    },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    waiter: { minDelaySeconds: 0.001, maxDelaySeconds: 0.002, maxWaitSeconds: 5 },
    interactive: setup.interactive ?? false,
    interrupted: () => setup.interrupt?.signal ?? new AbortController().signal,
    confirm: async (question) => {
      prompts.push(question);
      return setup.answer ?? false;
    },
    ...setup.deps,
  };
  const code = await run(argv, { stdout, stderr, env: setup.env ?? {}, cwd }, deps);
  return { code, stdout: stdout.text, stderr: stderr.text, regions, sleeps, builds, prompts };
}
