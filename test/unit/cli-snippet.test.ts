import { LambdaClient, ListLayerVersionsCommand } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { layerArn, REGION, runCli } from '../support/aws-cli.js';
import { type HclObject, parseHcl } from '../support/hcl.js';

const lambda = mockClient(LambdaClient);
const TOKEN = 'glc_TOPSECRET_0123456789abcdef';
const SETTINGS = ['--loki-url', 'https://loki.example.com', '--app', 'shop', '--env', 'prod'];

beforeEach(() => {
  lambda.reset();
});

describe('loki-lambda snippet', () => {
  it('writes a Terraform fragment with the newest published layer for the runtime and arch', async () => {
    lambda.on(ListLayerVersionsCommand, { LayerName: 'loki-lambda-standalone-arm64' }).resolves({
      LayerVersions: [{ Version: 9, LayerVersionArn: layerArn('loki-lambda-standalone-arm64', 9) }],
    });

    const result = await runCli(
      ['snippet', '--format', 'terraform', '--function-name', 'orders', '--runtime', 'python3.13'].concat([
        '--arch',
        'arm64',
        '--region',
        REGION,
        ...SETTINGS,
        '--bearer-token',
        TOKEN,
      ]),
    );

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const resource = parseHcl(result.stdout).blocks.find((b) => b.type === 'resource');
    expect(resource?.body.attributes.layers).toEqual([layerArn('loki-lambda-standalone-arm64', 9)]);
    const environment = resource?.body.blocks.find((b) => b.type === 'environment');
    expect(environment?.body.attributes.variables as HclObject).toEqual({
      LOKI_ENDPOINT_URL: 'https://loki.example.com',
      LOKI_APPLICATION_LABEL: 'shop',
      LOKI_ENV_LABEL: 'prod',
      LOKI_BEARER_TOKEN: { ref: 'var.loki_bearer_token' },
    });
    expect(result.stdout).not.toContain(TOKEN.slice(0, 8));
  });

  it('uses a given layer ARN without calling AWS, and --json carries the fragment without secrets', async () => {
    const arn = layerArn('loki-lambda-slim-x86_64', 4);

    const result = await runCli(
      ['snippet', '--format', 'serverless', '--layer-arn', arn, ...SETTINGS, '--json'],
      {
        env: { LOKI_BEARER_TOKEN: TOKEN },
      },
    );

    expect(result.code).toBe(0);
    expect(result.regions).toEqual([]);
    const document = JSON.parse(result.stdout);
    expect(document).toMatchObject({
      format: 'serverless',
      layerArn: arn,
      secretInputs: ['LOKI_BEARER_TOKEN'],
    });
    expect(parse(document.snippet).functions['my-function'].layers).toEqual([arn]);
    expect(result.stdout + result.stderr).not.toContain(TOKEN.slice(0, 8));
  });

  it('says how to publish when the region has no version of the layer', async () => {
    lambda.on(ListLayerVersionsCommand).resolves({ LayerVersions: [] });

    const result = await runCli(['snippet', '--format', 'sam', '--region', REGION, ...SETTINGS]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no version of the layer loki-lambda-slim-x86_64 in eu-west-1');
    expect(result.stderr).toContain('loki-lambda publish --region eu-west-1 --flavor slim --arch x86_64');
  });

  it('refuses an unknown format and missing settings before calling AWS', async () => {
    const result = await runCli(['snippet', '--format', 'pulumi', '--region', REGION]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--format must be one of terraform, cdk, sam, serverless; got pulumi');
    expect(lambda.calls()).toHaveLength(0);
  });

  it('names the flag of a missing required setting', async () => {
    const result = await runCli([
      'snippet',
      '--format',
      'cdk',
      '--layer-arn',
      layerArn('x', 1),
      '--app',
      'shop',
    ]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--loki-url');
  });
});
