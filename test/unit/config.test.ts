import { describe, expect, it } from 'vitest';
import {
  bufferLimitsFor,
  describeConfigAdjustments,
  describeConfigProblems,
  functionMemoryMbFrom,
  parseConfig,
} from '../../extension/config.js';

const minimal = {
  LOKI_ENDPOINT_URL: 'https://loki.example.com',
  LOKI_APPLICATION_LABEL: 'shop',
  LOKI_ENV_LABEL: 'prod',
};

function problemsOf(env: Record<string, string>): readonly string[] {
  const result = parseConfig(env);
  return result.ok ? [] : result.problems;
}

describe('parseConfig', () => {
  it('applies the documented defaults to a minimal configuration', () => {
    const result = parseConfig(minimal);

    expect(result).toEqual({
      ok: true,
      config: {
        pushUrl: 'https://loki.example.com/loki/api/v1/push',
        application: 'shop',
        environment: 'prod',
        auth: { kind: 'none' },
        tenantId: undefined,
        extraLabels: [],
        flushStrategy: 'auto',
        flushIntervalMs: 10_000,
        bufferTimeoutMs: 200,
        logTypes: ['platform', 'function'],
        listenerPort: 1234,
        maxBufferBytes: 16 * 1024 * 1024,
        debug: false,
      },
      adjusted: [],
    });
  });

  it.each([
    ['https://loki.example.com', 'https://loki.example.com/loki/api/v1/push'],
    ['https://loki.example.com/', 'https://loki.example.com/loki/api/v1/push'],
    ['http://10.0.0.1:3100', 'http://10.0.0.1:3100/loki/api/v1/push'],
    ['https://gw.example.com/tenant-a/loki/api/v1/push', 'https://gw.example.com/tenant-a/loki/api/v1/push'],
  ])('turns LOKI_ENDPOINT_URL %s into the push URL %s', (endpoint, pushUrl) => {
    const result = parseConfig({ ...minimal, LOKI_ENDPOINT_URL: endpoint });

    expect(result.ok && result.config.pushUrl).toBe(pushUrl);
  });

  it('reads every optional variable', () => {
    const result = parseConfig({
      ...minimal,
      LOKI_BEARER_TOKEN: 'tok',
      LOKI_TENANT_ID: 'team-a',
      LOKI_EXTRA_LABELS: 'team,payments, region , eu',
      LOKI_FLUSH_STRATEGY: 'PERIODIC',
      LOKI_FLUSH_INTERVAL_MS: '5000',
      LOKI_BUFFER_TIMEOUT_MS: '25',
      LOKI_LOG_TYPES: 'function, extension',
      LOKI_LISTENER_PORT: '0',
      LOKI_MAX_BUFFER_BYTES: '1048576',
      LOKI_DEBUG: 'true',
    });

    expect(result.ok && result.config).toMatchObject({
      auth: { kind: 'bearer', token: 'tok' },
      tenantId: 'team-a',
      extraLabels: [
        ['team', 'payments'],
        ['region', 'eu'],
      ],
      flushStrategy: 'periodic',
      flushIntervalMs: 5000,
      bufferTimeoutMs: 25,
      logTypes: ['function', 'extension'],
      listenerPort: 0,
      maxBufferBytes: 1048576,
      debug: true,
    });
  });

  it('reads basic auth', () => {
    const result = parseConfig({ ...minimal, LOKI_USERNAME: 'u', LOKI_PASSWORD: 'p' });

    expect(result.ok && result.config.auth).toEqual({ kind: 'basic', username: 'u', password: 'p' });
  });

  it.each([
    ['a missing endpoint', { LOKI_ENDPOINT_URL: '' }, 'LOKI_ENDPOINT_URL is required'],
    ['a bad URL', { LOKI_ENDPOINT_URL: 'not a url' }, 'LOKI_ENDPOINT_URL must be an http:// or https:// URL'],
    ['another scheme', { LOKI_ENDPOINT_URL: 'ftp://x' }, 'LOKI_ENDPOINT_URL must use http:// or https://'],
    ['credentials in the URL', { LOKI_ENDPOINT_URL: 'https://u:p@x' }, 'must not contain credentials'],
    ['a missing application', { LOKI_APPLICATION_LABEL: ' ' }, 'LOKI_APPLICATION_LABEL is required'],
    ['a missing environment', { LOKI_ENV_LABEL: '' }, 'LOKI_ENV_LABEL is required'],
    ['a username without password', { LOKI_USERNAME: 'u' }, 'must be set together'],
    ['token and basic auth', { LOKI_BEARER_TOKEN: 't', LOKI_USERNAME: 'u', LOKI_PASSWORD: 'p' }, 'not both'],
    ['a bad label name', { LOKI_EXTRA_LABELS: '1team,x' }, 'label name "1team" must match'],
    ['a dashed label name', { LOKI_EXTRA_LABELS: 'my-team,x' }, 'label name "my-team" must match'],
    ['an odd label list', { LOKI_EXTRA_LABELS: 'team,x,region' }, 'odd number of items'],
    ['a reserved label', { LOKI_EXTRA_LABELS: 'source,x' }, 'label "source" is set twice or is one of'],
    ['an empty label value', { LOKI_EXTRA_LABELS: 'team,' }, 'label "team" has an empty value'],
    [
      'a buffer timeout too low',
      { LOKI_BUFFER_TIMEOUT_MS: '24' },
      'LOKI_BUFFER_TIMEOUT_MS must be a whole number from 25 to 30000',
    ],
    ['a buffer timeout too high', { LOKI_BUFFER_TIMEOUT_MS: '30001' }, 'from 25 to 30000, got "30001"'],
    [
      'a non-numeric interval',
      { LOKI_FLUSH_INTERVAL_MS: '10s' },
      'LOKI_FLUSH_INTERVAL_MS must be a whole number',
    ],
    [
      'a port out of range',
      { LOKI_LISTENER_PORT: '70000' },
      'LOKI_LISTENER_PORT must be a whole number from 0 to 65535',
    ],
    [
      'an unknown strategy',
      { LOKI_FLUSH_STRATEGY: 'sometimes' },
      'LOKI_FLUSH_STRATEGY must be one of auto, end, periodic',
    ],
    [
      'an unknown log type',
      { LOKI_LOG_TYPES: 'function,metrics' },
      'LOKI_LOG_TYPES must be a comma-separated list',
    ],
    ['a bad tenant id', { LOKI_TENANT_ID: 'a b' }, 'LOKI_TENANT_ID must be 1 to 150 characters'],
    [
      'a token ending in a zero-width space',
      { LOKI_BEARER_TOKEN: 'glc_abc123\u200b' },
      'LOKI_BEARER_TOKEN contains a character that cannot be sent in an HTTP header',
    ],
    [
      'a token with a space inside',
      { LOKI_BEARER_TOKEN: 'glc_abc 123' },
      'LOKI_BEARER_TOKEN contains a character that cannot be sent in an HTTP header',
    ],
    [
      'a label value within 2,048 characters but over 2,048 bytes',
      { LOKI_APPLICATION_LABEL: '\u00e9'.repeat(1500) },
      'LOKI_APPLICATION_LABEL must be at most 2048 bytes in UTF-8',
    ],
    [
      'an extra label value over 2,048 bytes',
      { LOKI_EXTRA_LABELS: `team,${'\u00e9'.repeat(1025)}` },
      'the value of "team" must be at most 2048 bytes in UTF-8',
    ],
    ['a bad debug flag', { LOKI_DEBUG: 'maybe' }, 'LOKI_DEBUG must be true or false'],
  ])('rejects %s with a message naming the variable', (_case, override, message) => {
    expect(problemsOf({ ...minimal, ...override }).join('\n')).toContain(message);
  });

  it('names every problem at once', () => {
    const problems = problemsOf({ LOKI_BUFFER_TIMEOUT_MS: '1', LOKI_EXTRA_LABELS: 'a-b,c' });

    expect(problems).toHaveLength(5);
    expect(describeConfigProblems(problems)).toMatch(
      /^loki-lambda: configuration error.*LOKI_ENDPOINT_URL.*LOKI_APPLICATION_LABEL.*LOKI_ENV_LABEL.*LOKI_BUFFER_TIMEOUT_MS.*LOKI_EXTRA_LABELS/,
    );
  });

  it('allows at most 11 extra labels, since Loki takes 15 per stream', () => {
    const twelve = Array.from({ length: 12 }, (_, i) => `l${i},v`).join(',');

    expect(problemsOf({ ...minimal, LOKI_EXTRA_LABELS: twelve }).join()).toContain('at most 11 labels');
  });

  it('never puts a secret in its problems', () => {
    const problems = problemsOf({
      LOKI_BEARER_TOKEN: 's3cr3t-token',
      LOKI_USERNAME: 'u',
      LOKI_PASSWORD: 'pa55word',
    });

    expect(problems.join('\n')).not.toMatch(/s3cr3t-token|pa55word/);
  });

  it('freezes the parsed configuration', () => {
    const result = parseConfig(minimal);

    expect(result.ok && Object.isFrozen(result.config)).toBe(true);
  });
});

