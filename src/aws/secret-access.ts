import type { IAMClient } from '@aws-sdk/client-iam';
import { parseConfig } from '../../extension/config.js';
import { readPermission, resourceArn, type SecretRef } from '../../extension/secret-refs.js';

/**
 * What a function's role needs to read the Loki credential its variables point to (issue 15): one
 * IAM statement, the role it goes on, and (with --check-permissions) what IAM says about it.
 */
export interface SecretAccess {
  /** The variable holding the reference, e.g. LOKI_BEARER_TOKEN_SECRET_ARN. */
  readonly variable: string;
  readonly ref: SecretRef;
  /** The function's execution role (GetFunctionConfiguration's Role), when known. */
  readonly roleArn: string | undefined;
  readonly roleName: string | undefined;
  readonly statement: IamStatement;
}

export interface IamStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: string;
  readonly Resource: string;
}

const FUNCTION_ARN = /^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):function:/;

/** The statement the role needs for the reference in `env`, or undefined when there is none. */
export function secretAccessFor(
  env: Readonly<Record<string, string>>,
  functionArn: string,
  roleArn: string | undefined,
): SecretAccess | undefined {
  const parsed = parseConfig(env);
  if (!parsed.ok || parsed.config.secretCredential === undefined) return undefined;
  const { ref } = parsed.config.secretCredential;
  const [, partition = 'aws', region = '', account = ''] = FUNCTION_ARN.exec(functionArn) ?? [];
  return {
    variable: ref.variable,
    ref,
    roleArn,
    roleName: roleArn?.split('/').at(-1),
    statement: {
      Sid: 'LokiLambdaReadLokiCredentials',
      Effect: 'Allow',
      Action: readPermission(ref),
      Resource: resourceArn(ref, { partition, region: ref.region ?? region, account }),
    },
  };
}

/** The statement as a whole policy document (`--json`, or to paste into the role). */
export function policyDocument(statement: IamStatement): Record<string, unknown> {
  return { Version: '2012-10-17', Statement: [statement] };
}

export type SimulationVerdict =
  | { readonly kind: 'allowed' }
  | { readonly kind: 'denied'; readonly decision: string }
  /** IAM could not tell (no permission to simulate, a role in another account, ...). */
  | { readonly kind: 'unknown'; readonly reason: string };

/**
 * Asks IAM (iam:SimulatePrincipalPolicy) whether the role may perform the statement's action on its
 * resource. The role's identity policies only: a resource policy or a KMS key policy can still deny.
 */
export async function simulateSecretAccess(iam: IAMClient, access: SecretAccess): Promise<SimulationVerdict> {
  if (access.roleArn === undefined) return { kind: 'unknown', reason: 'the function has no role ARN' };
  try {
    // The SDK's IAM module loads only when --check-permissions asks for it.
    const { SimulatePrincipalPolicyCommand } = await import('@aws-sdk/client-iam');
    const answer = await iam.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: access.roleArn,
        ActionNames: [access.statement.Action],
        ResourceArns: [access.statement.Resource],
      }),
    );
    const decision = answer.EvaluationResults?.[0]?.EvalDecision;
    if (decision === undefined) return { kind: 'unknown', reason: 'IAM returned no evaluation' };
    return decision === 'allowed' ? { kind: 'allowed' } : { kind: 'denied', decision };
  } catch (error) {
    const e = error as { name?: string; message?: string };
    return { kind: 'unknown', reason: `${e.name ?? 'Error'}: ${e.message ?? String(error)}` };
  }
}
