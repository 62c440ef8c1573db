import http, { type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body, read up to ERROR_BODY_LIMIT_BYTES (errors only need their first words). */
  readonly body: string;
}

/**
 * POSTs a body; rejects on a network error, when timeoutMs passes without a full response, or when
 * `signal` aborts (as a timeout: the deadline was brought forward).
 */
export type HttpPost = (
  url: string,
  headers: Readonly<Record<string, string>>,
  body: Uint8Array,
  timeoutMs: number,
  signal?: AbortSignal,
) => Promise<HttpResponse>;

/** Enough for Loki's list of ignored entries and its `total ignored` line; errors need no more. */
export const ERROR_BODY_LIMIT_BYTES = 8 * 1024;

/** Error codes of a keep-alive socket the server closed while we were not looking (e.g. frozen). */
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

export class HttpTimeoutError extends Error {
  override readonly name = 'HttpTimeoutError';
  constructor(timeoutMs: number) {
    super(`no response within ${timeoutMs} ms`);
  }
}

/**
 * A POST over one keep-alive connection per protocol. A request that fails on a reused socket with a
 * reset is retried once on a fresh connection: after a Lambda freeze the old socket may be dead.
 */
export function createHttpPost(): {
  post: HttpPost;
  close: () => void;
  /** Never reuse a connection opened so far (SnapStart: they are dead after a restore). */
  resetConnections: () => void;
} {
  const transports = new Map<string, Promise<Transport>>();
  // node:https (TLS, crypto) loads at the first HTTPS push, not during Lambda's init.
  const transportFor = (protocol: string): Promise<Transport> => {
    let transport = transports.get(protocol);
    if (transport === undefined) {
      transport =
        protocol === 'https:'
          ? import('node:https').then((https) => ({
              request: https.request,
              agent: new https.Agent({ keepAlive: true, maxSockets: 1 }),
            }))
          : Promise.resolve({
              request: http.request,
              agent: new http.Agent({ keepAlive: true, maxSockets: 1 }),
            });
      transports.set(protocol, transport);
    }
    return transport;
  };
  const post: HttpPost = async (url, headers, body, timeoutMs, signal) => {
    const deadline = Date.now() + timeoutMs;
    const target = new URL(url);
    const transport = await transportFor(target.protocol);
    try {
      return await postOnce(transport, target, headers, body, timeoutMs, signal);
    } catch (error) {
      const remaining = deadline - Date.now();
      if (isStaleSocket(error) && remaining > 0 && signal?.aborted !== true)
        return postOnce(transport, target, headers, body, remaining, signal);
      throw error;
    }
  };
  const destroyAll = (): void => {
    for (const transport of transports.values()) void transport.then(({ agent }) => agent.destroy());
  };
  return {
    post,
    close: destroyAll,
    resetConnections: () => {
      // Later requests get fresh agents. Idle sockets close now; one carrying a push in flight
      // finishes it and closes when released, so no push is cut and no old socket is reused.
      for (const transport of transports.values()) {
        void transport.then(({ agent }) => {
          for (const sockets of Object.values(agent.freeSockets))
            for (const socket of sockets ?? []) socket.destroy();
          agent.on('free', (socket: Socket) => socket.destroy());
        });
      }
      transports.clear();
    },
  };
}

interface Transport {
  readonly request: typeof http.request;
  readonly agent: http.Agent;
}

interface StaleSocketMarker {
  reusedSocket?: boolean;
}

function isStaleSocket(error: unknown): boolean {
  const e = error as NodeJS.ErrnoException & StaleSocketMarker;
  return e?.reusedSocket === true && e.code !== undefined && STALE_SOCKET_CODES.has(e.code);
}

function postOnce(
  transport: Transport,
  target: URL,
  headers: Readonly<Record<string, string>>,
  body: Uint8Array,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new HttpTimeoutError(0));
      return;
    }
    const request = transport.request(target, {
      method: 'POST',
      agent: transport.agent,
      headers: { ...headers, 'Content-Length': String(body.byteLength) },
    });
    const timer = setTimeout(() => request.destroy(new HttpTimeoutError(timeoutMs)), Math.max(1, timeoutMs));
    const onAbort = () => request.destroy(new HttpTimeoutError(timeoutMs));
    signal?.addEventListener('abort', onAbort, { once: true });
    request.on('close', () => signal?.removeEventListener('abort', onAbort));
    request.on('error', (error: Error & StaleSocketMarker) => {
      clearTimeout(timer);
      error.reusedSocket = request.reusedSocket;
      reject(error);
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      response.on('data', (chunk: Buffer) => {
        // Read everything so the socket can be reused, keep only the start.
        if (kept < ERROR_BODY_LIMIT_BYTES) {
          chunks.push(chunk);
          kept += chunk.length;
        }
      });
      response.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).subarray(0, ERROR_BODY_LIMIT_BYTES).toString('utf8');
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text });
      });
      response.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    request.end(body);
  });
}
