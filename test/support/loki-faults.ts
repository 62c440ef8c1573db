/**
 * Faults the test receiver can be told to show, for reliability tests of the pusher.
 * Per-request faults (status, delay, hang) wait in a queue: each push takes the one at the head;
 * one with `times` leaves the queue after that many pushes, one without stays until cleared.
 * Connection faults (down, up, closeIdleSockets) act at once.
 */

export type LokiFault =
  /** Answer `status` (with `body`, default the status text) without storing anything. */
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly body?: string;
      readonly times?: number;
      readonly retryAfterSeconds?: number;
    }
  /**
   * Answer a redirect (301, 302, 307 or 308) to `location` without storing anything, as a proxy in
   * front of Loki does for http:// to https://. Node's client does not follow it (nor does Loki's).
   */
  | {
      readonly kind: 'redirect';
      readonly status: 301 | 302 | 307 | 308;
      readonly location: string;
      readonly times?: number;
    }
  /** Store as usual, but answer only after `ms`. */
  | { readonly kind: 'delay'; readonly ms: number; readonly times?: number }
  /** Read the request and never answer (the socket is destroyed by close()). */
  | { readonly kind: 'hang'; readonly times?: number }
  /** Stop listening and drop every connection: connections to the port are refused. */
  | { readonly kind: 'down' }
  /** Listen again on the same port. */
  | { readonly kind: 'up' }
  /**
   * Close every keep-alive connection that has no request in flight, as a server does with idle
   * connections while a client is frozen. `reset: true` sends a TCP RST instead of a FIN.
   */
  | { readonly kind: 'closeIdleSockets'; readonly reset?: boolean };

export type RequestFault = Extract<LokiFault, { kind: 'status' | 'redirect' | 'delay' | 'hang' }>;

export function isRequestFault(fault: LokiFault): fault is RequestFault {
  return (
    fault.kind === 'status' || fault.kind === 'redirect' || fault.kind === 'delay' || fault.kind === 'hang'
  );
}

export class FaultQueue {
  private readonly queue: Array<{ fault: RequestFault; remaining: number }> = [];

  add(fault: RequestFault): void {
    if (fault.times !== undefined && (!Number.isInteger(fault.times) || fault.times < 1)) {
      throw new RangeError(`fault ${fault.kind}: times must be a positive integer, got ${fault.times}`);
    }
    this.queue.push({ fault, remaining: fault.times ?? Number.POSITIVE_INFINITY });
  }

  /** The fault the next push gets, if any; counts it against its `times`. */
  take(): RequestFault | undefined {
    const head = this.queue[0];
    if (head === undefined) return undefined;
    head.remaining--;
    if (head.remaining <= 0) this.queue.shift();
    return head.fault;
  }

  clear(): void {
    this.queue.length = 0;
  }
}
