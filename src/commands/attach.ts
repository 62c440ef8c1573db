import type { Command } from 'commander';
import { parseLayerVersionArn } from '../aws/arn.js';
import type { AwsDeps } from '../aws/deps.js';
import type { LayerSource } from '../aws/functions-workflow.js';
import { firstDefined } from '../config-file.js';
import { type CliIo, ExitCode } from '../io.js';
import { FLAVORS, LAYER_NAME_DEFAULT } from '../layer/targets.js';
import { createOutput } from '../render/output.js';
import type { LokiOptions } from '../settings.js';
import { VERSION } from '../version.js';
import {
  addCommonOptions,
  addGrantOptions,
  addLokiOptions,
  createRegionContexts,
  type GrantOptions,
  givenSettingsProblems,
  grantsFrom,
  type ManyRegionsOptions,
  parseRegex,
  prepareAws,
  resolveGivenSettings,
} from './aws-options.js';
import { parseFlavors } from './choices.js';
import {
  addRolloutOptions,
  addSelectionOptions,
  type FleetFlags,
  fleetOptionsFrom,
} from './fleet-options.js';
import type { RegisterCommand } from './register.js';

export interface AttachOptions extends ManyRegionsOptions, GrantOptions, LokiOptions, FleetFlags {
  readonly functionsRegex?: string;
  readonly layerArn?: string;
  readonly layerName?: string;
  readonly flavor?: string;
  readonly s3Bucket?: string;
  readonly dryRun?: boolean;
  readonly yes?: boolean;
  readonly checkPermissions?: boolean;
}

/** Options shared by attach and deploy: where the layer comes from, what to set, how to apply. */
export function addAttachOptions(command: Command): Command {
  command
    .option('--layer-name <name>', `base name of our layer (default: ${LAYER_NAME_DEFAULT})`)
    .option(
      '--flavor <flavor>',
      `${FLAVORS.join(' or ')} (default: slim on Node.js runtimes, else standalone)`,
    )
    .option('--s3-bucket <bucket>', 'stage layer zips over 50 MiB in this bucket (same region)');
  addGrantOptions(command);
  addLokiOptions(command);
  addRolloutOptions(command);
  return command
    .option(
      '--check-permissions',
      "ask IAM (iam:SimulatePrincipalPolicy) whether each function's role may read the Loki credential it points to, before applying",
    )
    .option('--dry-run', 'show the plan and change nothing (needs no secrets)')
    .option('-y, --yes', 'apply without asking (required when there is no terminal, e.g. in CI)');
}

export const registerAttachCommand: RegisterCommand<[AwsDeps]> = (program, io, setExitCode, deps) => {
  const command = program
    .command('attach')
    .description('add the layer and LOKI_* settings to functions, keeping what is there')
    .argument('[functions...]', 'function names or ARNs')
    .option('--functions-regex <regex>', 'also every function in the region whose name matches')
    .option('--layer-arn <arn>', 'attach this layer version (default: build, then publish or reuse one)');
  addSelectionOptions(command);
  addAttachOptions(command);
  addCommonOptions(command, { manyRegions: true }).action(
    async (functions: string[], options: AttachOptions) => {
      setExitCode(await attachCommand(io, functions, options, deps, 'attach'));
    },
  );
};

/** attach and deploy: validate everything, then hand over to the shared run. */
export async function attachCommand(
  io: CliIo,
  functions: readonly string[],
  options: AttachOptions,
  deps: AwsDeps,
  name: 'attach' | 'deploy',
): Promise<number> {
  const out = createOutput(io, name, options.json ?? false);
  const prepared = await prepareAws(io, out, options, functions, { manyRegions: true });
  if (!prepared.ok) return ExitCode.usage;
  // deploy takes exactly its one function and always builds: the file's selection does not apply.
  const file =
    name === 'deploy'
      ? { ...prepared.file, functions: undefined, functionsRegex: undefined, layerArn: undefined }
      : prepared.file;
  const problems: string[] = [];
  const pattern = parseRegex(firstDefined(options.functionsRegex, file.functionsRegex), problems);
  const fleet = fleetOptionsFrom(options, problems);
  const flavors = parseFlavors(options.flavor !== undefined ? [options.flavor] : file.flavor, problems);
  if (flavors !== undefined && flavors.length > 1) problems.push('--flavor takes one flavor here');
  const grants = grantsFrom(options, file, problems);
  const baseName = firstDefined(options.layerName, file.layerName) ?? LAYER_NAME_DEFAULT;
  const layerArn = firstDefined(options.layerArn, file.layerArn);
  if (layerArn !== undefined && parseLayerVersionArn(layerArn) === undefined) {
    problems.push(
      `--layer-arn must be a layer version ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION); got ${layerArn}`,
    );
  }
  if (layerArn !== undefined && prepared.regions.length > 1) {
    problems.push(
      `--layer-arn names a layer of one region, and this run covers ${prepared.regions.join(', ')}: leave it out (each region publishes or reuses its own layer) or run once per region`,
    );
  }
  const given = await resolveGivenSettings(io, options, file);
  if (!given.ok) problems.push(...given.problems);
  else problems.push(...givenSettingsProblems(given.settings));
  if (problems.length > 0 || !given.ok) {
    for (const problem of problems) out.error(problem);
    return ExitCode.usage;
  }
  const source: LayerSource =
    layerArn !== undefined
      ? { kind: 'arn', arn: layerArn }
      : {
          kind: 'publish',
          baseName,
          flavor: flavors?.[0],
          s3Bucket: firstDefined(options.s3Bucket, file.s3Bucket),
          grants,
          version: VERSION,
        };
  const names = functions.length > 0 ? functions : (file.functions ?? []);
  // Loaded here, with the AWS SDK, so that `--help` and the other commands start without it.
  const { runFunctionsInRegions } = await import('./run-functions.js');
  return runFunctionsInRegions(await createRegionContexts(deps, prepared, out, names), out, {
    mode: 'attach',
    names,
    pattern,
    baseName,
    source,
    settings: given.settings,
    dryRun: options.dryRun ?? false,
    yes: options.yes ?? false,
    checkPermissions: options.checkPermissions ?? false,
    fleet,
  });
}
