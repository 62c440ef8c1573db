import type { AwsDeps } from '../aws/deps.js';
import { firstDefined } from '../config-file.js';
import { VERSION } from '../version.js';
import { addGrantOptions, type GrantOptions, grantsFrom } from './aws-options.js';
import { addFleetCommandOptions, type FleetCommandOptions, runFleetCommand } from './fleet-command.js';
import type { RegisterCommand } from './register.js';

interface UpgradeOptions extends FleetCommandOptions, GrantOptions {
  readonly s3Bucket?: string;
}

export const registerUpgradeCommand: RegisterCommand<[AwsDeps]> = (program, io, setExitCode, deps) => {
  const command = program
    .command('upgrade')
    .description(
      "move functions that have the extension to this version's layer (same flavor and arch), changing nothing else",
    )
    .argument('[functions...]', 'function names or ARNs');
  addFleetCommandOptions(command, (own) => {
    own.option('--s3-bucket <bucket>', 'stage layer zips over 50 MiB in this bucket (same region)');
    addGrantOptions(own);
  }).action(async (functions: string[], options: UpgradeOptions) => {
    setExitCode(
      await runFleetCommand(io, deps, 'upgrade', functions, options, (file, baseName, problems) => ({
        kind: 'publish',
        baseName,
        // Each function keeps the flavor it has.
        flavor: undefined,
        s3Bucket: firstDefined(options.s3Bucket, file.s3Bucket),
        grants: grantsFrom(options, file, problems),
        version: VERSION,
      })),
    );
  });
};
