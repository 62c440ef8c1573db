import { beforeAll, describe, expect, it } from 'vitest';
import { bundleExtension, type ExtensionBundle } from '../../src/layer/bundle.js';

/** The budget for the minified extension: it is loaded at every cold start. */
const BUNDLE_BUDGET_BYTES = 150 * 1024;
/** The secret reader loads only when a credential is in Secrets Manager or Parameter Store. */
const SECRETS_READER_BUDGET_BYTES = 1024 * 1024;

/**
 * Everything the extension may be made of: its own sources and the two packages it encodes pushes
 * with (protobufjs's minimal runtime and what it requires, snappyjs). Anything else in the bundle,
 * such as the AWS SDK, commander, ora, archiver or CLI code, fails the first test.
 */
const ALLOWED_INPUTS = [
  /^extension\/[\w-]+\.ts$/,
  /^node_modules\/protobufjs\/(minimal\.js|src\/)/,
  /^node_modules\/@protobufjs\/(aspromise|base64|eventemitter|float|utf8|pool)\//,
  /^node_modules\/long\//,
  /^node_modules\/snappyjs\//,
  // The stub that requires ./secrets.cjs at run time (src/layer/bundle.ts): not the reader itself.
  /^aws-secret-reader:aws-secret-reader$/,
];

/** The secret reader (secrets.cjs): its source and the AWS SDK's Secrets Manager and SSM clients. */
const ALLOWED_SECRETS_READER_INPUTS = [
  /^extension\/(aws-secret-reader|secret-reader|secret-refs)\.ts$/,
  /^node_modules\/@aws-sdk\/(?!client-(?!secrets-manager\/|ssm\/))/,
  /^node_modules\/(@smithy|@aws-crypto|@aws)\//,
  /^node_modules\/(tslib|bowser|fast-xml-parser|strnum|uuid)\//,
];

let bundle: ExtensionBundle;
beforeAll(async () => {
  bundle = await bundleExtension();
});

describe('the extension bundle', () => {
  it('contains only the extension and the packages it is allowed (no AWS SDK, commander, ora, archiver, src/)', () => {
    const unexpected = bundle.inputs.filter(
      (input) => !ALLOWED_INPUTS.some((allowed) => allowed.test(input)),
    );

    expect(unexpected).toEqual([]);
  });

  it('is made of the extension sources and the push encoding packages (the allow-list matches something)', () => {
    expect(bundle.inputs).toContain('extension/main.ts');
    expect(bundle.inputs.some((input) => input.startsWith('node_modules/snappyjs/'))).toBe(true);
  });

  it('leaves the secret reader to its own file, required only when a credential is kept in AWS', () => {
    expect(bundle.inputs).not.toContain('extension/aws-secret-reader.ts');
    expect(Buffer.from(bundle.code).toString()).toContain('require("./secrets.cjs")');
  });

  it('stays under 150 KB minified', () => {
    expect(bundle.code.byteLength).toBeLessThan(BUNDLE_BUDGET_BYTES);
  });
});

describe('the secret reader bundle (secrets.cjs)', () => {
  it('holds the Secrets Manager and SSM clients and nothing else of the SDK or the CLI', () => {
    const { inputs } = bundle.secretsReader;
    const unexpected = inputs.filter(
      (input) => !ALLOWED_SECRETS_READER_INPUTS.some((allowed) => allowed.test(input)),
    );

    expect(unexpected).toEqual([]);
    expect(inputs).toContain('extension/aws-secret-reader.ts');
    expect(inputs.some((input) => input.startsWith('node_modules/@aws-sdk/client-secrets-manager/'))).toBe(
      true,
    );
    expect(inputs.some((input) => input.startsWith('node_modules/@aws-sdk/client-ssm/'))).toBe(true);
  });

  it('stays under 1 MB minified', () => {
    expect(bundle.secretsReader.code.byteLength).toBeLessThan(SECRETS_READER_BUDGET_BYTES);
  });
});
