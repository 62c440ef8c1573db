import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { Command } from 'commander';
import { parseConfig } from '../../extension/config.js';
import type { AwsDeps } from '../aws/deps.js';
import type { AwsContext } from '../aws/functions-workflow.js';
import type { LayerGrant } from '../aws/layer-versions.js';
import { type LokiSettings, lokiEnvFor, lokiSettingsFromEnv } from '../aws/loki-env.js';
import { resolveRegion } from '../aws/region.js';
import { type ConfigFileValues, firstDefined, loadConfigFile, splitList } from '../config-file.js';
import type { CliIo } from '../io.js';
import { renderRegionProblem } from '../render/aws-errors.js';
import type { Output } from '../render/output.js';
import { collect } from './choices.js';

/** Options every AWS command takes. */
export interface CommonOptions {
  readonly region?: string;
  readonly profile?: string;
  readonly config?: string;
  readonly json?: boolean;
}

export function addCommonOptions(command: Command): Command {
  return command
    .option(
      '--region <region>',
      'AWS region (default: the function ARN, config file, AWS_REGION, AWS_DEFAULT_REGION)',
    )
    .option('--profile <name>', 'AWS profile from ~/.aws/config (default: AWS_PROFILE or the default chain)')
    .option('--config <file>', 'settings file (default: ./loki-lambda.config.json when present)')
    .option('--json', 'print one JSON document on stdout (text goes to stderr)');
}

export type Prepared =
  | {
      readonly ok: true;
      readonly file: ConfigFileValues;
      readonly region: string;
      readonly profile: string | undefined;
    }
  | { readonly ok: false };

/** Loads the config file and resolves the region; reports problems itself. */
export async function prepareAws(
  io: CliIo,
  out: Output,
  options: CommonOptions,
  functions: readonly string[],
): Promise<Prepared> {
  const loaded = await loadConfigFile(io.cwd, options.config);
  if (!loaded.ok) {
    for (const problem of loaded.problems) out.error(problem);
    return { ok: false };
  }
  const region = resolveRegion({
    flag: options.region,
    configFile: loaded.values.region,
    functions: [...functions, ...(loaded.values.functions ?? [])],
    env: io.env,
  });
  if (!region.ok) {
    out.error(renderRegionProblem(region.problem));
    return { ok: false };
  }
  return {
    ok: true,
    file: loaded.values,
    region: region.region,
    profile: firstDefined(options.profile, loaded.values.profile),
  };
}

