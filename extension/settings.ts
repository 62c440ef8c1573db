/**
 * The one table of the LOKI_* settings (DESIGN.md §3). Everything else is derived from it: the
 * extension's parser (`readSettings`, then the cross-field rules in config.ts), the CLI's flags
 * (`--<option>`), the config-file keys (the option in camelCase, `<key>File` for a secret), and the
 * README's table (test/unit/settings-table.test.ts). Adding a setting is one row here, plus a rule in
 * config.ts when it depends on other settings. The extension bundles this file: keep rows short.
 */

export const FLUSH_STRATEGIES = ['auto', 'end', 'periodic'] as const;
export type FlushStrategy = (typeof FLUSH_STRATEGIES)[number];

export const LOG_TYPES = ['platform', 'function', 'extension'] as const;
export type LogType = (typeof LOG_TYPES)[number];

export const BUFFER_TIMEOUT_MS_DEFAULT = 200;
export const BUFFER_TIMEOUT_MS_MIN = 25;
export const BUFFER_TIMEOUT_MS_MAX = 30_000;
export const FLUSH_INTERVAL_MS_DEFAULT = 10_000;
export const FLUSH_INTERVAL_MS_MIN = 100;
export const FLUSH_INTERVAL_MS_MAX = 900_000;
export const LISTENER_PORT_DEFAULT = 1234;
/** Bound of the buffer when the function's memory is not known (outside Lambda), and its range. */
export const MAX_BUFFER_BYTES_DEFAULT = 16 * 1024 * 1024;
export const MAX_BUFFER_BYTES_MIN = 64 * 1024;
export const MAX_BUFFER_BYTES_MAX = 1024 * 1024 * 1024;
export const LOG_TYPES_DEFAULT: readonly LogType[] = ['platform', 'function'];

interface SettingBase {
  /** The environment variable of the function; a public contract once released. */
  readonly variable: `LOKI_${string}`;
  /** The CLI's long flag without `--`; in camelCase it is the config-file key. */
  readonly option: string;
  /** The flag's value placeholder in --help: `--loki-url <url>`. */
  readonly arg: string;
  /** Never printed, never in a config file (`--<option>-file` and `<key>File` read it from a file). */
  readonly secret?: true;
  /** One line for --help. */
  readonly help: string;
  /** The README table: the default as shown, and what the setting means (Markdown). */
  readonly docDefault: string;
  readonly doc: string;
}

export type Setting =
  | (SettingBase & {
      readonly kind: 'string';
      /** Required settings say what they are when missing: `LOKI_ENV_LABEL is required (…)`. */
      readonly required?: string;
    })
  | (SettingBase & {
      readonly kind: 'integer';
      readonly default: number;
      readonly min: number;
      readonly max: number;
    })
  | (SettingBase & { readonly kind: 'choice'; readonly choices: readonly string[]; readonly default: string })
  | (SettingBase & {
      readonly kind: 'list';
      readonly choices: readonly string[];
      readonly default: readonly string[];
    })
  | (SettingBase & { readonly kind: 'boolean'; readonly default: boolean });

