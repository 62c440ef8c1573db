/**
 * Runs `loki-lambda tail` / `check` in-process against the test Loki receiver, with output that can
 * be awaited while the command runs, a sleep the test releases, Ctrl-C as an AbortController, and
 * log lines shipped with the extension's own encoder (as the extension would push them).
 */
import { Writable } from 'node:stream';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import WebSocket from 'ws';
import type { LogEntry, Source } from '../../extension/entries.js';
import { createHttpPost } from '../../extension/http-post.js';
import { compressPushBody, encodePushRequest, streamLabelStrings } from '../../extension/push-encoder.js';
import { type CliDeps, run } from '../../src/cli.js';
import type { LokiDeps } from '../../src/loki/deps.js';
import { createHttpGet } from '../../src/loki/http-get.js';
import type { WebSocketFactory } from '../../src/loki/tail-socket.js';
import { postPushBody } from './loki-push-client.js';

export const OUTPUT_WAIT_MS = 10_000;

/** A writable that keeps everything and lets a test wait for text to appear. */
export class LiveCapture extends Writable {
  text = '';
  isTTY = false;
  private readonly watchers = new Set<() => void>();

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    for (const listener of this.watchers) listener();
    callback();
  }

  /** Resolves once `predicate(text)` holds; rejects with what was written after `timeoutMs`. */
  waitFor(predicate: (text: string) => boolean, what: string, timeoutMs = OUTPUT_WAIT_MS): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate(this.text)) return;
        clearTimeout(timer);
        this.watchers.delete(check);
        resolve(this.text);
      };
      const timer = setTimeout(() => {
        this.watchers.delete(check);
        reject(new Error(`timed out waiting for ${what}; output so far:\n${this.text}`));
      }, timeoutMs);
      this.watchers.add(check);
      check();
    });
  }

  waitForText(text: string, timeoutMs?: number): Promise<string> {
    return this.waitFor((all) => all.includes(text), JSON.stringify(text), timeoutMs);
  }
}

/** A sleep that only ends when the test says so: nothing in the command depends on real time. */
export class ManualSleep {
  readonly requested: number[] = [];
  private readonly pending: Array<() => void> = [];
  private readonly listeners = new Set<() => void>();

  readonly sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      this.requested.push(ms);
      this.pending.push(resolve);
      for (const listener of this.listeners) listener();
    });

  /** Resolves once the command is sleeping (`count` sleeps requested in total). */
  waitForSleeps(count: number, timeoutMs = OUTPUT_WAIT_MS): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.requested.length < count) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`timed out waiting for sleep #${count}; ${this.requested.length} requested`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  /** Ends every sleep in progress. */
  release(): void {
    for (const resolve of this.pending.splice(0)) resolve();
  }
}

/**
 * A websocket factory that counts connections and can hold one back: `hold(n)` makes the n-th
 * connection (1-based) wait before sending its upgrade request until `release()`.
 */
export class GatedWebSockets {
  readonly urls: string[] = [];
  private held = new Map<number, Promise<void>>();
  private releasers = new Map<number, () => void>();
  private readonly listeners = new Set<() => void>();

  hold(connection: number): void {
    this.held.set(
      connection,
      new Promise((resolve) => {
        this.releasers.set(connection, resolve);
      }),
    );
  }

  release(connection: number): void {
    this.releasers.get(connection)?.();
  }

  readonly open: WebSocketFactory = (url, headers) => {
    this.urls.push(url);
    const gate = this.held.get(this.urls.length);
    for (const listener of this.listeners) listener();
    return new WebSocket(url, {
      headers: { ...headers },
      ...(gate === undefined
        ? {}
        : {
            finishRequest: (request) => {
              gate.then(() => request.end());
            },
          }),
    });
  };

  /** Resolves once `count` connections were attempted. */
  waitForAttempts(count: number, timeoutMs = OUTPUT_WAIT_MS): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.urls.length < count) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`timed out waiting for websocket attempt #${count}`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }
}

export interface LokiCliRun {
  readonly stdout: LiveCapture;
  readonly stderr: LiveCapture;
  readonly sleeper: ManualSleep;
  readonly sockets: GatedWebSockets;
  /** Ctrl-C. */
  interrupt(): void;
  /** The exit code. */
  readonly done: Promise<number>;
}

export interface LokiCliSetup {
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  readonly now?: () => number;
  readonly stdoutIsTty?: boolean;
  readonly loki?: Partial<LokiDeps>;
  readonly deps?: CliDeps;
  readonly sockets?: GatedWebSockets;
}

/** Starts the CLI and returns at once; await `done` for the exit code. */
export function startLokiCli(argv: readonly string[], setup: LokiCliSetup = {}): LokiCliRun {
  const stdout = new LiveCapture();
  stdout.isTTY = setup.stdoutIsTty ?? false;
  const stderr = new LiveCapture();
  const sleeper = new ManualSleep();
  const sockets = setup.sockets ?? new GatedWebSockets();
  const controller = new AbortController();
  const deps: CliDeps = {
    createLambdaClient: async (region) =>
      new LambdaClient({ region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
    createS3Client: async (region) =>
      new S3Client({ region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
    ...setup.deps,
    loki: {
      now: setup.now ?? Date.now,
      sleep: sleeper.sleep,
      random: () => 0.5,
      httpGet: createHttpGet(),
      createHttpPost,
      loadWebSocketFactory: async () => sockets.open,
      interrupted: () => controller.signal,
      stdoutIsTty: setup.stdoutIsTty ?? false,
      ...setup.loki,
    },
  };
  const done = run(argv, { stdout, stderr, env: setup.env ?? {}, cwd: setup.cwd ?? process.cwd() }, deps);
  return { stdout, stderr, sleeper, sockets, interrupt: () => controller.abort(), done };
}

export interface ShippedLine {
  readonly source: Source;
  readonly line: string;
  readonly timeMs: number;
  readonly requestId?: string;
}

export interface FunctionLabels {
  readonly functionName: string;
  readonly application: string;
  readonly environment: string;
  readonly extraLabels?: ReadonlyArray<readonly [string, string]>;
  readonly functionVersion?: string;
}

/** Pushes lines as the extension does (its encoder, labels and metadata); resolves with Loki's status. */
export async function shipLines(
  pushUrl: string,
  labels: FunctionLabels,
  lines: readonly ShippedLine[],
  headers: Readonly<Record<string, string>> = {},
): Promise<number> {
  const entries: LogEntry[] = lines.map((line) => ({
    source: line.source,
    timeMs: line.timeMs,
    nanosInMs: 0,
    line: line.line,
    requestId: line.requestId,
    sizeBytes: line.line.length,
  }));
  const body = compressPushBody(
    encodePushRequest(
      entries,
      streamLabelStrings({
        application: labels.application,
        environment: labels.environment,
        functionName: labels.functionName,
        extraLabels: labels.extraLabels ?? [],
      }),
      { functionVersion: labels.functionVersion ?? '$LATEST' },
    ),
  );
  const response = await postPushBody(pushUrl, body, { headers });
  return response.status;
}