export async function createContext(
  deps: AwsDeps,
  prepared: Extract<Prepared, { ok: true }>,
  out: Output,
): Promise<AwsContext> {
  const lambda = await deps.createLambdaClient(prepared.region, prepared.profile);
  let s3: ReturnType<AwsDeps['createS3Client']> | undefined;
  return {
    lambda,
    getS3: () => {
      s3 ??= deps.createS3Client(prepared.region, prepared.profile);
      return s3;
    },
    deps,
    progress: out.progress,
  };
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

/** The Loki flags of attach and deploy. */
export interface LokiOptions {
  readonly lokiUrl?: string;
  readonly app?: string;
  readonly env?: string;
  readonly bearerToken?: string;
  readonly bearerTokenFile?: string;
  readonly username?: string;
  readonly password?: string;
  readonly passwordFile?: string;
  readonly tenantId?: string;
  readonly extraLabels?: string;
  readonly flushStrategy?: string;
  readonly flushIntervalMs?: string;
  readonly logTypes?: string;
  readonly debug?: boolean;
}

export function addLokiOptions(command: Command): Command {
  return command
    .option('--loki-url <url>', 'Loki base URL or push URL (LOKI_ENDPOINT_URL)')
    .option('--app <name>', 'value of the application label (LOKI_APPLICATION_LABEL)')
    .option('--env <name>', 'value of the environment label (LOKI_ENV_LABEL)')
    .option(
      '--bearer-token <token>',
      'bearer token; prefer LOKI_BEARER_TOKEN or --bearer-token-file (shell history)',
    )
    .option('--bearer-token-file <file>', 'read the bearer token from this file')
    .option('--username <name>', 'basic auth user (LOKI_USERNAME)')
    .option('--password <password>', 'basic auth password; prefer LOKI_PASSWORD or --password-file')
    .option('--password-file <file>', 'read the basic auth password from this file')
    .option('--tenant-id <id>', 'X-Scope-OrgID for multi-tenant Loki (LOKI_TENANT_ID)')
    .option('--extra-labels <pairs>', '"name1,value1,name2,value2" (LOKI_EXTRA_LABELS)')
    .option('--flush-strategy <strategy>', 'auto, end or periodic (LOKI_FLUSH_STRATEGY)')
    .option('--flush-interval-ms <ms>', 'interval for periodic flushing (LOKI_FLUSH_INTERVAL_MS)')
    .option('--log-types <types>', 'platform,function[,extension] (LOKI_LOG_TYPES)')
    .option('--debug', "turn on the extension's diagnostic lines (LOKI_DEBUG)");
}

export type LokiEnvResult =
  | { readonly ok: true; readonly env: Record<string, string> }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * The LOKI_* variables to set, from flags, then the config file, then the environment, validated by
 * the extension's own parser. Secrets come from a flag, a file or the environment, never the config file.
 */
export async function resolveLokiEnv(
  io: CliIo,
  options: LokiOptions,
  file: ConfigFileValues,
): Promise<LokiEnvResult> {
  const fromEnv = lokiSettingsFromEnv(io.env);
  const problems: string[] = [];
  const secret = async (
    flag: string | undefined,
    fileFlag: string | undefined,
    fromFile: string | undefined,
    env: string | undefined,
    what: string,
  ) => {
    if (flag !== undefined) return flag;
    const path = firstDefined(fileFlag, fromFile);
    if (path !== undefined) {
      try {
        return (await readFile(isAbsolute(path) ? path : join(io.cwd, path), 'utf8')).trim();
      } catch {
        problems.push(`cannot read the ${what} file ${path}`);
        return undefined;
      }
    }
    return env;
  };
  const settings: LokiSettings = {
    lokiUrl: firstDefined(options.lokiUrl, file.lokiUrl, fromEnv.lokiUrl),
    app: firstDefined(options.app, file.app, fromEnv.app),
    env: firstDefined(options.env, file.env, fromEnv.env),
    bearerToken: await secret(
      options.bearerToken,
      options.bearerTokenFile,
      file.bearerTokenFile,
      fromEnv.bearerToken,
      'bearer token',
    ),
    username: firstDefined(options.username, file.username, fromEnv.username),
    password: await secret(
      options.password,
      options.passwordFile,
      file.passwordFile,
      fromEnv.password,
      'password',
    ),
    tenantId: firstDefined(options.tenantId, file.tenantId, fromEnv.tenantId),
    extraLabels: firstDefined(options.extraLabels, file.extraLabels, fromEnv.extraLabels),
    flushStrategy: firstDefined(options.flushStrategy, file.flushStrategy, fromEnv.flushStrategy),
    flushIntervalMs: firstDefined(options.flushIntervalMs, file.flushIntervalMs, fromEnv.flushIntervalMs),
    logTypes: firstDefined(options.logTypes, file.logTypes, fromEnv.logTypes),
    debug: firstDefined(options.debug ? 'true' : undefined, file.debug, fromEnv.debug),
  };
  if (problems.length > 0) return { ok: false, problems };
  const env = lokiEnvFor(settings);
  const parsed = parseConfig(env);
  if (!parsed.ok) return { ok: false, problems: parsed.problems };
  return { ok: true, env };
}

export function parseRegex(source: string | undefined, problems: string[]): RegExp | undefined {
  if (source === undefined) return undefined;
  try {
    return new RegExp(source);
  } catch (error) {
    problems.push(`--functions-regex is not a valid regular expression: ${(error as Error).message}`);
    return undefined;
  }
}
