import { spawn } from 'node:child_process';

/** What running `npm` produced. */
export interface NpmResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `npm` with the given arguments. Injected so tests can fake the registry; the default runs the
 * user's own npm, so their registry, proxy and auth settings apply.
 */
export type NpmRunner = (args: readonly string[]) => Promise<NpmResult>;

export class NpmNotFoundError extends Error {
  override readonly name = 'NpmNotFoundError';
}

/** Output kept from npm, enough for its error message. */
const NPM_OUTPUT_LIMIT_CHARS = 64 * 1024;

/** The real npm, run as a child process in `cwd` (so a project's .npmrc applies). */
export function createNpmRunner(cwd: string, env: Readonly<Record<string, string | undefined>>): NpmRunner {
  return (args) =>
    new Promise((resolve, reject) => {
      // npm is a .cmd script on Windows, which only a shell can start.
      const child = spawn('npm', [...args], {
        cwd,
        env: { ...env },
        shell: process.platform === 'win32',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => {
        if (stdout.length < NPM_OUTPUT_LIMIT_CHARS) stdout += s;
      });
      child.stderr.setEncoding('utf8').on('data', (s: string) => {
        if (stderr.length < NPM_OUTPUT_LIMIT_CHARS) stderr += s;
      });
      child.on('error', (error: NodeJS.ErrnoException) => {
        reject(
          error.code === 'ENOENT'
            ? new NpmNotFoundError('npm was not found on PATH; install Node.js with npm', { cause: error })
            : error,
        );
      });
      child.on('close', (code) => resolve({ exitCode: code ?? 1, stdout, stderr }));
    });
}
