import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { Command } from 'commander';
import { ENV_VARS, parseConfig } from '../../extension/config.js';
import { parseFunctionArn } from '../aws/arn.js';
import type { AwsDeps } from '../aws/deps.js';
import type { AwsContext } from '../aws/functions-workflow.js';
import type { LayerGrant } from '../aws/layer-versions.js';
import { type GivenSettings, mergeGivenSettings } from '../aws/loki-env.js';
import { knownProfiles, profileFiles } from '../aws/profiles.js';
import { resolveRegion } from '../aws/region.js';
import { resolveRegions } from '../aws/regions.js';
import { type ConfigFileValues, firstDefined, loadConfigFile, splitList } from '../config-file.js';
import type { CliIo } from '../io.js';
import { registerFunctionSecrets } from '../redacting-io.js';
import { renderMissingProfile, renderRegionProblem } from '../render/aws-errors.js';
import { renderSettingProblem, renderWaiting } from '../render/functions.js';
import type { Output } from '../render/output.js';
import { renderUpload, renderUploadProgress } from '../render/publish.js';
import { CLI_SETTINGS, type LokiOptions } from '../settings.js';
import { collect } from './choices.js';

/** Options every AWS command takes. */
export interface CommonOptions {
  readonly region?: string;
  readonly profile?: string;
  readonly config?: string;
  readonly json?: boolean;
}

/** The options of a command that runs in several regions (`addCommonOptions(command, { manyRegions: true })`). */
export interface ManyRegionsOptions extends Omit<CommonOptions, 'region'> {
  readonly region?: string[];
}

export function addCommonOptions(command: Command, how: { manyRegions?: boolean } = {}): Command {
  if (how.manyRegions === true)
    command.option(
      '--region <regions>',
      'AWS region(s), repeatable or comma-separated (default: the function ARNs, config file, AWS_REGION, AWS_DEFAULT_REGION)',
      collect,
    );
  else
    command.option(
      '--region <region>',
      'AWS region (default: the function ARN, config file, AWS_REGION, AWS_DEFAULT_REGION)',
    );
  return command
    .option('--profile <name>', 'AWS profile from ~/.aws/config (default: AWS_PROFILE or the default chain)')
    .option('--config <file>', 'settings file (default: ./loki-lambda.config.json when present)')
    .option('--json', 'print one JSON document on stdout (text goes to stderr)');
}

export type Prepared =
  | {
      readonly ok: true;
      readonly file: ConfigFileValues;
      /** The first of `regions`: the one region of a single-region run. */
      readonly region: string;
      /** Every region the run goes to (more than one only with `--region a,b` or ARNs of several). */
      readonly regions: readonly string[];
      readonly profile: string | undefined;
    }
  | { readonly ok: false };

/** Loads the config file and resolves the region; reports problems itself. */
export async function prepareAws(
  io: CliIo,
  out: Output,
  options: CommonOptions | ManyRegionsOptions,
  functions: readonly string[],
  how: { manyRegions?: boolean } = {},
): Promise<Prepared> {
  const loaded = await loadConfigFile(io.cwd, options.config);
  if (!loaded.ok) {
    for (const problem of loaded.problems) out.error(problem);
    return { ok: false };
  }
  const flags = (typeof options.region === 'string' ? [options.region] : (options.region ?? [])).flatMap(
    (value) => value.split(',').map((part) => part.trim()),
  );
  const allNames = [...functions, ...(loaded.values.functions ?? [])];
  const single = resolveRegion({
    flag: flags.length === 1 ? flags[0] : undefined,
    configFile: loaded.values.region,
    functions: allNames,
    env: io.env,
  });
  // Several regions only where the command takes them: several --region values or ARNs of several.
  const many =
    how.manyRegions === true && (flags.length > 1 || (!single.ok && single.problem.kind === 'arns-disagree'));
  const region = many
    ? resolveRegions({ flags, functions: allNames, configFile: loaded.values.region, env: io.env })
    : single.ok
      ? { ok: true as const, regions: [single.region] }
      : single;
  if (!region.ok) {
    out.error(renderRegionProblem(region.problem));
    return { ok: false };
  }
  const regions = region.regions;
  const profile = firstDefined(options.profile, loaded.values.profile);
  if (profile !== undefined) {
    const files = profileFiles(io.env, io.env.HOME || homedir());
    const known = await knownProfiles(files);
    if (!known.has(profile)) {
      out.error(renderMissingProfile(profile, files, [...known]));
      return { ok: false };
    }
  }
  return { ok: true, file: loaded.values, region: regions[0] ?? '', regions, profile };
}

