import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AWS_MAX_ATTEMPTS, awsRetryDelayMs, awsRetryStrategy } from '../../src/aws/sdk-retry.js';
import { defaultAwsDeps } from '../../src/cli.js';

/**
 * The real SDK middleware stack (signing, retry, deserialisation) against a loopback HTTP server
 * standing in for the Lambda endpoint: the number of requests it sees is the number the CLI sends.
 */
type Answer = { readonly status: number; readonly errorType?: string; readonly body: unknown };

let server: Server;
let endpoint: string;
let requests: string[];
let answers: Answer[];

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
});

afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function client(): LambdaClient {
  return new LambdaClient({
    region: 'eu-west-1',
    endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    retryStrategy: awsRetryStrategy(() => 0),
  });
}

describe('the AWS retry policy, run through the real SDK middleware', () => {
  it(`sends a throttled call ${AWS_MAX_ATTEMPTS} times in all, then gives up with the throttling error`, async () => {
    answers = [THROTTLED];

    const sent = client().send(new GetFunctionConfigurationCommand({ FunctionName: 'orders' }));

    await expect(sent).rejects.toMatchObject({ name: 'TooManyRequestsException' });
    expect(requests).toHaveLength(AWS_MAX_ATTEMPTS);
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

  it('is the strategy of the clients the CLI makes', async () => {
    const io = { stdout: new PassThrough(), stderr: new PassThrough(), env: {}, cwd: process.cwd() };

    const lambda = await defaultAwsDeps(io).createLambdaClient('eu-west-1', undefined);
    const strategy = await lambda.config.retryStrategy();

    expect(strategy.constructor.name).toBe('ConfiguredRetryStrategy');
    expect(await (strategy as unknown as { maxAttempts: () => Promise<number> }).maxAttempts()).toBe(
      AWS_MAX_ATTEMPTS,
    );
  });
});
