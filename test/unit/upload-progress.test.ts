import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { publishNewLayerVersion } from '../../src/aws/layer-versions.js';

/** The real SDK (serialisation, signing, retry) against a loopback Lambda endpoint that keeps the body. */
let server: Server;
let endpoint: string;
let received: Buffer;
let dir: string;

// Unit test files share one module graph (isolate: false): undo another file's aws-sdk-client-mock.
beforeAll(() => {
  mockClient(LambdaClient).restore();
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loki-lambda-upload-'));
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received = Buffer.concat(chunks);
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ Version: 3, LayerVersionArn: 'arn:aws:lambda:eu-west-1:123456789012:layer:l:3' }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe('uploading a layer zip', () => {
  it('reports the bytes sent as they go, and the whole zip arrives', async () => {
    const zipBytes = randomBytes(1024 * 1024);
    const path = join(dir, 'layer.zip');
    await writeFile(path, zipBytes);
    const digest = createHash('sha256').update(zipBytes).digest();
    const lambda = new LambdaClient({
      region: 'eu-west-1',
      endpoint,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-real-key' },
    });
    const progress: Array<[number, number]> = [];
    const announced: string[] = [];

    const outcome = await publishNewLayerVersion(
      lambda,
      async () => new S3Client({ region: 'eu-west-1' }),
      {
        layerName: 'loki-lambda-slim-x86_64',
        zip: {
          flavor: 'slim',
          arch: 'x86_64',
          path,
          sizeBytes: zipBytes.length,
          sha256Hex: digest.toString('hex'),
          sha256Base64: digest.toString('base64'),
        },
        compatibleRuntimes: ['nodejs22.x'],
        description: 'loki-lambda test',
        s3Bucket: undefined,
      },
      (upload) => {
        announced.push(`${upload.layerName} -> ${upload.to}`);
        return (sent, total) => progress.push([sent, total]);
      },
    );

    expect(outcome.version).toBe(3);
    expect(announced).toEqual(['loki-lambda-slim-x86_64 -> Lambda']);
    // The JSON body carries the zip in base64: about 1.33 MiB, sent in several steps.
    expect(progress.length).toBeGreaterThan(3);
    const sent = progress.map(([bytes]) => bytes);
    expect(sent).toEqual([...sent].sort((a, b) => a - b));
    expect(progress.at(-1)).toEqual([received.length, received.length]);
    const body = JSON.parse(received.toString('utf8')) as { Content: { ZipFile: string } };
    expect(Buffer.from(body.Content.ZipFile, 'base64').equals(zipBytes)).toBe(true);
  });
});
