import { parseLayerVersionArn } from '../aws/arn.js';
import type { AwsDeps } from '../aws/deps.js';
import { isSecretVariable } from '../aws/loki-env.js';
import { resolveRegion } from '../aws/region.js';
import { firstDefined, loadConfigFile } from '../config-file.js';
import { type CliIo, ExitCode } from '../io.js';
import { ARCHES, type Arch, FLAVORS, type Flavor, LAYER_NAME_DEFAULT } from '../layer/targets.js';
import { renderAwsError, renderRegionProblem } from '../render/aws-errors.js';
import { IAC_FORMATS, renderIacSnippet, type SnippetValue } from '../render/iac-snippet.js';
import { createOutput, type Output } from '../render/output.js';
import type { LokiOptions } from '../settings.js';
import { VERSION } from '../version.js';
import { addLokiOptions, resolveLokiEnv } from './aws-options.js';
import { parseChoices } from './choices.js';
import type { RegisterCommand } from './register.js';

interface SnippetOptions extends LokiOptions {
  readonly format?: string;
  readonly functionName?: string;
  readonly runtime?: string;
  readonly flavor?: string;
  readonly arch?: string;
  readonly layerArn?: string;
  readonly layerName?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly config?: string;
  readonly json?: boolean;
}

const FUNCTION_NAME_DEFAULT = 'my-function';

export const registerSnippetCommand: RegisterCommand<[AwsDeps]> = (program, io, setExitCode, deps) => {
  const command = program
    .command('snippet')
    .description(
      'print the layer and LOKI_* settings as a Terraform, CDK, SAM or Serverless Framework fragment (secrets as inputs, never values)',
    )
    .requiredOption('--format <format>', `one of ${IAC_FORMATS.join(', ')}`)
    .option('--function-name <name>', `the function the fragment is for (default: ${FUNCTION_NAME_DEFAULT})`)
    .option('--runtime <runtime>', "the function's runtime, which picks the flavor (e.g. python3.13)")
    .option('--flavor <flavor>', `${FLAVORS.join(' or ')} (default: from --runtime, else slim)`)
    .option('--arch <arch>', `${ARCHES.join(' or ')} (default: x86_64)`)
    .option('--layer-arn <arn>', 'this layer version (default: the newest published in --region)')
    .option('--layer-name <name>', `base name of our layer (default: ${LAYER_NAME_DEFAULT})`)
    .option('--region <region>', 'where to look up the published layer (default: AWS_REGION)')
    .option('--profile <name>', 'AWS profile for that look-up')
    .option('--config <file>', 'settings file (default: ./loki-lambda.config.json when present)')
    .option('--json', 'print one JSON document on stdout (text goes to stderr)');
  addLokiOptions(command).action(async (options: SnippetOptions) => {
    setExitCode(await snippetCommand(io, options, deps));
  });
};

async function snippetCommand(io: CliIo, options: SnippetOptions, deps: AwsDeps): Promise<number> {
  const out = createOutput(io, 'snippet', options.json ?? false);
  const problems: string[] = [];
  const [format] = parseChoices('--format', [options.format ?? ''], IAC_FORMATS, problems) ?? [];
  const [arch] =
    parseChoices('--arch', options.arch === undefined ? undefined : [options.arch], ARCHES, problems) ?? [];
  const [flavorFlag] =
    parseChoices(
      '--flavor',
      options.flavor === undefined ? undefined : [options.flavor],
      FLAVORS,
      problems,
    ) ?? [];
  if (options.layerArn !== undefined && parseLayerVersionArn(options.layerArn) === undefined)
    problems.push(
      '--layer-arn must be a layer version ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION)',
    );
  const loaded = await loadConfigFile(io.cwd, options.config);
  if (!loaded.ok) problems.push(...loaded.problems);
  if (problems.length > 0 || format === undefined || !loaded.ok) {
    for (const problem of problems) out.error(problem);
    return ExitCode.usage;
  }
  const file = loaded.values;
  const settings = await resolveLokiEnv(io, options, file);
  if (!settings.ok) {
    for (const problem of settings.problems) out.error(problem);
    return ExitCode.usage;
  }
  const flavor = flavorFlag ?? (await flavorOf(options.runtime));
  const layerArn =
    firstDefined(options.layerArn, file.layerArn) ??
    (await lookUpLayerArn(io, out, options, deps, {
      baseName: firstDefined(options.layerName, file.layerName) ?? LAYER_NAME_DEFAULT,
      flavor,
      arch: arch ?? 'x86_64',
      configRegion: file.region,
      configProfile: file.profile,
    }));
  if (layerArn === undefined) return ExitCode.failure;

  const environment = Object.entries(settings.env).map(([name, value]): readonly [string, SnippetValue] => [
    name,
    isSecretVariable(name) ? { kind: 'secret' } : { kind: 'value', value },
  ]);
  const snippet = renderIacSnippet({
    format,
    functionName: options.functionName ?? FUNCTION_NAME_DEFAULT,
    layerArn,
    environment,
    version: VERSION,
  });
  if (out.json) {
    out.document({
      format,
      layerArn,
      // A secret's value is never part of the fragment, so it is not in the document either.
      environment: Object.fromEntries(
        environment.map(([name, value]) => [name, value.kind === 'secret' ? null : value.value]),
      ),
      secretInputs: environment.filter(([, value]) => value.kind === 'secret').map(([name]) => name),
      snippet,
    });
  } else {
    io.stdout.write(snippet);
  }
  return ExitCode.ok;
}

/** The flavor a runtime needs; loaded lazily with the rest of the AWS helpers. */
async function flavorOf(runtime: string | undefined): Promise<Flavor> {
  if (runtime === undefined) return 'slim';
  const { flavorForRuntime } = await import('../aws/functions-workflow.js');
  return flavorForRuntime(runtime);
}

async function lookUpLayerArn(
  io: CliIo,
  out: Output,
  options: SnippetOptions,
  deps: AwsDeps,
  target: {
    readonly baseName: string;
    readonly flavor: Flavor;
    readonly arch: Arch;
    readonly configRegion: string | undefined;
    readonly configProfile: string | undefined;
  },
): Promise<string | undefined> {
  const region = resolveRegion({
    flag: options.region,
    configFile: target.configRegion,
    functions: [],
    env: io.env,
  });
  if (!region.ok) {
    out.error(
      `give --layer-arn, or --region to look up the published layer: ${renderRegionProblem(region.problem)}`,
    );
    return undefined;
  }
  const layerName = `${target.baseName}-${target.flavor}-${target.arch}`;
  const { findNewestLayerVersion } = await import('../aws/layer-lookup.js');
  try {
    const lambda = await deps.createLambdaClient(
      region.region,
      firstDefined(options.profile, target.configProfile),
    );
    const newest = await findNewestLayerVersion(lambda, layerName, target.arch);
    if (newest !== undefined) return newest.layerVersionArn;
    out.error(
      `no version of the layer ${layerName} in ${region.region}: publish it first (loki-lambda publish --region ${region.region} --flavor ${target.flavor} --arch ${target.arch}) or give --layer-arn`,
    );
  } catch (error) {
    out.error(`cannot look up the layer ${layerName} in ${region.region}: ${renderAwsError(error)}`);
  }
  return undefined;
}
