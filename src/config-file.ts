import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { CLI_SETTINGS, type LokiConfigFileValues } from './settings.js';

/** Read from the working directory when `--config` is not given. */
export const CONFIG_FILE_NAME = 'loki-lambda.config.json';

/** The AWS settings a config file may hold, named like the long flags in camelCase. */
interface AwsConfigFileValues {
  readonly region?: string;
  readonly profile?: string;
  readonly layerName?: string;
  readonly layerArn?: string;
  readonly arch?: readonly string[];
  readonly flavor?: readonly string[];
  readonly s3Bucket?: string;
  readonly public?: boolean;
  readonly principal?: readonly string[];
  readonly organizationId?: string;
  readonly functions?: readonly string[];
  readonly functionsRegex?: string;
}

/**
 * Settings a config file may hold, named like the long flags in camelCase: the AWS ones and, from the
 * settings table, every LOKI_* setting. Secrets are not among them on purpose (a config file is
 * usually committed): use the environment or a *-file flag.
 */
export type ConfigFileValues = AwsConfigFileValues & LokiConfigFileValues;

type Kind = 'string' | 'list' | 'boolean';
const KEYS: Readonly<Record<string, Kind>> = {
  region: 'string',
  profile: 'string',
  layerName: 'string',
  layerArn: 'string',
  arch: 'list',
  flavor: 'list',
  s3Bucket: 'string',
  public: 'boolean',
  principal: 'list',
  organizationId: 'string',
  functions: 'list',
  functionsRegex: 'string',
  ...Object.fromEntries(CLI_SETTINGS.map((row) => [row.configKey ?? row.fileKey, 'string'] as const)),
};

export type ConfigFileResult =
  | { readonly ok: true; readonly values: ConfigFileValues; readonly path: string | undefined }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Reads `--config FILE` (which must exist) or `loki-lambda.config.json` in `cwd` (optional), and
 * reports every problem at once: unknown keys (typos), wrong types, secrets.
 */
export async function loadConfigFile(
  cwd: string,
  explicitPath: string | undefined,
): Promise<ConfigFileResult> {
  const path =
    explicitPath === undefined
      ? join(cwd, CONFIG_FILE_NAME)
      : isAbsolute(explicitPath)
        ? explicitPath
        : join(cwd, explicitPath);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    if (missing && explicitPath === undefined) return { ok: true, values: {}, path: undefined };
    return {
      ok: false,
      problems: [`cannot read the config file ${path}: ${missing ? 'it does not exist' : String(error)}`],
    };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [`${path} is not valid JSON: ${(error as Error).message}`] };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, problems: [`${path} must hold a JSON object of settings`] };
  }
  return parseConfigValues(data as Record<string, unknown>, path);
}

export function parseConfigValues(data: Record<string, unknown>, path: string): ConfigFileResult {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    const secret = CLI_SETTINGS.find((row) => row.fileKey !== undefined && row.optionKey === key);
    if (secret !== undefined) {
      problems.push(
        `${path}: "${key}" does not belong in a config file; use ${secret.setting.variable} or "${secret.fileKey}"`,
      );
      continue;
    }
    const kind = KEYS[key];
    if (kind === undefined) {
      problems.push(`${path}: unknown setting "${key}" (known: ${Object.keys(KEYS).join(', ')})`);
      continue;
    }
    if (kind === 'boolean') {
      if (typeof value !== 'boolean') problems.push(`${path}: "${key}" must be true or false`);
      else values[key] = value;
    } else if (kind === 'list') {
      if (typeof value === 'string') values[key] = splitList(value);
      else if (Array.isArray(value) && value.every((item) => typeof item === 'string')) values[key] = value;
      else problems.push(`${path}: "${key}" must be a string or an array of strings`);
    } else if (typeof value === 'string') values[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') values[key] = String(value);
    else problems.push(`${path}: "${key}" must be a string`);
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, values: values as ConfigFileValues, path };
}

/** "a,b c" → ["a", "b", "c"]: flags and the file accept lists either way. */
export function splitList(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** The first value given: a flag before the config file. (The LOKI_* settings put the shell environment between them: resolveGivenSettings.) */
export function firstDefined<T>(...candidates: ReadonlyArray<T | undefined>): T | undefined {
  return candidates.find((candidate) => candidate !== undefined && candidate !== '');
}
