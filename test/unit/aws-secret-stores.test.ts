import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeSecretStores, startFakeSecretStores } from '../support/aws-secret-stores.js';

const REGION = 'eu-west-1';
const CREDENTIALS = {
  accessKeyId: 'ASIAFUNCTIONROLE0001',
  secretAccessKey: 'function-role-secret-key/0001',
  sessionToken: 'IQoJb3JpZ2luX2VjEFunctionSession',
};

let stores: FakeSecretStores;
beforeAll(async () => {
  stores = await startFakeSecretStores({ credentials: CREDENTIALS, region: REGION });
});
afterAll(() => stores.close());

const secretsManager = (overrides: Partial<typeof CREDENTIALS> = {}, region = REGION) =>
  new SecretsManagerClient({
    region,
    endpoint: stores.url,
    credentials: { ...CREDENTIALS, ...overrides },
    maxAttempts: 1,
  });
const ssm = (overrides: Partial<typeof CREDENTIALS> = {}) =>
  new SSMClient({
    region: REGION,
    endpoint: stores.url,
    credentials: { ...CREDENTIALS, ...overrides },
    maxAttempts: 1,
  });

describe('the fake Secrets Manager and Parameter Store', () => {
  it('returns a secret to a request signed with the function’s credentials and region', async () => {
    const arn = stores.putSecret('loki/token', 'glc_token_1');

    const answer = await secretsManager().send(new GetSecretValueCommand({ SecretId: arn }));

    expect(answer.SecretString).toBe('glc_token_1');
    expect(stores.requests.at(-1)).toMatchObject({ service: 'secretsmanager', id: arn, signature: 'valid' });
  });

  it('finds a secret by name and by partial ARN too', async () => {
    const arn = stores.putSecret('loki/by-name', 'v');

    for (const id of ['loki/by-name', arn.slice(0, -7)]) {
      const answer = await secretsManager().send(new GetSecretValueCommand({ SecretId: id }));
      expect(answer.ARN).toBe(arn);
    }
  });

  it('refuses a request signed with another secret key (the signature does not match)', async () => {
    const arn = stores.putSecret('loki/wrong-key', 'v');

    await expect(
      secretsManager({ secretAccessKey: 'someone-else' }).send(new GetSecretValueCommand({ SecretId: arn })),
    ).rejects.toMatchObject({ name: 'InvalidSignatureException' });
    expect(stores.requests.at(-1)?.signature).toMatch(/does not match/);
  });

  it('refuses a request signed for another region, another key id or without the session token', async () => {
    const arn = stores.putSecret('loki/wrong-scope', 'v');

    await expect(
      secretsManager({}, 'us-east-1').send(new GetSecretValueCommand({ SecretId: arn })),
    ).rejects.toMatchObject({ name: 'InvalidSignatureException' });
    await expect(
      secretsManager({ accessKeyId: 'AKIASOMEONEELSE00001' }).send(
        new GetSecretValueCommand({ SecretId: arn }),
      ),
    ).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    await expect(
      new SecretsManagerClient({
        region: REGION,
        endpoint: stores.url,
        credentials: { accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: CREDENTIALS.secretAccessKey },
        maxAttempts: 1,
      }).send(new GetSecretValueCommand({ SecretId: arn })),
    ).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
  });

  it('decrypts a SecureString only when asked to', async () => {
    stores.putParameter('/loki/password', 'p4ssw0rd');

    const decrypted = await ssm().send(
      new GetParameterCommand({ Name: '/loki/password', WithDecryption: true }),
    );
    const encrypted = await ssm().send(new GetParameterCommand({ Name: '/loki/password' }));

    expect(decrypted.Parameter?.Value).toBe('p4ssw0rd');
    expect(encrypted.Parameter?.Value).not.toBe('p4ssw0rd');
    expect(stores.requests.at(-1)).toMatchObject({
      service: 'ssm',
      signature: 'valid',
      withDecryption: undefined,
    });
  });

  it('answers access denied, not found, KMS errors and throttling as AWS does', async () => {
    const arn = stores.putSecret('loki/faulty', 'v');
    stores.putParameter('/loki/faulty', 'v');

    stores.setFault(arn, { kind: 'access-denied' });
    await expect(secretsManager().send(new GetSecretValueCommand({ SecretId: arn }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('secretsmanager:GetSecretValue'),
    });
    stores.setFault(arn, { kind: 'kms' });
    await expect(secretsManager().send(new GetSecretValueCommand({ SecretId: arn }))).rejects.toMatchObject({
      name: 'DecryptionFailure',
    });
    stores.setFault(arn, { kind: 'throttling', times: 1 });
    await expect(secretsManager().send(new GetSecretValueCommand({ SecretId: arn }))).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
    await expect(secretsManager().send(new GetSecretValueCommand({ SecretId: arn }))).resolves.toMatchObject({
      SecretString: 'v',
    });
    await expect(
      secretsManager().send(new GetSecretValueCommand({ SecretId: 'loki/missing' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    stores.setFault('/loki/faulty', { kind: 'kms' });
    await expect(
      ssm().send(new GetParameterCommand({ Name: '/loki/faulty', WithDecryption: true })),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('kms:Decrypt'),
    });
    await expect(ssm().send(new GetParameterCommand({ Name: '/loki/none' }))).rejects.toMatchObject({
      name: 'ParameterNotFound',
    });
  });

  it('answers a slow request late', async () => {
    const arn = stores.putSecret('loki/slow', 'v');
    stores.setFault(arn, { kind: 'slow', ms: 100 });
    const startedAt = Date.now();

    await secretsManager().send(new GetSecretValueCommand({ SecretId: arn }));

    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(95);
    stores.setFault(arn, undefined);
  });
});
