import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../extension/config.js';
import { describeRef, resourceArn, type SecretRef, secretValueOf } from '../../extension/secret-refs.js';

const minimal = {
  LOKI_ENDPOINT_URL: 'https://loki.example.com',
  LOKI_APPLICATION_LABEL: 'shop',
  LOKI_ENV_LABEL: 'prod',
};
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:loki/token-AbCdEf';

function problemsOf(env: Record<string, string>): readonly string[] {
  const result = parseConfig({ ...minimal, ...env });
  return result.ok ? [] : result.problems;
}

describe('Loki credentials kept in AWS, in the configuration', () => {
  it.each([
    [
      { LOKI_BEARER_TOKEN_SECRET_ARN: ARN },
      {
        ref: {
          store: 'secretsmanager',
          variable: 'LOKI_BEARER_TOKEN_SECRET_ARN',
          id: ARN,
          jsonKey: undefined,
          region: 'eu-west-1',
        },
        username: undefined,
      },
    ],
    [
      { LOKI_BEARER_TOKEN_SECRET_ARN: `${ARN}#token` },
      {
        ref: {
          store: 'secretsmanager',
          variable: 'LOKI_BEARER_TOKEN_SECRET_ARN',
          id: ARN,
          jsonKey: 'token',
          region: 'eu-west-1',
        },
        username: undefined,
      },
    ],
    [
      { LOKI_BEARER_TOKEN_SSM_NAME: '/loki/token' },
      {
        ref: {
          store: 'ssm',
          variable: 'LOKI_BEARER_TOKEN_SSM_NAME',
          id: '/loki/token',
          jsonKey: undefined,
          region: undefined,
        },
        username: undefined,
      },
    ],
    [
      { LOKI_USERNAME: 'u', LOKI_PASSWORD_SSM_NAME: 'arn:aws:ssm:us-east-2:123456789012:parameter/loki/pw' },
      {
        ref: {
          store: 'ssm',
          variable: 'LOKI_PASSWORD_SSM_NAME',
          id: 'arn:aws:ssm:us-east-2:123456789012:parameter/loki/pw',
          jsonKey: undefined,
          region: 'us-east-2',
        },
        username: 'u',
      },
    ],
    [
      { LOKI_USERNAME: 'u', LOKI_PASSWORD_SECRET_ARN: ARN },
      {
        ref: {
          store: 'secretsmanager',
          variable: 'LOKI_PASSWORD_SECRET_ARN',
          id: ARN,
          jsonKey: undefined,
          region: 'eu-west-1',
        },
        username: 'u',
      },
    ],
  ])('reads %j as a reference, with no credential in the environment', (env, expected) => {
    const result = parseConfig({ ...minimal, ...env });

    expect(result.ok && result.config.secretCredential).toEqual(expected);
    expect(result.ok && result.config.auth).toEqual({ kind: 'none' });
  });

  it.each([
    [
      { LOKI_BEARER_TOKEN: 't', LOKI_BEARER_TOKEN_SECRET_ARN: ARN },
      'set only one of LOKI_BEARER_TOKEN, LOKI_BEARER_TOKEN_SECRET_ARN (one source per secret)',
    ],
    [
      { LOKI_BEARER_TOKEN_SECRET_ARN: ARN, LOKI_BEARER_TOKEN_SSM_NAME: '/t' },
      'set only one of LOKI_BEARER_TOKEN_SECRET_ARN, LOKI_BEARER_TOKEN_SSM_NAME (one source per secret)',
    ],
    [
      { LOKI_USERNAME: 'u', LOKI_PASSWORD: 'p', LOKI_PASSWORD_SSM_NAME: '/p' },
      'set only one of LOKI_PASSWORD, LOKI_PASSWORD_SSM_NAME (one source per secret)',
    ],
    [
      { LOKI_PASSWORD_SECRET_ARN: ARN },
      'LOKI_USERNAME and LOKI_PASSWORD_SECRET_ARN must be set together (basic auth)',
    ],
    [
      { LOKI_USERNAME: 'u', LOKI_PASSWORD_SSM_NAME: '/p', LOKI_BEARER_TOKEN_SECRET_ARN: ARN },
      'set either LOKI_BEARER_TOKEN_SECRET_ARN or LOKI_USERNAME/LOKI_PASSWORD_SSM_NAME, not both',
    ],
  ])('reports conflicting sources %j', (env, problem) => {
    expect(problemsOf(env)).toEqual([problem]);
  });

  it.each([
    [
      { LOKI_BEARER_TOKEN_SECRET_ARN: 'loki/token' },
      'LOKI_BEARER_TOKEN_SECRET_ARN must be a Secrets Manager secret ARN',
    ],
    [
      { LOKI_BEARER_TOKEN_SECRET_ARN: 'arn:aws:ssm:eu-west-1:123456789012:parameter/x' },
      'LOKI_BEARER_TOKEN_SECRET_ARN must be a Secrets Manager secret ARN',
    ],
    [{ LOKI_BEARER_TOKEN_SECRET_ARN: `${ARN}#` }, 'the key after "#" is empty'],
    [
      { LOKI_BEARER_TOKEN_SSM_NAME: 'has spaces in it' },
      'LOKI_BEARER_TOKEN_SSM_NAME must be an SSM parameter name',
    ],
    [
      { LOKI_BEARER_TOKEN_SSM_NAME: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x' },
      'LOKI_BEARER_TOKEN_SSM_NAME must be an SSM parameter name',
    ],
  ])('refuses a malformed reference %j, naming the variable', (env, problem) => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
  });
});

