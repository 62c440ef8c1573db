import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { describeConfigProblems, parseConfig } from '../../extension/config.js';
import { createLogger } from '../../extension/logger.js';
import { pushWithRetry } from '../../extension/loki-push.js';
import { createRedactor, MASK, redactPatterns, redactUrl } from '../../extension/redact.js';
import { redactingStream, withoutOptionValues } from '../../src/redacting-io.js';

const TOKEN = 'glc_eyJrIjoiOTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTkiLCJuIjoic2VjcmV0In0=';
const PASSWORD = 'S3cret-Pa55word!';
const BASIC = Buffer.from(`alice:${PASSWORD}`).toString('base64');

/** True when `text` holds `secret` or any 8+ character start of it. */
function leaks(text: string, secret: string): boolean {
  for (let chars = secret.length; chars >= 8; chars--) if (text.includes(secret.slice(0, chars))) return true;
  return false;
}

function redactor() {
  const r = createRedactor([TOKEN]);
  r.addBasicAuth('alice', PASSWORD);
  return r;
}

describe('redaction', () => {
  it.each([
    ['the whole token', `refused: got "Bearer ${TOKEN}"`],
    ['a token cut at the end', `refused: got "Bearer ${TOKEN.slice(0, 77)}`],
    ['a token cut and marked', `Bearer ${TOKEN.slice(0, 20)}… (truncated)`],
    ['the basic header', `Authorization: Basic ${BASIC}`],
    ['a basic header cut at the end', `Authorization: Basic ${BASIC.slice(0, 12)}`],
    ['the password URL-encoded', `?password=${encodeURIComponent(PASSWORD)}`],
    ['the password in JSON', JSON.stringify({ error: `bad password ${PASSWORD}` })],
    ['the password twice', `${PASSWORD} and ${PASSWORD}`],
  ])('masks %s, even a cut start of it', (_name, text) => {
    const masked = redactor().redact(text);

    expect(masked).toContain(MASK);
    for (const secret of [TOKEN, PASSWORD, BASIC]) expect(leaks(masked, secret), masked).toBe(false);
  });

  it('masks a start of a secret of only a few characters when the text ends there (cut by a read limit)', () => {
    expect(redactor().maskSecrets('got Bearer glc_e')).toBe(`got Bearer ${MASK}`);
  });

  it('leaves text without secrets as it is', () => {
    const text = 'Loki rejected a push of 3 entries (HTTP 400): entry too far behind';
    expect(redactor().redact(text)).toBe(text);
  });

  it.each([
    [
      'userinfo',
      'cannot reach http://bob:S3CRETpass@loki.example.com/x',
      `http://${MASK}@loki.example.com/x`,
    ],
    [
      'query values',
      'https://loki.example.com/loki/api/v1/push?api_key=abcdef123456&x=1',
      `?api_key=${MASK}&x=${MASK}`,
    ],
    ['userinfo without a scheme', 'got bob:S3CRETpass@loki.example.com', `${MASK}@loki.example.com`],
    ['userinfo in parentheses', '(htps//bob:S3CRETpass@loki.example.com)', `${MASK}@loki.example.com)`],
    [
      'NAME=value of secret-looking names',
      'DB_PASSWORD=hunter2hunter2 MODE=prod',
      `DB_PASSWORD=${MASK} MODE=prod`,
    ],
    [
      'JSON values of secret-looking names',
      'String measured: {"DB_PASSWORD":"hunter2hunter2","MODE":"prod"}',
      `{"DB_PASSWORD":"${MASK}","MODE":"prod"}`,
    ],
    [
      'JSON inside a JSON string',
      JSON.stringify('{"API_KEY":"hunter2hunter2"}'),
      `\\"API_KEY\\":\\"${MASK}\\"`,
    ],
  ])('redacts %s in any text', (_name, text, expected) => {
    const redacted = redactPatterns(text);
    expect(redacted).toContain(expected);
    expect(redacted).not.toMatch(/S3CRETpass|hunter2|abcdef123456/);
  });

  it('shows a URL without its userinfo, query values or fragment, and never a malformed one', () => {
    expect(redactUrl('https://bob:pw@loki.example.com/push?api_key=k#frag')).toBe(
      `https://${MASK}@loki.example.com/push?api_key=${MASK}`,
    );
    expect(redactUrl('https://loki.example.com')).toBe('https://loki.example.com');
    expect(redactUrl('htps//bob:S3CRETpass@loki')).not.toContain('S3CRET');
  });

  it('masks the values of secret variables of an environment, and long values of secret-looking names', () => {
    const r = createRedactor();
    r.addEnvironment(
      { LOKI_BEARER_TOKEN: 'tok1', DB_PASSWORD: 'hunter2hunter2', FEATURE_AUTH: 'true', MODE: 'production' },
      ['LOKI_BEARER_TOKEN'],
    );

    expect(r.maskSecrets('tok1 hunter2hunter2 true production')).toBe(`${MASK} ${MASK} true production`);
  });

  it("shows the shell's working directory (PWD, OLDPWD) in paths, and still masks a *_PWD password", () => {
    const r = createRedactor();
    r.addEnvironment({ PWD: '/home/user/project', OLDPWD: '/home/user', DB_PWD: 'hunter2hunter2' }, []);

    expect(
      r.redact('"path": "/home/user/project/dist/layers/loki-lambda-slim-x86_64.zip" hunter2hunter2'),
    ).toBe(`"path": "/home/user/project/dist/layers/loki-lambda-slim-x86_64.zip" ${MASK}`);
    expect(r.redact('PWD=/home/user/project DB_PWD=hunter2hunter2')).toBe(
      `PWD=/home/user/project DB_PWD=${MASK}`,
    );
  });

  it('shows references to secrets (an ARN, an SSM parameter name): they are where the secret is, not the secret', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:loki/token-AbCdEf';
    const r = createRedactor();
    r.addEnvironment({ LOKI_BEARER_TOKEN_SECRET_ARN: arn, LOKI_PASSWORD_SSM_NAME: '/loki/password' }, []);

    expect(r.redact(`LOKI_BEARER_TOKEN_SECRET_ARN=${arn} LOKI_PASSWORD_SSM_NAME=/loki/password`)).toBe(
      `LOKI_BEARER_TOKEN_SECRET_ARN=${arn} LOKI_PASSWORD_SSM_NAME=/loki/password`,
    );
    expect(r.redact(JSON.stringify({ LOKI_BEARER_TOKEN_SECRET_ARN: arn, LOKI_BEARER_TOKEN: 'x' }))).toBe(
      JSON.stringify({ LOKI_BEARER_TOKEN_SECRET_ARN: arn, LOKI_BEARER_TOKEN: MASK }),
    );
  });
});

