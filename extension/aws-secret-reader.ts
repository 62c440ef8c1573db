/**
 * Reads Loki credentials from Secrets Manager and Parameter Store with the AWS SDK v3. This module
 * is bundled on its own (`loki-lambda/secrets.cjs` in the layer) and loaded only when a
 * LOKI_*_SECRET_ARN or LOKI_*_SSM_NAME variable is set: the SDK never weighs on anyone else's init.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { ReadFailureKind, SecretReader, SecretReadResult } from './secret-reader.js';
import type { SecretRef } from './secret-refs.js';

export interface AwsSecretReaderOptions {
  /** The function's region (AWS_REGION); an ARN's own region wins. */
  readonly region: string;
  /** The function role's credentials from the environment; undefined lets the SDK find them (SnapStart). */
  readonly credentials:
    | { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string }
    | undefined;
  /** The CLI's `--profile` (check resolves a reference with the caller's credentials). */
  readonly profile?: string | undefined;
  /**
   * Tests only: this fixed wait between the SDK's attempts instead of its standard backoff (up to
   * seconds for throttling); the attempts and what is retried stay the SDK's. Default: the SDK's.
   */
  readonly retryDelayMs?: number | undefined;
}

/** Attempts per read, throttling included (the SDK's standard strategy backs off between them). */
const MAX_ATTEMPTS = 3;
const MAX_DETAIL_LENGTH = 300;

const KMS_ERRORS = new Set([
  'DecryptionFailure',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
  'InvalidKeyId',
]);
const NOT_FOUND_ERRORS = new Set([
  'ResourceNotFoundException',
  'ParameterNotFound',
  'ParameterVersionNotFound',
]);
const THROTTLING_ERRORS = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE']);

export function createAwsSecretReader(options: AwsSecretReaderOptions): SecretReader {
  // Each client's code initialises only when its store is used (one credential, one store).
  const secretsManagerSdk = once(() => import('@aws-sdk/client-secrets-manager'));
  const ssmSdk = once(() => import('@aws-sdk/client-ssm'));
  const secretsManagers = new Map<string, SecretsManagerClient>();
  const ssms = new Map<string, SSMClient>();
  const retryDelayMs = options.retryDelayMs;
  const retryStrategy = once(async () =>
    retryDelayMs === undefined
      ? {}
      : {
          retryStrategy: new (await import('@smithy/core/retry')).ConfiguredRetryStrategy(
            MAX_ATTEMPTS,
            retryDelayMs,
          ),
        },
  );
  const config = async (region: string) => ({
    region,
    credentials: options.credentials,
    maxAttempts: MAX_ATTEMPTS,
    ...(options.profile ? { profile: options.profile } : {}),
    ...(await retryStrategy()),
  });
  const secretsManagerFor = async (region: string) => {
    const sdk = await secretsManagerSdk();
    const client = secretsManagers.get(region) ?? new sdk.SecretsManagerClient(await config(region));
    secretsManagers.set(region, client);
    return { client, GetSecretValueCommand: sdk.GetSecretValueCommand };
  };
  const ssmFor = async (region: string) => {
    const sdk = await ssmSdk();
    const client = ssms.get(region) ?? new sdk.SSMClient(await config(region));
    ssms.set(region, client);
    return { client, GetParameterCommand: sdk.GetParameterCommand };
  };

  return async (ref: SecretRef, timeoutMs: number): Promise<SecretReadResult> => {
    const region = ref.region ?? options.region;
    const abortSignal = AbortSignal.timeout(timeoutMs);
    try {
      if (ref.store === 'secretsmanager') {
        const { client, GetSecretValueCommand } = await secretsManagerFor(region);
        const answer = await client.send(new GetSecretValueCommand({ SecretId: ref.id }), { abortSignal });
        if (answer.SecretString === undefined) {
          return {
            ok: false,
            kind: 'invalid',
            detail: 'the secret holds binary data (SecretBinary); store the credential as a secret string',
          };
        }
        return { ok: true, secretString: answer.SecretString };
      }
      const { client, GetParameterCommand } = await ssmFor(region);
      const answer = await client.send(new GetParameterCommand({ Name: ref.id, WithDecryption: true }), {
        abortSignal,
      });
      const value = answer.Parameter?.Value;
      if (value === undefined) return { ok: false, kind: 'invalid', detail: 'the parameter has no value' };
      return { ok: true, secretString: value };
    } catch (error) {
      return { ok: false, ...classify(error, abortSignal.aborted, timeoutMs) };
    }
  };
}

function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}

function classify(
  error: unknown,
  timedOut: boolean,
  timeoutMs: number,
): { kind: ReadFailureKind; detail: string } {
  const e = error as {
    name?: string;
    message?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const name = e?.name ?? 'Error';
  const detail = `${name}${e?.message ? `: ${e.message}` : ''}`.slice(0, MAX_DETAIL_LENGTH);
  if (timedOut || name === 'AbortError' || name === 'TimeoutError') {
    return { kind: 'timeout', detail: `no answer within ${timeoutMs} ms` };
  }
  if (KMS_ERRORS.has(name) || (name === 'AccessDeniedException' && /\bkms:/i.test(e.message ?? ''))) {
    return { kind: 'kms', detail };
  }
  if (name === 'AccessDeniedException') return { kind: 'access-denied', detail };
  if (NOT_FOUND_ERRORS.has(name)) return { kind: 'not-found', detail };
  if (THROTTLING_ERRORS.has(name)) return { kind: 'throttled', detail };
  if (e?.code !== undefined && NETWORK_CODES.has(e.code)) return { kind: 'unreachable', detail: `${e.code}` };
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return { kind: 'unreachable', detail };
  return { kind: 'other', detail };
}