describe('secretValueOf', () => {
  const whole: SecretRef = {
    store: 'secretsmanager',
    variable: 'V',
    id: ARN,
    jsonKey: undefined,
    region: undefined,
  };
  const keyed: SecretRef = { ...whole, jsonKey: 'token' };

  it('takes the whole secret string, trimmed', () => {
    expect(secretValueOf(whole, ' glc_abc\n')).toEqual({ ok: true, value: 'glc_abc' });
  });

  it('takes one key of a JSON secret', () => {
    expect(secretValueOf(keyed, '{"token":"glc_abc","url":"x"}')).toEqual({ ok: true, value: 'glc_abc' });
  });

  it.each([
    [whole, '  ', 'the secret is empty'],
    [keyed, 'glc_not_json_SECRET', 'the secret is not a JSON object, so it has no key "token"'],
    [keyed, '["glc_SECRET"]', 'the secret is not a JSON object, so it has no key "token"'],
    [keyed, '{"other":"glc_SECRET"}', 'the JSON secret has no key "token" (its keys: other)'],
    [keyed, '{"token":42}', 'the key "token" of the JSON secret is not a non-empty string'],
  ])('explains a secret it cannot use without quoting it', (ref, secretString, problem) => {
    const result = secretValueOf(ref, secretString);

    expect(result).toEqual({ ok: false, problem });
    expect(JSON.stringify(result)).not.toContain('SECRET');
  });
});

describe('resourceArn and describeRef', () => {
  const account = { partition: 'aws', region: 'eu-west-1', account: '123456789012' };

  it('names a parameter by its ARN, without the leading slash of its hierarchy', () => {
    const ref: SecretRef = {
      store: 'ssm',
      variable: 'V',
      id: '/loki/token',
      jsonKey: undefined,
      region: undefined,
    };
    expect(resourceArn(ref, account)).toBe('arn:aws:ssm:eu-west-1:123456789012:parameter/loki/token');
  });

  it('keeps an ARN as given, and shows the key of a JSON secret', () => {
    const ref: SecretRef = {
      store: 'secretsmanager',
      variable: 'V',
      id: ARN,
      jsonKey: 'k',
      region: undefined,
    };
    expect(resourceArn(ref, account)).toBe(ARN);
    expect(describeRef(ref)).toBe(`V (${ARN}#k)`);
  });
});
