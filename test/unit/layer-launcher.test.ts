import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  heapFlagsFor,
  heapLimitsFor,
  LAUNCHER_PATH,
  LAUNCHER_SCRIPT,
  RUNTIME_NODE_PATH,
} from '../../src/layer/launcher.js';

let opt: string;

/** Lays out a layer like /opt: the launcher, and optionally a fake `loki-lambda/node`. */
async function layOut(withNode: boolean): Promise<string> {
  const launcher = join(opt, LAUNCHER_PATH);
  await mkdir(join(opt, 'extensions'), { recursive: true });
  await mkdir(join(opt, 'loki-lambda'), { recursive: true });
  await writeFile(launcher, LAUNCHER_SCRIPT, { mode: 0o755 });
  if (withNode) {
    // A stand-in for Node that shows how it was started.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
    const script = '#!/bin/sh\necho "node $# $1 NODE_OPTIONS=${NODE_OPTIONS-unset}"\nexit 7\n';
    const node = join(opt, 'loki-lambda', 'node');
    await writeFile(node, script);
    await chmod(node, 0o755);
  }
  return launcher;
}

beforeEach(async () => {
  opt = await mkdtemp(join(tmpdir(), 'loki-lambda-opt-'));
});
afterEach(async () => {
  await rm(opt, { recursive: true, force: true });
});

describe('the launcher', () => {
  it('starts the bundle with the layer’s own Node, replacing itself, without the function’s NODE_OPTIONS', async () => {
    const launcher = await layOut(true);

    const run = spawnSync(launcher, [], {
      env: { NODE_OPTIONS: '--require /var/task/tracer.js' },
      encoding: 'utf8',
    });

    expect(run.stdout.trim()).toBe(`node 1 ${opt}/extensions/../loki-lambda/index.cjs NODE_OPTIONS=unset`);
    // exec: the launcher's exit code is Node's.
    expect(run.status).toBe(7);
  });

  it.each([128, 256, 1024, 1769, 10_240])(
    'gives V8 heap limits derived from a function memory of %i MB',
    async (memoryMb) => {
      const launcher = await layOut(true);
      await writeFile(join(opt, 'loki-lambda', 'node'), '#!/bin/sh\necho "$@"\n');

      const run = spawnSync(launcher, [], {
        env: { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb) },
        encoding: 'utf8',
      });

      expect(run.stdout.trim()).toBe(
        [...heapFlagsFor(memoryMb), `${opt}/extensions/../loki-lambda/index.cjs`].join(' '),
      );
    },
  );

  it.each(['', 'lots', '0128', '-1'])(
    'starts Node without heap flags when the memory size is %j',
    async (raw) => {
      const launcher = await layOut(true);
      await writeFile(join(opt, 'loki-lambda', 'node'), '#!/bin/sh\necho "$@"\n');

      const run = spawnSync(launcher, [], {
        env: { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: raw },
        encoding: 'utf8',
      });

      expect(run.stdout.trim()).toBe(`${opt}/extensions/../loki-lambda/index.cjs`);
    },
  );

  it('sizes the old space at a quarter of the memory and the semi-space at a 64th, from 1 to 16 MB', () => {
    expect(heapLimitsFor(128)).toEqual({ oldSpaceMb: 32, semiSpaceMb: 2 });
    expect(heapLimitsFor(1769)).toEqual({ oldSpaceMb: 442, semiSpaceMb: 16 });
    expect(heapLimitsFor(64)).toEqual({ oldSpaceMb: 16, semiSpaceMb: 1 });
  });

  it('works when started through a relative path', async () => {
    await layOut(true);

    const run = spawnSync('./extensions/loki-lambda', [], { cwd: opt, encoding: 'utf8' });

    expect(run.stdout.trim()).toMatch(/^node 1 \.\/extensions\/\.\.\/loki-lambda\/index\.cjs/);
  });

  it.skipIf(existsSync(RUNTIME_NODE_PATH))(
    'prints one line naming the problem and exits non-zero when there is no Node at all',
    async () => {
      const launcher = await layOut(false);

      const run = spawnSync(launcher, [], { env: {}, encoding: 'utf8' });

      expect(run.status).not.toBe(0);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(/^loki-lambda: no Node\.js found .*standalone layer/);
    },
  );

  it('is a POSIX sh script that falls back to the Node of Lambda’s Node.js runtimes', () => {
    expect(LAUNCHER_SCRIPT.startsWith('#!/bin/sh\n')).toBe(true);
    expect(LAUNCHER_SCRIPT).toContain(
      'exec /var/lang/bin/node $heap_flags "$layer_dir/loki-lambda/index.cjs"',
    );
  });
});
