import type { HttpPost } from '../../extension/http-post.js';
import type { HttpGet } from './http-get.js';
import type { WebSocketFactory } from './tail-socket.js';

/**
 * What `tail` and `check` need from the outside world. The CLI entry builds the real ones; tests
 * pass a fixed clock, a sleep they control, an AbortController's signal and counting factories.
 */
export interface LokiDeps {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly httpGet: HttpGet;
  /** A keep-alive POST client for the check's push (the extension's own); closed after use. */
  readonly createHttpPost: () => { readonly post: HttpPost; readonly close: () => void };
  /** The websocket factory, loaded on first use: the ws package would slow every other command's start. */
  readonly loadWebSocketFactory: () => Promise<WebSocketFactory>;
  /** A signal aborted on Ctrl-C; asked for only by commands that run until interrupted. */
  readonly interrupted: () => AbortSignal;
  /** Whether stdout is a terminal (colors). */
  readonly stdoutIsTty: boolean;
}