export async function createContext(
  deps: AwsDeps,
  prepared: Extract<Prepared, { ok: true }>,
  out: Output,
  region = prepared.region,
): Promise<AwsContext> {
  const lambda = await deps.createLambdaClient(region, prepared.profile);
  let s3: ReturnType<AwsDeps['createS3Client']> | undefined;
  let iam: ReturnType<NonNullable<AwsDeps['createIamClient']>> | undefined;
  return {
    lambda,
    region,
    getS3: () => {
      s3 ??= deps.createS3Client(region, prepared.profile);
      return s3;
    },
    getIam: () => {
      iam ??= deps.createIamClient?.(region, prepared.profile);
      return iam;
    },
    deps,
    progress: out.progress,
    onUpload: (upload) => {
      out.progress(renderUpload(upload));
      // A moving figure only where a person watches; logs get the one line above.
      if (!deps.interactive || out.json) return undefined;
      return (sent, total) => out.progress(renderUploadProgress(upload, sent, total));
    },
    onWait: (functionName) => out.progress(renderWaiting(functionName)),
  };
}

/** One client set per region, each with the functions named for it: an ARN goes to its own region only. */
export async function createRegionContexts(
  deps: AwsDeps,
  prepared: Extract<Prepared, { ok: true }>,
  out: Output,
  names: readonly string[],
): Promise<Array<{ readonly ctx: AwsContext; readonly names: readonly string[] }>> {
  const contexts: Array<{ ctx: AwsContext; names: readonly string[] }> = [];
  for (const region of prepared.regions) {
    const mine =
      prepared.regions.length === 1
        ? names
        : names.filter((name) => {
            const arnRegion = parseFunctionArn(name)?.region;
            return arnRegion === undefined || arnRegion === region;
          });
    contexts.push({ ctx: await createContext(deps, prepared, out, region), names: mine });
  }
  return contexts;
}

export function addGrantOptions(command: Command): Command {
  return command
    .option('--public', 'let every AWS account use the published layer version')
    .option('--principal <account>', 'let this AWS account use it (repeatable)', collect)
    .option('--organization-id <org>', 'let every account of this AWS Organization use it');
}

export interface GrantOptions {
  readonly public?: boolean;
  readonly principal?: string[];
  readonly organizationId?: string;
}

export function grantsFrom(options: GrantOptions, file: ConfigFileValues, problems: string[]): LayerGrant[] {
  const grants: LayerGrant[] = [];
  if (options.public ?? file.public) grants.push({ kind: 'public' });
  for (const accountId of (options.principal ?? file.principal ?? []).flatMap(splitList)) {
    if (!/^\d{12}$/.test(accountId))
      problems.push(`--principal must be a 12-digit AWS account id; got ${accountId}`);
    else grants.push({ kind: 'account', accountId });
  }
  const org = firstDefined(options.organizationId, file.organizationId);
  if (org !== undefined) {
    if (!/^o-[a-z0-9]{10,32}$/.test(org))
      problems.push(`--organization-id must look like o-abcd123456; got ${org}`);
    else grants.push({ kind: 'organization', organizationId: org });
  }
  return grants;
}

/** The Loki flags of attach, deploy and check: one per row of the settings table. */
export function addLokiOptions(command: Command): Command {
  for (const { setting } of CLI_SETTINGS) {
    const flag = `--${setting.option}`;
    if (setting.kind === 'boolean') command.option(flag, `${setting.help} (${setting.variable})`);
    else if (setting.secret === true) {
      command
        .option(
          `${flag} <${setting.arg}>`,
          `${setting.help}; prefer ${setting.variable} or ${flag}-file (shell history)`,
        )
        .option(`${flag}-file <file>`, `read the ${setting.help} from this file`);
    } else command.option(`${flag} <${setting.arg}>`, `${setting.help} (${setting.variable})`);
  }
  return command;
}

export type LokiEnvResult =
  | { readonly ok: true; readonly env: Record<string, string> }
  | { readonly ok: false; readonly problems: readonly string[] };

export type GivenSettingsResult =
  | { readonly ok: true; readonly settings: GivenSettings }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * The LOKI_* values given to this run, each from the first of: a flag, the shell environment, the
 * config file (the usual precedence), with where it came from. Secrets come from a flag, a file or
 * the environment, never the config file itself (only the path of a file holding them).
 */
