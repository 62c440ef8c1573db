import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
let work: string;
let packageDir: string;

/** `npm pack` then unpack: exactly what `npx loki-lambda` runs from the registry, minus the download. */
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'loki-lambda-pack-'));
  await run('npm', ['pack', '--pack-destination', work, '--silent'], {
    cwd: root,
    env: { ...process.env, npm_config_loglevel: 'error' },
  });
  const [tarball] = (await readdir(work)).filter((f) => f.endsWith('.tgz'));
  await run('tar', ['-xzf', join(work, tarball ?? ''), '-C', work]);
  packageDir = join(work, 'package');
  // The registry would install the dependencies; link the clone's instead (no network in tests).
  await symlink(join(root, 'node_modules'), join(packageDir, 'node_modules'));
}, 120_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships compiled JavaScript for the CLI and no TypeScript outside the extension sources', async () => {
    expect(existsSync(join(packageDir, 'dist/src/cli.js'))).toBe(true);
    expect(existsSync(join(packageDir, 'src'))).toBe(false);
    expect(existsSync(join(packageDir, 'test'))).toBe(false);
    expect(existsSync(join(packageDir, 'extension/main.ts'))).toBe(true);
  });

  it('runs `loki-lambda --help` with plain node and lists every command', async () => {
    const { stdout } = await run(process.execPath, [join(packageDir, 'bin/loki-lambda.js'), '--help']);

    for (const command of ['build', 'publish', 'attach', 'detach', 'deploy', 'tail', 'check']) {
      expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
  });

  it('builds a slim layer from the packed package', async () => {
    const outDir = join(work, 'layers');

    const { stdout } = await run(process.execPath, [
      join(packageDir, 'bin/loki-lambda.js'),
      'build',
      '--flavor',
      'slim',
      '--arch',
      'x86_64',
      '--out-dir',
      outDir,
      '--json',
    ]);

    expect(stdout).toContain('loki-lambda-slim-x86_64.zip');
    expect(existsSync(join(outDir, 'loki-lambda-slim-x86_64.zip'))).toBe(true);
  }, 60_000);
});
