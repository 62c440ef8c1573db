import { beforeAll, describe, expect, it } from 'vitest';
import { bundleExtension, type ExtensionBundle } from '../../src/layer/bundle.js';

/** The budget for the minified extension: it is loaded at every cold start. */
const BUNDLE_BUDGET_BYTES = 150 * 1024;

/** Packages the CLI uses that must never reach the extension running inside Lambda. */
const CLI_ONLY_PACKAGES = [
  '@aws-sdk',
  '@smithy',
  '@aws-crypto',
  'commander',
  'ora',
  'archiver',
  'zip-stream',
  'compress-commons',
  'esbuild',
];

let bundle: ExtensionBundle;
beforeAll(async () => {
  bundle = await bundleExtension();
});

describe('the extension bundle', () => {
  it('contains no AWS SDK, commander, ora or archiver code', () => {
    const leaked = bundle.inputs.filter((input) =>
      CLI_ONLY_PACKAGES.some((pkg) => input.includes(`node_modules/${pkg}/`)),
    );

    expect(leaked).toEqual([]);
  });

  it('contains nothing from the CLI (src/)', () => {
    expect(bundle.inputs.filter((input) => input.startsWith('src/'))).toEqual([]);
  });

  it('stays under 150 KB minified', () => {
    expect(bundle.code.byteLength).toBeLessThan(BUNDLE_BUDGET_BYTES);
  });
});
