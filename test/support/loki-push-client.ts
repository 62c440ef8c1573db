/**
 * A minimal Loki push client for tests: POSTs a body to a push URL and returns what came back.
 * Pass an `http.Agent` with `keepAlive: true` to reuse one connection across pushes.
 */
import { type Agent, request } from 'node:http';
import { encodePushRequest, type PushStreamInput } from './loki-codec.js';

export interface PushResponse {
  readonly status: number;
  readonly body: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface PostPushOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly agent?: Agent;
}

/** POSTs raw bytes to `pushUrl` (Content-Type defaults to application/x-protobuf). */
export function postPushBody(
  pushUrl: string,
  body: Uint8Array,
  options: PostPushOptions = {},
): Promise<PushResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      pushUrl,
      {
        method: 'POST',
        agent: options.agent,
        headers: {
          'content-type': 'application/x-protobuf',
          ...options.headers,
          'content-length': body.byteLength,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: res.headers,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Encodes `streams` like a Loki client (protobuf + snappy block) and POSTs them. */
export function postPush(
  pushUrl: string,
  streams: readonly PushStreamInput[],
  options: PostPushOptions = {},
): Promise<PushResponse> {
  return postPushBody(pushUrl, encodePushRequest(streams), options);
}
