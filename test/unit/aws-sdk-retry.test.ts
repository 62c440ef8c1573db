import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AWS_MAX_ATTEMPTS_DEFAULT, AWS_RETRY_DEFAULT } from '../../src/aws/retry-settings.js';
import { awsRetryDelayMs, awsRetryStrategy } from '../../src/aws/sdk-retry.js';
import { defaultAwsDeps } from '../../src/cli.js';
import { runCli } from '../support/aws-cli.js';

/**
 * The real SDK middleware stack (signing, retry, deserialisation) against a loopback HTTP server
 * standing in for the Lambda endpoint: the number of requests it sees is the number the CLI sends.
 */
type Answer = { readonly status: number; readonly errorType?: string; readonly body: unknown };

let server: Server;
let endpoint: string;
let requests: string[];
let answers: Answer[];
/** An empty home: no ~/.aws/config of this machine's user reaches the CLI's settings. */
let home: string;

const THROTTLED: Answer = {
  status: 429,
  errorType: 'TooManyRequestsException',
  body: { message: 'Rate exceeded', Reason: 'CallerRateLimitExceeded', Type: 'User' },
};
const CONFLICT: Answer = {
  status: 409,
  errorType: 'ResourceConflictException',
  body: { message: 'The operation cannot be performed at this time. An update is in progress.' },
};
const SERVICE_ERROR: Answer = {
  status: 500,
  errorType: 'ServiceException',
  body: { message: 'Internal error' },
};
const CONFIGURATION: Answer = { status: 200, body: { FunctionName: 'orders', RevisionId: 'rev-1' } };

// Unit test files share one module graph (isolate: false): undo another file's aws-sdk-client-mock.
beforeAll(() => {
  mockClient(LambdaClient).restore();
});

beforeEach(async () => {
  requests = [];
  answers = [];
  server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      requests.push(`${request.method} ${request.url}`);
      const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
      response.writeHead(answer.status, {
        'content-type': 'application/json',
        ...(answer.errorType ? { 'x-amzn-errortype': answer.errorType } : {}),
      });
      response.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  home = await mkdtemp(join(tmpdir(), 'loki-lambda-retry-'));
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await new Promise((resolve) => server.close(resolve));
  await rm(home, { recursive: true, force: true });
});

function client(): LambdaClient {
  return new LambdaClient({
    region: 'eu-west-1',
    endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    retryStrategy: awsRetryStrategy(AWS_RETRY_DEFAULT, () => 0),
  });
}

describe('the AWS retry policy, run through the real SDK middleware', () => {
  it(`sends a throttled call ${AWS_MAX_ATTEMPTS_DEFAULT} times in all, then gives up with the throttling error`, async () => {
    answers = [THROTTLED];

    const sent = client().send(new GetFunctionConfigurationCommand({ FunctionName: 'orders' }));

    await expect(sent).rejects.toMatchObject({ name: 'TooManyRequestsException' });
    expect(requests).toHaveLength(AWS_MAX_ATTEMPTS_DEFAULT);
  });

  it('succeeds on the third request after two throttled ones', async () => {
    answers = [THROTTLED, THROTTLED, CONFIGURATION];

    const answer = await client().send(new GetFunctionConfigurationCommand({ FunctionName: 'orders' }));

    expect(answer.RevisionId).toBe('rev-1');
    expect(requests).toEqual(Array(3).fill('GET /2015-03-31/functions/orders/configuration'));
  });

  it('sends an update that conflicts with one in progress once: re-planning it is the caller’s job', async () => {
    answers = [CONFLICT];

    const sent = client().send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'orders', RevisionId: 'rev-1', Layers: [] }),
    );

    await expect(sent).rejects.toMatchObject({ name: 'ResourceConflictException' });
    expect(requests).toEqual(['PUT /2015-03-31/functions/orders/configuration']);
  });

  it('waits 0.5, 1, 2 and 4 s between attempts by default', () => {
    expect([1, 2, 3, 4].map(awsRetryDelayMs)).toEqual([500, 1000, 2000, 4000]);
  });

  it('is the strategy of the clients the CLI makes when nothing else is set', async () => {
    const io = {
      stdout: new PassThrough(),
      stderr: new PassThrough(),
      env: { HOME: home },
      cwd: process.cwd(),
    };

    const lambda = await defaultAwsDeps(io).createLambdaClient('eu-west-1', undefined);
    const strategy = await lambda.config.retryStrategy();

    expect(strategy.constructor.name).toBe('ConfiguredRetryStrategy');
    expect(await (strategy as unknown as { maxAttempts: () => Promise<number> }).maxAttempts()).toBe(
      AWS_MAX_ATTEMPTS_DEFAULT,
    );
  });
});

/**
 * The CLI's own client factory, as a user runs it: the SDK finds the loopback endpoint and credentials
 * in the process environment (as AWS_ENDPOINT_URL_LAMBDA would send it anywhere); the retry settings
 * come from the environment the CLI was given.
 */
