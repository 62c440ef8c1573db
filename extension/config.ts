import { isValidLabelName, RESERVED_LABEL_NAMES } from './labels.js';

/** The LOKI_* variables the extension reads (DESIGN.md §3); names are a public contract. */
export const ENV_VARS = {
  endpointUrl: 'LOKI_ENDPOINT_URL',
  application: 'LOKI_APPLICATION_LABEL',
  environment: 'LOKI_ENV_LABEL',
  bearerToken: 'LOKI_BEARER_TOKEN',
  username: 'LOKI_USERNAME',
  password: 'LOKI_PASSWORD',
  tenantId: 'LOKI_TENANT_ID',
  extraLabels: 'LOKI_EXTRA_LABELS',
  flushStrategy: 'LOKI_FLUSH_STRATEGY',
  flushIntervalMs: 'LOKI_FLUSH_INTERVAL_MS',
  bufferTimeoutMs: 'LOKI_BUFFER_TIMEOUT_MS',
  logTypes: 'LOKI_LOG_TYPES',
  listenerPort: 'LOKI_LISTENER_PORT',
  maxBufferBytes: 'LOKI_MAX_BUFFER_BYTES',
  debug: 'LOKI_DEBUG',
} as const;

/** Variables whose values must never be printed. */
export const SECRET_ENV_VARS = [ENV_VARS.bearerToken, ENV_VARS.password] as const;

export const FLUSH_STRATEGIES = ['auto', 'end', 'periodic'] as const;
export type FlushStrategy = (typeof FLUSH_STRATEGIES)[number];

export const LOG_TYPES = ['platform', 'function', 'extension'] as const;
export type LogType = (typeof LOG_TYPES)[number];

export const PUSH_PATH = '/loki/api/v1/push';
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
/**
 * The bound follows the function's memory, which the extension shares (DESIGN.md §6): by default a
 * 16th of it (at most MAX_BUFFER_BYTES_DEFAULT), and never more than an 8th, half of the V8 old space
 * the launcher gives the extension (a quarter of the function's memory).
 */
export const MEMORY_DIVISOR_BUFFER_DEFAULT = 16;
export const MEMORY_DIVISOR_BUFFER_MAX = 8;
export const LOG_TYPES_DEFAULT: readonly LogType[] = ['platform', 'function'];
/** Loki's defaults: at most 15 label names per stream, 2,048 characters per label value, 1,024 per name. */
export const MAX_LABELS_PER_STREAM = 15;
export const MAX_LABEL_VALUE_LENGTH = 2048;
export const MAX_LABEL_NAME_LENGTH = 1024;
/** Loki's tenant ids: up to 150 characters of this set, and not "." or "..". */
const TENANT_ID_PATTERN = /^[A-Za-z0-9!\-_.*'()]{1,150}$/;

export type LokiAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string };

export interface ExtensionConfig {
  /** Full push URL (base URL plus /loki/api/v1/push when the path was empty). */
  readonly pushUrl: string;
  readonly application: string;
  readonly environment: string;
  readonly auth: LokiAuth;
  readonly tenantId: string | undefined;
  /** Extra labels in the order given, names validated. */
  readonly extraLabels: ReadonlyArray<readonly [string, string]>;
  readonly flushStrategy: FlushStrategy;
  readonly flushIntervalMs: number;
  readonly bufferTimeoutMs: number;
  readonly logTypes: readonly LogType[];
  /** 0 lets the system pick a free port (useful in tests). */
  readonly listenerPort: number;
  readonly maxBufferBytes: number;
  readonly debug: boolean;
}

export type ConfigResult =
  | {
      readonly ok: true;
      readonly config: ExtensionConfig;
      /** Values replaced by a safe one (e.g. a buffer too large for the function): still worth one line. */
      readonly adjusted: readonly string[];
    }
  | { readonly ok: false; readonly problems: readonly string[] };

