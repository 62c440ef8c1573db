import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
/** npm's quiet flags; the registry is reached only for package metadata npm has not cached yet. */
const NPM_QUIET = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
let work: string;
let tarball: string;
let project: string;

/**
 * `npm pack`, then install the tarball into a new project as a user would
 * (`npm install -D ./loki-lambda-x.y.z.tgz`): npm puts the dependencies where it likes, not where the
 * clone has them, which is what must not change the built layer.
 */
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'loki-lambda-pack-'));
  await run('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: root });
  const [name] = (await readdir(work)).filter((f) => f.endsWith('.tgz'));
  tarball = join(work, name ?? '');
  project = join(work, 'project');
  await run('mkdir', [project]);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'a-team-project', private: true }));
  await run('npm', ['install', '-D', ...NPM_QUIET, tarball], { cwd: project, timeout: 240_000 });
}, 300_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function npx(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return run('npx', ['--no-install', 'loki-lambda', ...args], { cwd: project, timeout: 120_000 });
}

async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

describe('the package installed from its tarball into another project', () => {
  it('holds the compiled CLI, the extension sources and the README, and no tests or benchmarks', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.split('\n').filter((line) => line !== '');

    const unexpected = files.filter(
      (file) =>
        !/^package\/(bin\/|dist\/src\/|dist\/extension\/|dist\/layer-assets\/|extension\/[^/]+\.ts$)/.test(
          file,
        ) && !['package/package.json', 'package/README.md'].includes(file),
    );
    expect(unexpected).toEqual([]);
    expect(files).toContain('package/dist/src/cli.js');
    expect(files).toContain('package/extension/main.ts');
    // The secret reader bundled from the repository's locked AWS SDK (src/layer/bundle.ts says why).
    expect(files).toContain('package/dist/layer-assets/secrets.cjs');
  });

  it('runs `npx loki-lambda --help` and lists every command', async () => {
    const { stdout } = await npx(['--help']);

    for (const command of ['build', 'publish', 'attach', 'detach', 'deploy', 'tail', 'check']) {
      expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
  });

  it('runs `npx loki-lambda check --help`', async () => {
    const { stdout } = await npx(['check', '--help']);

    expect(stdout).toContain('Usage: loki-lambda check');
  });

  it('says in one short line, not the AWS SDK warning block, that an old Node.js is past its end of life', async () => {
    // An AWS command against a closed loopback port: the client is made, the call fails at once.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_ENDPOINT_URL_LAMBDA: 'http://127.0.0.1:9',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'not-a-real-key',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_MAX_ATTEMPTS: '1',
    };
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    delete env.AWS_PROFILE;

    const result = await run(
      'npx',
      ['--no-install', 'loki-lambda', 'detach', 'a-function', '--region', 'eu-west-1', '--dry-run'],
      { cwd: project, env, timeout: 60_000 },
    ).catch((error: { stderr: string }) => error);

    expect(result.stderr).not.toContain('NodeVersionSupportWarning');
    const notices = result.stderr.split('\n').filter((line) => line.includes('past its end of life'));
    expect(notices).toHaveLength(Number(process.versions.node.split('.')[0]) < 22 ? 1 : 0);
  });

  it('builds slim layers byte-identical to those built from the repository', async () => {
    const fromPackage = join(work, 'from-package');
    const fromRepo = join(work, 'from-repo');
    const args = ['build', '--flavor', 'slim', '--arch', 'x86_64,arm64', '--json'];

    await npx([...args, '--out-dir', fromPackage]);
    await run(process.execPath, [join(root, 'bin/loki-lambda.js'), ...args, '--out-dir', fromRepo], {
      cwd: root,
    });

    for (const zip of ['loki-lambda-slim-x86_64.zip', 'loki-lambda-slim-arm64.zip']) {
      expect(existsSync(join(fromPackage, zip))).toBe(true);
      expect(await sha256(join(fromPackage, zip)), zip).toBe(await sha256(join(fromRepo, zip)));
    }
  }, 120_000);
});
