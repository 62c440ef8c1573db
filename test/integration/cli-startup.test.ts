import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Which packages the compiled CLI loads, seen by a module resolve hook (`node --import`): `--help`
 * must not pay for the AWS SDK, the layer build or the websocket client, and each command loads only
 * what it uses.
 */

const root = resolve(import.meta.dirname, '../..');
/** The dependencies that dominate start-up time. */
const HEAVY_PACKAGES = [
  '@aws-sdk',
  'archiver',
  'ora',
  'esbuild',
  'ws',
  '@grafana/grafana-foundation-sdk',
] as const;
type HeavyPackage = (typeof HEAVY_PACKAGES)[number];

/** Registers a resolve hook that appends every resolved module URL to $CLI_STARTUP_TRACE_FILE. */
const REGISTER_HOOK = `import { register } from 'node:module';
register(new URL('./hooks.mjs', import.meta.url), { data: { file: process.env.CLI_STARTUP_TRACE_FILE } });
`;
const HOOKS = `import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  appendFileSync(file, result.url + '\\n');
  return result;
}
`;

const run = promisify(execFile);
let work: string;
let traceCount = 0;

/**
 * The CLI compiled on its own by the script `npm install` and `npm pack` compile it with, laid out
 * like the package (bin/, dist/, package.json, extension/, node_modules): compiling into the clone's
 * dist/ could race `npm pack` in package.test.ts.
 */
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'loki-lambda-startup-'));
  await run(process.execPath, [join(root, 'scripts/build-dist.mjs'), '--out-dir', join(work, 'dist')]);
  await mkdir(join(work, 'bin'));
  await copyFile(join(root, 'bin/loki-lambda.js'), join(work, 'bin/loki-lambda.js'));
  await copyFile(join(root, 'package.json'), join(work, 'package.json'));
  await symlink(join(root, 'extension'), join(work, 'extension'));
  await symlink(join(root, 'node_modules'), join(work, 'node_modules'));
  await mkdir(join(work, 'trace'));
  await writeFile(join(work, 'trace/register.mjs'), REGISTER_HOOK);
  await writeFile(join(work, 'trace/hooks.mjs'), HOOKS);
}, 120_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

interface TracedRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Heavy packages among the modules the process resolved. */
  readonly heavy: ReadonlySet<HeavyPackage>;
  readonly resolvedCount: number;
}

/** Runs `node bin/loki-lambda.js ...args` under the hook (asynchronously: a test server may answer it). */
async function runTraced(args: readonly string[]): Promise<TracedRun> {
  const traceFile = join(work, 'trace', `run-${traceCount++}.txt`);
  await writeFile(traceFile, '');
  const child = spawn(
    process.execPath,
    ['--import', join(work, 'trace/register.mjs'), join(work, 'bin/loki-lambda.js'), ...args],
    { cwd: work, env: { ...process.env, CLI_STARTUP_TRACE_FILE: traceFile }, stdio: 'pipe' },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((done) => child.on('close', done));
  const urls = (await readFile(traceFile, 'utf8')).split('\n').filter((line) => line !== '');
  const heavy = new Set(
    HEAVY_PACKAGES.filter((name) => urls.some((url) => url.includes(`/node_modules/${name}/`))),
  );
  return { code, stdout, stderr, heavy, resolvedCount: urls.length };
}

describe('the compiled CLI loads heavy dependencies only in the commands that use them', () => {
  it('shows --help with every command without loading the AWS SDK, archiver, ora, esbuild or ws', async () => {
    const result = await runTraced(['--help']);

    expect(result.code).toBe(0);
    for (const command of [
      'build',
      'publish',
      'attach',
      'detach',
      'deploy',
      'tail',
      'check',
      'dashboard',
      'rules',
    ]) {
      expect(result.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
    expect(result.resolvedCount).toBeGreaterThan(0);
    expect([...result.heavy]).toEqual([]);
  });

  it('shows build --help with its flags without loading any of them either', async () => {
    const result = await runTraced(['build', '--help']);

    expect(result.code).toBe(0);
    for (const flag of ['--arch', '--flavor', '--out-dir', '--cache-dir', '--json']) {
      expect(result.stdout).toContain(flag);
    }
    expect([...result.heavy]).toEqual([]);
  });

  it('builds a slim layer with esbuild and archiver, and without the AWS SDK, ws or (with --json) ora', async () => {
    const result = await runTraced([
      'build',
      '--flavor',
      'slim',
      '--arch',
      'x86_64',
      '--out-dir',
      join(work, 'layers'),
      '--json',
    ]);

    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).layers).toHaveLength(1);
    expect([...result.heavy].sort()).toEqual(['archiver', 'esbuild']);
  });

  it("writes the dashboard with Grafana's SDK only, and the rules without it", async () => {
    const dashboard = await runTraced(['dashboard', '--out', join(work, 'dashboard.json')]);
    const rules = await runTraced(['rules']);

    expect(dashboard.code, dashboard.stderr).toBe(0);
    expect([...dashboard.heavy]).toEqual(['@grafana/grafana-foundation-sdk']);
    expect(rules.code, rules.stderr).toBe(0);
    expect([...rules.heavy]).toEqual([]);
  });

  describe('tail', () => {
    let loki: Server;
    let addr: string;

    /** A Loki that answers every history query with no lines. */
    beforeAll(async () => {
      loki = createServer((_request, response) => {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ status: 'success', data: { resultType: 'streams', result: [] } }));
      });
      await new Promise<void>((done) => loki.listen(0, '127.0.0.1', done));
      addr = `http://127.0.0.1:${(loki.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      await new Promise((done) => loki.close(done));
    });

    it('prints the history with ws loaded, and without the layer build or the AWS SDK', async () => {
      const result = await runTraced(['tail', '--addr', addr, '--query', '{app="shop"}', '--no-follow']);

      expect(result.code, result.stderr).toBe(0);
      expect([...result.heavy]).toEqual(['ws']);
    });
  });
});
