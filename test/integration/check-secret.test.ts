import { IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAwsSecretReader } from '../../extension/aws-secret-reader.js';
import { functionConfig, REGION } from '../support/aws-cli.js';
import { type LokiReceiver, startLokiReceiver } from '../support/loki-receiver.js';
import { startLokiCli } from '../support/loki-tail-cli.js';

const lambda = mockClient(LambdaClient);
const secretsManager = mockClient(SecretsManagerClient);
const iam = mockClient(IAMClient);
const TOKEN = 'glc_token-kept-in-secrets-manager';
const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:123456789012:secret:loki/token-AbCdEf`;
const ROLE_ARN = 'arn:aws:iam::123456789012:role/orders-role';
let receiver: LokiReceiver | undefined;

const CALLER = { accessKeyId: 'AKIACALLER', secretAccessKey: 'caller-secret' };
const deps = {
  createSecretReader: async (region: string) => createAwsSecretReader({ region, credentials: CALLER }),
  createIamClient: async (region: string) => new IAMClient({ region, credentials: CALLER }),
};

async function check(args: readonly string[]) {
  const run = startLokiCli(['check', ...args], { deps, loki: { sleep: async () => {} } });
  const code = await run.done;
  return { code, stdout: run.stdout.text, stderr: run.stderr.text };
}

beforeEach(async () => {
  receiver = await startLokiReceiver({ auth: { bearerToken: TOKEN } });
  lambda.reset();
  secretsManager.reset();
  iam.reset();
  lambda.on(GetFunctionConfigurationCommand, { FunctionName: 'orders' }).resolves(
    functionConfig('orders', {
      Role: ROLE_ARN,
      Environment: {
        Variables: {
          LOKI_ENDPOINT_URL: receiver.url,
          LOKI_APPLICATION_LABEL: 'shop',
          LOKI_ENV_LABEL: 'prod',
          LOKI_BEARER_TOKEN_SECRET_ARN: SECRET_ARN,
        },
      },
    }),
  );
});

afterEach(async () => {
  await receiver?.close();
  lambda.reset();
  secretsManager.reset();
  iam.reset();
});

describe('loki-lambda check FUNCTION with a credential kept in AWS', () => {
  it('reads it with the caller’s credentials, pushes the test line with it and says whether the role may read it', async () => {
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: TOKEN });
    iam.on(SimulatePrincipalPolicyCommand).resolves({
      EvaluationResults: [{ EvalActionName: 'secretsmanager:GetSecretValue', EvalDecision: 'implicitDeny' }],
    });

    const result = await check(['orders', '--region', REGION]);

    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `credential: read LOKI_BEARER_TOKEN_SECRET_ARN (${SECRET_ARN}) with your credentials; the test line is pushed with it`,
    );
    expect(result.stdout).toContain('credential: IAM says orders-role may NOT read it (implicitDeny)');
    expect(receiver!.requests().map((r) => r.headers.authorization)).toContain(`Bearer ${TOKEN}`);
    expect(iam.commandCalls(SimulatePrincipalPolicyCommand)[0]?.args[0].input).toEqual({
      PolicySourceArn: ROLE_ARN,
      ActionNames: ['secretsmanager:GetSecretValue'],
      ResourceArns: [SECRET_ARN],
    });
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
  });

  it('fails at "settings" naming the reference when the caller cannot read it', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    iam.on(SimulatePrincipalPolicyCommand).resolves({
      EvaluationResults: [{ EvalActionName: 'secretsmanager:GetSecretValue', EvalDecision: 'allowed' }],
    });

    const result = await check(['orders', '--region', REGION, '--json']);

    expect(result.code).toBe(1);
    const document = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(document.credential).toEqual({
      variable: 'LOKI_BEARER_TOKEN_SECRET_ARN',
      reference: `LOKI_BEARER_TOKEN_SECRET_ARN (${SECRET_ARN})`,
      read: { ok: false, problem: 'access-denied: AccessDeniedException: User is not authorized' },
      role: { name: 'orders-role', verdict: { kind: 'allowed' } },
    });
    expect(JSON.stringify(document)).toContain('cannot read LOKI_BEARER_TOKEN_SECRET_ARN');
    expect(receiver!.requests()).toEqual([]);
  });
});
