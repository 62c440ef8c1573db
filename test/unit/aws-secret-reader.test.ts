import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsSecretReader } from '../../extension/aws-secret-reader.js';
import type { SecretRef } from '../../extension/secret-refs.js';
import { type FakeSecretStores, startFakeSecretStores } from '../support/aws-secret-stores.js';

const REGION = 'eu-west-1';
const CREDENTIALS = { accessKeyId: 'ASIAFUNCTIONROLE0007', secretAccessKey: 'function-role-secret/0007' };

let stores: FakeSecretStores;
const endpointVariable = 'AWS_ENDPOINT_URL_SECRETS_MANAGER';
let endpointBefore: string | undefined;
beforeAll(async () => {
  stores = await startFakeSecretStores({ credentials: CREDENTIALS, region: REGION });
  // The extension reaches the stores as Lambda's SDK would, through the endpoint variable.
  endpointBefore = process.env[endpointVariable];
  process.env[endpointVariable] = stores.url;
});
afterAll(async () => {
  if (endpointBefore === undefined) delete process.env[endpointVariable];
  else process.env[endpointVariable] = endpointBefore;
  await stores.close();
});

const refTo = (id: string): SecretRef => ({
  store: 'secretsmanager',
  variable: 'LOKI_BEARER_TOKEN_SECRET_ARN',
  id,
  jsonKey: undefined,
  region: undefined,
});

describe('the AWS secret reader with the test-only retry delay', () => {
  it('keeps the SDK’s three attempts: throttled twice, answered the third time', async () => {
    const arn = stores.putSecret('loki/throttled-twice', 'glc_value');
    stores.setFault(arn, { kind: 'throttling', times: 2 });
    const read = createAwsSecretReader({ region: REGION, credentials: CREDENTIALS, retryDelayMs: 1 });

    expect(await read(refTo(arn), 3_000)).toEqual({ ok: true, secretString: 'glc_value' });
    expect(stores.requests.filter((r) => r.id === arn).map((r) => r.status)).toEqual([400, 400, 200]);
  });

  it('gives up after the third attempt when the throttling lasts', async () => {
    const arn = stores.putSecret('loki/throttled', 'glc_value');
    stores.setFault(arn, { kind: 'throttling' });
    const read = createAwsSecretReader({ region: REGION, credentials: CREDENTIALS, retryDelayMs: 1 });

    expect(await read(refTo(arn), 3_000)).toMatchObject({ ok: false, kind: 'throttled' });
    expect(stores.requests.filter((r) => r.id === arn)).toHaveLength(3);
  });
});
