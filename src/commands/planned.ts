import type { Command } from 'commander';
import { type CliIo, ExitCode } from '../io.js';

/** Commands listed in --help whose implementation lands in a later release. */
const PLANNED = [
  ['tail', "follow a function's logs in Loki"],
  ['check', 'prove that Loki settings work: push a test line and read it back'],
] as const;

export function registerPlannedCommands(
  program: Command,
  io: CliIo,
  setExitCode: (code: number) => void,
): void {
  for (const [name, description] of PLANNED) {
    program
      .command(name)
      .description(`${description} (not yet available)`)
      .allowUnknownOption()
      .allowExcessArguments()
      .action(() => {
        io.stderr.write(`loki-lambda ${name} is not available in this version yet.\n`);
        setExitCode(ExitCode.failure);
      });
  }
}
