import type { Command } from 'commander';
import type { CliIo } from '../io.js';

/** How src/cli.ts adds a command: the program, where it writes, how it sets the exit code, its collaborators. */
export type RegisterCommand<Deps extends readonly unknown[]> = (
  program: Command,
  io: CliIo,
  setExitCode: (code: number) => void,
  ...deps: Deps
) => void;
