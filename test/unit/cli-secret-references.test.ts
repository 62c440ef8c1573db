import { IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import {
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetLayerVersionByArnCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SLIM_RUNTIMES } from '../../src/layer/targets.js';
import { functionConfig, layerArn, REGION, runCli } from '../support/aws-cli.js';

const lambda = mockClient(LambdaClient);
const iam = mockClient(IAMClient);
const TOKEN = 'glc_plain-text-token-to-be-replaced';
const NEW_LAYER = layerArn('loki-lambda-slim-arm64', 4);
const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:123456789012:secret:loki/token-AbCdEf`;
const ROLE_ARN = 'arn:aws:iam::123456789012:role/service/orders-role';
const LOKI_FLAGS = ['--loki-url', 'https://loki.example.com', '--app', 'shop', '--env', 'prod'];
const LOKI_ENV = {
  LOKI_ENDPOINT_URL: 'https://loki.example.com',
  LOKI_APPLICATION_LABEL: 'shop',
  LOKI_ENV_LABEL: 'prod',
};

function attach(args: readonly string[]) {
  return runCli(['attach', 'orders', ...args, '--region', REGION, '--layer-arn', NEW_LAYER, ...LOKI_FLAGS], {
    deps: {
      createIamClient: async (region) =>
        new IAMClient({ region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
    },
  });
}

const updateCalls = () =>
  lambda.commandCalls(UpdateFunctionConfigurationCommand).map((call) => call.args[0].input);

beforeEach(() => {
  lambda.reset();
  iam.reset();
  lambda.on(GetLayerVersionByArnCommand).resolves({
    LayerVersionArn: NEW_LAYER,
    CompatibleArchitectures: ['arm64'],
    CompatibleRuntimes: [...SLIM_RUNTIMES],
  });
  lambda.on(UpdateFunctionConfigurationCommand).resolves({});
  lambda.on(GetFunctionCommand).resolves({ Configuration: { LastUpdateStatus: 'Successful' } });
  lambda.on(GetFunctionConfigurationCommand).resolves(
    functionConfig('orders', {
      Role: ROLE_ARN,
      Environment: { Variables: { APP_MODE: 'prod', ...LOKI_ENV, LOKI_BEARER_TOKEN: TOKEN } },
    }),
  );
});
afterEach(() => {
  lambda.reset();
  iam.reset();
});

describe('attach with a Loki credential kept in AWS', () => {
  it('sets only the reference, removes the plain-text token it replaces and prints the role’s IAM statement', async () => {
    const result = await attach(['--bearer-token-secret-arn', SECRET_ARN, '--yes']);

    expect(result.code).toBe(0);
    expect(updateCalls()).toEqual([
      {
        FunctionName: 'orders',
        RevisionId: 'rev-orders',
        Layers: [NEW_LAYER],
        Environment: {
          Variables: { APP_MODE: 'prod', ...LOKI_ENV, LOKI_BEARER_TOKEN_SECRET_ARN: SECRET_ARN },
        },
      },
    ]);
    expect(result.stdout).toContain(`    + LOKI_BEARER_TOKEN_SECRET_ARN=${SECRET_ARN}`);
    expect(result.stdout).toContain('    - LOKI_BEARER_TOKEN');
    expect(result.stdout).toContain('  the role orders-role needs, to read LOKI_BEARER_TOKEN_SECRET_ARN:');
    expect(result.stdout).toContain(`    secretsmanager:GetSecretValue on ${SECRET_ARN}`);
    expect(result.stdout).toContain(
      JSON.stringify({
        Sid: 'LokiLambdaReadLokiCredentials',
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: SECRET_ARN,
      }),
    );
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
    expect(iam.commandCalls(SimulatePrincipalPolicyCommand)).toEqual([]);
  });

  it('names an SSM parameter by its ARN in the policy, and --json carries the policy document', async () => {
    const result = await attach(['--bearer-token-ssm-name', '/loki/token', '--dry-run', '--json']);

    expect(result.code).toBe(0);
    const document = JSON.parse(result.stdout) as { functions: Array<Record<string, unknown>> };
    expect(document.functions[0]?.iamPolicy).toEqual({
      roleName: 'orders-role',
      roleArn: ROLE_ARN,
      document: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'LokiLambdaReadLokiCredentials',
            Effect: 'Allow',
            Action: 'ssm:GetParameter',
            Resource: `arn:aws:ssm:${REGION}:123456789012:parameter/loki/token`,
          },
        ],
      },
    });
    expect(updateCalls()).toEqual([]);
  });

  it('asks IAM before applying with --check-permissions, and says when the role may not read it', async () => {
    iam.on(SimulatePrincipalPolicyCommand).resolves({
      EvaluationResults: [{ EvalActionName: 'secretsmanager:GetSecretValue', EvalDecision: 'implicitDeny' }],
    });

    const result = await attach([
      '--bearer-token-secret-arn',
      SECRET_ARN,
      '--check-permissions',
      '--dry-run',
    ]);

    expect(result.code).toBe(0);
    expect(iam.commandCalls(SimulatePrincipalPolicyCommand).map((call) => call.args[0].input)).toEqual([
      {
        PolicySourceArn: ROLE_ARN,
        ActionNames: ['secretsmanager:GetSecretValue'],
        ResourceArns: [SECRET_ARN],
      },
    ]);
    expect(result.stdout).toContain(
      `orders: IAM says orders-role may NOT secretsmanager:GetSecretValue on ${SECRET_ARN} (implicitDeny)`,
    );
  });

  it('says so when IAM allows it, and when it cannot ask', async () => {
    iam.on(SimulatePrincipalPolicyCommand).resolvesOnce({
      EvaluationResults: [{ EvalActionName: 'secretsmanager:GetSecretValue', EvalDecision: 'allowed' }],
    });
    const allowed = await attach([
      '--bearer-token-secret-arn',
      SECRET_ARN,
      '--check-permissions',
      '--dry-run',
    ]);
    iam.on(SimulatePrincipalPolicyCommand).rejects(
      Object.assign(new Error('not authorized to perform: iam:SimulatePrincipalPolicy'), {
        name: 'AccessDenied',
      }),
    );
    const unknown = await attach([
      '--bearer-token-secret-arn',
      SECRET_ARN,
      '--check-permissions',
      '--dry-run',
    ]);

    expect(allowed.stdout).toContain(
      `orders: IAM says orders-role may secretsmanager:GetSecretValue on ${SECRET_ARN}`,
    );
    expect(unknown.stdout).toContain('could not ask IAM whether orders-role may');
    expect(unknown.stdout).toContain('iam:SimulatePrincipalPolicy is needed for --check-permissions');
  });

  it('switches a password reference in and the bearer token out', async () => {
    const result = await attach([
      '--username',
      'loki-user',
      '--password-ssm-name',
      '/loki/password',
      '--yes',
    ]);

    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(updateCalls()[0]?.Environment?.Variables).toEqual({
      APP_MODE: 'prod',
      ...LOKI_ENV,
      LOKI_USERNAME: 'loki-user',
      LOKI_PASSWORD_SSM_NAME: '/loki/password',
    });
  });

  it('refuses two sources of one secret given at once, naming both', async () => {
    const result = await runCli(
      [
        'attach',
        'orders',
        '--region',
        REGION,
        '--layer-arn',
        NEW_LAYER,
        ...LOKI_FLAGS,
        '--bearer-token-secret-arn',
        SECRET_ARN,
        '--bearer-token-ssm-name',
        '/loki/token',
        '--dry-run',
      ],
      {},
    );

    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toContain(
      'set only one of LOKI_BEARER_TOKEN_SECRET_ARN, LOKI_BEARER_TOKEN_SSM_NAME',
    );
  });
});