/** What the parser must know about the function besides its variables. */
export interface FunctionContext {
  /** The function's memory size in MB (AWS_LAMBDA_FUNCTION_MEMORY_SIZE, or MemorySize from the API). */
  readonly functionMemoryMb?: number | undefined;
}

export interface BufferLimits {
  readonly defaultBytes: number;
  readonly maxBytes: number;
}

/** The default and the largest LOKI_MAX_BUFFER_BYTES for a function of this memory size. */
export function bufferLimitsFor(functionMemoryMb: number | undefined): BufferLimits {
  if (functionMemoryMb === undefined) {
    return { defaultBytes: MAX_BUFFER_BYTES_DEFAULT, maxBytes: MAX_BUFFER_BYTES_MAX };
  }
  const memoryBytes = functionMemoryMb * 1024 * 1024;
  const clamp = (bytes: number): number =>
    Math.max(MAX_BUFFER_BYTES_MIN, Math.min(MAX_BUFFER_BYTES_MAX, Math.floor(bytes)));
  return {
    defaultBytes: clamp(Math.min(MAX_BUFFER_BYTES_DEFAULT, memoryBytes / MEMORY_DIVISOR_BUFFER_DEFAULT)),
    maxBytes: clamp(memoryBytes / MEMORY_DIVISOR_BUFFER_MAX),
  };
}

