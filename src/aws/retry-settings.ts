/**
 * The AWS SDK's standard retry settings, resolved as the SDK resolves them (the environment, then the
 * profile, then a default): `AWS_MAX_ATTEMPTS` / `max_attempts` and `AWS_RETRY_MODE` / `retry_mode`. A
 * client given its own `retryStrategy` (src/aws/sdk-retry.ts) ignores them, so the CLI reads them
 * itself; only the default (5 attempts, not the SDK's 3) is ours. No SDK import here: the CLI checks
 * the environment before every command that may call AWS, and must not load the SDK to do it.
 */
export const AWS_MAX_ATTEMPTS_DEFAULT = 5;

export type AwsRetryMode = 'standard' | 'adaptive';

export interface AwsRetrySettings {
  /** Requests in all for one call, the first included: 1 means no retry. */
  readonly maxAttempts: number;
  /** `adaptive` adds the SDK's client-side rate limiting to the standard rules. */
  readonly mode: AwsRetryMode;
}

export const AWS_RETRY_DEFAULT: AwsRetrySettings = {
  maxAttempts: AWS_MAX_ATTEMPTS_DEFAULT,
  mode: 'standard',
};

/** One place the settings may be given, with the names its messages use for them. */
export interface AwsRetrySource {
  readonly maxAttempts?: string | undefined;
  readonly retryMode?: string | undefined;
  readonly names: { readonly maxAttempts: string; readonly retryMode: string };
}

/** The standard environment variables, as the SDK reads them (an empty value counts as unset). */
export function awsRetryEnvSource(env: Readonly<Record<string, string | undefined>>): AwsRetrySource {
  return {
    maxAttempts: env.AWS_MAX_ATTEMPTS,
    retryMode: env.AWS_RETRY_MODE,
    names: { maxAttempts: 'AWS_MAX_ATTEMPTS', retryMode: 'AWS_RETRY_MODE' },
  };
}

/** The `max_attempts` and `retry_mode` keys of a profile (of the config file or the credentials file). */
export function awsRetryProfileSource(
  values: Readonly<Record<string, string | undefined>>,
  profile: string,
  file: string,
): AwsRetrySource {
  const where = `in the profile "${profile}" of ${file}`;
  return {
    maxAttempts: values.max_attempts,
    retryMode: values.retry_mode,
    names: { maxAttempts: `max_attempts ${where}`, retryMode: `retry_mode ${where}` },
  };
}

export type AwsRetryResolution =
  | { readonly ok: true; readonly settings: AwsRetrySettings }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * The settings from the first source that gives each (the environment before the profile), else the
 * default; every value given that the SDK would not take is a problem saying what to write instead.
 * Stricter than the SDK, which reads `3x` as 3 and warns about `x` only at the first retry.
 */
export function resolveAwsRetry(sources: readonly AwsRetrySource[]): AwsRetryResolution {
  const problems: string[] = [];
  let maxAttempts: number | undefined;
  let mode: AwsRetryMode | undefined;
  for (const source of sources) {
    const attempts = source.maxAttempts?.trim();
    if (maxAttempts === undefined && attempts) {
      if (/^[1-9]\d*$/.test(attempts) && Number.isSafeInteger(Number(attempts)))
        maxAttempts = Number(attempts);
      else
        problems.push(
          `${source.names.maxAttempts} must be a whole number of attempts, 1 or more (1: no retry); got "${attempts}"`,
        );
    }
    const retryMode = source.retryMode?.trim().toLowerCase();
    if (mode === undefined && retryMode) {
      // The SDK for JavaScript has no legacy mode of its own: it runs `legacy` as `standard`.
      if (retryMode === 'standard' || retryMode === 'legacy') mode = 'standard';
      else if (retryMode === 'adaptive') mode = 'adaptive';
      else problems.push(`${source.names.retryMode} must be standard or adaptive; got "${retryMode}"`);
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    settings: {
      maxAttempts: maxAttempts ?? AWS_RETRY_DEFAULT.maxAttempts,
      mode: mode ?? AWS_RETRY_DEFAULT.mode,
    },
  };
}

/** A retry setting of the profile that the SDK could not use, found before any AWS call. */
export class AwsRetrySettingError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'AwsRetrySettingError';
  }
}
