import type { Command } from 'commander';
import { type CliIo, ExitCode } from '../io.js';

// Placeholder: the build command is being written (issue 3).
export function registerBuildCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command('build')
    .description('bundle the extension and write the layer zips')
    .action(() => {
      io.stderr.write('not yet\n');
      setExitCode(ExitCode.failure);
    });
}
