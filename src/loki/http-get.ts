import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

export interface HttpGetResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface HttpGetOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** GETs a URL; rejects on a network error, a timeout or an abort. */
export type HttpGet = (
  url: string,
  headers: Readonly<Record<string, string>>,
  options: HttpGetOptions,
) => Promise<HttpGetResponse>;

/** A query answer is at most `limit` lines of up to 256 KB each; refuse anything bigger than this. */
export const RESPONSE_BODY_LIMIT_BYTES = 256 * 1024 * 1024;

export class HttpGetTimeoutError extends Error {
  override readonly name = 'HttpGetTimeoutError';
  readonly code = 'ETIMEDOUT';
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

export class HttpGetAbortedError extends Error {
  override readonly name = 'HttpGetAbortedError';
  constructor() {
    super('aborted');
  }
}

export function createHttpGet(): HttpGet {
  return (url, headers, { timeoutMs, signal }) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(new HttpGetAbortedError());
        return;
      }
      const target = new URL(url);
      const transport = target.protocol === 'https:' ? https : http;
      const request = transport.request(target, { method: 'GET', headers: { ...headers } });
      const timer = setTimeout(() => request.destroy(new HttpGetTimeoutError(timeoutMs)), timeoutMs);
      const onAbort = (): void => {
        request.destroy(new HttpGetAbortedError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      request.on('error', (error) => {
        done();
        reject(error);
      });
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > RESPONSE_BODY_LIMIT_BYTES) {
            request.destroy(new Error(`answer larger than ${RESPONSE_BODY_LIMIT_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () => {
          done();
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        response.on('error', (error) => {
          done();
          reject(error);
        });
      });
      request.end();
    });
}
