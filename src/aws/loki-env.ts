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
