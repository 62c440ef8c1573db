/**
 * A Lambda sandbox for one external extension, for tests: the Extensions API (2020-01-01), the
 * Telemetry API (2022-07-01, events of schema 2022-12-13), a simulated runtime, and the freeze
 * between events (SIGSTOP/SIGCONT of the extension's process group).
 *
 * Modes (DESIGN.md §6): `lambda` (default), `rie` (AWS's Runtime Interface Emulator, as run by
 * `sam local`, the base images and LocalStack: no Telemetry API, no freeze) and `managed-instances`
 * (Lambda Managed Instances: SHUTDOWN-only extensions, schema 2025-01-29, concurrent invocations, no
 * freeze). `snapStart` adds a snapshot after init and restore events. Invoking with a request id
 * used before plays an asynchronous retry.
 *
 * The extension runs as a real child process started the way Lambda starts `/opt/extensions/*`.
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import {
  extensionLogEvent,
  extensionStateEvent,
  functionLogEvent,
  type InitializationType,
  type InvocationStatus,
  initReportEvent,
  initRuntimeDoneEvent,
  initStartEvent,
  managedInstancesReportEvent,
  newTracing,
  reportEvent,
  restoreReportEvent,
  restoreRuntimeDoneEvent,
  restoreStartEvent,
  runtimeDoneEvent,
  startEvent,
  type TelemetryEvent,
  type Tracing,
  telemetrySubscriptionEvent,
  telemetryTypeOf,
} from './lambda-events.js';
import { header, readBody, sendError, sendJson, sendText } from './lambda-http.js';
import {
  initializationTypeOf,
  LOGS_NOT_SUPPORTED,
  registrationRefusal,
  SandboxMode,
  subscriptionRefusal,
  TELEMETRY_NOT_SUPPORTED,
} from './lambda-modes.js';
import { ExtensionProcess, type ProcessExit } from './lambda-process.js';
import { parseSubscription, type TelemetrySubscription } from './lambda-subscription.js';
import {
  postTelemetryBatch,
  type TelemetryDelivery,
  TelemetryDispatcher,
} from './lambda-telemetry-dispatcher.js';

export type { TelemetryEvent } from './lambda-events.js';
export { MANAGED_INSTANCES_SCHEMA_VERSION, SandboxMode } from './lambda-modes.js';
export type { TelemetrySubscription } from './lambda-subscription.js';
export type { TelemetryDelivery } from './lambda-telemetry-dispatcher.js';

export const DEFAULT_FUNCTION_NAME = 'loki-lambda-test';
export const FUNCTION_VERSION = '$LATEST';
export const DEFAULT_MEMORY_SIZE_MB = 128;
export const DEFAULT_REGION = 'us-east-1';
export const ACCOUNT_ID = '123456789012';
export const FUNCTION_HANDLER = 'index.handler';
/** Lambda's limit for the whole init phase. */
export const DEFAULT_INIT_TIMEOUT_MS = 10_000;
/** Lambda's default function timeout. */
export const DEFAULT_INVOKE_TIMEOUT_MS = 3_000;
export const DEFAULT_INVOKE_DURATION_MS = 5;
/** About what Lambda gives external extensions after SHUTDOWN. */
export const DEFAULT_SHUTDOWN_DEADLINE_MS = 2_000;
/** Managed Instances: at shutdown Lambda flushes telemetry for at most this long before SHUTDOWN. */
export const MANAGED_INSTANCES_TELEMETRY_FLUSH_MS = 1_000;
/** SnapStart: how long a restore takes when the test does not say. */
export const DEFAULT_RESTORE_DURATION_MS = 40;
const OUTPUT_DRAIN_MS = 200;
const CLOSE_WAIT_MS = 2_000;

const PATHS = {
  register: '/2020-01-01/extension/register',
  next: '/2020-01-01/extension/event/next',
  initError: '/2020-01-01/extension/init/error',
  exitError: '/2020-01-01/extension/exit/error',
  telemetry: '/2022-07-01/telemetry',
  logs: '/2020-08-15/logs',
} as const;

const ExtensionEventType = { invoke: 'INVOKE', shutdown: 'SHUTDOWN' } as const;
type ExtensionEventType = (typeof ExtensionEventType)[keyof typeof ExtensionEventType];
const EXTENSION_EVENT_TYPES: readonly string[] = Object.values(ExtensionEventType);
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class LambdaEmulatorError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LambdaEmulatorError';
  }
}

export interface EmulatorOptions {
  command: string;
  args?: string[];
  env?: Record<string, string>;
  functionName?: string;
  /** Expected `Lambda-Extension-Name`; default basename(command) unless command is a node binary, then required. */
  extensionName?: string;
  /** Which Lambda to play (see the module comment). Default `lambda`. */
  mode?: SandboxMode;
  /** SnapStart: snapshot after init; the first invoke restores (see `restore()`). Default false. */
  snapStart?: boolean;
  /** False: the subscription is accepted but nothing is ever delivered (telemetry not flowing). Default true. */
  deliverTelemetry?: boolean;
  /** SIGSTOP the extension between events, like Lambda freezes the sandbox. Default true in `lambda` mode only. */
  freeze?: boolean;
  initTimeoutMs?: number;
  memorySizeMb?: number;
  region?: string;
}

export interface InvokeOptions {
  requestId?: string;
  /** Function log records: strings (text log format) or objects (JSON log format). */
  logs?: ReadonlyArray<string | Record<string, unknown>>;
  logSpacingMs?: number;
  /** Time the simulated runtime takes before `platform.runtimeDone`. */
  durationMs?: number;
  status?: InvocationStatus;
  /** Put in runtimeDone and report when status is not success. */
  errorType?: string;
  /** The function's timeout: INVOKE's deadlineMs is start + timeoutMs. */
  timeoutMs?: number;
}