export const SETTINGS = {
  endpointUrl: {
    variable: 'LOKI_ENDPOINT_URL',
    option: 'loki-url',
    arg: 'url',
    kind: 'string',
    required: 'the Loki base URL, e.g. https://loki.example.com',
    help: 'Loki base URL or push URL',
    docDefault: 'required',
    doc: 'Loki base URL (`https://loki.example.com`) or full push URL; `/loki/api/v1/push` is appended when the path is empty. No credentials in the URL.',
  },
  application: {
    variable: 'LOKI_APPLICATION_LABEL',
    option: 'app',
    arg: 'name',
    kind: 'string',
    required: 'the application label',
    help: 'value of the application label',
    docDefault: 'required',
    doc: 'value of the `application` label',
  },
  environment: {
    variable: 'LOKI_ENV_LABEL',
    option: 'env',
    arg: 'name',
    kind: 'string',
    required: 'the environment label',
    help: 'value of the environment label',
    docDefault: 'required',
    doc: 'value of the `environment` label',
  },
  bearerToken: {
    variable: 'LOKI_BEARER_TOKEN',
    option: 'bearer-token',
    arg: 'token',
    kind: 'string',
    secret: true,
    help: 'bearer token',
    docDefault: '—',
    doc: 'sent as `Authorization: Bearer …` (e.g. a Grafana Cloud token); or',
  },
  username: {
    variable: 'LOKI_USERNAME',
    option: 'username',
    arg: 'name',
    kind: 'string',
    help: 'basic auth user',
    docDefault: '—',
    doc: 'basic auth; with `LOKI_PASSWORD`, both or neither, and not together with a token',
  },
  password: {
    variable: 'LOKI_PASSWORD',
    option: 'password',
    arg: 'password',
    kind: 'string',
    secret: true,
    help: 'basic auth password',
    docDefault: '—',
    doc: 'basic auth password, with `LOKI_USERNAME`',
  },
  bearerTokenSecretArn: {
    variable: 'LOKI_BEARER_TOKEN_SECRET_ARN',
    option: 'bearer-token-secret-arn',
    arg: 'arn',
    kind: 'string',
    help: 'read the bearer token from this Secrets Manager secret (ARN, or ARN#key of a JSON secret)',
    docDefault: '—',
    doc: "instead of `LOKI_BEARER_TOKEN`: the ARN of a Secrets Manager secret holding the token, or `ARN#key` for one key of a JSON secret, read at start with the function's role ([below](#keeping-the-loki-credentials-out-of-the-environment))",
  },
  bearerTokenSsmName: {
    variable: 'LOKI_BEARER_TOKEN_SSM_NAME',
    option: 'bearer-token-ssm-name',
    arg: 'name',
    kind: 'string',
    help: 'read the bearer token from this SSM parameter (SecureString, name or ARN)',
    docDefault: '—',
    doc: 'instead of `LOKI_BEARER_TOKEN`: the name (or ARN) of an SSM Parameter Store parameter holding the token, a `SecureString` decrypted',
  },
  passwordSecretArn: {
    variable: 'LOKI_PASSWORD_SECRET_ARN',
    option: 'password-secret-arn',
    arg: 'arn',
    kind: 'string',
    help: 'read the basic auth password from this Secrets Manager secret (ARN or ARN#key)',
    docDefault: '—',
    doc: 'instead of `LOKI_PASSWORD`: a Secrets Manager secret ARN (or `ARN#key`) holding the password',
  },
  passwordSsmName: {
    variable: 'LOKI_PASSWORD_SSM_NAME',
    option: 'password-ssm-name',
    arg: 'name',
    kind: 'string',
    help: 'read the basic auth password from this SSM parameter (SecureString, name or ARN)',
    docDefault: '—',
    doc: 'instead of `LOKI_PASSWORD`: an SSM parameter name (or ARN) holding the password; one source per secret',
  },
  bufferTimeoutMs: {
    variable: 'LOKI_BUFFER_TIMEOUT_MS',
    option: 'buffer-timeout-ms',
    arg: 'ms',
    kind: 'integer',
    default: BUFFER_TIMEOUT_MS_DEFAULT,
    min: BUFFER_TIMEOUT_MS_MIN,
    max: BUFFER_TIMEOUT_MS_MAX,
    help: 'Telemetry API buffering timeout',
    docDefault: '`200`',
    doc: 'Telemetry API buffering timeout, 25 to 30000',
  },
  extraLabels: {
    variable: 'LOKI_EXTRA_LABELS',
    option: 'extra-labels',
    arg: 'pairs',
    kind: 'string',
    help: '"name1,value1,name2,value2"',
    docDefault: '—',
    doc: 'more labels: `"name1,value1,name2,value2"`; names match `[a-zA-Z_][a-zA-Z0-9_]*`, at most 11',
  },
  debug: {
    variable: 'LOKI_DEBUG',
    option: 'debug',
    arg: '',
    kind: 'boolean',
    default: false,
    help: "turn on the extension's diagnostic lines",
    docDefault: '`false`',
    doc: "`true` prints the extension's own diagnostic lines (never a secret)",
  },
  tenantId: {
    variable: 'LOKI_TENANT_ID',
    option: 'tenant-id',
    arg: 'id',
    kind: 'string',
    help: 'X-Scope-OrgID for multi-tenant Loki',
    docDefault: '—',
    doc: 'sent as `X-Scope-OrgID` (multi-tenant Loki, Grafana Cloud)',
  },
  flushStrategy: {
    variable: 'LOKI_FLUSH_STRATEGY',
    option: 'flush-strategy',
    arg: 'strategy',
    kind: 'choice',
    choices: FLUSH_STRATEGIES,
    default: 'auto',
    help: 'auto, end or periodic',
    docDefault: '`auto`',
    doc: '`end`: push after each invocation, before it ends; `periodic`: push every `LOKI_FLUSH_INTERVAL_MS`, in parallel with the function; `auto`: `end` while invocations are rare, `periodic` once there are 20 or more a minute (back below 10)',
  },
  flushIntervalMs: {
    variable: 'LOKI_FLUSH_INTERVAL_MS',
    option: 'flush-interval-ms',
    arg: 'ms',
    kind: 'integer',
    default: FLUSH_INTERVAL_MS_DEFAULT,
    min: FLUSH_INTERVAL_MS_MIN,
    max: FLUSH_INTERVAL_MS_MAX,
    help: 'interval for periodic flushing',
    docDefault: '`10000`',
    doc: 'interval of `periodic` (and of `auto` once busy), 100 to 900000',
  },
  logTypes: {
    variable: 'LOKI_LOG_TYPES',
    option: 'log-types',
    arg: 'types',
    kind: 'list',
    choices: LOG_TYPES,
    default: LOG_TYPES_DEFAULT,
    help: 'platform,function[,extension]',
    docDefault: '`platform,function`',
    doc: 'what to ship, from `platform`, `function`, `extension`',
  },
  listenerPort: {
    variable: 'LOKI_LISTENER_PORT',
    option: 'listener-port',
    arg: 'port',
    kind: 'integer',
    default: LISTENER_PORT_DEFAULT,
    min: 0,
    max: 65_535,
    help: 'port of the local Telemetry listener',
    docDefault: '`1234`',
    doc: 'port of the local Telemetry listener; `0` picks a free one',
  },
  maxBufferBytes: {
    variable: 'LOKI_MAX_BUFFER_BYTES',
    option: 'max-buffer-bytes',
    arg: 'bytes',
    kind: 'integer',
    // A rule in config.ts lowers the default and the maximum for the function's memory size.
    default: MAX_BUFFER_BYTES_DEFAULT,
    min: MAX_BUFFER_BYTES_MIN,
    max: MAX_BUFFER_BYTES_MAX,
    help: 'memory bound for logs Loki has not accepted yet',
    docDefault: "1/16 of the function's memory, at most `16777216`",
    doc: "memory bound for logs Loki has not accepted yet, at least 64 KiB and at most 1/8 of the function's memory (see [Memory](#memory-what-the-extension-may-use)); beyond it the oldest are dropped and a line saying how many is shipped once Loki is back",
  },
} as const satisfies Readonly<Record<string, Setting>>;

