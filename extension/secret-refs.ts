/**
 * References to Loki credentials kept in AWS Secrets Manager or SSM Parameter Store instead of the
 * function's environment (issue 15): how they are written, what they name, and what IAM permission
 * reading them takes. Pure: the extension and the CLI share these rules.
 */

export type SecretStore = 'secretsmanager' | 'ssm';

export interface SecretRef {
  readonly store: SecretStore;
  /** The variable that holds the reference, named in every message about it. */
  readonly variable: string;
  /** The secret's ARN (Secrets Manager) or the parameter's name or ARN (Parameter Store), as given. */
  readonly id: string;
  /** One key of a JSON secret (`ARN#key`); undefined for the whole secret string. */
  readonly jsonKey: string | undefined;
  /** The region in the ARN; undefined means the function's own region. */
  readonly region: string | undefined;
}

/** Where a secret's credential goes: the bearer token, or the password of `username`. */
export interface SecretCredential {
  readonly ref: SecretRef;
  readonly username: string | undefined;
}

const SECRET_ARN_PATTERN = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):(\d{12}):secret:[A-Za-z0-9/_+=.@-]+$/;
const PARAMETER_ARN_PATTERN = /^arn:aws[a-z-]*:ssm:([a-z0-9-]+):(\d{12}):parameter\/[A-Za-z0-9/_.-]+$/;
/** Parameter names: letters, digits, `_ . - /`, at most 2,048 characters (hierarchies start with `/`). */
const PARAMETER_NAME_PATTERN = /^[A-Za-z0-9/_.-]{1,2048}$/;

/** `arn:…:secret:NAME-AbCdEf` or `arn:…:secret:NAME-AbCdEf#key`. */
export function parseSecretArnRef(variable: string, raw: string, problems: string[]): SecretRef | undefined {
  const hash = raw.lastIndexOf('#');
  const arn = hash === -1 ? raw : raw.slice(0, hash);
  const jsonKey = hash === -1 ? undefined : raw.slice(hash + 1);
  const match = SECRET_ARN_PATTERN.exec(arn);
  if (match === null) {
    problems.push(
      `${variable} must be a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME), optionally followed by #KEY for one key of a JSON secret, got "${raw}"`,
    );
    return undefined;
  }
  if (jsonKey === '') {
    problems.push(`${variable}: the key after "#" is empty (write ARN#key, or the ARN alone)`);
    return undefined;
  }
  return { store: 'secretsmanager', variable, id: arn, jsonKey, region: match[1] };
}

/** A parameter name (`/loki/token`, `loki-token`) or ARN. */
export function parseParameterRef(variable: string, raw: string, problems: string[]): SecretRef | undefined {
  const arn = PARAMETER_ARN_PATTERN.exec(raw);
  if (arn === null && (raw.startsWith('arn:') || !PARAMETER_NAME_PATTERN.test(raw))) {
    problems.push(
      `${variable} must be an SSM parameter name (e.g. /loki/token: letters, digits and _.-/) or ARN, got "${raw}"`,
    );
    return undefined;
  }
  return { store: 'ssm', variable, id: raw, jsonKey: undefined, region: arn?.[1] };
}

/** The IAM action that reading the reference takes (kms:Decrypt comes on top for customer-managed keys). */
export function readPermission(ref: SecretRef): string {
  return ref.store === 'secretsmanager' ? 'secretsmanager:GetSecretValue' : 'ssm:GetParameter';
}

/**
 * The resource ARN an IAM policy must name for the reference. A parameter name becomes
 * `arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME` (without the leading slash of a hierarchy).
 */
export function resourceArn(
  ref: SecretRef,
  fallback: { partition: string; region: string; account: string },
): string {
  if (ref.id.startsWith('arn:')) return ref.id;
  return `arn:${fallback.partition}:ssm:${fallback.region}:${fallback.account}:parameter/${ref.id.replace(/^\//, '')}`;
}

/**
 * `LOKI_BEARER_TOKEN_SECRET_ARN (arn:…#key)`: how messages name a reference (it is not a secret;
 * not `NAME=value`, which the redaction masks for secret-looking names).
 */
export function describeRef(ref: SecretRef): string {
  return `${ref.variable} (${ref.id}${ref.jsonKey === undefined ? '' : `#${ref.jsonKey}`})`;
}

export type SecretValueResult =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly problem: string };

/**
 * The credential inside a fetched secret string: the whole string, or one key of a JSON secret.
 * Messages never quote the secret (not even a JSON parser's error, which shows a character of it).
 */
export function secretValueOf(ref: SecretRef, secretString: string): SecretValueResult {
  if (ref.jsonKey === undefined) {
    const value = secretString.trim();
    return value === '' ? { ok: false, problem: 'the secret is empty' } : { ok: true, value };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    return { ok: false, problem: `the secret is not a JSON object, so it has no key "${ref.jsonKey}"` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, problem: `the secret is not a JSON object, so it has no key "${ref.jsonKey}"` };
  }
  const value = (parsed as Record<string, unknown>)[ref.jsonKey];
  if (value === undefined) {
    const keys = Object.keys(parsed).join(', ');
    return {
      ok: false,
      problem: `the JSON secret has no key "${ref.jsonKey}" (its keys: ${keys || 'none'})`,
    };
  }
  if (typeof value !== 'string' || value.trim() === '') {
    return { ok: false, problem: `the key "${ref.jsonKey}" of the JSON secret is not a non-empty string` };
  }
  return { ok: true, value: value.trim() };
}
