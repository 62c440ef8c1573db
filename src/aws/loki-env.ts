import { ENV_VARS, SECRET_ENV_VARS } from '../../extension/config.js';
import { CLI_SETTINGS } from '../settings.js';

/** LOKI_* values by variable, as one source (flags, shell, config file) gives them. */
export type LokiValues = Readonly<Record<string, string | undefined>>;

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
  sources: ReadonlyArray<readonly [Exclude<SettingOrigin, 'function'>, LokiValues]>,
): GivenSettings {
  const env: Record<string, string> = {};
  const origins: Record<string, SettingOrigin> = {};
  for (const [origin, values] of sources) {
    for (const { setting } of CLI_SETTINGS) {
      // Empty strings count as not set.
      const value = values[setting.variable]?.trim();
      if (value === undefined || value === '' || setting.variable in env) continue;
      env[setting.variable] = value;
      origins[setting.variable] = origin;
    }
  }
  return { env, origins };
}

/** The flag that sets a LOKI_* variable (`--app` for LOKI_APPLICATION_LABEL), if there is one. */
export function flagOf(variable: string): string | undefined {
  const row = CLI_SETTINGS.find(({ setting }) => setting.variable === variable);
  return row === undefined ? undefined : `--${row.setting.option}`;
}

/** Every variable the extension reads: what detach removes, and nothing else (the app may use LOKI_* too). */
export const EXTENSION_VARIABLES: readonly string[] = Object.values(ENV_VARS);