/** AWS_LAMBDA_FUNCTION_MEMORY_SIZE as a number of MB; undefined when absent or not a positive integer. */
export function functionMemoryMbFrom(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return undefined;
  const mb = Number(raw.trim());
  return mb > 0 ? mb : undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the LOKI_* variables once, reporting every problem at once (never a secret's value). */
export function parseConfig(env: Env, context: FunctionContext = {}): ConfigResult {
  const problems: string[] = [];
  const adjusted: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const required = (name: string, what: string): string => {
    const value = read(name);
    if (value === undefined) problems.push(`${name} is required (${what})`);
    return value ?? '';
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return Number(raw);
  };

  const pushUrl = parsePushUrl(
    required(ENV_VARS.endpointUrl, 'the Loki base URL, e.g. https://loki.example.com'),
    problems,
  );
  const application = labelValue(
    ENV_VARS.application,
    required(ENV_VARS.application, 'the application label'),
    problems,
  );
  const environment = labelValue(
    ENV_VARS.environment,
    required(ENV_VARS.environment, 'the environment label'),
    problems,
  );
  const auth = parseAuth(
    read(ENV_VARS.bearerToken),
    read(ENV_VARS.username),
    read(ENV_VARS.password),
    problems,
  );
  const tenantId = read(ENV_VARS.tenantId);
  if (
    tenantId !== undefined &&
    (!TENANT_ID_PATTERN.test(tenantId) || tenantId === '.' || tenantId === '..')
  ) {
    problems.push(`${ENV_VARS.tenantId} must be 1 to 150 characters of letters, digits and !-_.*'()`);
  }
  const extraLabels = parseExtraLabels(read(ENV_VARS.extraLabels), problems);
  const flushStrategy = oneOf(
    ENV_VARS.flushStrategy,
    read(ENV_VARS.flushStrategy),
    FLUSH_STRATEGIES,
    'auto',
    problems,
  );
  const flushIntervalMs = integer(
    ENV_VARS.flushIntervalMs,
    FLUSH_INTERVAL_MS_DEFAULT,
    FLUSH_INTERVAL_MS_MIN,
    FLUSH_INTERVAL_MS_MAX,
  );
  const bufferTimeoutMs = integer(
    ENV_VARS.bufferTimeoutMs,
    BUFFER_TIMEOUT_MS_DEFAULT,
    BUFFER_TIMEOUT_MS_MIN,
    BUFFER_TIMEOUT_MS_MAX,
  );
  const logTypes = parseLogTypes(read(ENV_VARS.logTypes), problems);
  const listenerPort = integer(ENV_VARS.listenerPort, LISTENER_PORT_DEFAULT, 0, 65_535);
  const bufferLimits = bufferLimitsFor(context.functionMemoryMb);
  const maxBufferBytes = integer(
    ENV_VARS.maxBufferBytes,
    bufferLimits.defaultBytes,
    MAX_BUFFER_BYTES_MIN,
    MAX_BUFFER_BYTES_MAX,
  );
  if (maxBufferBytes > bufferLimits.maxBytes) {
    adjusted.push(
      `${bufferTooLarge(maxBufferBytes, context.functionMemoryMb ?? 0, bufferLimits.maxBytes)}; using ${bufferLimits.defaultBytes}`,
    );
  }
  const debug = parseBoolean(ENV_VARS.debug, read(ENV_VARS.debug), problems);

  if (problems.length > 0) return { ok: false, problems: [...problems, ...adjusted] };
  return {
    ok: true,
    adjusted,
    config: Object.freeze({
      pushUrl,
      application,
      environment,
      auth,
      tenantId,
      extraLabels,
      flushStrategy,
      flushIntervalMs,
      bufferTimeoutMs,
      logTypes,
      listenerPort,
      maxBufferBytes: maxBufferBytes > bufferLimits.maxBytes ? bufferLimits.defaultBytes : maxBufferBytes,
      debug,
    }),
  };
}

/** Why a bound is too large for this memory size (the extension then uses the default; the CLI refuses). */
export function bufferTooLarge(bytes: number, functionMemoryMb: number, maxBytes: number): string {
  return `${ENV_VARS.maxBufferBytes}=${bytes} is too large for a function of ${functionMemoryMb} MB (at most ${maxBytes}, an 8th of its memory)`;
}

function parsePushUrl(raw: string, problems: string[]): string {
  if (raw === '') return '';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Never echoed: a mistyped URL may still hold credentials or a query key.
    problems.push(
      `${ENV_VARS.endpointUrl} must be an http:// or https:// URL (its value is not a valid URL)`,
    );
    return '';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    // A short scheme (ftp:) helps; a long one could be the start of a pasted secret.
    const scheme = /^[a-z]{1,6}:$/i.test(url.protocol) ? `, got "${url.protocol}"` : '';
    problems.push(`${ENV_VARS.endpointUrl} must use http:// or https://${scheme}`);
    return '';
  }
  if (url.username !== '' || url.password !== '') {
    // Credentials in the URL would end up in logs; they have variables of their own.
    problems.push(
      `${ENV_VARS.endpointUrl} must not contain credentials; use ${ENV_VARS.username}/${ENV_VARS.password} or ${ENV_VARS.bearerToken}`,
    );
    return '';
  }
  if (url.pathname === '' || url.pathname === '/') url.pathname = PUSH_PATH;
  return url.toString();
}

function labelValue(name: string, value: string, problems: string[]): string {
  if (value.length > MAX_LABEL_VALUE_LENGTH) {
    problems.push(`${name} must be at most ${MAX_LABEL_VALUE_LENGTH} characters (Loki's limit)`);
  }
  return value;
}

function parseAuth(
  token: string | undefined,
  username: string | undefined,
  password: string | undefined,
  problems: string[],
): LokiAuth {
  if ((username === undefined) !== (password === undefined)) {
    problems.push(`${ENV_VARS.username} and ${ENV_VARS.password} must be set together (basic auth)`);
    return { kind: 'none' };
  }
  if (token !== undefined && username !== undefined) {
    problems.push(
      `set either ${ENV_VARS.bearerToken} or ${ENV_VARS.username}/${ENV_VARS.password}, not both`,
    );
    return { kind: 'none' };
  }
  if (token !== undefined) return { kind: 'bearer', token };
  if (username !== undefined && password !== undefined) return { kind: 'basic', username, password };
  return { kind: 'none' };
}

function parseExtraLabels(
  raw: string | undefined,
  problems: string[],
): ReadonlyArray<readonly [string, string]> {
  if (raw === undefined) return [];
  const parts = raw.split(',').map((part) => part.trim());
  if (parts.length % 2 !== 0) {
    problems.push(`${ENV_VARS.extraLabels} must be "name1,value1,name2,value2", got an odd number of items`);
    return [];
  }
  const labels: Array<readonly [string, string]> = [];
  const seen = new Set<string>(RESERVED_LABEL_NAMES);
  for (let i = 0; i < parts.length; i += 2) {
    const name = parts[i] ?? '';
    const value = parts[i + 1] ?? '';
    if (!isValidLabelName(name) || name.length > MAX_LABEL_NAME_LENGTH) {
      problems.push(`${ENV_VARS.extraLabels}: label name "${name}" must match [a-zA-Z_][a-zA-Z0-9_]*`);
    } else if (name.startsWith('__')) {
      problems.push(`${ENV_VARS.extraLabels}: label name "${name}" is reserved (names starting with __)`);
    } else if (seen.has(name)) {
      problems.push(
        `${ENV_VARS.extraLabels}: label "${name}" is set twice or is one of ${RESERVED_LABEL_NAMES.join(', ')}`,
      );
    } else if (value === '') {
      problems.push(`${ENV_VARS.extraLabels}: label "${name}" has an empty value`);
    } else if (value.length > MAX_LABEL_VALUE_LENGTH) {
      problems.push(
        `${ENV_VARS.extraLabels}: the value of "${name}" must be at most ${MAX_LABEL_VALUE_LENGTH} characters`,
      );
    }
    seen.add(name);
    labels.push([name, value]);
  }
  if (labels.length + RESERVED_LABEL_NAMES.length > MAX_LABELS_PER_STREAM) {
    problems.push(
      `${ENV_VARS.extraLabels} may add at most ${MAX_LABELS_PER_STREAM - RESERVED_LABEL_NAMES.length} labels (Loki allows ${MAX_LABELS_PER_STREAM} per stream)`,
    );
  }
  return labels;
}

function parseLogTypes(raw: string | undefined, problems: string[]): readonly LogType[] {
  if (raw === undefined) return LOG_TYPES_DEFAULT;
  const types = raw.split(',').map((type) => type.trim().toLowerCase());
  const unknown = types.filter((type) => !(LOG_TYPES as readonly string[]).includes(type));
  if (unknown.length > 0 || types.length === 0) {
    problems.push(
      `${ENV_VARS.logTypes} must be a comma-separated list of ${LOG_TYPES.join(', ')}, got "${raw}"`,
    );
    return LOG_TYPES_DEFAULT;
  }
  return [...new Set(types as LogType[])];
}

function oneOf<T extends string>(
  name: string,
  raw: string | undefined,
  allowed: readonly T[],
  fallback: T,
  problems: string[],
): T {
  if (raw === undefined) return fallback;
  const value = raw.toLowerCase();
  if ((allowed as readonly string[]).includes(value)) return value as T;
  problems.push(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return fallback;
}

function parseBoolean(name: string, raw: string | undefined, problems: string[]): boolean {
  if (raw === undefined) return false;
  const value = raw.toLowerCase();
  if (value === 'true' || value === '1' || value === 'yes') return true;
  if (value === 'false' || value === '0' || value === 'no') return false;
  problems.push(`${name} must be true or false, got "${raw}"`);
  return false;
}

/** The one line an extension prints when it ships with safe values in place of some of the given ones. */
export function describeConfigAdjustments(adjusted: readonly string[]): string {
  return `loki-lambda: configuration problem, logs are shipped with a safe value instead: ${adjusted.join('; ')}`;
}

/** The one line a misconfigured extension prints; names every problem, never a secret. */
export function describeConfigProblems(problems: readonly string[]): string {
  return `loki-lambda: configuration error, logs will NOT be shipped to Loki (the function runs normally): ${problems.join('; ')}`;
}