export async function resolveGivenSettings(
  io: CliIo,
  options: LokiOptions,
  file: ConfigFileValues,
): Promise<GivenSettingsResult> {
  const problems: string[] = [];
  const readSecret = async (path: string | undefined, what: string): Promise<string | undefined> => {
    if (path === undefined) return undefined;
    try {
      return (await readFile(isAbsolute(path) ? path : join(io.cwd, path), 'utf8')).trim();
    } catch {
      problems.push(`cannot read the ${what} file ${path}`);
      return undefined;
    }
  };
  // One pass over the settings table: what the flags, the shell and the config file each give.
  const flags = options as Readonly<Record<string, string | boolean | undefined>>;
  const fileValues = file as Readonly<Record<string, string | undefined>>;
  const fromFlags: Record<string, string | undefined> = {};
  const fromEnv: Record<string, string | undefined> = {};
  const fromFile: Record<string, string | undefined> = {};
  for (const row of CLI_SETTINGS) {
    const { variable, help } = row.setting;
    const flag = flags[row.optionKey];
    fromFlags[variable] = typeof flag === 'boolean' ? (flag ? 'true' : undefined) : flag;
    fromEnv[variable] = io.env[variable];
    if (row.fileKey === undefined) {
      fromFile[variable] = row.configKey === undefined ? undefined : fileValues[row.configKey];
      continue;
    }
    fromFlags[variable] ??= await readSecret(flags[row.fileKey] as string | undefined, help);
    // A file path in the config file is read only when neither a flag nor the environment sets it.
    if (fromFlags[variable] === undefined && nonEmpty(fromEnv[variable]) === undefined) {
      fromFile[variable] = await readSecret(fileValues[row.fileKey], help);
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  const settings = mergeGivenSettings([
    ['flag', fromFlags],
    ['environment', fromEnv],
    ['config file', fromFile],
  ]);
  registerFunctionSecrets(io.secrets, settings.env);
  return { ok: true, settings };
}

/**
 * Problems of the given values on their own (a bad URL, labels in the wrong form), found before any
 * AWS call. Settings the function may already have (the required ones, the other half of basic auth)
 * are checked per function, once merged with what it has.
 */
export function givenSettingsProblems(settings: GivenSettings): string[] {
  const env: Record<string, string> = { ...settings.env };
  const stand = (name: string, value: string) => {
    if (env[name] === undefined) env[name] = value;
  };
  stand(ENV_VARS.endpointUrl, 'https://loki.invalid');
  stand(ENV_VARS.application, 'application');
  stand(ENV_VARS.environment, 'environment');
  // A password may also come from Secrets Manager or SSM: only a username without any source stands in one.
  const passwordSources = [ENV_VARS.password, ENV_VARS.passwordSecretArn, ENV_VARS.passwordSsmName];
  if (env[ENV_VARS.username] !== undefined && passwordSources.every((name) => env[name] === undefined))
    stand(ENV_VARS.password, 'password');
  if (passwordSources.some((name) => env[name] !== undefined)) stand(ENV_VARS.username, 'username');
  const parsed = parseConfig(env);
  const problems = parsed.ok
    ? []
    : parsed.problems.map((problem) => renderSettingProblem(problem, settings.origins));
  const labels = settings.env[ENV_VARS.extraLabels];
  if (labels !== undefined && /[=:]/.test(labels)) problems.push(extraLabelsHint(labels));
  return problems;
}

/** `team=payments` or `team:payments` is the usual mistake: show the expected form with their own names. */
function extraLabelsHint(labels: string): string {
  const pairs = labels
    .split(',')
    .map((pair) => pair.split(/[=:]/).map((part) => part.trim()))
    .filter((pair) => pair.length === 2)
    .map((pair) => pair.join(','));
  const example = pairs.length > 0 ? pairs.join(',') : 'team,payments';
  return `hint: --extra-labels takes names and values separated by commas, "name1,value1,name2,value2": --extra-labels ${example}`;
}

/**
 * The complete LOKI_* variables from the given values alone (check without a function), validated by
 * the extension's own parser; problems name the flag to use.
 */
export async function resolveLokiEnv(
  io: CliIo,
  options: LokiOptions,
  file: ConfigFileValues,
): Promise<LokiEnvResult> {
  const given = await resolveGivenSettings(io, options, file);
  if (!given.ok) return given;
  const parsed = parseConfig(given.settings.env);
  if (!parsed.ok) {
    const problems = parsed.problems.map((problem) => renderSettingProblem(problem, given.settings.origins));
    const labels = given.settings.env[ENV_VARS.extraLabels];
    if (labels !== undefined && /[=:]/.test(labels)) problems.push(extraLabelsHint(labels));
    return { ok: false, problems };
  }
  return { ok: true, env: { ...given.settings.env } };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

export function parseRegex(
  source: string | undefined,
  problems: string[],
  flag = '--functions-regex',
): RegExp | undefined {
  if (source === undefined) return undefined;
  try {
    return new RegExp(source);
  } catch (error) {
    problems.push(`${flag} is not a valid regular expression: ${(error as Error).message}`);
    return undefined;
  }
}
