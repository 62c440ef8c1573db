import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultAwsDeps } from '../../src/cli.js';
import type { LayerBuildRequest } from '../../src/layer/builder.js';
import { fakeZip, runCli } from '../support/aws-cli.js';

let work: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'loki-lambda-cli-build-'));
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('loki-lambda build, with the injected layer builder', () => {
  it('asks the builder for the chosen targets in --out-dir and prints its zips as JSON', async () => {
    const requests: LayerBuildRequest[] = [];
    const result = await runCli(
      ['build', '--flavor', 'slim', '--arch', 'arm64', '--out-dir', 'out', '--json'],
      {
        cwd: work,
        deps: {
          buildLayers: async (request) => {
            requests.push(request);
            return [{ ...(await fakeZip(work, 'slim', 'arm64')), nodeVersion: null }];
          },
        },
      },
    );

    expect(result.code).toBe(0);
    expect(requests).toEqual([
      expect.objectContaining({ arches: ['arm64'], flavors: ['slim'], outDir: join(work, 'out') }),
    ]);
    expect(requests[0]?.cacheDir).toBeUndefined();
    const document = JSON.parse(result.stdout) as {
      layers: Array<{ flavor: string; compatibleRuntimes: string[] }>;
    };
    expect(document.layers).toEqual([
      expect.objectContaining({
        flavor: 'slim',
        arch: 'arm64',
        nodeVersion: null,
        compatibleRuntimes: expect.any(Array),
      }),
    ]);
    expect(result.stderr).toBe('');
  });

  it('builds every flavor and architecture when none is chosen, and resolves --cache-dir', async () => {
    const requests: LayerBuildRequest[] = [];
    const result = await runCli(['build', '--cache-dir', 'cache'], {
      cwd: work,
      deps: {
        buildLayers: async (request) => {
          requests.push(request);
          return [];
        },
      },
    });

    expect(result.code).toBe(0);
    expect(requests[0]).toMatchObject({
      arches: ['x86_64', 'arm64'],
      flavors: ['slim', 'standalone', 'al2'],
      outDir: join(work, 'dist', 'layers'),
      cacheDir: join(work, 'cache'),
    });
  });
});

describe('the default layer builder', () => {
  it('writes the zips of attach, deploy and publish into the cache directory, not the working directory', async () => {
    const io = {
      stdout: new PassThrough(),
      stderr: new PassThrough(),
      env: { XDG_CACHE_HOME: join(work, 'xdg'), HOME: work },
      cwd: join(work, 'project'),
    };

    // A stand-in extension: where the zips go does not depend on what is bundled, and the real one
    // (with its AWS SDK secret reader) took seconds to bundle, twice.
    const extensionEntry = join(work, 'extension', 'main.ts');
    await mkdir(dirname(extensionEntry), { recursive: true });
    await writeFile(extensionEntry, 'console.log("stand-in");\n');
    await writeFile(join(work, 'extension', 'aws-secret-reader.ts'), 'export const reader = 1;\n');

    const [layer] = await defaultAwsDeps(io, { extensionEntry }).buildLayers({
      arches: ['x86_64'],
      flavors: ['slim'],
    });

    expect(layer?.path).toBe(join(work, 'xdg', 'loki-lambda', 'layers', 'loki-lambda-slim-x86_64.zip'));

    // The next AWS command reuses that zip: same sources, so it is not built again.
    const progress: string[] = [];
    const [again] = await defaultAwsDeps(io, { extensionEntry }).buildLayers({
      arches: ['x86_64'],
      flavors: ['slim'],
      onProgress: (message) => progress.push(message),
    });
    expect(again).toEqual(layer);
    expect(progress).toContain('Reusing loki-lambda-slim-x86_64.zip (built before from the same sources)');
    expect(progress.some((message) => message.startsWith('Writing'))).toBe(false);
  });
});
