import type { AwsDeps } from '../aws/deps.js';
import { type AttachOptions, addAttachOptions, attachCommand } from './attach.js';
import { addCommonOptions } from './aws-options.js';
import type { RegisterCommand } from './register.js';

/**
 * One command instead of the old deploy script: read the function, build the flavor its runtime
 * needs for its architecture, publish (or reuse) that layer version, and attach it with the settings.
 */
export const registerDeployCommand: RegisterCommand<[AwsDeps]> = (program, io, setExitCode, deps) => {
  const command = program
    .command('deploy')
    .description('build, publish (or reuse) and attach the layer to one function in one step')
    .argument('<function>', 'function name or ARN');
  addAttachOptions(command);
  addCommonOptions(command, { manyRegions: true }).action(async (fn: string, options: AttachOptions) => {
    setExitCode(
      await attachCommand(
        io,
        [fn],
        { ...options, layerArn: undefined, functionsRegex: undefined },
        deps,
        'deploy',
      ),
    );
  });
};