export interface InvokeResult {
  requestId: string;
  /** 1 for the first invocation with this request id, 2+ for retries (same request id). */
  attempt: number;
  startedAtMs: number;
  /** When the runtime finished (platform.runtimeDone emitted). */
  runtimeDoneAtMs: number | undefined;
  /** When the listener answered the POST that carried this request's platform.runtimeDone. */
  runtimeDoneDeliveredAtMs: number | undefined;
  nextCalledAtMs: number | undefined;
  /** runtimeDone delivered (POST answered) -> next /next; NaN if runtimeDone not delivered before /next. */
  extensionOverheadMs: number;
  /** When the invocation ended (runtime done and /next called), or the deadline. */
  endedAtMs: number;
  /** The report's duration: start to end, the extension's time included. */
  durationMs: number;
  timedOut: boolean;
  /** The extension process exited during the invocation. */
  extensionExited: boolean;
}

export interface InitResult {
  ok: boolean;
  registered: boolean;
  durationMs: number;
  /** Lambda's error type when init failed: Extension.Crash, Sandbox.Timedout, or the type the extension posted to /init/error. */
  errorType: string | undefined;
  errorMessage: string | undefined;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

export interface ShutdownResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  elapsedMs: number;
  exitedBeforeDeadline: boolean;
  killed: boolean;
}

/** What an extension posted to /extension/init/error or /extension/exit/error. */
export interface ExtensionErrorReport {
  kind: 'init' | 'exit';
  errorType: string;
  body: string;
  atMs: number;
}

export interface LambdaEmulator {
  /** host:port, the value of AWS_LAMBDA_RUNTIME_API. */
  readonly runtimeApi: string;
  output(): string;
  readonly subscription: TelemetrySubscription | undefined;
  registeredName(): string | undefined;
  extensionId(): string | undefined;
  init(): Promise<InitResult>;
  /**
   * One invocation. Reusing an earlier request id plays Lambda's retry of a failed asynchronous
   * invocation. In `managed-instances` mode invocations may overlap (start several, await them all).
   */
  invoke(options?: InvokeOptions): Promise<InvokeResult>;
  /**
   * SnapStart: restores the sandbox from its snapshot (thaw, then `platform.restoreStart`,
   * `restoreRuntimeDone`, `restoreReport`). An invoke right after a snapshot restores first.
   */
  restore(options?: { durationMs?: number }): Promise<void>;
  /**
   * SnapStart: takes the snapshot (freeze) again. Lambda snapshots once, after init; a test may
   * snapshot later so that the extension holds open connections at the snapshot.
   */
  snapshot(): void;
  /** Why Lambda would end this environment, e.g. `Extension.Crash` when the extension exited before SHUTDOWN. */
  environmentError(): string | undefined;
  shutdown(options?: {
    reason?: 'spindown' | 'timeout' | 'failure';
    deadlineInMs?: number;
  }): Promise<ShutdownResult>;
  /** What was POSTed to the listener, with status, attempts included. */
  deliveries(): readonly TelemetryDelivery[];
  /** Every telemetry event the sandbox produced, subscribed or not. */
  events(): readonly TelemetryEvent[];
  extensionErrors(): readonly ExtensionErrorReport[];
  /** True while the extension's process group is stopped. */
  frozen(): boolean;
  /** The extension's process id (also its process group id). */
  pid(): number | undefined;
  /** Kills the process if alive (SIGCONT first if stopped), closes servers. */
  close(): Promise<void>;
}

interface RegisteredExtension {
  readonly id: string;
  readonly name: string;
  readonly events: readonly ExtensionEventType[];
  state: 'Registered' | 'Ready' | 'Failed';
}

interface Invocation {
  readonly requestId: string;
  readonly attempt: number;
  readonly startedAt: number;
  readonly tracing: Tracing;
  readonly timers: NodeJS.Timeout[];
  readonly resolve: (result: InvokeResult) => void;
  status: InvocationStatus;
  errorType: string | undefined;
  invokeDelivered: boolean;
  runtimeDoneAt: number | undefined;
  runtimeDoneDeliveredAt: number | undefined;
  nextCalledAt: number | undefined;
  extensionExited: boolean;
  ended: boolean;
}

type Phase = 'created' | 'init' | 'ready' | 'invoke' | 'shutdown' | 'failed' | 'closed';

/** Wall-clock milliseconds with sub-millisecond precision. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

function isNodeBinary(command: string): boolean {
  return command === process.execPath || /^node(\.exe)?$/.test(basename(command));
}

function describeExit(exit: ProcessExit): string {
  if (exit.spawnError !== undefined) return `could not start: ${exit.spawnError}`;
  return exit.signal === null ? `exited with code ${exit.code}` : `was killed by ${exit.signal}`;
}

function sleep(ms: number): { promise: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/**
 * Writes log `i` of an invocation `i * spacingMs` after its start, always in order: one timer at a
 * time, each writing every log that is due. (A timer per log is not enough: Node can fire timers of
 * fractional delays out of order when the loop runs late, and a runtime never reorders its output.)
 * Returns a function that writes, in order, every log due by `elapsedMs` (Infinity: all of them).
 */
