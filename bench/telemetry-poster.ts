/**
 * Plays Lambda's Telemetry API at full speed: POSTs prepared JSON batches straight to an extension's
 * listener, one in flight at a time as Lambda does, over one keep-alive connection.
 */
import http from 'node:http';
import type { LambdaEmulator } from '../test/support/lambda-emulator.js';
import { functionLogEvent } from '../test/support/lambda-events.js';
import { logLine } from './log-lines.js';

export const LINES_PER_BATCH = 1_000;
export const BATCH_LINE_BYTES = 200;
const BENCH_REQUEST_ID = '6c1c1d2e-0000-4000-8000-00000000b0b0';

/** The listener the extension subscribed, reachable from here (`sandbox.localdomain` is loopback). */
export function listenerUrl(emulator: LambdaEmulator): string {
  const uri = emulator.subscription?.destination.URI;
  if (uri === undefined) throw new Error('the extension did not subscribe to the Telemetry API');
  const url = new URL(uri);
  url.hostname = '127.0.0.1';
  return url.href;
}

let batchSequence = 0;

/** `count` batches of LINES_PER_BATCH function lines of BATCH_LINE_BYTES bytes, as JSON bodies; every line distinct. */
export function telemetryBatches(count: number): Buffer[] {
  const batches: Buffer[] = [];
  for (let b = 0; b < count; b++) {
    const at = Date.now();
    const batch = batchSequence++;
    const events = Array.from({ length: LINES_PER_BATCH }, (_, i) =>
      functionLogEvent(at, BENCH_REQUEST_ID, logLine(`tp-${batch}-${i}`, BATCH_LINE_BYTES)),
    );
    batches.push(Buffer.from(JSON.stringify(events)));
  }
  return batches;
}

export class TelemetryPoster {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(private readonly url: string) {}

  /** POSTs the batches one after the other; rejects on any answer but 2xx. */
  async postAll(batches: readonly Buffer[]): Promise<void> {
    for (const body of batches) {
      const status = await this.post(body);
      if (status < 200 || status > 299) throw new Error(`the listener answered ${status}`);
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private post(body: Buffer): Promise<number> {
    return new Promise((resolve, reject) => {
      const request = http.request(this.url, {
        method: 'POST',
        agent: this.agent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.byteLength) },
      });
      request.on('error', reject);
      request.on('response', (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      });
      request.end(body);
    });
  }
}
