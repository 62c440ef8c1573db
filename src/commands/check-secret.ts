import { ENV_VARS, parseConfig } from '../../extension/config.js';
import { describeRef, secretValueOf } from '../../extension/secret-refs.js';
import type { AwsDeps } from '../aws/deps.js';
import { type SimulationVerdict, secretAccessFor, simulateSecretAccess } from '../aws/secret-access.js';
import type { CliIo } from '../io.js';

/** What `check FUNCTION` found about a Loki credential the function keeps in AWS (issue 15). */
export interface SecretCheck {
  readonly variable: string;
  readonly reference: string;
  /** Read with the caller's credentials; `problem` says why not. */
  readonly read: { readonly ok: true } | { readonly ok: false; readonly problem: string };
  /** What IAM says about the function's role, when it could be asked. */
  readonly role: { readonly name: string | undefined; readonly verdict: SimulationVerdict } | undefined;
}

export type SecretResolution =
  | { readonly kind: 'none' }
  /** The environment with the credential in place of its reference, for the test push. */
  | { readonly kind: 'resolved'; readonly env: Readonly<Record<string, string>>; readonly check: SecretCheck }
  | { readonly kind: 'failed'; readonly check: SecretCheck };

export interface FunctionContext {
  readonly region: string;
  readonly profile: string | undefined;
  readonly arn: string;
  readonly role: string | undefined;
}

/**
 * Reads the credential a function's reference points to with the caller's credentials, so that the
 * test line is pushed with what the extension would use; and asks IAM whether the function's role
 * may read it too (the caller being allowed proves nothing about the role).
 */
export async function resolveSecretReference(
  io: CliIo,
  deps: AwsDeps,
  env: Readonly<Record<string, string>>,
  fn: FunctionContext,
): Promise<SecretResolution> {
  const parsed = parseConfig(env);
  if (!parsed.ok || parsed.config.secretCredential === undefined) return { kind: 'none' };
  const { ref, username } = parsed.config.secretCredential;
  const access = secretAccessFor(env, fn.arn, fn.role);
  const iam = await deps.createIamClient?.(fn.region, fn.profile);
  const role =
    access === undefined || iam === undefined
      ? undefined
      : { name: access.roleName, verdict: await simulateSecretAccess(iam, access) };
  const base = { variable: ref.variable, reference: describeRef(ref), role };
  if (deps.createSecretReader === undefined) {
    return {
      kind: 'failed',
      check: { ...base, read: { ok: false, problem: 'no AWS SDK reader available' } },
    };
  }
  const reader = await deps.createSecretReader(ref.region ?? fn.region, fn.profile);
  const result = await reader(ref, READ_TIMEOUT_MS);
  const value = result.ok ? secretValueOf(ref, result.secretString) : undefined;
  if (!result.ok || value === undefined || !value.ok) {
    const problem = !result.ok
      ? `${result.kind}: ${result.detail}`
      : value?.ok === false
        ? value.problem
        : '';
    return { kind: 'failed', check: { ...base, read: { ok: false, problem } } };
  }
  // Masked in everything printed from now on, before it can reach a line.
  if (username === undefined) io.secrets.addSecret(value.value);
  else io.secrets.addBasicAuth(username, value.value);
  const resolved: Record<string, string> = { ...env };
  delete resolved[ref.variable];
  resolved[username === undefined ? ENV_VARS.bearerToken : ENV_VARS.password] = value.value;
  return { kind: 'resolved', env: resolved, check: { ...base, read: { ok: true } } };
}

/** The caller is on a laptop or in CI, not in Lambda's init: a slower answer is fine. */
const READ_TIMEOUT_MS = 10_000;

/** The lines `check` prints about the credential, before its steps. */
export function renderSecretCheck(check: SecretCheck): string {
  const lines = [
    check.read.ok
      ? `credential: read ${check.reference} with your credentials; the test line is pushed with it`
      : `credential: cannot read ${check.reference} with your credentials (${check.read.problem})`,
  ];
  const role = check.role?.name ?? "the function's role";
  const verdict = check.role?.verdict;
  if (verdict === undefined) lines.push(`credential: whether ${role} may read it was not checked`);
  else if (verdict.kind === 'allowed') lines.push(`credential: IAM says ${role} may read it`);
  else if (verdict.kind === 'denied') {
    lines.push(
      `credential: IAM says ${role} may NOT read it (${verdict.decision}): the extension will not ship logs until the role is allowed (see attach's IAM statement)`,
    );
  } else lines.push(`credential: could not ask IAM whether ${role} may read it (${verdict.reason})`);
  return `${lines.map((line) => `  ${line}`).join('\n')}\n`;
}
