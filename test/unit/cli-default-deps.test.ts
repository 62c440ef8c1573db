import { PassThrough } from 'node:stream';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultAwsDeps } from '../../src/cli.js';
import { functionConfig } from '../support/aws-cli.js';

const lambda = mockClient(LambdaClient);
const s3 = mockClient(S3Client);

afterEach(() => {
  lambda.reset();
  s3.reset();
});

const io = { stdout: new PassThrough(), stderr: new PassThrough(), env: {}, cwd: process.cwd() };

describe('the default AWS client factories, which import the SDK when first called', () => {
  it('create a Lambda client in the region that aws-sdk-client-mock intercepts', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves(functionConfig('orders'));

    const client = await defaultAwsDeps(io).createLambdaClient('eu-west-1', undefined);
    const answer = await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'orders' }));

    expect(client).toBeInstanceOf(LambdaClient);
    expect(await client.config.region()).toBe('eu-west-1');
    expect(answer.FunctionName).toBe('orders');
  });

  it('create an S3 client in the region that aws-sdk-client-mock intercepts', async () => {
    s3.on(ListBucketsCommand).resolves({ Buckets: [{ Name: 'layers' }] });

    const client = await defaultAwsDeps(io).createS3Client('us-east-2', undefined);
    const answer = await client.send(new ListBucketsCommand({}));

    expect(client).toBeInstanceOf(S3Client);
    expect(await client.config.region()).toBe('us-east-2');
    expect(answer.Buckets?.[0]?.Name).toBe('layers');
  });
});
