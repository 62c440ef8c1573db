import type { SecretRef } from './secret-refs.js';

/** Why a secret could not be read; the kind decides the permission named and whether to retry soon. */
export type ReadFailureKind =
  | 'access-denied'
  | 'kms'
  | 'not-found'
  | 'invalid'
  | 'throttled'
  | 'timeout'
  | 'unreachable'
  | 'other';

export type SecretReadResult =
  | { readonly ok: true; readonly secretString: string }
  /** `detail`: the AWS error's name and message (never the secret), for the one line we print. */
  | { readonly ok: false; readonly kind: ReadFailureKind; readonly detail: string };

/** Reads one secret string or parameter value; never rejects, never waits past timeoutMs. */
export type SecretReader = (ref: SecretRef, timeoutMs: number) => Promise<SecretReadResult>;

/** Failures that may pass by themselves: the read is retried soon rather than after minutes. */
export function isTransient(kind: ReadFailureKind): boolean {
  return kind === 'throttled' || kind === 'timeout' || kind === 'unreachable';
}
