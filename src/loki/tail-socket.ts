import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { networkReason, parseStreams } from './client.js';
import type { LokiEntry } from './entry.js';
import { LokiResponseError } from './errors.js';

/** Opens a websocket with these request headers; injected so tests can count or replace connections. */
export type WebSocketFactory = (url: string, headers: Readonly<Record<string, string>>) => WebSocket;

/** How long the websocket handshake may take before the attempt counts as failed. */
export const HANDSHAKE_TIMEOUT_MS = 30_000;
const ERROR_BODY_LIMIT_BYTES = 4096;

export const createWebSocket: WebSocketFactory = (url, headers) =>
  new WebSocket(url, { headers: { ...headers }, handshakeTimeout: HANDSHAKE_TIMEOUT_MS });

/** How one tail connection ended. */
export type TailEnd =
  | { readonly kind: 'aborted' }
  /** It was open and closed (Loki's maximum tail duration, a proxy's idle timeout, a restart). */
  | { readonly kind: 'closed'; readonly code: number; readonly receivedMessages: number }
  /** No connection: refused, DNS, TLS, handshake timeout. */
  | { readonly kind: 'unreachable'; readonly reason: string }
  /** The server answered the upgrade with plain HTTP instead of switching protocols. */
  | { readonly kind: 'refused'; readonly status: number; readonly body: string };

export interface TailHandlers {
  readonly onEntries: (entries: LokiEntry[]) => void;
  /** Loki could not keep up and left out this many entries. */
  readonly onDropped: (count: number) => void;
}

/** Runs one tail websocket until it ends; never rejects. */
export function runTailConnection(
  open: WebSocketFactory,
  url: string,
  headers: Readonly<Record<string, string>>,
  handlers: TailHandlers,
  signal: AbortSignal,
): Promise<TailEnd> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve({ kind: 'aborted' });
      return;
    }
    let settled = false;
    let opened = false;
    let received = 0;
    const socket = open(url, headers);
    const settle = (end: TailEnd): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      resolve(end);
    };
    const onAbort = (): void => {
      settle({ kind: 'aborted' });
      if (socket.readyState === WebSocket.OPEN) socket.close(1000);
      else socket.terminate();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('open', () => {
      opened = true;
    });
    socket.on('unexpected-response', (request, response: IncomingMessage) => {
      readLimited(response).then((body) => {
        settle({ kind: 'refused', status: response.statusCode ?? 0, body });
        request.destroy();
      });
    });
    socket.on('message', (data: WebSocket.RawData) => {
      if (settled) return;
      received++;
      try {
        const message = JSON.parse(data.toString()) as { streams?: unknown; dropped_entries?: unknown };
        const entries = parseStreams(message.streams ?? []);
        if (entries.length > 0) handlers.onEntries(entries);
        if (Array.isArray(message.dropped_entries) && message.dropped_entries.length > 0) {
          handlers.onDropped(message.dropped_entries.length);
        }
      } catch (error) {
        // A message we cannot read: end this connection; the resume logic asks again.
        settle({
          kind: 'refused',
          status: 200,
          body: error instanceof LokiResponseError ? error.reason : 'a tail message is not JSON',
        });
        socket.terminate();
      }
    });
    socket.on('error', (error) => {
      if (!opened) settle({ kind: 'unreachable', reason: networkReason(error) });
    });
    socket.on('close', (code) => {
      settle(
        opened
          ? { kind: 'closed', code, receivedMessages: received }
          : { kind: 'unreachable', reason: `closed before opening (${code})` },
      );
    });
  });
}

function readLimited(response: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      if (size < ERROR_BODY_LIMIT_BYTES) chunks.push(chunk);
      size += chunk.length;
    });
    const finish = (): void =>
      resolve(Buffer.concat(chunks).subarray(0, ERROR_BODY_LIMIT_BYTES).toString('utf8'));
    response.on('end', finish);
    response.on('error', finish);
    response.on('close', finish);
  });
}

/** ws(s)://…/loki/api/v1/tail?query=…&start=…&limit=…&delay_for=0 */
export function tailUrl(addr: string, path: string, query: string, startNs: bigint, limit: number): string {
  const url = new URL(`${addr}${path}`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = new URLSearchParams({
    query,
    start: startNs.toString(),
    limit: String(limit),
    delay_for: '0',
  }).toString();
  return url.toString();
}