describe('the standard AWS retry settings, honoured by the clients the CLI makes', () => {
  beforeEach(() => {
    vi.stubEnv('AWS_ENDPOINT_URL_LAMBDA', endpoint);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'not-a-real-key');
    vi.stubEnv('AWS_PROFILE', '');
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
  });

  /** Requests the CLI's client sends for one call that keeps failing with `answer`. */
  async function failedRequests(env: Record<string, string>, answer: Answer = THROTTLED): Promise<number> {
    answers = [answer];
    const io = {
      stdout: new PassThrough(),
      stderr: new PassThrough(),
      env: { HOME: home, ...env },
      cwd: home,
    };
    const lambda = await defaultAwsDeps(io, { retryDelayMs: () => 0 }).createLambdaClient(
      'eu-west-1',
      undefined,
    );

    await expect(
      lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders' })),
    ).rejects.toMatchObject({
      name: answer.errorType,
    });
    return requests.length;
  }

  async function configFile(text: string): Promise<string> {
    const path = join(home, 'config');
    await writeFile(path, text);
    return path;
  }

  it('sends a failing call once with AWS_MAX_ATTEMPTS=1, and twice with 2', async () => {
    expect(await failedRequests({ AWS_MAX_ATTEMPTS: '1' })).toBe(1);
    requests = [];
    expect(await failedRequests({ AWS_MAX_ATTEMPTS: '2' })).toBe(2);
  });

  it('takes max_attempts from the default profile of the AWS config file', async () => {
    const config = await configFile('[default]\nregion = eu-west-1\nmax_attempts = 3\n');

    expect(await failedRequests({ AWS_CONFIG_FILE: config })).toBe(3);
  });

  it('takes max_attempts from the profile AWS_PROFILE names', async () => {
    const config = await configFile('[default]\nmax_attempts = 4\n\n[profile ci]\nmax_attempts = 2\n');

    expect(await failedRequests({ AWS_CONFIG_FILE: config, AWS_PROFILE: 'ci' })).toBe(2);
  });

  it('prefers AWS_MAX_ATTEMPTS to the profile, as the SDK does', async () => {
    const config = await configFile('[default]\nmax_attempts = 4\n');

    expect(await failedRequests({ AWS_CONFIG_FILE: config, AWS_MAX_ATTEMPTS: '1' })).toBe(1);
  });

  it('runs the adaptive mode (client-side rate limiting) with AWS_RETRY_MODE=adaptive, with the same attempts', async () => {
    const io = {
      stdout: new PassThrough(),
      stderr: new PassThrough(),
      env: { HOME: home, AWS_RETRY_MODE: 'adaptive' },
      cwd: home,
    };
    const strategy = await (
      await defaultAwsDeps(io).createLambdaClient('eu-west-1', undefined)
    ).config.retryStrategy();

    expect((strategy as { mode?: string }).mode).toBe('adaptive');
    // A 500, not a throttle: the rate limiter would slow the retry down, which is its job, not this test's.
    expect(await failedRequests({ AWS_RETRY_MODE: 'adaptive', AWS_MAX_ATTEMPTS: '2' }, SERVICE_ERROR)).toBe(
      2,
    );
  });

  it('refuses a bad max_attempts in the profile with what to fix, and sends nothing', async () => {
    const config = await configFile('[default]\nmax_attempts = three\n');
    const io = {
      stdout: new PassThrough(),
      stderr: new PassThrough(),
      env: { HOME: home, AWS_CONFIG_FILE: config },
      cwd: home,
    };

    await expect(defaultAwsDeps(io).createLambdaClient('eu-west-1', undefined)).rejects.toThrow(
      `max_attempts in the profile "default" of ${config} must be a whole number of attempts, 1 or more (1: no retry); got "three"`,
    );
    expect(requests).toEqual([]);
  });

  it('stops detach with exit 2 on a bad retry_mode in the profile', async () => {
    const config = await configFile('[default]\nretry_mode = fast\n');
    const env = { HOME: home, AWS_CONFIG_FILE: config };
    const io = { stdout: new PassThrough(), stderr: new PassThrough(), env, cwd: home };
    const { createLambdaClient } = defaultAwsDeps(io);

    const result = await runCli(['detach', 'orders', '--region', 'eu-west-1', '--dry-run'], {
      env,
      deps: { createLambdaClient },
    });

    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `loki-lambda: retry_mode in the profile "default" of ${config} must be standard or adaptive; got "fast"\n`,
    );
    expect(requests).toEqual([]);
  });
});

describe('a bad AWS retry setting in the environment', () => {
  it.each([
    [
      'AWS_MAX_ATTEMPTS',
      'three',
      'AWS_MAX_ATTEMPTS must be a whole number of attempts, 1 or more (1: no retry); got "three"',
    ],
    [
      'AWS_MAX_ATTEMPTS',
      '0',
      'AWS_MAX_ATTEMPTS must be a whole number of attempts, 1 or more (1: no retry); got "0"',
    ],
    [
      'AWS_MAX_ATTEMPTS',
      '2.5',
      'AWS_MAX_ATTEMPTS must be a whole number of attempts, 1 or more (1: no retry); got "2.5"',
    ],
    ['AWS_RETRY_MODE', 'fast', 'AWS_RETRY_MODE must be standard or adaptive; got "fast"'],
  ])(
    '%s=%s stops a command that calls AWS with exit 2 and says what to fix, before any AWS call',
    async (name, value, message) => {
      const result = await runCli(['detach', 'orders', '--region', 'eu-west-1', '--dry-run'], {
        env: { [name]: value },
      });

      expect(result.code).toBe(2);
      expect(result.stderr).toBe(`loki-lambda detach: ${message}\n`);
      expect(result.regions).toEqual([]);
    },
  );

  it('does not stop a command that never calls AWS', async () => {
    const result = await runCli(['rules'], { env: { AWS_MAX_ATTEMPTS: 'three' } });

    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('AWS_MAX_ATTEMPTS');
  });
});
