import type { Redactor } from '../extension/redact.js';

/** What the process gives the CLI; injected so tests run the CLI in-process. */
export interface ProcessIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** Where a command writes, and what it may read. */
export interface CliIo extends ProcessIo {
  /**
   * The secrets known so far; every write to stdout and stderr is redacted with them (see
   * redacting-io.ts). A command registers each secret it learns (a token file, a function's environment).
   */
  readonly secrets: Redactor;
  /** stdout without redaction, only for data that must stay byte-exact (`tail -o raw`). */
  readonly rawStdout: NodeJS.WritableStream;
}

/** Exit codes shared by every command. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** Stopped by Ctrl-C (128 + SIGINT), as shells report it. */
  interrupted: 130,
} as const;
