/**
 * The Loki credentials a push uses: fixed ones from the environment, or ones read from Secrets
 * Manager / Parameter Store (issue 15). A read starts right after registration, in parallel with
 * the function's init; only the first push waits for it. A push refused with 401/403 re-reads the
 * secret once (it may have been rotated). Every failure is one line naming the variable, the
 * secret and the permission needed; the function runs on either way.
 */
import type { LokiAuth } from './config.js';
import type { Logger } from './logger.js';
import type { PushOutcome } from './loki-push.js';
import { isTransient, type ReadFailureKind, type SecretReader } from './secret-reader.js';
import { describeRef, readPermission, type SecretCredential, secretValueOf } from './secret-refs.js';

/** The durations of reading a credential; tests shrink them (test-timings.ts). */
export interface SecretReadTimings {
  /** Give up on one read after this long (the SDK retries throttling within it). */
  readonly secretReadTimeoutMs: number;
  /** After a transient failure (throttling, timeout, network), read again no sooner than this, doubling. */
  readonly secretRetryInitialMs: number;
  readonly secretRetryMaxMs: number;
}

export const DEFAULT_SECRET_READ_TIMINGS: SecretReadTimings = Object.freeze({
  secretReadTimeoutMs: 3_000,
  secretRetryInitialMs: 1_000,
  secretRetryMaxMs: 60_000,
});

/** After a lasting failure (access denied, missing secret, KMS), read again after this long: IAM may be fixed. */
export const LASTING_FAILURE_RETRY_MS = 5 * 60_000;

export interface LokiCredentials {
  /** The credentials for a push, waiting for a read in progress until deadlineMs; undefined when none yet. */
  current(deadlineMs: number): Promise<LokiAuth | undefined>;
  /** After a 401/403: re-reads the secret once; the new credentials when they changed, else undefined. */
  refreshAfterRefusal(deadlineMs: number): Promise<LokiAuth | undefined>;
  /** Loki accepted a push: a later refusal may re-read the secret again. */
  accepted(): void;
}

/** Credentials given in the environment: nothing to read, nothing to refresh. */
export function fixedCredentials(auth: LokiAuth): LokiCredentials {
  return {
    current: async () => auth,
    refreshAfterRefusal: async () => undefined,
    accepted: () => {},
  };
}

export interface SecretCredentialsDeps {
  readonly credential: SecretCredential;
  /** Loads the AWS SDK reader (a separate file of the layer) the first time a read starts. */
  readonly loadReader: () => Promise<SecretReader>;
  /** Called with each credential read, before it is used: it joins the logger's masked secrets. */
  readonly onSecret: (auth: LokiAuth) => void;
  readonly log: Logger;
  readonly now: () => number;
  /** Default: DEFAULT_SECRET_READ_TIMINGS. */
  readonly timings?: SecretReadTimings;
}

/** Credentials from Secrets Manager or Parameter Store; call `start()` right after registering. */
export class SecretCredentials implements LokiCredentials {
  private auth: LokiAuth | undefined;
  private value: string | undefined;
  private reading: Promise<void> | undefined;
  private reader: Promise<SecretReader> | undefined;
  private reportedKind: ReadFailureKind | undefined;
  private transientFailures = 0;
  private retryAtMs = 0;
  private refreshedSinceAccepted = false;
  private readonly timings: SecretReadTimings;

  constructor(private readonly deps: SecretCredentialsDeps) {
    this.timings = deps.timings ?? DEFAULT_SECRET_READ_TIMINGS;
  }

  /** The first read, in parallel with the function's init. A transient failure here stays quiet: the first push reads again. */
  start(): void {
    void this.read(false);
  }

  async current(deadlineMs: number): Promise<LokiAuth | undefined> {
    // At most two reads: the one in progress (e.g. from start) and, when it failed quietly, our own.
    for (let round = 0; round < 2 && this.auth === undefined; round++) {
      if (this.reading === undefined && this.deps.now() >= this.retryAtMs) void this.read(true);
      if (this.reading === undefined) break;
      await until(this.reading, deadlineMs - this.deps.now());
      if (this.reading !== undefined) break;
    }
    return this.auth;
  }

  async refreshAfterRefusal(deadlineMs: number): Promise<LokiAuth | undefined> {
    if (this.refreshedSinceAccepted) return undefined;
    this.refreshedSinceAccepted = true;
    const before = this.value;
    this.deps.log.debug(
      `Loki refused the credentials; reading ${describeRef(this.deps.credential.ref)} again`,
    );
    const reading = this.reading ?? this.read(true);
    await until(reading, deadlineMs - this.deps.now());
    return this.value !== undefined && this.value !== before ? this.auth : undefined;
  }

  accepted(): void {
    this.refreshedSinceAccepted = false;
  }