function writeInOrder<T>(
  logs: readonly T[],
  spacingMs: number,
  timers: NodeJS.Timeout[],
  write: (log: T) => void,
): (elapsedMs: number) => void {
  const startedAt = now();
  let next = 0;
  const writeDue = (elapsedMs: number): void => {
    while (next < logs.length && next * spacingMs <= elapsedMs) write(logs[next++] as T);
  };
  const pump = (): void => {
    const elapsedMs = now() - startedAt;
    writeDue(elapsedMs);
    if (next < logs.length) timers.push(setTimeout(pump, Math.max(1, next * spacingMs - elapsedMs)));
  };
  pump();
  return writeDue;
}

class Emulator implements LambdaEmulator {
  readonly runtimeApi: string;
  private phase: Phase = 'created';
  private extension: RegisteredExtension | undefined;
  private pendingNext: ServerResponse | undefined;
  private queuedEvent: Record<string, unknown> | undefined;
  private current: Invocation | undefined;
  private readonly invocations = new Map<string, Invocation>();
  /** Managed Instances: invocations running at once (the extension gets no INVOKE there). */
  private readonly concurrent = new Set<{ timers: NodeJS.Timeout[]; finish: () => void }>();
  private readonly attempts = new Map<string, number>();
  private snapshotted = false;
  private restoreDurationForReport: number | undefined;
  private crash: string | undefined;
  private proc: ExtensionProcess | undefined;
  private dispatcher: TelemetryDispatcher | undefined;
  private subscribed: TelemetrySubscription | undefined;
  private readonly emitted: TelemetryEvent[] = [];
  private readonly delivered: TelemetryDelivery[] = [];
  private readonly errorReports: ExtensionErrorReport[] = [];
  private initStartedAt = 0;
  private initDurationForReport: number | undefined;
  private initTimer: NodeJS.Timeout | undefined;
  private settleInit: ((result: InitResult) => void) | undefined;

  constructor(
    private readonly server: http.Server,
    private readonly options: Required<
      Pick<
        EmulatorOptions,
        | 'functionName'
        | 'extensionName'
        | 'mode'
        | 'snapStart'
        | 'deliverTelemetry'
        | 'freeze'
        | 'initTimeoutMs'
        | 'memorySizeMb'
        | 'region'
      >
    > &
      Pick<EmulatorOptions, 'command' | 'args' | 'env'>,
  ) {
    const address = server.address() as AddressInfo;
    this.runtimeApi = `127.0.0.1:${address.port}`;
    server.on('request', (request, response) => {
      this.route(request, response).catch((error: unknown) => {
        sendError(response, 500, 'Runtime.Unknown', error instanceof Error ? error.message : String(error));
      });
    });
  }

  get subscription(): TelemetrySubscription | undefined {
    return this.subscribed;
  }

  output(): string {
    return this.proc?.output() ?? '';
  }

  registeredName(): string | undefined {
    return this.extension?.name;
  }

  extensionId(): string | undefined {
    return this.extension?.id;
  }

  deliveries(): readonly TelemetryDelivery[] {
    return this.delivered;
  }

  events(): readonly TelemetryEvent[] {
    return this.emitted;
  }

  extensionErrors(): readonly ExtensionErrorReport[] {
    return this.errorReports;
  }

  frozen(): boolean {
    return this.proc?.frozen ?? false;
  }

  environmentError(): string | undefined {
    return this.crash;
  }

  private get initializationType(): InitializationType {
    return initializationTypeOf(this.options.mode, this.options.snapStart);
  }

