import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger.js';
import { parseTelemetryBatch, type TelemetryEvent } from './telemetry.js';

/** Lambda's batches are at most 1 MB; anything far larger is not from Lambda. */
export const MAX_TELEMETRY_BODY_BYTES = 8 * 1024 * 1024;
/** Every interface: `sandbox.localdomain` resolves to the sandbox inside Lambda and nowhere else. */
const LISTEN_HOST = '0.0.0.0';

export interface TelemetryListener {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Receives Telemetry API batches. Answers before handling them: a slow listener makes Lambda drop
 * records. Malformed input is answered too, counted and logged in debug, never thrown.
 */
export function startTelemetryListener(
  port: number,
  onEvents: (events: TelemetryEvent[]) => void,
  log: Logger,
): Promise<TelemetryListener> {
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_TELEMETRY_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      response.writeHead(200).end();
      if (size > MAX_TELEMETRY_BODY_BYTES) {
        log.debug(`ignored a telemetry body of ${size} bytes (over ${MAX_TELEMETRY_BODY_BYTES})`);
        return;
      }
      const { events, invalid } = parseTelemetryBatch(Buffer.concat(chunks).toString('utf8'));
      if (invalid > 0) log.debug(`ignored ${invalid} malformed telemetry item(s)`);
      if (events.length > 0) onEvents(events);
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
