import { ENV_VARS, SECRET_ENV_VARS } from '../../extension/config.js';

/** The Loki settings attach puts on a function, before they become LOKI_* variables. */
export interface LokiSettings {
  readonly lokiUrl?: string | undefined;
  readonly app?: string | undefined;
  readonly env?: string | undefined;
  readonly bearerToken?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly tenantId?: string | undefined;
  readonly extraLabels?: string | undefined;
  readonly flushStrategy?: string | undefined;
  readonly flushIntervalMs?: string | undefined;
  readonly logTypes?: string | undefined;
  readonly debug?: string | undefined;
}

const VARIABLE_OF: Readonly<Record<keyof LokiSettings, string>> = {
  lokiUrl: ENV_VARS.endpointUrl,
  app: ENV_VARS.application,
  env: ENV_VARS.environment,
  bearerToken: ENV_VARS.bearerToken,
  username: ENV_VARS.username,
  password: ENV_VARS.password,
  tenantId: ENV_VARS.tenantId,
  extraLabels: ENV_VARS.extraLabels,
  flushStrategy: ENV_VARS.flushStrategy,
  flushIntervalMs: ENV_VARS.flushIntervalMs,
  logTypes: ENV_VARS.logTypes,
  debug: ENV_VARS.debug,
};

/** The LOKI_* variables for the settings that are set (empty strings count as not set). */
export function lokiEnvFor(settings: LokiSettings): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, variable] of Object.entries(VARIABLE_OF) as Array<[keyof LokiSettings, string]>) {
    const value = settings[key]?.trim();
    if (value !== undefined && value !== '') env[variable] = value;
  }
  return env;
}

/** The environment variable a setting falls back to when neither a flag nor the config file sets it. */
export function lokiSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): LokiSettings {
  const settings: Record<string, string | undefined> = {};
  for (const [key, variable] of Object.entries(VARIABLE_OF)) settings[key] = env[variable];
  return settings as LokiSettings;
}

export function isSecretVariable(name: string): boolean {
  return (SECRET_ENV_VARS as readonly string[]).includes(name);
}

/** Where a LOKI_* value of a plan came from, in the order of precedence (a flag wins). */
export type SettingOrigin = 'flag' | 'environment' | 'config file' | 'function';

/** The LOKI_* values given to attach (not yet merged with the function's), and where each came from. */
export interface GivenSettings {
  readonly env: Readonly<Record<string, string>>;
  readonly origins: Readonly<Record<string, SettingOrigin>>;
}

export const NO_SETTINGS: GivenSettings = { env: {}, origins: {} };

/**
 * Flag, then shell environment, then config file, per setting: the first that sets it wins and is
 * remembered as the value's origin, so that the plan can say where each value came from.
 */
export function mergeGivenSettings(
  sources: ReadonlyArray<readonly [Exclude<SettingOrigin, 'function'>, LokiSettings]>,
): GivenSettings {
  const env: Record<string, string> = {};
  const origins: Record<string, SettingOrigin> = {};
  for (const [origin, settings] of sources) {
    for (const [variable, value] of Object.entries(lokiEnvFor(settings))) {
      if (variable in env) continue;
      env[variable] = value;
      origins[variable] = origin;
    }
  }
  return { env, origins };
}

/** The flag that sets a LOKI_* variable (`--app` for LOKI_APPLICATION_LABEL), if there is one. */
export function flagOf(variable: string): string | undefined {
  const key = (Object.keys(VARIABLE_OF) as Array<keyof LokiSettings>).find(
    (k) => VARIABLE_OF[k] === variable,
  );
  return key === undefined ? undefined : `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Every variable the extension reads: what detach removes, and nothing else (the app may use LOKI_* too). */
export const EXTENSION_VARIABLES: readonly string[] = Object.values(ENV_VARS);