  pid(): number | undefined {
    return this.proc?.pid;
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  init(): Promise<InitResult> {
    if (this.phase !== 'created') {
      return Promise.reject(new LambdaEmulatorError(`init() runs once; the sandbox is ${this.phase}`));
    }
    this.phase = 'init';
    this.initStartedAt = now();
    this.emit(initStartEvent(this.initStartedAt, this.functionIdentity(), this.initializationType));
    const proc = ExtensionProcess.start({
      command: this.options.command,
      args: this.options.args ?? [],
      env: this.processEnv(),
      now,
      // Lambda forwards each line an extension prints as an `extension` telemetry event.
      onLine: (line) => {
        if (line !== '') this.emit(extensionLogEvent(now(), line));
      },
    });
    this.proc = proc;
    void proc.exited.then((exit) => this.onProcessExit(exit));
    return new Promise((resolve) => {
      this.settleInit = resolve;
      this.initTimer = setTimeout(() => {
        void this.failInit(
          'Sandbox.Timedout',
          `init did not finish within ${this.options.initTimeoutMs} ms: the extension ${
            this.extension === undefined ? 'never registered' : 'never called /event/next'
          }`,
        );
      }, this.options.initTimeoutMs);
    });
  }

  async invoke(options: InvokeOptions = {}): Promise<InvokeResult> {
    if (this.snapshotted && this.phase === 'ready') await this.restore();
    if (this.options.mode === SandboxMode.managedInstances) return this.invokeConcurrently(options);
    const extension = this.extension;
    if (this.phase !== 'ready' || extension === undefined) {
      return Promise.reject(
        new LambdaEmulatorError(`invoke() needs an initialized sandbox; it is ${this.phase}`),
      );
    }
    if (this.proc !== undefined && !this.proc.alive) {
      return Promise.reject(new LambdaEmulatorError(`the extension ${describeExit(this.proc.exitInfo!)}`));
    }
    this.phase = 'invoke';
    const startedAt = now();
    const requestId = options.requestId ?? randomUUID();
    const attempt = this.nextAttempt(requestId);
    const tracing = newTracing(startedAt);
    const timeoutMs = options.timeoutMs ?? DEFAULT_INVOKE_TIMEOUT_MS;
    return new Promise((resolve) => {
      const invocation: Invocation = {
        requestId,
        attempt,
        startedAt,
        tracing,
        timers: [],
        resolve,
        status: options.status ?? 'success',
        errorType: options.errorType,
        invokeDelivered: false,
        runtimeDoneAt: undefined,
        runtimeDoneDeliveredAt: undefined,
        nextCalledAt: undefined,
        extensionExited: false,
        ended: false,
      };
      this.current = invocation;
      this.invocations.set(requestId, invocation);
      this.thaw();
      this.emit(startEvent(startedAt, requestId, FUNCTION_VERSION, tracing));
      if (extension.events.includes(ExtensionEventType.invoke)) {
        this.deliver({
          eventType: ExtensionEventType.invoke,
          deadlineMs: Math.round(startedAt + timeoutMs),
          requestId,
          invokedFunctionArn: this.functionArn(),
          tracing: { type: tracing.type, value: tracing.value },
        });
      }
      this.simulateRuntime(invocation, options);
      invocation.timers.push(setTimeout(() => this.onDeadline(invocation), timeoutMs));
    });
  }

  async shutdown(
    options: { reason?: 'spindown' | 'timeout' | 'failure'; deadlineInMs?: number } = {},
  ): Promise<ShutdownResult> {
    const proc = this.proc;
    const startedAt = now();
    if (proc === undefined || !proc.alive) {
      const exit = proc?.exitInfo;
      return {
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        elapsedMs: 0,
        exitedBeforeDeadline: true,
        killed: false,
      };
    }
    if (this.current !== undefined || this.concurrent.size > 0) {
      throw new LambdaEmulatorError('shutdown() while an invocation runs; await invoke() first');
    }
    if (this.phase === 'shutdown') throw new LambdaEmulatorError('shutdown() runs once');
    this.phase = 'shutdown';
    const deadlineInMs = options.deadlineInMs ?? DEFAULT_SHUTDOWN_DEADLINE_MS;
    this.thaw();
    // The last invocation's report etc. go out now, without waiting for the buffering timeout.
    const flushed = this.dispatcher?.flushAll();
    if (this.options.mode === SandboxMode.managedInstances && flushed !== undefined) {
      // Managed Instances: telemetry is flushed (at most 1 s) before extensions get SHUTDOWN, whose
      // deadline still counts from the start of the shutdown.
      const cap = sleep(MANAGED_INSTANCES_TELEMETRY_FLUSH_MS);
      await Promise.race([flushed, cap.promise]);
      cap.cancel();
    }
    let killed = false;
    const extension = this.extension;
    if (extension?.events.includes(ExtensionEventType.shutdown) && extension.state !== 'Failed') {
      this.deliver({
        eventType: ExtensionEventType.shutdown,
        shutdownReason: options.reason ?? 'spindown',
        deadlineMs: Math.round(startedAt + deadlineInMs),
      });
    } else {
      // Lambda waits only for extensions registered for SHUTDOWN.
      proc.kill();
      killed = true;
    }
    const deadline = sleep(deadlineInMs);
    const exitedBeforeDeadline = await Promise.race([
      proc.exited.then(() => true),
      deadline.promise.then(() => false),
    ]);
    deadline.cancel();
    if (!exitedBeforeDeadline) {
      proc.kill();
      killed = true;
    }
    const exit = await proc.exited;
    await this.drainOutput(proc);
    this.dispatcher?.stop();
    return {
      exitCode: exit.code,
      signal: exit.signal,
      elapsedMs: exit.atMs - startedAt,
      exitedBeforeDeadline,
      killed,
    };
  }

  async close(): Promise<void> {
    if (this.phase === 'closed') return;
    const wasInit = this.phase === 'init';
    this.phase = 'closed';
    clearTimeout(this.initTimer);
    this.dispatcher?.stop();
    if (this.current !== undefined) this.endInvocation(this.current, true);
    for (const invocation of [...this.concurrent]) invocation.finish();
    const proc = this.proc;
    if (proc !== undefined) {
      proc.kill();
      const wait = sleep(CLOSE_WAIT_MS);
      await Promise.race([proc.exited, wait.promise]);
      wait.cancel();
      proc.kill();
      proc.release();
      if (wasInit) this.finishInit(false, 'Emulator.Closed', 'the emulator was closed during init');
    }
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- runtime simulation ---------------------------------------------------------------------

  private simulateRuntime(invocation: Invocation, options: InvokeOptions): void {
    const logs = options.logs ?? [];
    const spacingMs = options.logSpacingMs ?? 0;
    const writeDue = writeInOrder(logs, spacingMs, invocation.timers, (log) =>
      this.emit(functionLogEvent(now(), invocation.requestId, log)),
    );
    const lastLogMs = Math.max(0, logs.length - 1) * spacingMs;
    const doneMs = Math.max(options.durationMs ?? DEFAULT_INVOKE_DURATION_MS, lastLogMs);
    invocation.timers.push(
      setTimeout(() => {
        writeDue(Number.POSITIVE_INFINITY);
        this.runtimeFinished(invocation, invocation.status);
      }, doneMs),
    );
  }

  private runtimeFinished(invocation: Invocation, status: InvocationStatus): void {
    if (invocation.runtimeDoneAt !== undefined || invocation.ended) return;
    const at = now();
    invocation.runtimeDoneAt = at;
    invocation.status = status;
    this.emit(
      runtimeDoneEvent(at, {
        requestId: invocation.requestId,
        status,
        errorType: status === 'success' ? undefined : invocation.errorType,
        startedAt: invocation.startedAt,
        tracing: invocation.tracing,
        producedBytes: 0,
      }),
    );
    this.maybeEndInvocation(invocation);
  }

  /** An invocation ends when the runtime is done and every INVOKE subscriber has called /next again. */
  private maybeEndInvocation(invocation: Invocation): void {
    if (invocation.ended || invocation.runtimeDoneAt === undefined) return;
    const waitsForExtension = invocation.invokeDelivered && !invocation.extensionExited;
    if (waitsForExtension && invocation.nextCalledAt === undefined) return;
    this.endInvocation(invocation, false);
  }

  private onDeadline(invocation: Invocation): void {
    if (invocation.ended) return;
    this.runtimeFinished(invocation, 'timeout');
    if (!invocation.ended) this.endInvocation(invocation, true);
  }

  private endInvocation(invocation: Invocation, timedOut: boolean): void {
    invocation.ended = true;
    for (const timer of invocation.timers) clearTimeout(timer);
    const endedAt = now();
    if (this.current === invocation) this.current = undefined;
    if (this.phase === 'invoke') this.phase = 'ready';
    // Freeze first: nothing may be delivered between the end of the invocation and the next event.
    // After a timeout Lambda would reset the sandbox; here the extension just keeps running.
    if (!timedOut) this.freezeSandbox();
    const status = timedOut ? 'timeout' : invocation.status;
    if (this.phase !== 'closed') {
      this.emit(
        reportEvent(endedAt, {
          requestId: invocation.requestId,
          status,
          errorType: status === 'success' ? undefined : invocation.errorType,
          durationMs: endedAt - invocation.startedAt,
          memorySizeMB: this.options.memorySizeMb,
          maxMemoryUsedMB: this.proc?.maxMemoryUsedMb() ?? 0,
          initDurationMs: this.initDurationForReport,
          restoreDurationMs: this.restoreDurationForReport,
          tracing: invocation.tracing,
        }),
      );
      this.initDurationForReport = undefined;
      this.restoreDurationForReport = undefined;
    }
    const delivered = invocation.runtimeDoneDeliveredAt;
    const next = invocation.nextCalledAt;
    invocation.resolve({
      requestId: invocation.requestId,
      attempt: invocation.attempt,
      startedAtMs: invocation.startedAt,
      runtimeDoneAtMs: invocation.runtimeDoneAt,
      runtimeDoneDeliveredAtMs: delivered,
      nextCalledAtMs: next,
      extensionOverheadMs:
        delivered !== undefined && next !== undefined && delivered <= next ? next - delivered : Number.NaN,
      endedAtMs: endedAt,
      durationMs: endedAt - invocation.startedAt,
      timedOut,
      extensionExited: invocation.extensionExited,
    });
  }

  // ---- init ------------------------------------------------------------------------------------

  private completeInit(extension: RegisteredExtension): void {
    clearTimeout(this.initTimer);
    const at = now();
    const durationMs = at - this.initStartedAt;
    // SnapStart: the REPORT of a restored sandbox has a Restore Duration, never an Init Duration.
    this.initDurationForReport = this.options.snapStart ? undefined : durationMs;
    this.phase = 'ready';
    this.freezeSandbox();
    this.emit(extensionStateEvent(at, extension.name, extension.events));
    this.emit(initReportEvent(at, durationMs, 'success', undefined, this.initializationType));
    if (this.options.snapStart) this.snapshot();
    this.finishInit(true, undefined, undefined);
  }

  private async failInit(errorType: string, errorMessage: string): Promise<void> {
    if (this.phase !== 'init') return;
    clearTimeout(this.initTimer);
    this.phase = 'failed';
    const at = now();
    this.emit(initReportEvent(at, at - this.initStartedAt, 'error', errorType, this.initializationType));
    if (this.extension !== undefined) this.extension.state = 'Failed';
    // Lambda resets a sandbox whose init failed.
    const proc = this.proc;
    if (proc !== undefined) {
      proc.kill();
      await proc.exited;
      await this.drainOutput(proc);
    }
    this.finishInit(false, errorType, errorMessage);
  }

  private finishInit(ok: boolean, errorType: string | undefined, errorMessage: string | undefined): void {
    const settle = this.settleInit;
    this.settleInit = undefined;
    const exit = this.proc?.exitInfo;
    settle?.({
      ok,
      registered: this.extension !== undefined,
      durationMs: now() - this.initStartedAt,
      errorType,
      errorMessage,
      exitCode: exit?.code ?? null,
      signal: exit?.signal ?? null,
    });
  }

  private onProcessExit(exit: ProcessExit): void {
    if (this.phase === 'init') {
      const stage = this.extension === undefined ? 'registering' : 'calling /event/next';
      void this.failInit('Extension.Crash', `the extension ${describeExit(exit)} before ${stage}`);
      return;
    }
    // Lambda ends an environment whose extension exits before SHUTDOWN, even with status 0.
    if (this.phase === 'ready' || this.phase === 'invoke') this.crash = 'Extension.Crash';
    // Nobody listens any more: stop delivering.
    this.dispatcher?.stop();
    const invocation = this.current;
    if (invocation !== undefined) {
      invocation.extensionExited = true;
      this.maybeEndInvocation(invocation);
    }
  }

  // ---- freeze ----------------------------------------------------------------------------------

  private freezeSandbox(): void {
    if (this.options.freeze) this.proc?.freeze();
  }

  private thaw(): void {
    this.proc?.thaw();
    this.dispatcher?.pump();
  }

  private async drainOutput(proc: ExtensionProcess): Promise<void> {
    const wait = sleep(OUTPUT_DRAIN_MS);
    await Promise.race([proc.outputClosed, wait.promise]);
    wait.cancel();
  }

  // ---- telemetry -------------------------------------------------------------------------------

  private emit(event: TelemetryEvent): void {
    this.emitted.push(event);
    if (!this.options.deliverTelemetry) return;
    if (this.subscribed?.types.includes(telemetryTypeOf(event))) this.dispatcher?.enqueue(event);
  }

  private subscribe(subscription: TelemetrySubscription, extension: RegisteredExtension): void {
    const first = this.subscribed === undefined;
    this.dispatcher?.stop();
    this.subscribed = subscription;
    const dispatcher = new TelemetryDispatcher({
      subscription,
      post: postTelemetryBatch,
      now,
      isPaused: () => this.proc?.frozen ?? false,
      onDelivery: (delivery) => this.onDelivery(delivery),
      dropWhenBusy: this.options.mode === SandboxMode.managedInstances,
    });
    this.dispatcher = dispatcher;
    // Lambda keeps what happened since init started and hands it to the first subscriber.
    if (first && this.options.deliverTelemetry) {
      for (const event of this.emitted) {
        if (subscription.types.includes(telemetryTypeOf(event))) dispatcher.enqueue(event);
      }
    }
    this.emit(telemetrySubscriptionEvent(now(), extension.name, subscription.types));
  }

  private onDelivery(delivery: TelemetryDelivery): void {
    this.delivered.push(delivery);
    if (!delivery.ok) return;
    for (const event of delivery.events) {
      if (event.type !== 'platform.runtimeDone') continue;
      const requestId = (event.record as { requestId?: string }).requestId;
      // A retry reuses the request id: the map holds its latest attempt.
      const invocation = requestId === undefined ? undefined : this.invocations.get(requestId);
      if (invocation !== undefined && invocation.runtimeDoneDeliveredAt === undefined) {
        invocation.runtimeDoneDeliveredAt = delivery.answeredAtMs;
      }
    }
  }

  // ---- Extensions API --------------------------------------------------------------------------

  private deliver(event: Record<string, unknown>): void {
    const response = this.pendingNext;
    if (response === undefined) {
      this.queuedEvent = event;
      return;
    }
    this.pendingNext = undefined;
    if (event.eventType === ExtensionEventType.invoke && this.current !== undefined) {
      this.current.invokeDelivered = true;
    }
    sendJson(response, 200, event, { 'Lambda-Extension-Event-Identifier': randomUUID() });
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0]?.replace(/\/+$/, '') ?? '';
    const routes: Record<string, [string, () => Promise<void> | void]> = {
      [PATHS.register]: ['POST', () => this.handleRegister(request, response)],
      [PATHS.next]: ['GET', () => this.handleNext(request, response)],
      [PATHS.initError]: ['POST', () => this.handleErrorReport('init', request, response)],
      [PATHS.exitError]: ['POST', () => this.handleErrorReport('exit', request, response)],
      [PATHS.telemetry]: ['PUT', () => this.handleSubscribe(request, response)],
    };
    if (this.options.mode === SandboxMode.rie) {
      routes[PATHS.logs] = ['PUT', () => this.handleNotSupported(request, response, LOGS_NOT_SUPPORTED)];
    }
    const route = routes[path];
    if (route === undefined) {
      sendError(response, 404, 'InvalidRequest', `no such path: ${path}`);
      return;
    }
    if (request.method !== route[0]) {
      sendError(response, 405, 'InvalidRequest', `${path} accepts ${route[0]}, not ${request.method}`);
      return;
    }
    await route[1]();
  }

  private async handleRegister(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const name = header(request, 'Lambda-Extension-Name');
    const body = await readBody(request);
    if (name === undefined) {
      sendError(response, 403, 'Extension.InvalidExtensionName', 'Empty extension name');
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      sendError(response, 403, 'InvalidRequestFormat', (error as Error).message);
      return;
    }
    const fields = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    if (Array.isArray(fields.configurationKeys) && fields.configurationKeys.length > 0) {
      sendError(
        response,
        403,
        'InvalidRequestFormat',
        'configurationKeys are deprecated; use environment variables instead',
      );
      return;
    }
    const events = fields.events ?? [];
    if (!Array.isArray(events)) {
      sendError(response, 403, 'InvalidRequestFormat', 'events must be an array');
      return;
    }
    const badEvent = events.find((e) => typeof e !== 'string' || !EXTENSION_EVENT_TYPES.includes(e));
    if (badEvent !== undefined) {
      sendError(
        response,
        403,
        'Extension.InvalidEventType',
        `${String(badEvent)}: external extensions may register for INVOKE and SHUTDOWN only`,
      );
      return;
    }
    const refusal = registrationRefusal(this.options.mode, events as string[]);
    if (refusal !== undefined) {
      sendError(response, 403, refusal.errorType, refusal.errorMessage);
      return;
    }
    if (name !== this.options.extensionName) {
      if (this.phase !== 'created' && this.phase !== 'init') {
        sendError(response, 403, 'Extension.RegistrationClosed', 'Extension registration closed already');
      } else {
        sendError(
          response,
          403,
          'Extension.InvalidExtensionName',
          `no external extension named ${name}: Lambda-Extension-Name must be the file name of the extension (${this.options.extensionName})`,
        );
      }
      return;
    }
    if (this.extension !== undefined) {
      sendError(
        response,
        403,
        'Extension.InvalidExtensionState',
        `State transition from ${this.extension.state} to Registered failed for extension ${name}. Error: State transition is not allowed`,
      );
      return;
    }
    const extension: RegisteredExtension = {
      id: randomUUID(),
      name,
      events: events as ExtensionEventType[],
      state: 'Registered',
    };
    this.extension = extension;
    const wantsAccountId = header(request, 'Lambda-Extension-Accept-Feature')?.includes('accountId') ?? false;
    sendJson(
      response,
      200,
      {
        functionName: this.options.functionName,
        functionVersion: FUNCTION_VERSION,
        handler: FUNCTION_HANDLER,
        ...(wantsAccountId ? { accountId: ACCOUNT_ID } : {}),
      },
      { 'Lambda-Extension-Identifier': extension.id },
    );
    // The runtime starts once every extension has registered; this one is quick.
    if (this.phase === 'init') {
      this.emit(initRuntimeDoneEvent(now(), 'success', undefined, this.initializationType));
    }
  }

  private async handleNext(request: IncomingMessage, response: ServerResponse): Promise<void> {
    await readBody(request);
    const extension = this.authenticate(request, response);
    if (extension === undefined) return;
    if (extension.state === 'Failed') {
      sendError(
        response,
        403,
        'Extension.InvalidExtensionState',
        `State transition from Failed to Ready failed for extension ${extension.id}. Error: State transition is not allowed`,
      );
      return;
    }
    const at = now();
    this.pendingNext = response;
    response.on('close', () => {
      if (this.pendingNext === response) this.pendingNext = undefined;
    });
    if (extension.state === 'Registered') {
      extension.state = 'Ready';
      if (this.phase === 'init') this.completeInit(extension);
    } else {
      const invocation = this.current;
      if (invocation?.invokeDelivered && invocation.nextCalledAt === undefined) {
        invocation.nextCalledAt = at;
        this.maybeEndInvocation(invocation);
      }
    }
    const queued = this.queuedEvent;
    if (queued !== undefined) {
      this.queuedEvent = undefined;
      this.deliver(queued);
    }
  }

  private async handleErrorReport(
    kind: 'init' | 'exit',
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    const body = await readBody(request);
    const extension = this.authenticate(request, response);
    if (extension === undefined) return;
    const errorType = header(request, 'Lambda-Extension-Function-Error-Type');
    if (errorType === undefined) {
      sendError(response, 403, 'Extension.MissingHeader', 'Lambda-Extension-Function-Error-Type not found');
      return;
    }
    if (kind === 'init' && this.phase !== 'init') {
      sendError(
        response,
        403,
        'Extension.InvalidExtensionState',
        `State transition from ${extension.state} to InitError failed for extension ${extension.id}. Error: init is over`,
      );
      return;
    }
    this.errorReports.push({ kind, errorType, body, atMs: now() });
    sendJson(response, 202, { status: 'OK' });
    extension.state = 'Failed';
    if (kind === 'init') void this.failInit(errorType, `the extension reported an init error: ${body}`);
  }

  private async handleSubscribe(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (this.options.mode === SandboxMode.rie) {
      await this.handleNotSupported(request, response, TELEMETRY_NOT_SUPPORTED);
      return;
    }
    const body = await readBody(request);
    const extension = this.authenticate(request, response);
    if (extension === undefined) return;
    const parsed = parseSubscription(body);
    if (!parsed.ok) {
      sendError(response, 400, 'ValidationError', parsed.errorMessage);
      return;
    }
    const refusal = subscriptionRefusal(this.options.mode, parsed.subscription, this.phase === 'init');
    if (refusal !== undefined) {
      sendError(response, refusal.status, refusal.errorType, refusal.errorMessage);
      return;
    }
    sendText(response, 200, 'OK');
    this.subscribe(parsed.subscription, extension);
  }

  /** aws-lambda-rie: a 202 whose body says the API is not supported; nothing is ever delivered. */
  private async handleNotSupported(
    request: IncomingMessage,
    response: ServerResponse,
    answer: { readonly errorMessage: string; readonly errorType: string },
  ): Promise<void> {
    await readBody(request);
    if (this.authenticate(request, response) === undefined) return;
    sendJson(response, 202, answer);
  }

  private authenticate(request: IncomingMessage, response: ServerResponse): RegisteredExtension | undefined {
    const id = header(request, 'Lambda-Extension-Identifier');
    if (id === undefined) {
      sendError(
        response,
        403,
        'Extension.MissingExtensionIdentifier',
        'Missing Lambda-Extension-Identifier header',
      );
      return undefined;
    }
    if (!UUID_PATTERN.test(id)) {
      sendError(response, 403, 'Extension.InvalidExtensionIdentifier', 'Invalid Lambda-Extension-Identifier');
      return undefined;
    }
    if (this.extension === undefined || this.extension.id !== id) {
      sendError(response, 403, 'Extension.UnknownExtensionIdentifier', `Unknown extension ${id}`);
      return undefined;
    }
    return this.extension;
  }

  // ---- environment -----------------------------------------------------------------------------

  private functionIdentity(): { functionName: string; functionVersion: string; region: string } {
    return {
      functionName: this.options.functionName,
      functionVersion: FUNCTION_VERSION,
      region: this.options.region,
    };
  }

  private nextAttempt(requestId: string): number {
    const attempt = (this.attempts.get(requestId) ?? 0) + 1;
    this.attempts.set(requestId, attempt);
    return attempt;
  }

  // ---- SnapStart ---------------------------------------------------------------------------------

  snapshot(): void {
    if (!this.options.snapStart) throw new LambdaEmulatorError('snapshot() needs snapStart: true');
    this.snapshotted = true;
    this.proc?.freeze();
  }

  async restore(options: { durationMs?: number } = {}): Promise<void> {
    if (!this.options.snapStart) throw new LambdaEmulatorError('restore() needs snapStart: true');
    if (!this.snapshotted || this.phase !== 'ready') {
      throw new LambdaEmulatorError(`restore() needs a snapshotted sandbox; it is ${this.phase}`);
    }
    this.snapshotted = false;
    const startedAt = now();
    this.thaw();
    this.emit(restoreStartEvent(startedAt, this.functionIdentity()));
    const durationMs = options.durationMs ?? DEFAULT_RESTORE_DURATION_MS;
    await sleep(durationMs).promise;
    const at = now();
    this.emit(restoreRuntimeDoneEvent(at, 'success'));
    this.emit(restoreReportEvent(at, at - startedAt, 'success'));
    this.restoreDurationForReport = at - startedAt;
  }

  // ---- Managed Instances -------------------------------------------------------------------------

  /**
   * Lambda Managed Instances: the runtime takes invocations concurrently and extensions get no INVOKE.
   * `platform.start` and `platform.report` carry the request id, there is no `platform.runtimeDone`,
   * and function logs use the JSON log format (each record has its request id).
   */
  private invokeConcurrently(options: InvokeOptions): Promise<InvokeResult> {
    if (this.phase !== 'ready' && this.phase !== 'invoke') {
      return Promise.reject(
        new LambdaEmulatorError(`invoke() needs an initialized sandbox; it is ${this.phase}`),
      );
    }
    const startedAt = now();
    const requestId = options.requestId ?? randomUUID();
    const attempt = this.nextAttempt(requestId);
    const tracing = newTracing(startedAt);
    const status = options.status ?? 'success';
    this.emit(startEvent(startedAt, requestId, FUNCTION_VERSION, tracing));
    return new Promise((resolve) => {
      const timers: NodeJS.Timeout[] = [];
      const entry = {
        timers,
        finish: () => {
          for (const timer of timers) clearTimeout(timer);
          if (!this.concurrent.delete(entry)) return;
          const at = now();
          if (this.phase !== 'closed') {
            this.emit(
              managedInstancesReportEvent(at, { requestId, status, durationMs: at - startedAt, tracing }),
            );
          }
          resolve({
            requestId,
            attempt,
            startedAtMs: startedAt,
            runtimeDoneAtMs: at,
            runtimeDoneDeliveredAtMs: undefined,
            nextCalledAtMs: undefined,
            extensionOverheadMs: Number.NaN,
            endedAtMs: at,
            durationMs: at - startedAt,
            timedOut: false,
            extensionExited: !(this.proc?.alive ?? false),
          });
        },
      };
      this.concurrent.add(entry);
      const logs = options.logs ?? [];
      const spacingMs = options.logSpacingMs ?? 0;
      const writeDue = writeInOrder(logs, spacingMs, timers, (log) => {
        const record = typeof log === 'string' ? { message: log } : log;
        this.emit(functionLogEvent(now(), requestId, record));
      });
      const doneMs = Math.max(
        options.durationMs ?? DEFAULT_INVOKE_DURATION_MS,
        (logs.length - 1) * spacingMs,
      );
      timers.push(
        setTimeout(
          () => {
            writeDue(Number.POSITIVE_INFINITY);
            entry.finish();
          },
          Math.max(0, doneMs),
        ),
      );
    });
  }

  private functionArn(): string {
    return `arn:aws:lambda:${this.options.region}:${ACCOUNT_ID}:function:${this.options.functionName}`;
  }

  /** What Lambda gives an extension process: nothing of the test runner's environment but PATH. */
  private processEnv(): Record<string, string> {
    const { functionName, region, memorySizeMb } = this.options;
    return {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      TMPDIR: tmpdir(),
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      ...this.options.env,
      AWS_LAMBDA_RUNTIME_API: this.runtimeApi,
      AWS_LAMBDA_FUNCTION_NAME: functionName,
      AWS_LAMBDA_FUNCTION_VERSION: FUNCTION_VERSION,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memorySizeMb),
      AWS_LAMBDA_INITIALIZATION_TYPE: this.initializationType,
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `2024/01/01/[${FUNCTION_VERSION}]${randomUUID().replaceAll('-', '')}`,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
    };
  }
}