const MiB = 1024 * 1024;

describe('the buffer bound follows the function’s memory', () => {
  it.each([
    [128, 8 * MiB, 16 * MiB],
    [256, 16 * MiB, 32 * MiB],
    [1769, 16 * MiB, Math.floor((1769 * MiB) / 8)],
    [10_240, 16 * MiB, 1024 * MiB],
    [undefined, 16 * MiB, 1024 * MiB],
  ])('a function of %s MB gets a default of %i bytes and at most %i', (memoryMb, defaultBytes, maxBytes) => {
    expect(bufferLimitsFor(memoryMb)).toEqual({ defaultBytes, maxBytes });

    const result = parseConfig(minimal, { functionMemoryMb: memoryMb });

    expect(result.ok && result.config.maxBufferBytes).toBe(defaultBytes);
  });

  it('keeps a bound the function can hold', () => {
    const result = parseConfig(
      { ...minimal, LOKI_MAX_BUFFER_BYTES: String(16 * MiB) },
      { functionMemoryMb: 128 },
    );

    expect(result).toMatchObject({ ok: true, adjusted: [], config: { maxBufferBytes: 16 * MiB } });
  });

  it('reports a bound too large for the function in one line and goes on with the safe default', () => {
    const result = parseConfig(
      { ...minimal, LOKI_MAX_BUFFER_BYTES: String(64 * MiB) },
      { functionMemoryMb: 128 },
    );

    expect(result.ok && result.config.maxBufferBytes).toBe(8 * MiB);
    expect(result.ok && describeConfigAdjustments(result.adjusted)).toBe(
      'loki-lambda: configuration problem, logs are shipped with a safe value instead: LOKI_MAX_BUFFER_BYTES=67108864 is too large for a function of 128 MB (at most 16777216, an 8th of its memory); using 8388608',
    );
  });

  it('names a bound too large for the function among the other problems', () => {
    const result = parseConfig({ LOKI_MAX_BUFFER_BYTES: String(64 * MiB) }, { functionMemoryMb: 128 });

    expect(result.ok ? [] : result.problems.join('; ')).toMatch(
      /LOKI_ENDPOINT_URL is required.*LOKI_MAX_BUFFER_BYTES=67108864 is too large for a function of 128 MB/,
    );
  });

  it.each([
    ['128', 128],
    [' 1769 ', 1769],
    [undefined, undefined],
    ['', undefined],
    ['0', undefined],
    ['lots', undefined],
  ])('reads AWS_LAMBDA_FUNCTION_MEMORY_SIZE %j as %j MB', (raw, mb) => {
    expect(functionMemoryMbFrom(raw)).toBe(mb);
  });
});