export type SettingKey = keyof typeof SETTINGS;

/** The rows in the table's order, with their keys. */
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

/** The LOKI_* variable of each setting, by key: `ENV_VARS.endpointUrl === 'LOKI_ENDPOINT_URL'`. */
export const ENV_VARS = Object.fromEntries(SETTING_KEYS.map((key) => [key, SETTINGS[key].variable])) as {
  readonly [K in SettingKey]: (typeof SETTINGS)[K]['variable'];
};

/** Variables whose values must never be printed. */
export const SECRET_ENV_VARS: readonly string[] = SETTING_KEYS.filter(
  (key) => (SETTINGS[key] as Setting).secret === true,
).map((key) => SETTINGS[key].variable);

type ValueOf<S> = S extends { readonly kind: 'integer' }
  ? number
  : S extends { readonly kind: 'boolean' }
    ? boolean
    : S extends { readonly kind: 'list'; readonly choices: readonly (infer C)[] }
      ? readonly C[]
      : S extends { readonly kind: 'choice'; readonly choices: readonly (infer C)[] }
        ? C
        : string | undefined;

/** Every setting read and checked on its own: a string is undefined when unset or blank. */
export type SettingValues = { readonly [K in SettingKey]: ValueOf<(typeof SETTINGS)[K]> };

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads every row from `env` and checks it on its own (required, whole number in range, one of the
 * choices, true/false), adding one problem per bad value; a bad value gives the default.
 * Rules across settings (auth, labels, the buffer for the memory size) are config.ts's.
 */
export function readSettings(
  env: Env,
  problems: string[],
  defaults: { readonly [K in SettingKey]?: number } = {},
): SettingValues {
  const values: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const setting: Setting = SETTINGS[key];
    const raw = env[setting.variable]?.trim() || undefined;
    values[key] = readOne(setting, raw, problems, defaults[key]);
  }
  return values as SettingValues;
}

function readOne(setting: Setting, raw: string | undefined, problems: string[], fallback?: number): unknown {
  const name = setting.variable;
  switch (setting.kind) {
    case 'string':
      if (raw === undefined && setting.required !== undefined) {
        problems.push(`${name} is required (${setting.required})`);
      }
      return raw;
    case 'integer': {
      const defaultValue = fallback ?? setting.default;
      if (raw === undefined) return defaultValue;
      if (!/^\d+$/.test(raw) || Number(raw) < setting.min || Number(raw) > setting.max) {
        problems.push(`${name} must be a whole number from ${setting.min} to ${setting.max}, got "${raw}"`);
        return defaultValue;
      }
      return Number(raw);
    }
    case 'choice': {
      if (raw === undefined) return setting.default;
      const value = raw.toLowerCase();
      if (setting.choices.includes(value)) return value;
      problems.push(`${name} must be one of ${setting.choices.join(', ')}, got "${raw}"`);
      return setting.default;
    }
    case 'list': {
      if (raw === undefined) return setting.default;
      const items = raw.split(',').map((item) => item.trim().toLowerCase());
      if (items.some((item) => !setting.choices.includes(item))) {
        problems.push(
          `${name} must be a comma-separated list of ${setting.choices.join(', ')}, got "${raw}"`,
        );
        return setting.default;
      }
      return [...new Set(items)];
    }
    case 'boolean': {
      if (raw === undefined) return setting.default;
      const value = raw.toLowerCase();
      if (value === 'true' || value === '1' || value === 'yes') return true;
      if (value === 'false' || value === '0' || value === 'no') return false;
      problems.push(`${name} must be true or false, got "${raw}"`);
      return setting.default;
    }
  }
}
