import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AddLayerVersionPermissionCommand,
  GetLayerVersionCommand,
  LambdaClient,
  ListLayerVersionsCommand,
  PublishLayerVersionCommand,
  ResourceConflictException,
} from '@aws-sdk/client-lambda';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIRECT_UPLOAD_LIMIT_BYTES, SLIM_RUNTIMES, STANDALONE_RUNTIMES } from '../../src/layer/targets.js';
import { VERSION } from '../../src/version.js';
import { fakeZip, layerArn, makeWorkDir, REGION, runCli } from '../support/aws-cli.js';

const lambda = mockClient(LambdaClient);
const s3 = mockClient(S3Client);
let work: Awaited<ReturnType<typeof makeWorkDir>>;

beforeEach(async () => {
  lambda.reset();
  s3.reset();
  work = await makeWorkDir();
  lambda.on(ListLayerVersionsCommand).resolves({ LayerVersions: [] });
  lambda.on(PublishLayerVersionCommand).callsFake((input: { LayerName: string }) => ({
    LayerVersionArn: layerArn(input.LayerName, 1),
    Version: 1,
  }));
});

afterEach(async () => {
  await work.cleanup();
});

describe('loki-lambda publish', () => {
  it('builds, then publishes a new version with the flavor’s runtimes, the arch, a description and a license', async () => {
    const result = await runCli(['publish', '--region', REGION, '--flavor', 'slim', '--arch', 'arm64'], {
      cwd: work.dir,
    });

    expect(result.code).toBe(0);
    expect(result.builds).toEqual([{ arches: ['arm64'], flavors: ['slim'] }]);
    const body = await readFile(join(work.dir, 'loki-lambda-slim-arm64.zip'));
    const calls = lambda.commandCalls(PublishLayerVersionCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      {
        LayerName: 'loki-lambda-slim-arm64',
        Description: `loki-lambda ${VERSION}: ships Lambda logs to Grafana Loki (slim, arm64)`,
        Content: { ZipFile: body },
        CompatibleArchitectures: ['arm64'],
        CompatibleRuntimes: [...SLIM_RUNTIMES],
        LicenseInfo: 'Apache-2.0',
      },
    ]);
    expect(result.stdout).toContain(`published  ${layerArn('loki-lambda-slim-arm64', 1)} (slim, arm64`);
  });

  it('publishes every flavor and architecture by default, each under its own layer name', async () => {
    const result = await runCli(['publish', '--region', REGION, '--json'], { cwd: work.dir });

    expect(result.code).toBe(0);
    const names = lambda.commandCalls(PublishLayerVersionCommand).map((c) => c.args[0].input.LayerName);
    expect(names.sort()).toEqual([
      'loki-lambda-al2-arm64',
      'loki-lambda-al2-x86_64',
      'loki-lambda-slim-arm64',
      'loki-lambda-slim-x86_64',
      'loki-lambda-standalone-arm64',
      'loki-lambda-standalone-x86_64',
    ]);
    const document = JSON.parse(result.stdout);
    expect(document.layers).toHaveLength(6);
    expect(document.layers[0]).toMatchObject({ action: 'published', version: 1 });
  });

  it('reuses the newest version when its CodeSha256 equals the zip’s, and publishes nothing', async () => {
    const zip = await fakeZip(work.dir, 'standalone', 'x86_64');
    lambda.on(ListLayerVersionsCommand).resolves({
      LayerVersions: [
        { Version: 7, CompatibleArchitectures: ['x86_64'], CompatibleRuntimes: [...STANDALONE_RUNTIMES] },
      ],
    });
    lambda.on(GetLayerVersionCommand).resolves({
      LayerVersionArn: layerArn('loki-lambda-standalone-x86_64', 7),
      Version: 7,
      Content: { CodeSha256: zip.sha256Base64 },
      CompatibleArchitectures: ['x86_64'],
      CompatibleRuntimes: [...STANDALONE_RUNTIMES],
    });

    const result = await runCli(['publish', '--region', REGION, '--zip', zip.path], { cwd: work.dir });

    expect(result.code).toBe(0);
    expect(result.builds).toEqual([]);
    expect(lambda.commandCalls(ListLayerVersionsCommand)[0]?.args[0].input).toMatchObject({
      LayerName: 'loki-lambda-standalone-x86_64',
      CompatibleArchitecture: 'x86_64',
    });
    expect(lambda.commandCalls(GetLayerVersionCommand)[0]?.args[0].input).toEqual({
      LayerName: 'loki-lambda-standalone-x86_64',
      VersionNumber: 7,
    });
    expect(lambda.commandCalls(PublishLayerVersionCommand)).toHaveLength(0);
    expect(result.stdout).toContain(
      `reused     ${layerArn('loki-lambda-standalone-x86_64', 7)} (standalone, x86_64, ${zip.sizeBytes} B; version 7 already has this SHA-256)`,
    );
  });

  it('publishes a new version when the newest one holds different bytes', async () => {
    const zip = await fakeZip(work.dir, 'slim', 'x86_64');
    lambda.on(ListLayerVersionsCommand).resolves({
      LayerVersions: [
        { Version: 2, CompatibleArchitectures: ['x86_64'], CompatibleRuntimes: [...SLIM_RUNTIMES] },
      ],
    });
    lambda.on(GetLayerVersionCommand).resolves({
      Content: { CodeSha256: 'c29tZXRoaW5nIGVsc2U=' },
      CompatibleArchitectures: ['x86_64'],
      CompatibleRuntimes: [...SLIM_RUNTIMES],
    });

    const result = await runCli(['publish', '--region', REGION, '--zip', zip.path], { cwd: work.dir });

    expect(result.code).toBe(0);
    expect(lambda.commandCalls(PublishLayerVersionCommand)).toHaveLength(1);
  });

  it('refuses a zip over 50 MB without --s3-bucket, says what to do, and calls no AWS API', async () => {
    const path = join(work.dir, 'loki-lambda-standalone-x86_64.zip');
    await writeFile(path, '');
    await truncate(path, DIRECT_UPLOAD_LIMIT_BYTES + 1);

    const result = await runCli(['publish', '--region', REGION, '--zip', path], { cwd: work.dir });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain("over Lambda's 50.0 MiB direct upload limit: pass --s3-bucket BUCKET");
    expect(lambda.calls()).toHaveLength(0);
  });

  it('uploads a zip over 50 MB to the S3 bucket, then publishes from S3', async () => {
    const path = join(work.dir, 'big.zip');
    await writeFile(path, '');
    await truncate(path, DIRECT_UPLOAD_LIMIT_BYTES + 1);
    s3.on(PutObjectCommand).resolves({});

    const result = await runCli(
      [
        'publish',
        '--region',
        REGION,
        '--zip',
        path,
        '--flavor',
        'standalone',
        '--arch',
        'arm64',
        '--s3-bucket',
        'my-artifacts',
      ],
      { cwd: work.dir },
    );

    expect(result.code).toBe(0);
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put?.Bucket).toBe('my-artifacts');
    expect(put?.Key).toMatch(/^loki-lambda\/loki-lambda-standalone-arm64\/[0-9a-f]{64}\.zip$/);
    expect(lambda.commandCalls(PublishLayerVersionCommand)[0]?.args[0].input.Content).toEqual({
      S3Bucket: 'my-artifacts',
      S3Key: put?.Key,
    });
    expect(result.stdout).toContain('uploaded through S3');
  });

  it('shares the version publicly, with an account and with an organization', async () => {
    lambda
      .on(AddLayerVersionPermissionCommand)
      .resolves({})
      .on(AddLayerVersionPermissionCommand, { StatementId: 'loki-lambda-public' })
      .rejects(
        new ResourceConflictException({
          message: 'The statement id (loki-lambda-public) exists',
          $metadata: {},
        }),
      );

    const result = await runCli(
      [
        'publish',
        '--region',
        REGION,
        '--flavor',
        'slim',
        '--arch',
        'x86_64',
        '--public',
        '--principal',
        '210987654321',
        '--organization-id',
        'o-abcdefghij',
      ],
      { cwd: work.dir },
    );

    expect(result.code).toBe(0);
    const common = {
      LayerName: 'loki-lambda-slim-x86_64',
      VersionNumber: 1,
      Action: 'lambda:GetLayerVersion',
    };
    expect(lambda.commandCalls(AddLayerVersionPermissionCommand).map((c) => c.args[0].input)).toEqual([
      { ...common, StatementId: 'loki-lambda-public', Principal: '*' },
      { ...common, StatementId: 'loki-lambda-account-210987654321', Principal: '210987654321' },
      {
        ...common,
        StatementId: 'loki-lambda-org-o-abcdefghij',
        Principal: '*',
        OrganizationId: 'o-abcdefghij',
      },
    ]);
    expect(result.stdout).toContain('already shared with every AWS account (public)');
    expect(result.stdout).toContain('shared with account 210987654321');
    expect(result.stdout).toContain('shared with organization o-abcdefghij');
  });

  it('rejects a malformed account id before calling AWS', async () => {
    const result = await runCli(['publish', '--region', REGION, '--principal', '42'], { cwd: work.dir });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--principal must be a 12-digit AWS account id');
    expect(lambda.calls()).toHaveLength(0);
  });
});
