import { describe, expect, it } from 'vitest';
import { envSizeBytes, type LayerTarget, MAX_ENV_BYTES, planAttach } from '../../src/aws/attach-plan.js';
import type { FunctionSnapshot } from '../../src/aws/functions.js';
import type { GivenSettings } from '../../src/aws/loki-env.js';

const LAYER: LayerTarget = {
  arn: 'arn:aws:lambda:eu-west-1:123456789012:layer:loki-lambda-slim-x86_64:1',
  name: 'loki-lambda-slim-x86_64',
  flavor: 'slim',
  compatibleArchitectures: undefined,
  compatibleRuntimes: undefined,
};

const NOT_OURS = () => false;
const REQUIRED = {
  LOKI_ENDPOINT_URL: 'https://loki.example.com',
  LOKI_APPLICATION_LABEL: 'shop',
  LOKI_ENV_LABEL: 'prod',
};

/** Settings given with flags, on top of the required ones already on the function. */
function given(env: Record<string, string>): GivenSettings {
  return { env, origins: Object.fromEntries(Object.keys(env).map((name) => [name, 'flag' as const])) };
}

function snapshot(env: Record<string, string>): FunctionSnapshot {
  return {
    name: 'fn',
    arn: 'arn:aws:lambda:eu-west-1:123456789012:function:fn',
    runtime: 'nodejs22.x',
    architecture: 'x86_64',
    packageType: 'Zip',
    layers: [],
    env: { ...REQUIRED, ...env },
    revisionId: 'r1',
    lastUpdateStatus: 'Successful',
  };
}

/** Variables whose compact JSON, with LOKI_A=b added, is exactly `bytes` long. */
function envOfSize(bytes: number): Record<string, string> {
  const withLoki = (fill: number) => ({ X: 'x'.repeat(fill), LOKI_A: 'b' });
  const fill = bytes - envSizeBytes({ ...REQUIRED, ...withLoki(0) });
  return { X: 'x'.repeat(fill) };
}

describe('the attach plan', () => {
  it('counts the environment as Lambda does: the compact JSON of the variables, in UTF-8 bytes', () => {
    expect(envSizeBytes({ A: 'b' })).toBe('{"A":"b"}'.length);
    expect(envSizeBytes({ A: 'é' })).toBe('{"A":"é"}'.length + 1);
  });

  it('accepts exactly 4096 bytes of variables and refuses 4097', () => {
    const atLimit = planAttach(snapshot(envOfSize(MAX_ENV_BYTES)), LAYER, NOT_OURS, given({ LOKI_A: 'b' }));
    const over = planAttach(snapshot(envOfSize(MAX_ENV_BYTES + 1)), LAYER, NOT_OURS, given({ LOKI_A: 'b' }));

    expect(atLimit.status).toBe('change');
    expect(over.status).toBe('refused');
    expect(over.refusals).toEqual([{ kind: 'env-too-large', bytes: MAX_ENV_BYTES + 1 }]);
  });

  it('sets only LOKI_* variables, whatever else it is given', () => {
    const plan = planAttach(snapshot({ KEEP: '1' }), LAYER, NOT_OURS, given({ LOKI_A: 'b', PATH: '/tmp' }));

    expect(plan.update?.env).toEqual({ ...REQUIRED, KEEP: '1', LOKI_A: 'b' });
  });
});
