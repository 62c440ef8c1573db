/** The Loki-compatible receiver in a worker thread (bench/receiver-worker.ts), driven by messages. */
import { Worker } from 'node:worker_threads';
import type { LokiFault } from '../test/support/loki-receiver.js';

export type ReceiverRequest =
  | { readonly id: number; readonly op: 'waitForEntries'; readonly count: number; readonly timeoutMs: number }
  | { readonly id: number; readonly op: 'inject'; readonly fault: LokiFault }
  | { readonly id: number; readonly op: 'counts' }
  | { readonly id: number; readonly op: 'close' };

export type ReceiverReply =
  | { readonly id: number; readonly ok: true; readonly entries?: number; readonly requests?: number }
  | { readonly id: number; readonly ok: false; readonly error: string };

type Pending = (reply: ReceiverReply) => void;

/** Distributes the ReceiverRequest union over Omit, so each op keeps its own fields. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export class ReceiverThread {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  private constructor(
    private readonly worker: Worker,
    readonly url: string,
  ) {
    worker.on('message', (reply: ReceiverReply) => {
      const settle = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      settle?.(reply);
    });
  }

  /** Starts the worker from its bundled file (bench/run.mjs builds it beside the benchmark bundle). */
  static start(workerFile: string): Promise<ReceiverThread> {
    const worker = new Worker(workerFile);
    return new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', (message: { ready: boolean; url: string }) => {
        worker.off('error', reject);
        resolve(new ReceiverThread(worker, message.url));
      });
    });
  }

  async waitForEntries(count: number, timeoutMs: number): Promise<void> {
    await this.call({ op: 'waitForEntries', count, timeoutMs });
  }

  async inject(fault: LokiFault): Promise<void> {
    await this.call({ op: 'inject', fault });
  }

  async counts(): Promise<{ entries: number; requests: number }> {
    const reply = await this.call({ op: 'counts' });
    return { entries: reply.entries ?? 0, requests: reply.requests ?? 0 };
  }

  async close(): Promise<void> {
    await this.call({ op: 'close' });
    await this.worker.terminate();
  }

  private call(request: WithoutId<ReceiverRequest>): Promise<ReceiverReply & { ok: true }> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (reply) => {
        if (reply.ok) resolve(reply);
        else reject(new Error(`receiver: ${reply.error}`));
      });
      this.worker.postMessage({ ...request, id });
    });
  }
}