  private read(loud: boolean): Promise<void> {
    this.reading ??= this.readOnce(loud).finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async readOnce(loud: boolean): Promise<void> {
    const { credential, log, now } = this.deps;
    let result: Awaited<ReturnType<SecretReader>>;
    try {
      this.reader ??= this.deps.loadReader();
      result = await (await this.reader)(credential.ref, this.timings.secretReadTimeoutMs);
    } catch (error) {
      // The reader file missing from the layer, or a bug: as lasting as an access problem.
      this.reader = undefined;
      result = {
        ok: false,
        kind: 'other',
        detail: `cannot load the AWS SDK reader: ${(error as Error).message}`,
      };
    }
    const extracted = result.ok ? secretValueOf(credential.ref, result.secretString) : undefined;
    if (extracted?.ok) {
      this.value = extracted.value;
      this.auth =
        credential.username === undefined
          ? { kind: 'bearer', token: extracted.value }
          : { kind: 'basic', username: credential.username, password: extracted.value };
      this.deps.onSecret(this.auth);
      this.transientFailures = 0;
      if (this.reportedKind !== undefined)
        log.info(`read ${what(credential)} from ${credential.ref.variable}; shipping resumes`);
      else log.debug(`read ${what(credential)} from ${describeRef(credential.ref)}`);
      this.reportedKind = undefined;
      return;
    }
    const kind: ReadFailureKind = result.ok ? 'invalid' : result.kind;
    const detail = result.ok ? (extracted?.ok === false ? extracted.problem : '') : result.detail;
    if (isTransient(kind)) {
      const { secretRetryInitialMs, secretRetryMaxMs } = this.timings;
      this.retryAtMs = loud
        ? now() + Math.min(secretRetryMaxMs, secretRetryInitialMs * 2 ** this.transientFailures++)
        : now();
    } else {
      this.retryAtMs = now() + LASTING_FAILURE_RETRY_MS;
    }
    if (!loud && isTransient(kind)) {
      log.debug(`reading ${describeRef(credential.ref)} failed (${detail}); the first push reads again`);
    } else if (this.reportedKind !== kind) {
      // One line per kind of failure, not one per attempt.
      log.warn(describeReadFailure(credential, kind, detail, this.auth !== undefined));
      this.reportedKind = kind;
    } else {
      log.debug(`reading ${describeRef(credential.ref)} still fails: ${detail}`);
    }
  }
}

function what(credential: SecretCredential): string {
  return credential.username === undefined ? 'the Loki bearer token' : 'the Loki password';
}

/** The one line for a failed read: the variable and secret, what happened, the permission needed, the consequence. */
export function describeReadFailure(
  credential: SecretCredential,
  kind: ReadFailureKind,
  detail: string,
  haveOlderValue: boolean,
): string {
  const { ref } = credential;
  const permission = readPermission(ref);
  const kmsNote = `kms:Decrypt on its KMS key if that is a customer-managed key`;
  const cause: Record<ReadFailureKind, string> = {
    'access-denied': `access denied (${detail}): the function's role needs ${permission} on ${ref.id} (and ${kmsNote})`,
    kms: `it cannot be decrypted (${detail}): the function's role needs kms:Decrypt on the ${ref.store === 'ssm' ? 'parameter' : 'secret'}'s customer-managed KMS key (and the key policy must allow the role)`,
    'not-found': `no such ${ref.store === 'ssm' ? 'parameter' : 'secret'} (${detail}): check the ${ref.store === 'ssm' ? 'name' : 'ARN'} and the region; reading it needs ${permission}`,
    invalid: `${detail}`,
    throttled: `throttled (${detail}); it is read again soon. Reading it needs ${permission}`,
    timeout: `${detail}: a function in a VPC needs a VPC endpoint or a NAT gateway to reach ${ref.store === 'ssm' ? 'SSM' : 'Secrets Manager'}; it is read again soon. Reading it needs ${permission}`,
    unreachable: `cannot reach ${ref.store === 'ssm' ? 'SSM' : 'Secrets Manager'} (${detail}); it is read again soon. Reading it needs ${permission}`,
    other: `${detail}; reading it needs ${permission}`,
  };
  const consequence = haveOlderValue
    ? 'pushes go on with the value read before'
    : isTransient(kind)
      ? 'logs are kept for the next attempt'
      : 'logs are NOT shipped to Loki until it can be read (it is tried again every 5 minutes)';
  return `cannot read ${what(credential)} from ${describeRef(ref)}: ${cause[kind]}; ${consequence} (the function runs normally)`;
}

/** Sends one push with the current credentials; after a 401/403, re-reads them once and tries again. */
export async function pushWithCredentials(
  credentials: LokiCredentials,
  deadlineMs: number,
  push: (auth: LokiAuth) => Promise<PushOutcome>,
): Promise<PushOutcome> {
  const auth = await credentials.current(deadlineMs);
  if (auth === undefined) return { kind: 'failed', reason: 'the Loki credentials could not be read yet' };
  let outcome = await push(auth);
  if (outcome.kind === 'rejected' && (outcome.status === 401 || outcome.status === 403)) {
    const renewed = await credentials.refreshAfterRefusal(deadlineMs);
    if (renewed !== undefined) outcome = await push(renewed);
  }
  if (outcome.kind === 'accepted') credentials.accepted();
  return outcome;
}

/** Waits for the promise, or for ms to pass, whichever comes first; never rejects. */
async function until(promise: Promise<unknown>, ms: number): Promise<void> {
  if (ms <= 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
