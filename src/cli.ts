import { Command, CommanderError } from 'commander';
import { registerBuildCommand } from './commands/build.js';
import { registerPlannedCommands } from './commands/planned.js';
import { type CliIo, ExitCode } from './io.js';
import { VERSION } from './version.js';

/** Builds the commander program; each command sets the exit code through `setExitCode`. */
export function createProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command('loki-lambda')
    .description('Ship AWS Lambda logs to Grafana Loki: build, publish and attach the loki-lambda extension')
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError('(run with --help for usage)');
  registerBuildCommand(program, io, setExitCode);
  registerPlannedCommands(program, io, setExitCode);
  return program;
}

/** Runs the CLI and returns its exit code; never calls process.exit. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = createProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    io.stderr.write(`loki-lambda: ${error instanceof Error ? error.message : String(error)}\n`);
    return ExitCode.failure;
  }
  return exitCode;
}
