import type { Command } from 'commander';
import type { AwsDeps } from '../aws/deps.js';
import { NO_SETTINGS } from '../aws/loki-env.js';
import { firstDefined } from '../config-file.js';
import { type CliIo, ExitCode } from '../io.js';
import { LAYER_NAME_DEFAULT } from '../layer/targets.js';
import { createOutput } from '../render/output.js';
import {
  addCommonOptions,
  createRegionContexts,
  type ManyRegionsOptions,
  parseRegex,
  prepareAws,
} from './aws-options.js';
import {
  addRolloutOptions,
  addSelectionOptions,
  type FleetFlags,
  fleetOptionsFrom,
} from './fleet-options.js';

interface DetachOptions extends ManyRegionsOptions, FleetFlags {
  readonly functionsRegex?: string;
  readonly layerName?: string;
  readonly dryRun?: boolean;
  readonly yes?: boolean;
}

export function registerDetachCommand(
  program: Command,
  io: CliIo,
  setExitCode: (code: number) => void,
  deps: AwsDeps,
): void {
  const command = program
    .command('detach')
    .description(
      'remove the layer (whatever its name) and the LOKI_* settings the extension reads from functions',
    )
    .argument('[functions...]', 'function names or ARNs')
    .option('--functions-regex <regex>', 'also every function in the region whose name matches')
    .option('--layer-name <name>', `base name of our layer (default: ${LAYER_NAME_DEFAULT})`)
    .option('--dry-run', 'show the plan and change nothing')
    .option('-y, --yes', 'apply without asking (required when there is no terminal, e.g. in CI)');
  addSelectionOptions(command);
  addRolloutOptions(command);
  addCommonOptions(command, { manyRegions: true }).action(
    async (functions: string[], options: DetachOptions) => {
      setExitCode(await detachCommand(io, functions, options, deps));
    },
  );
}

async function detachCommand(
  io: CliIo,
  functions: readonly string[],
  options: DetachOptions,
  deps: AwsDeps,
): Promise<number> {
  const out = createOutput(io, 'detach', options.json ?? false);
  const prepared = await prepareAws(io, out, options, functions, { manyRegions: true });
  if (!prepared.ok) return ExitCode.usage;
  const { file } = prepared;
  const problems: string[] = [];
  const pattern = parseRegex(firstDefined(options.functionsRegex, file.functionsRegex), problems);
  const fleet = fleetOptionsFrom(options, problems);
  if (problems.length > 0) {
    for (const problem of problems) out.error(problem);
    return ExitCode.usage;
  }
  // Loaded here, with the AWS SDK, so that `--help` and the other commands start without it.
  const { runFunctionsInRegions } = await import('./run-functions.js');
  const names = functions.length > 0 ? functions : (file.functions ?? []);
  return runFunctionsInRegions(await createRegionContexts(deps, prepared, out, names), out, {
    mode: 'detach',
    names,
    pattern,
    baseName: firstDefined(options.layerName, file.layerName) ?? LAYER_NAME_DEFAULT,
    source: undefined,
    settings: NO_SETTINGS,
    dryRun: options.dryRun ?? false,
    yes: options.yes ?? false,
    fleet,
  });
}
