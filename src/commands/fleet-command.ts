import type { Command } from 'commander';
import type { AwsDeps } from '../aws/deps.js';
import type { LayerSource } from '../aws/functions-workflow.js';
import { NO_SETTINGS } from '../aws/loki-env.js';
import { type ConfigFileValues, firstDefined } from '../config-file.js';
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

/** The flags of detach and upgrade: which functions, which layer is ours, whether to apply. */
export interface FleetCommandOptions extends ManyRegionsOptions, FleetFlags {
  readonly functionsRegex?: string;
  readonly layerName?: string;
  readonly dryRun?: boolean;
  readonly yes?: boolean;
}

/** The flags every command that changes functions takes; `own` adds the command's own, in the middle. */
export function addFleetCommandOptions(
  command: Command,
  own: (command: Command) => void = () => {},
): Command {
  command
    .option('--functions-regex <regex>', 'also every function in the region whose name matches')
    .option('--layer-name <name>', `base name of our layer (default: ${LAYER_NAME_DEFAULT})`);
  own(command);
  command
    .option('--dry-run', 'show the plan and change nothing')
    .option('-y, --yes', 'apply without asking (required when there is no terminal, e.g. in CI)');
  addSelectionOptions(command);
  addRolloutOptions(command);
  return addCommonOptions(command, { manyRegions: true });
}

/**
 * detach and upgrade: load the config file and the regions, check the selection and the rollout
 * flags, then the command's own (`sourceFor` adds its problems), and run over every region.
 */
export async function runFleetCommand(
  io: CliIo,
  deps: AwsDeps,
  mode: 'detach' | 'upgrade',
  functions: readonly string[],
  options: FleetCommandOptions,
  sourceFor: (file: ConfigFileValues, baseName: string, problems: string[]) => LayerSource | undefined,
): Promise<number> {
  const out = createOutput(io, mode, options.json ?? false);
  const prepared = await prepareAws(io, out, options, functions, { manyRegions: true });
  if (!prepared.ok) return ExitCode.usage;
  const { file } = prepared;
  const problems: string[] = [];
  const pattern = parseRegex(firstDefined(options.functionsRegex, file.functionsRegex), problems);
  const fleet = fleetOptionsFrom(options, problems);
  const baseName = firstDefined(options.layerName, file.layerName) ?? LAYER_NAME_DEFAULT;
  const source = sourceFor(file, baseName, problems);
  if (problems.length > 0) {
    for (const problem of problems) out.error(problem);
    return ExitCode.usage;
  }
  // Loaded here, with the AWS SDK, so that `--help` and the other commands start without it.
  const { runFunctionsInRegions } = await import('./run-functions.js');
  const names = functions.length > 0 ? functions : (file.functions ?? []);
  return runFunctionsInRegions(await createRegionContexts(deps, prepared, out, names), out, {
    mode,
    names,
    pattern,
    baseName,
    source,
    settings: NO_SETTINGS,
    dryRun: options.dryRun ?? false,
    yes: options.yes ?? false,
    fleet,
  });
}
