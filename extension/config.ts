import { isValidLabelName, RESERVED_LABEL_NAMES } from './labels.js';
import {
  parseParameterRef,
  parseSecretArnRef,
  type SecretCredential,
  type SecretRef,
} from './secret-refs.js';
import {
  ENV_VARS,
  type FlushStrategy,
  type LogType,
  MAX_BUFFER_BYTES_DEFAULT,
  MAX_BUFFER_BYTES_MAX,
  MAX_BUFFER_BYTES_MIN,
  readSettings,
  type SettingValues,
} from './settings.js';

// Kept here for the modules that read the parsed configuration; the table is settings.ts.
export { ENV_VARS, type FlushStrategy, type LogType, SECRET_ENV_VARS } from './settings.js';

export const PUSH_PATH = '/loki/api/v1/push';
/**
 * The bound follows the function's memory, which the extension shares (DESIGN.md §6): by default a
 * 16th of it (at most MAX_BUFFER_BYTES_DEFAULT), and never more than an 8th, half of the V8 old space
 * the launcher gives the extension (a quarter of the function's memory).
 */
export const MEMORY_DIVISOR_BUFFER_DEFAULT = 16;
export const MEMORY_DIVISOR_BUFFER_MAX = 8;
/** Loki's defaults: at most 15 label names per stream, 2,048 bytes (UTF-8) per label value, 1,024 per name. */
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
  /** The credentials given in the environment; `none` while `secretCredential` is still to be read. */
  readonly auth: LokiAuth;
  /** The bearer token or password kept in Secrets Manager / Parameter Store, read at start. */
  readonly secretCredential: SecretCredential | undefined;
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
  const bufferLimits = bufferLimitsFor(context.functionMemoryMb);
  // Each setting on its own, from the table; then the rules that join several of them.
  const values = readSettings(env, problems, { maxBufferBytes: bufferLimits.defaultBytes });
  const pushUrl = parsePushUrl(values.endpointUrl ?? '', problems);
  const application = labelValue(ENV_VARS.application, values.application ?? '', problems);
  const environment = labelValue(ENV_VARS.environment, values.environment ?? '', problems);
  const { auth, secretCredential } = parseAuthSources(values, problems);
  const tenantId = values.tenantId;
  if (
    tenantId !== undefined &&
    (!TENANT_ID_PATTERN.test(tenantId) || tenantId === '.' || tenantId === '..')
  ) {
    problems.push(`${ENV_VARS.tenantId} must be 1 to 150 characters of letters, digits and !-_.*'()`);
  }
  const extraLabels = parseExtraLabels(values.extraLabels, problems);
  const { flushStrategy, flushIntervalMs, bufferTimeoutMs, logTypes, listenerPort, debug } = values;
  const maxBufferBytes = values.maxBufferBytes;
  if (maxBufferBytes > bufferLimits.maxBytes) {
    adjusted.push(
      `${bufferTooLarge(maxBufferBytes, context.functionMemoryMb ?? 0, bufferLimits.maxBytes)}; using ${bufferLimits.defaultBytes}`,
    );
  }

  if (problems.length > 0) return { ok: false, problems: [...problems, ...adjusted] };
  return {
    ok: true,
    adjusted,
    config: Object.freeze({
      pushUrl,
      application,
      environment,
      auth,
      secretCredential,
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
  if (utf8Bytes(value) > MAX_LABEL_VALUE_LENGTH) {
    problems.push(`${name} must be at most ${MAX_LABEL_VALUE_LENGTH} bytes in UTF-8 (Loki's limit)`);
  }
  return value;
}

/** Loki counts label lengths in bytes: `é` is two. */
function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** What Node (and HTTP) allows in a header value that is a token: visible ASCII, no space. */
const HEADER_TOKEN_PATTERN = /^[\x21-\x7e]+$/;

/** How the auth settings are named in problems: the variables, or a command's own flags. */
export interface AuthSettingNames {
  readonly token: string;
  readonly username: string;
  readonly password: string;
}

const AUTH_VARIABLES: AuthSettingNames = {
  token: ENV_VARS.bearerToken,
  username: ENV_VARS.username,
  password: ENV_VARS.password,
};

/** The auth rules, shared with `tail`: a bearer token, or a username and password, never both. */
export function parseAuth(
  token: string | undefined,
  username: string | undefined,
  password: string | undefined,
  problems: string[],
  names: AuthSettingNames = AUTH_VARIABLES,
): LokiAuth {
  if ((username === undefined) !== (password === undefined)) {
    problems.push(`${names.username} and ${names.password} must be set together (basic auth)`);
    return { kind: 'none' };
  }
  if (token !== undefined && username !== undefined) {
    problems.push(`set either ${names.token} or ${names.username}/${names.password}, not both`);
    return { kind: 'none' };
  }
  if (token !== undefined && !HEADER_TOKEN_PATTERN.test(token)) {
    // Never the value: a cut or shown token is a leak. Pushing it would fail at every attempt.
    problems.push(
      `${names.token} contains a character that cannot be sent in an HTTP header (a space, a control character or a non-ASCII one such as an invisible zero-width space pasted with it); set it again without it`,
    );
    return { kind: 'none' };
  }
  if (token !== undefined) return { kind: 'bearer', token };
  if (username !== undefined && password !== undefined) return { kind: 'basic', username, password };
  return { kind: 'none' };
}

interface AuthSources {
  readonly auth: LokiAuth;
  readonly secretCredential: SecretCredential | undefined;
}

/**
 * The auth rules, with each secret from exactly one source: the variable itself, a Secrets Manager
 * ARN or an SSM parameter name (issue 15). A secret kept in AWS is read by the extension at start.
 */
function parseAuthSources(values: SettingValues, problems: string[]): AuthSources {
  const failed: AuthSources = { auth: { kind: 'none' }, secretCredential: undefined };
  const token = oneSource(
    [ENV_VARS.bearerToken, values.bearerToken],
    [ENV_VARS.bearerTokenSecretArn, values.bearerTokenSecretArn],
    [ENV_VARS.bearerTokenSsmName, values.bearerTokenSsmName],
    problems,
  );
  const password = oneSource(
    [ENV_VARS.password, values.password],
    [ENV_VARS.passwordSecretArn, values.passwordSecretArn],
    [ENV_VARS.passwordSsmName, values.passwordSsmName],
    problems,
  );
  if (token === null || password === null) return failed;
  const before = problems.length;
  const names = {
    token: token?.variable ?? ENV_VARS.bearerToken,
    username: ENV_VARS.username,
    password: password?.variable ?? ENV_VARS.password,
  };
  // The plain rules, with a placeholder where the value is still in AWS.
  const auth = parseAuth(token?.value, values.username, password?.value, problems, names);
  if (problems.length > before) return failed;
  const ref = token?.ref ?? password?.ref;
  if (ref === undefined) return { auth, secretCredential: undefined };
  return {
    auth: { kind: 'none' },
    secretCredential: { ref, username: token === undefined ? values.username : undefined },
  };
}

interface SecretSource {
  readonly variable: string;
  readonly value: string;
  readonly ref: SecretRef | undefined;
}

/** The one source of a secret; undefined when none is set, null (and a problem) when several are or one is malformed. */
function oneSource(
  plain: readonly [string, string | undefined],
  secretArn: readonly [string, string | undefined],
  ssmName: readonly [string, string | undefined],
  problems: string[],
): SecretSource | undefined | null {
  const set = [plain, secretArn, ssmName].filter(([, value]) => value !== undefined);
  if (set.length > 1) {
    problems.push(`set only one of ${set.map(([variable]) => variable).join(', ')} (one source per secret)`);
    return null;
  }
  const [variable, value] = set[0] ?? [];
  if (variable === undefined || value === undefined) return undefined;
  if (variable === plain[0]) return { variable, value, ref: undefined };
  const ref =
    variable === secretArn[0]
      ? parseSecretArnRef(variable, value, problems)
      : parseParameterRef(variable, value, problems);
  return ref === undefined ? null : { variable, value, ref };
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
    } else if (utf8Bytes(value) > MAX_LABEL_VALUE_LENGTH) {
      problems.push(
        `${ENV_VARS.extraLabels}: the value of "${name}" must be at most ${MAX_LABEL_VALUE_LENGTH} bytes in UTF-8`,
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

/** The one line an extension prints when it ships with safe values in place of some of the given ones. */
export function describeConfigAdjustments(adjusted: readonly string[]): string {
  return `loki-lambda: configuration problem, logs are shipped with a safe value instead: ${adjusted.join('; ')}`;
}

/** The one line a misconfigured extension prints; names every problem, never a secret. */
export function describeConfigProblems(problems: readonly string[]): string {
  return `loki-lambda: configuration error, logs will NOT be shipped to Loki (the function runs normally): ${problems.join('; ')}`;
}
