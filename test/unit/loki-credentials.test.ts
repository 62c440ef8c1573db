import { describe, expect, it } from 'vitest';
import type { LokiAuth } from '../../extension/config.js';
import {
  LASTING_FAILURE_RETRY_MS,
  pushWithCredentials,
  SecretCredentials,
} from '../../extension/loki-credentials.js';
import type { PushOutcome } from '../../extension/loki-push.js';
import type { SecretReadResult } from '../../extension/secret-reader.js';
import type { SecretRef } from '../../extension/secret-refs.js';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:loki/token-AbCdEf';
const REF: SecretRef = {
  store: 'secretsmanager',
  variable: 'LOKI_BEARER_TOKEN_SECRET_ARN',
  id: ARN,
  jsonKey: undefined,
  region: 'eu-west-1',
};

/** A reader answering from a script, one answer per read; the clock is a variable. */
function setup(answers: SecretReadResult[], username?: string) {
  let clock = 1_000;
  const lines: string[] = [];
  const secrets: LokiAuth[] = [];
  let reads = 0;
  const credentials = new SecretCredentials({
    credential: { ref: REF, username },
    loadReader: async () => async () => {
      reads++;
      return answers.shift() ?? { ok: false, kind: 'other', detail: 'no scripted answer' };
    },
    onSecret: (auth) => secrets.push(auth),
    log: {
      info: (m) => lines.push(m),
      warn: (m) => lines.push(m),
      debug: () => {},
      redact: (text) => text,
    },
    now: () => clock,
  });
  return {
    credentials,
    lines,
    secrets,
    reads: () => reads,
    advance: (ms: number) => {
      clock += ms;
    },
    deadline: () => clock + 1_500,
  };
}

const ok = (secretString: string): SecretReadResult => ({ ok: true, secretString });

describe('SecretCredentials', () => {
  it('gives the first push the token read at start, and hands it to the masking first', async () => {
    const t = setup([ok('glc_one')]);
    t.credentials.start();

    expect(await t.credentials.current(t.deadline())).toEqual({ kind: 'bearer', token: 'glc_one' });
    expect(t.secrets).toEqual([{ kind: 'bearer', token: 'glc_one' }]);
    expect(t.reads()).toBe(1);
  });

  it('builds basic auth from the username and a password read', async () => {
    const t = setup([ok('pw')], 'loki-user');
    t.credentials.start();

    expect(await t.credentials.current(t.deadline())).toEqual({
      kind: 'basic',
      username: 'loki-user',
      password: 'pw',
    });
  });

  it('keeps a transient failure at start quiet and lets the first push read again', async () => {
    const t = setup([{ ok: false, kind: 'timeout', detail: 'no answer within 3000 ms' }, ok('glc_two')]);
    t.credentials.start();
    await Promise.resolve();

    expect(await t.credentials.current(t.deadline())).toEqual({ kind: 'bearer', token: 'glc_two' });
    expect(t.lines).toEqual([]);
  });

  it('says once when the role may not read the secret, and tries again only after 5 minutes', async () => {
    const denied: SecretReadResult = {
      ok: false,
      kind: 'access-denied',
      detail: 'AccessDeniedException: no',
    };
    const t = setup([denied, denied, ok('glc_fixed')]);
    t.credentials.start();

    expect(await t.credentials.current(t.deadline())).toBeUndefined();
    t.advance(60_000);
    expect(await t.credentials.current(t.deadline())).toBeUndefined();
    expect(t.reads()).toBe(1);
    t.advance(LASTING_FAILURE_RETRY_MS);
    expect(await t.credentials.current(t.deadline())).toBeUndefined();
    expect(t.reads()).toBe(2);
    t.advance(LASTING_FAILURE_RETRY_MS);
    expect(await t.credentials.current(t.deadline())).toEqual({ kind: 'bearer', token: 'glc_fixed' });

    expect(t.lines).toEqual([
      `cannot read the Loki bearer token from LOKI_BEARER_TOKEN_SECRET_ARN (${ARN}): access denied (AccessDeniedException: no): the function's role needs secretsmanager:GetSecretValue on ${ARN} (and kms:Decrypt on its KMS key if that is a customer-managed key); logs are NOT shipped to Loki until it can be read (it is tried again every 5 minutes) (the function runs normally)`,
      'read the Loki bearer token from LOKI_BEARER_TOKEN_SECRET_ARN; shipping resumes',
    ]);
  });

  it('re-reads once after a refusal and returns the rotated token; not again until Loki accepts', async () => {
    const t = setup([ok('glc_old'), ok('glc_new'), ok('glc_newer')]);
    t.credentials.start();
    await t.credentials.current(t.deadline());

    expect(await t.credentials.refreshAfterRefusal(t.deadline())).toEqual({
      kind: 'bearer',
      token: 'glc_new',
    });
    expect(await t.credentials.refreshAfterRefusal(t.deadline())).toBeUndefined();
    expect(t.reads()).toBe(2);
    t.credentials.accepted();
    expect(await t.credentials.refreshAfterRefusal(t.deadline())).toEqual({
      kind: 'bearer',
      token: 'glc_newer',
    });
  });

  it('returns nothing new after a refusal when the secret did not change', async () => {
    const t = setup([ok('glc_same'), ok('glc_same')]);
    t.credentials.start();
    await t.credentials.current(t.deadline());

    expect(await t.credentials.refreshAfterRefusal(t.deadline())).toBeUndefined();
    expect(await t.credentials.current(t.deadline())).toEqual({ kind: 'bearer', token: 'glc_same' });
  });
});

describe('pushWithCredentials', () => {
  it('pushes again with the re-read token after a 401, once', async () => {
    const t = setup([ok('glc_old'), ok('glc_new')]);
    t.credentials.start();
    const sent: LokiAuth[] = [];
    const push = async (auth: LokiAuth): Promise<PushOutcome> => {
      sent.push(auth);
      return auth.kind === 'bearer' && auth.token === 'glc_new'
        ? { kind: 'accepted' }
        : { kind: 'rejected', status: 401, reason: 'unauthorized' };
    };

    const outcome = await pushWithCredentials(t.credentials, t.deadline(), push);

    expect(outcome).toEqual({ kind: 'accepted' });
    expect(sent.map((auth) => (auth.kind === 'bearer' ? auth.token : ''))).toEqual(['glc_old', 'glc_new']);
  });

  it('passes a refusal on when the re-read changes nothing', async () => {
    const t = setup([ok('glc_old'), ok('glc_old')]);
    t.credentials.start();
    const push = async (): Promise<PushOutcome> => ({ kind: 'rejected', status: 403, reason: 'forbidden' });

    expect(await pushWithCredentials(t.credentials, t.deadline(), push)).toEqual({
      kind: 'rejected',
      status: 403,
      reason: 'forbidden',
    });
    expect(t.reads()).toBe(2);
  });
});
