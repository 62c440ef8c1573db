import { transformSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { parse, type ScalarTag } from 'yaml';
import { type IacFormat, renderIacSnippet, type SnippetInput } from '../../src/render/iac-snippet.js';
import { type HclObject, parseHcl } from '../support/hcl.js';

const LAYER_ARN = 'arn:aws:lambda:eu-west-1:123456789012:layer:loki-lambda-slim-arm64:7';
const TOKEN = 'glc_eyJvIjoiMTIzNDU2Nzg5MCJ9';
/** Values that need quoting or escaping in every format. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a literal `${` that HCL must escape
const TRICKY = 'a "quoted" ${not_a_template} %{x} value: #1\\';

function input(format: IacFormat): SnippetInput {
  return {
    format,
    functionName: 'shop-api',
    layerArn: LAYER_ARN,
    version: '1.2.3',
    environment: [
      ['LOKI_ENDPOINT_URL', { kind: 'value', value: 'https://loki.example.com' }],
      ['LOKI_APPLICATION_LABEL', { kind: 'value', value: 'shop' }],
      ['LOKI_EXTRA_LABELS', { kind: 'value', value: TRICKY }],
      ['LOKI_BEARER_TOKEN', { kind: 'secret' }],
    ],
  };
}

/** CloudFormation's short-form `!Ref`, kept as a marker so a test can see it. */
const REF_TAG: ScalarTag = { tag: '!Ref', resolve: (value: string) => ({ Ref: value }) };

describe('loki-lambda snippet fragments', () => {
  it('terraform: parses as HCL with the layer, the values and the token as a sensitive variable', () => {
    const text = renderIacSnippet(input('terraform'));

    const body = parseHcl(text);
    const resource = body.blocks.find((b) => b.type === 'resource');
    expect(resource?.labels).toEqual(['aws_lambda_function', 'shop-api']);
    expect(resource?.body.attributes.layers).toEqual([LAYER_ARN]);
    const environment = resource?.body.blocks.find((b) => b.type === 'environment');
    const variables = environment?.body.attributes.variables as HclObject;
    expect(variables).toEqual({
      LOKI_ENDPOINT_URL: 'https://loki.example.com',
      LOKI_APPLICATION_LABEL: 'shop',
      LOKI_EXTRA_LABELS: TRICKY,
      LOKI_BEARER_TOKEN: { ref: 'var.loki_bearer_token' },
    });
    const variable = body.blocks.find((b) => b.type === 'variable');
    expect(variable?.labels).toEqual(['loki_bearer_token']);
    expect(variable?.body.attributes.sensitive).toBe(true);
  });

  it('sam: parses as YAML with the layer, the values and the token as a NoEcho parameter', () => {
    const text = renderIacSnippet(input('sam'));

    const template = parse(text, { customTags: [REF_TAG] });
    const fn = template.Resources.ShopApi;
    expect(fn.Type).toBe('AWS::Serverless::Function');
    expect(fn.Properties.Layers).toEqual([LAYER_ARN]);
    expect(fn.Properties.Environment.Variables).toEqual({
      LOKI_ENDPOINT_URL: 'https://loki.example.com',
      LOKI_APPLICATION_LABEL: 'shop',
      LOKI_EXTRA_LABELS: TRICKY,
      LOKI_BEARER_TOKEN: { Ref: 'LokiBearerToken' },
    });
    expect(template.Parameters.LokiBearerToken).toEqual({ Type: 'String', NoEcho: true });
  });

  it('serverless: parses as YAML with the layer, the values and the token from the deploying shell', () => {
    const text = renderIacSnippet(input('serverless'));

    const config = parse(text);
    const fn = config.functions['shop-api'];
    expect(fn.layers).toEqual([LAYER_ARN]);
    expect(fn.environment).toEqual({
      LOKI_ENDPOINT_URL: 'https://loki.example.com',
      LOKI_APPLICATION_LABEL: 'shop',
      LOKI_EXTRA_LABELS: TRICKY,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Serverless Framework's variable syntax
      LOKI_BEARER_TOKEN: '${env:LOKI_BEARER_TOKEN}',
    });
  });

  it('cdk: compiles as TypeScript and, run, adds the layer and the environment with the given secret', () => {
    const text = renderIacSnippet(input('cdk'));

    // esbuild, like TypeScript's transpileModule, refuses any syntax error (it throws); it is loaded
    // anyway, where the TypeScript compiler cost a second to load.
    const compiled = {
      outputText: transformSync(text, { loader: 'ts', format: 'cjs', target: 'es2022' }).code,
    };
    const calls: unknown[][] = [];
    const lambda = {
      LayerVersion: { fromLayerVersionArn: (_scope: unknown, id: string, arn: string) => ({ id, arn }) },
    };
    const module = { exports: {} as Record<string, (...args: unknown[]) => void> };
    new Function('require', 'module', 'exports', compiled.outputText)(
      (name: string) => (name === 'aws-cdk-lib/aws-lambda' ? lambda : {}),
      module,
      module.exports,
    );
    const fn = {
      addLayers: (...layers: unknown[]) => calls.push(['addLayers', ...layers]),
      addEnvironment: (name: string, value: string) => calls.push(['addEnvironment', name, value]),
    };
    module.exports.addLokiLambda?.(fn, { LOKI_BEARER_TOKEN: 'from-the-caller' });

    expect(calls).toEqual([
      ['addLayers', { id: 'LokiLambdaLayer', arn: LAYER_ARN }],
      ['addEnvironment', 'LOKI_ENDPOINT_URL', 'https://loki.example.com'],
      ['addEnvironment', 'LOKI_APPLICATION_LABEL', 'shop'],
      ['addEnvironment', 'LOKI_EXTRA_LABELS', TRICKY],
      ['addEnvironment', 'LOKI_BEARER_TOKEN', 'from-the-caller'],
    ]);
  });

  it.each(['terraform', 'cdk', 'sam', 'serverless'] as const)('%s: never holds a secret value', (format) => {
    const text = renderIacSnippet(input(format));

    expect(text).not.toContain(TOKEN.slice(0, 8));
  });
});
