/**
 * Telemetry API events as Lambda sends them (schema `2022-12-13`), built from plain values.
 * Pure functions: the emulator decides when each event happens.
 */
import { randomBytes } from 'node:crypto';

export const TelemetryType = {
  platform: 'platform',
  function: 'function',
  extension: 'extension',
} as const;
export type TelemetryType = (typeof TelemetryType)[keyof typeof TelemetryType];

export type InvocationStatus = 'success' | 'error' | 'timeout' | 'failure';

/** One element of the JSON array Lambda POSTs to the listener. */
export interface TelemetryEvent {
  readonly time: string;
  readonly type: string;
  readonly record: unknown;
}

export interface Tracing {
  readonly spanId: string;
  readonly type: 'X-Amzn-Trace-Id';
  readonly value: string;
}

/** The subscription type (`platform`, `function`, `extension`) an event belongs to. */
export function telemetryTypeOf(event: TelemetryEvent): TelemetryType {
  if (event.type === 'function') return TelemetryType.function;
  if (event.type === 'extension') return TelemetryType.extension;
  return TelemetryType.platform;
}

/** Bytes the event counts for against `buffering.maxBytes`: its compact JSON, UTF-8. */
export function eventBytes(event: TelemetryEvent): number {
  return Buffer.byteLength(JSON.stringify(event));
}

