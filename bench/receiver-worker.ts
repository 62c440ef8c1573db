/**
 * Entry of a worker thread that runs the Loki-compatible receiver, so that decoding pushes does not
 * share an event loop with the benchmark's own sender (bench/receiver-thread.ts is the other side).
 */
import { parentPort } from 'node:worker_threads';
import { startLokiReceiver } from '../test/support/loki-receiver.js';
import type { ReceiverReply, ReceiverRequest } from './receiver-thread.js';

const port = parentPort;
if (port === null) throw new Error('receiver-worker runs as a worker thread only');
const receiver = await startLokiReceiver();

async function answer(request: ReceiverRequest): Promise<ReceiverReply> {
  switch (request.op) {
    case 'waitForEntries':
      await receiver.waitForEntries(request.count, request.timeoutMs);
      return { id: request.id, ok: true };
    case 'inject':
      await receiver.inject(request.fault);
      return { id: request.id, ok: true };
    case 'counts':
      return {
        id: request.id,
        ok: true,
        entries: receiver.entries().length,
        requests: receiver.requests().length,
      };
    case 'close':
      await receiver.close();
      return { id: request.id, ok: true };
  }
}

port.on('message', (request: ReceiverRequest) => {
  answer(request).then(
    (reply) => {
      port.postMessage(reply);
      if (request.op === 'close') port.close();
    },
    (error: unknown) =>
      port.postMessage({
        id: request.id,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
      }),
  );
});
port.postMessage({ ready: true, url: receiver.url });
