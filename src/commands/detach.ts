import type { AwsDeps } from '../aws/deps.js';
import { addFleetCommandOptions, type FleetCommandOptions, runFleetCommand } from './fleet-command.js';
import type { RegisterCommand } from './register.js';

export const registerDetachCommand: RegisterCommand<[AwsDeps]> = (program, io, setExitCode, deps) => {
  const command = program
    .command('detach')
    .description(
      'remove the layer (whatever its name) and the LOKI_* settings the extension reads from functions',
    )
    .argument('[functions...]', 'function names or ARNs');
  addFleetCommandOptions(command).action(async (functions: string[], options: FleetCommandOptions) => {
    // No layer to bring: whatever layer of ours a function has is taken off.
    setExitCode(await runFleetCommand(io, deps, 'detach', functions, options, () => undefined));
  });
};
