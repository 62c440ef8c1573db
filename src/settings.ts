import { SETTING_KEYS, SETTINGS, type Setting, type SettingKey } from '../extension/settings.js';

/**
 * What the CLI derives from the settings table (extension/settings.ts): each row's flag, its
 * config-file key, and for a secret the `--<option>-file` flag and `<key>File` key that replace it in
 * a config file.
 */

type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;
type OptionKey<K extends SettingKey> = CamelCase<(typeof SETTINGS)[K]['option']>;
type SecretKey = {
  [K in SettingKey]: (typeof SETTINGS)[K] extends { readonly secret: true } ? K : never;
}[SettingKey];
type PlainKey = Exclude<SettingKey, SecretKey>;

/** The parsed flags of every setting: `--loki-url` is `lokiUrl`; a boolean flag is a boolean. */
export type LokiOptions = {
  readonly [K in SettingKey as OptionKey<K>]?: (typeof SETTINGS)[K] extends { readonly kind: 'boolean' }
    ? boolean
    : string;
} & { readonly [K in SecretKey as `${OptionKey<K>}File`]?: string };

/** The settings a config file may hold: every plain setting, and the file of each secret. */
export type LokiConfigFileValues = { readonly [K in PlainKey as OptionKey<K>]?: string } & {
  readonly [K in SecretKey as `${OptionKey<K>}File`]?: string;
};

export function camelCase(option: string): string {
  return option.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** The rows with what the CLI calls them. */
export interface CliSetting {
  readonly key: SettingKey;
  readonly setting: Setting;
  /** Commander's attribute name of the flag (and the config-file key of a plain setting). */
  readonly optionKey: string;
  /** A secret's `--<option>-file` attribute and config-file key. */
  readonly fileKey: string | undefined;
  /** The config-file key, or undefined for a secret (never in a file that gets committed). */
  readonly configKey: string | undefined;
}

export const CLI_SETTINGS: readonly CliSetting[] = SETTING_KEYS.map((key) => {
  const setting: Setting = SETTINGS[key];
  const optionKey = camelCase(setting.option);
  const secret = setting.secret === true;
  return {
    key,
    setting,
    optionKey,
    fileKey: secret ? `${optionKey}File` : undefined,
    configKey: secret ? undefined : optionKey,
  };
});