export function isoTime(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** Milliseconds as Lambda reports them: a float with at most three decimals. */
export function roundMs(ms: number): number {
  return Math.round(Math.max(0, ms) * 1000) / 1000;
}

/** An X-Ray trace header like the one Lambda puts in INVOKE events. */
export function newTracing(epochMs: number): Tracing {
  const seconds = Math.floor(epochMs / 1000).toString(16);
  const root = `1-${seconds}-${randomBytes(12).toString('hex')}`;
  const parent = randomBytes(8).toString('hex');
  return {
    spanId: randomBytes(8).toString('hex'),
    type: 'X-Amzn-Trace-Id',
    value: `Root=${root};Parent=${parent};Sampled=0`,
  };
}

/** `AWS_LAMBDA_INITIALIZATION_TYPE` and the init events' `initializationType`. */
export type InitializationType =
  | 'on-demand'
  | 'provisioned-concurrency'
  | 'snap-start'
  | 'lambda-managed-instances';
const RUNTIME_VERSION = 'nodejs:20.v1';

function runtimeVersionArn(region: string): string {
  return `arn:aws:lambda:${region}::runtime:0000000000000000000000000000000000000000000000000000000000000000`;
}

export function initStartEvent(
  at: number,
  fn: { functionName: string; functionVersion: string; region: string },
  initializationType: InitializationType = 'on-demand',
): TelemetryEvent {
  return {
    time: isoTime(at),
    type: 'platform.initStart',
    record: {
      initializationType,
      phase: 'init',
      runtimeVersion: RUNTIME_VERSION,
      runtimeVersionArn: runtimeVersionArn(fn.region),
      functionName: fn.functionName,
      functionVersion: fn.functionVersion,
    },
  };
}

export function initRuntimeDoneEvent(
  at: number,
  status: InvocationStatus,
  errorType?: string,
  initializationType: InitializationType = 'on-demand',
): TelemetryEvent {
  return {
    time: isoTime(at),
    type: 'platform.initRuntimeDone',
    record: {
      initializationType,
      phase: 'init',
      status,
      ...(errorType === undefined ? {} : { errorType }),
    },
  };
}

export function initReportEvent(
  at: number,
  durationMs: number,
  status: InvocationStatus,
  errorType?: string,
  initializationType: InitializationType = 'on-demand',
): TelemetryEvent {
  return {
    time: isoTime(at),
    type: 'platform.initReport',
    record: {
      initializationType,
      phase: 'init',
      status,
      ...(errorType === undefined ? {} : { errorType }),
      metrics: { durationMs: roundMs(durationMs) },
    },
  };
}

export function extensionStateEvent(at: number, name: string, events: readonly string[]): TelemetryEvent {
  return {
    time: isoTime(at),
    type: 'platform.extension',
    record: { name, state: 'Ready', events: [...events] },
  };
}

export function telemetrySubscriptionEvent(
  at: number,
  name: string,
  types: readonly string[],
): TelemetryEvent {
  return {
    time: isoTime(at),
    type: 'platform.telemetrySubscription',
    record: { name, state: 'Subscribed', types: [...types] },
  };
}

export function logsDroppedEvent(at: number, droppedRecords: number, droppedBytes: number): TelemetryEvent {
  return {
    time: isoTime(at),
    type: 'platform.logsDropped',
    record: {
      reason:
        'Some logs were dropped because the downstream consumer is slower than the logs production rate',
      droppedRecords,
      droppedBytes,
    },
  };
}

export function startEvent(at: number, requestId: string, version: string, tracing: Tracing): TelemetryEvent {
  return { time: isoTime(at), type: 'platform.start', record: { requestId, version, tracing } };
}

export function runtimeDoneEvent(
  at: number,
  r: {
    requestId: string;
    status: InvocationStatus;
    errorType?: string | undefined;
    startedAt: number;
    tracing: Tracing;
    producedBytes: number;
  },
): TelemetryEvent {
  const durationMs = roundMs(at - r.startedAt);
  return {
    time: isoTime(at),
    type: 'platform.runtimeDone',
    record: {
      requestId: r.requestId,
      status: r.status,
      ...(r.errorType === undefined ? {} : { errorType: r.errorType }),
      tracing: r.tracing,
      spans: [
        { name: 'responseLatency', start: isoTime(r.startedAt), durationMs },
        { name: 'responseDuration', start: isoTime(at), durationMs: 0 },
      ],
      metrics: { durationMs, producedBytes: r.producedBytes },
    },
  };
}

export function reportEvent(
  at: number,
  r: {
    requestId: string;
    status: InvocationStatus;
    errorType?: string | undefined;
    durationMs: number;
    memorySizeMB: number;
    maxMemoryUsedMB: number;
    initDurationMs?: number | undefined;
    /** SnapStart: the first invocation after a restore reports the restore instead of an init. */
    restoreDurationMs?: number | undefined;
    tracing: Tracing;
  },
): TelemetryEvent {
  const durationMs = roundMs(r.durationMs);
  return {
    time: isoTime(at),
    type: 'platform.report',
    record: {
      requestId: r.requestId,
      status: r.status,
      ...(r.errorType === undefined ? {} : { errorType: r.errorType }),
      metrics: {
        durationMs,
        // Lambda bills in 1 ms increments, rounded up.
        billedDurationMs: Math.ceil(durationMs),
        memorySizeMB: r.memorySizeMB,
        maxMemoryUsedMB: r.maxMemoryUsedMB,
        ...(r.initDurationMs === undefined ? {} : { initDurationMs: roundMs(r.initDurationMs) }),
        ...(r.restoreDurationMs === undefined
          ? {}
          : {
              restoreDurationMs: roundMs(r.restoreDurationMs),
              // Lambda bills the runtime's part of a restore, not the snapshot load; here about half.
              billedRestoreDurationMs: Math.ceil(r.restoreDurationMs / 2),
            }),
      },
      tracing: r.tracing,
    },
  };
}

/**
 * A function log record. Text log format: the string as the runtime wrote it. JSON log format: the
 * object, completed with the fields Lambda's JSON format always has.
 */
export function functionLogEvent(
  at: number,
  requestId: string,
  log: string | Readonly<Record<string, unknown>>,
): TelemetryEvent {
  const record = typeof log === 'string' ? log : { timestamp: isoTime(at), level: 'INFO', requestId, ...log };
  return { time: isoTime(at), type: 'function', record };
}

export function extensionLogEvent(at: number, line: string): TelemetryEvent {
  return { time: isoTime(at), type: 'extension', record: line };
}

/**
 * Lambda Managed Instances (schema 2025-01-29): the report carries the request id and the duration
 * only; there is no per-invocation `platform.runtimeDone`.
 */
export function managedInstancesReportEvent(
  at: number,
  r: { requestId: string; status: InvocationStatus; durationMs: number; tracing: Tracing },
): TelemetryEvent {
  return {
    time: isoTime(at),
    type: 'platform.report',
    record: {
      requestId: r.requestId,
      status: r.status,
      metrics: { durationMs: roundMs(r.durationMs) },
      tracing: r.tracing,
    },
  };
}

/** SnapStart: a sandbox is being restored from the snapshot taken after init. */
export function restoreStartEvent(
  at: number,
  fn: { functionName: string; functionVersion: string; region: string },
): TelemetryEvent {
  return {
    time: isoTime(at),
    type: 'platform.restoreStart',
    record: {
      runtimeVersion: RUNTIME_VERSION,
      runtimeVersionArn: runtimeVersionArn(fn.region),
      functionName: fn.functionName,
      functionVersion: fn.functionVersion,
    },
  };
}

export function restoreRuntimeDoneEvent(at: number, status: InvocationStatus): TelemetryEvent {
  return { time: isoTime(at), type: 'platform.restoreRuntimeDone', record: { status } };
}

export function restoreReportEvent(at: number, durationMs: number, status: InvocationStatus): TelemetryEvent {
  return {
    time: isoTime(at),
    type: 'platform.restoreReport',
    record: { status, metrics: { durationMs: roundMs(durationMs) } },
  };
}
