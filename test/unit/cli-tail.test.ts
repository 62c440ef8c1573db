import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpGet } from '../../src/loki/http-get.js';
import { startLokiCli } from '../support/loki-tail-cli.js';

const EMPTY_ANSWER = JSON.stringify({ status: 'success', data: { resultType: 'streams', result: [] } });

/** Records each GET and answers with no lines. */
function recordingGet(): { get: HttpGet; requests: Array<{ url: URL; headers: Record<string, string> }> } {
  const requests: Array<{ url: URL; headers: Record<string, string> }> = [];
  return {
    requests,
    get: async (url, headers) => {
      requests.push({ url: new URL(url), headers: { ...headers } });
      return { status: 200, headers: {}, body: EMPTY_ANSWER };
    },
  };
}

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tail(args: readonly string[], env: Record<string, string> = {}, cwd?: string) {
  const http = recordingGet();
  const run = startLokiCli(['tail', ...args], {
    env,
    now: () => Date.UTC(2024, 4, 1, 10, 0, 0),
    loki: { httpGet: http.get },
    ...(cwd === undefined ? {} : { cwd }),
  });
  const code = await run.done;
  return { code, stdout: run.stdout.text, stderr: run.stderr.text, requests: http.requests };
}

describe('loki-lambda tail: options', () => {
  it.each([
    [['orders', '--since', 'yesterday'], '--since must be a duration like 10m or 2h; got yesterday'],
    [['orders', '--limit', '0'], '--limit must be a whole number from 1 to 5000; got 0'],
    [['orders', '--limit', '9000'], '--limit must be a whole number from 1 to 5000; got 9000'],
    [['orders', '-o', 'yaml'], '--output must be one of default, raw, jsonl; got yaml'],
    [['orders', '--source', 'extension'], '--source must be one of function, platform; got extension'],
    [
      ['--query', '{a="b"}', '--source', 'platform'],
      '--source narrows the function selector; with --query, put source="..." in your query',
    ],
    [[], 'give a FUNCTION (name or ARN) or a --query'],
  ])('refuses %j with a usage error', async (args, message) => {
    const result = await tail([...args, '--addr', 'http://127.0.0.1:9']);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`loki-lambda tail: ${message}\n`);
    expect(result.requests).toEqual([]);
  });

  it('asks Loki for the newest --limit lines of the --since window, with logcli-style flags', async () => {
    const result = await tail(
      [
        '--addr',
        'https://loki.example.com/',
        '--query',
        '{function="orders"}',
        '--since',
        '10m',
        '--limit',
        '50',
        '--no-follow',
        '--username',
        'reader',
        '--org-id',
        'team-a',
      ],
      { LOKI_PASSWORD: 'hunter2' },
    );

    expect(result.code).toBe(0);
    const request = result.requests[0]!;
    expect(request.url.origin + request.url.pathname).toBe(
      'https://loki.example.com/loki/api/v1/query_range',
    );
    expect(Object.fromEntries(request.url.searchParams ?? [])).toEqual({
      query: '{function="orders"}',
      start: `${BigInt(Date.UTC(2024, 4, 1, 9, 50, 0)) * 1_000_000n}`,
      end: `${BigInt(Date.UTC(2024, 4, 1, 10, 0, 0)) * 1_000_000n + 1n}`,
      limit: '50',
      direction: 'backward',
    });
    expect(request.headers.Authorization).toBe(`Basic ${Buffer.from('reader:hunter2').toString('base64')}`);
    expect(request.headers['X-Scope-OrgID']).toBe('team-a');
    expect(request.headers['X-Loki-Response-Encoding-Flags']).toBe('categorize-labels');
    expect(result.stderr).toBe('');
  });

  it('reads the bearer token from --bearer-token-file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loki-lambda-tail-'));
    dirs.push(dir);
    await writeFile(join(dir, 'token'), 'file-token\n');

    const result = await tail(
      ['--addr', 'http://loki', '--query', '{a="b"}', '--no-follow', '--bearer-token-file', 'token'],
      {},
      dir,
    );

    expect(result.code).toBe(0);
    expect(result.requests[0]?.headers.Authorization).toBe('Bearer file-token');
  });

  it('refuses both a bearer token and basic auth, and a username without a password', async () => {
    const both = await tail([
      '--addr',
      'http://loki',
      '--query',
      '{a="b"}',
      '--bearer-token',
      't',
      '--username',
      'u',
      '--password',
      'p',
    ]);
    const half = await tail(['--addr', 'http://loki', '--query', '{a="b"}', '--username', 'u']);

    expect([both.code, both.stderr]).toEqual([
      2,
      'loki-lambda tail: set either a bearer token or --username/--password, not both\n',
    ]);
    expect([half.code, half.stderr]).toEqual([
      2,
      'loki-lambda tail: --username and --password must be set together (basic auth)\n',
    ]);
  });
});
