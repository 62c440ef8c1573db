import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger.js';
import {
  parseTelemetryBatch,
  TELEMETRY_BUFFER_MAX_BYTES,
  TELEMETRY_LISTENER_PATH,
  type TelemetryEvent,
} from './telemetry.js';

/**
 * Lambda cuts a batch before it passes the subscription's maxBytes, but a single event goes alone
 * whatever its size: a 256 KiB log line, JSON-escaped (up to 6 bytes per byte), plus its envelope.
 */
export const SINGLE_EVENT_MARGIN_BYTES = 1536 * 1024;

/** The largest body the listener reads: the subscription's maxBytes plus one event of margin. */
export function telemetryBodyLimitBytes(maxBytes: number): number {
  return maxBytes + SINGLE_EVENT_MARGIN_BYTES;
}

/** Every interface: `sandbox.localdomain` resolves to the sandbox inside Lambda and nowhere else. */
const LISTEN_HOST = '0.0.0.0';

export interface TelemetryListener {
  readonly port: number;
  close(): Promise<void>;
}

export interface TelemetryListenerOptions {
  /** The path of the subscription's destination URI; anything else is answered 404. */
  readonly path?: string;
  /** Bodies beyond this are answered 413 and never buffered. */
  readonly maxBodyBytes?: number;
}

/**
 * Receives Telemetry API batches: `POST` on its own path only. Answers before handling them: a slow
 * listener makes Lambda drop records. Malformed input is answered too, counted and logged in debug,
 * and an error while handling a batch is caught, counted and logged in debug, never thrown.
 */
export function startTelemetryListener(
  port: number,
  onEvents: (events: TelemetryEvent[]) => void,
  log: Logger,
  options: TelemetryListenerOptions = {},
): Promise<TelemetryListener> {
  const path = options.path ?? TELEMETRY_LISTENER_PATH;
  const maxBodyBytes = options.maxBodyBytes ?? telemetryBodyLimitBytes(TELEMETRY_BUFFER_MAX_BYTES);
  let failedBatches = 0;
  const handle = (body: string): void => {
    try {
      const { events, invalid } = parseTelemetryBatch(body);
      if (invalid > 0) log.debug(`ignored ${invalid} malformed telemetry item(s)`);
      if (events.length > 0) onEvents(events);
    } catch (error) {
      failedBatches++;
      log.debug(
        `could not handle a telemetry batch (${failedBatches} so far), skipped it: ${(error as Error).message}`,
      );
    }
  };
  const server = http.createServer((request, response) => {
    const requestPath = (request.url ?? '').split('?')[0];
    if (request.method !== 'POST' || requestPath !== path) {
      request.resume();
      const status = requestPath === path ? 405 : 404;
      response.writeHead(status, status === 405 ? { Allow: 'POST' } : {}).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBodyBytes) chunks.push(chunk);
      else chunks.length = 0;
    });
    request.on('end', () => {
      if (size > maxBodyBytes) {
        response.writeHead(413).end();
        log.debug(`ignored a telemetry body of ${size} bytes (over ${maxBodyBytes})`);
        return;
      }
      response.writeHead(200).end();
      handle(Buffer.concat(chunks).toString('utf8'));
    });
    request.on('error', () => response.destroy());
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LISTEN_HOST, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