/** Starts the Runtime API server on 127.0.0.1 (ephemeral port); call `init()` to start the extension. */
export async function startLambdaEmulator(options: EmulatorOptions): Promise<LambdaEmulator> {
  const extensionName =
    options.extensionName ?? (isNodeBinary(options.command) ? undefined : basename(options.command));
  if (extensionName === undefined) {
    throw new LambdaEmulatorError(
      'extensionName is required when command is a node binary: Lambda expects the extension file name',
    );
  }
  const mode = options.mode ?? SandboxMode.lambda;
  const server = http.createServer();
  // Idle keep-alive connections must survive a long freeze, as they do in Lambda.
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return new Emulator(server, {
    command: options.command,
    args: options.args ?? [],
    env: options.env ?? {},
    functionName: options.functionName ?? DEFAULT_FUNCTION_NAME,
    extensionName,
    mode,
    snapStart: options.snapStart ?? false,
    deliverTelemetry: options.deliverTelemetry ?? true,
    // Only Lambda itself freezes the sandbox between events; the RIE and Managed Instances do not.
    freeze: options.freeze ?? mode === SandboxMode.lambda,
    initTimeoutMs: options.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS,
    memorySizeMb: options.memorySizeMb ?? DEFAULT_MEMORY_SIZE_MB,
    region: options.region ?? DEFAULT_REGION,
  });
}