describe("the extension's log lines", () => {
  it('mask a secret before a refused push is cut to one short line', async () => {
    const lines: string[] = [];
    const log = createLogger((line) => lines.push(line), false, redactor());
    const echoed = `${'x'.repeat(250)} got "Bearer ${TOKEN}"`;

    const outcome = await pushWithRetry(
      {
        post: async () => ({ status: 401, headers: {}, body: echoed }),
        now: () => 0,
        sleep: async () => {},
        random: () => 0,
        redact: log.redact,
      },
      'http://127.0.0.1:1/loki/api/v1/push',
      {},
      new Uint8Array(),
      1000,
    );
    log.warn(`Loki rejected a push: ${outcome.kind === 'rejected' ? outcome.reason : ''}`);

    expect(lines.join('')).toContain(MASK);
    expect(leaks(lines.join(''), TOKEN)).toBe(false);
  });
});

describe("the extension's configuration error line", () => {
  it('never echoes a malformed LOKI_ENDPOINT_URL, which may hold credentials', () => {
    const parsed = parseConfig({
      LOKI_ENDPOINT_URL: 'htps//bob:S3CRETpass@loki.example.com',
      LOKI_APPLICATION_LABEL: 'shop',
      LOKI_ENV_LABEL: 'prod',
    });

    expect(parsed.ok).toBe(false);
    const line = describeConfigProblems(parsed.ok ? [] : parsed.problems);
    expect(line).toContain('LOKI_ENDPOINT_URL must be an http:// or https:// URL');
    expect(line).not.toContain('S3CRET');
  });
});

describe("the CLI's redacting streams", () => {
  it('mask every write, keep the terminal properties, and survive a spinner that replaces write', () => {
    const written: string[] = [];
    const target = Object.assign(
      new Writable({
        write(chunk, _encoding, done) {
          written.push(String(chunk));
          done();
        },
      }),
      { isTTY: true, columns: 80 },
    );
    const stream = redactingStream(target, createRedactor([TOKEN]));
    const original = stream.write;
    // What a spinner does: hook write, call the previous one.
    stream.write = ((chunk: string) => original(`[hooked] ${chunk}`)) as typeof stream.write;

    stream.write(`token ${TOKEN}\n`);

    expect(stream.isTTY).toBe(true);
    expect(stream.columns).toBe(80);
    expect(written).toEqual([`[hooked] token ${MASK}\n`]);
  });

  it("drop a mistyped option's value from commander's error", () => {
    expect(withoutOptionValues(`error: unknown option '--bearer-tokn=${TOKEN}'`)).toBe(
      "error: unknown option '--bearer-tokn'",
    );
  });
});
