import { beforeAll, describe, expect, it } from 'vitest';
import { bundleExtension, type ExtensionBundle } from '../../src/layer/bundle.js';

/** The budget for the minified extension: it is loaded at every cold start. */
const BUNDLE_BUDGET_BYTES = 150 * 1024;

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

  it('stays under 150 KB minified', () => {
    expect(bundle.code.byteLength).toBeLessThan(BUNDLE_BUDGET_BYTES);
  });
});
