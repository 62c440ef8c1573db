import { ENV_VARS, type ExtensionConfig, type LogType, type LokiAuth } from './config.js';
import { DeliveryReport } from './delivery-report.js';
import { EntryMaker, noticeEntry } from './entries.js';
import { EntryBuffer } from './entry-buffer.js';
import { EventLoop } from './event-loop.js';
import { countBufferDrops, Flusher, MAX_PUSH_BYTES } from './flusher.js';
import type { HttpPost } from './http-post.js';
import type { Logger } from './logger.js';
import { type LokiCredentials, pushWithCredentials } from './loki-credentials.js';
import { pushHeaders, pushWithRetry } from './loki-push.js';
import { DEFAULT_TIMINGS, type Timings } from './push-decision.js';
import type { ExtensionEvent, TelemetrySubscription } from './runtime-api.js';
import { streamLabelStrings } from './stream-labels.js';
import {
  MANAGED_INSTANCES_SCHEMA_VERSION,
  TELEMETRY_BUFFER_MAX_BYTES,
  TELEMETRY_BUFFER_MAX_ITEMS,
  TELEMETRY_LISTENER_PATH,
  TELEMETRY_SCHEMA_VERSION,
  type TelemetryEvent,
} from './telemetry.js';
import type { TelemetryListener } from './telemetry-listener.js';

/** protobufjs and snappy load at the first push, not during Lambda's init (a cold start waits for init). */
let encoderModule: Promise<typeof import('./push-encoder.js')> | undefined;
function loadEncoder(): Promise<typeof import('./push-encoder.js')> {
  encoderModule ??= import('./push-encoder.js');
  return encoderModule;
}

export interface ShipperDeps {
  readonly config: ExtensionConfig;
  /** The credentials of each push: from the environment, or read from Secrets Manager / SSM. */
  readonly credentials: LokiCredentials;
  readonly functionName: string;
  readonly functionVersion: string | undefined;
  readonly userAgent: string;
  readonly next: () => Promise<ExtensionEvent>;
  readonly subscribe: (subscription: TelemetrySubscription) => Promise<void>;
  readonly listen: (port: number, onEvents: (events: TelemetryEvent[]) => void) => Promise<TelemetryListener>;
  readonly post: HttpPost;
  readonly log: Logger;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  /** Default: DEFAULT_TIMINGS; tests shrink them. */
  readonly timings?: Timings;
  /** Lambda Managed Instances (AWS_LAMBDA_INITIALIZATION_TYPE=lambda-managed-instances): see DESIGN.md §6. */
  readonly managedInstances?: boolean;
}

/** Types to subscribe: platform always (the event loop needs runtimeDone and report), plus what is shipped. */
export function subscribedTypes(shipped: readonly LogType[]): LogType[] {
  return [...new Set<LogType>(['platform', ...shipped])];
}

/**
 * Wires the shipping pipeline: telemetry listener -> entries -> buffer -> flusher -> Loki, driven by
 * the event loop. Returns when the extension should exit.
 */
export async function runShipper(deps: ShipperDeps): Promise<void> {
  const { config, log, now } = deps;
  const managedInstances = deps.managedInstances ?? false;
  const timings = deps.timings ?? DEFAULT_TIMINGS;
  const buffer = new EntryBuffer(config.maxBufferBytes);
  const report = new DeliveryReport(log, `${ENV_VARS.maxBufferBytes}=${config.maxBufferBytes}`);
  // Managed Instances run invocations at once: a line without a request id belongs to no known one.
  // Each sandbox stamps from its own nanosecond offset: concurrent sandboxes never merge equal lines.
  const sandboxNanos = Math.floor(deps.random() * 1_000_000);
  const maker = new EntryMaker(now, () => report.truncated(1), !managedInstances, sandboxNanos);
  const shipped = new Set<string>(config.logTypes);
  const labelStrings = streamLabelStrings({
    application: config.application,
    environment: config.environment,
    functionName: deps.functionName,
    extraLabels: config.extraLabels,
  });
  const headersFor = lastValueCache((auth: LokiAuth) => pushHeaders({ ...config, auth }, deps.userAgent));
  const metadata = { functionVersion: deps.functionVersion };
  // A full batch is at most half the bound: it is pushed while the other half can still fill.
  const batchBytes = Math.min(MAX_PUSH_BYTES, Math.floor(config.maxBufferBytes / 2));
  const backoff = {
    initialMs: timings.retryInitialBackoffMs,
    maxMs: timings.retryMaxBackoffMs,
    minMs: timings.retryMinBackoffMs,
  };
  const flusher = new Flusher({
    buffer,
    send: async (entries, deadlineMs, signal) => {
      const { compressPushBody, encodePushRequest } = await loadEncoder();
      const body = compressPushBody(encodePushRequest(entries, labelStrings, metadata));
      return pushWithCredentials(deps.credentials, deadlineMs, (auth) =>
        pushWithRetry(
          { ...deps, redact: log.redact, backoff },
          config.pushUrl,
          headersFor(auth),
          body,
          deadlineMs,
          signal,
        ),
      );
    },
    report,
    batchBytes,
    notice: (line) => noticeEntry(line, now()),
    now,
    log,
  });
  const loop = new EventLoop({
    next: deps.next,
    push: async (deadlineMs) => {
      // Credentials read from AWS: only the first push waits for them; without them the logs stay buffered.
      if ((await deps.credentials.current(deadlineMs)) === undefined)
        return { sent: 0, rejected: 0, failed: true };
      return flusher.push(deadlineMs);
    },
    shorten: (deadlineMs) => flusher.shorten(deadlineMs),
    buffered: () => ({ entries: buffer.length, bytes: buffer.sizeBytes }),
    settings: {
      strategy: config.flushStrategy,
      flushIntervalMs: config.flushIntervalMs,
      fullBatchBytes: batchBytes,
      timings,
      telemetrySilenceMs: config.bufferTimeoutMs + timings.telemetrySilenceMarginMs,
      continuous: managedInstances,
    },
    now,
    log,
  });

  const listener = await deps.listen(config.listenerPort, (events) => {
    for (const event of events) {
      const entry = maker.make(event);
      if (entry !== undefined && shipped.has(entry.source)) buffer.add(entry);
    }
    countBufferDrops(buffer, report);
    loop.onTelemetry(events);
  });
  try {
    await deps.subscribe({
      schemaVersion: managedInstances ? MANAGED_INSTANCES_SCHEMA_VERSION : TELEMETRY_SCHEMA_VERSION,
      types: subscribedTypes(config.logTypes),
      buffering: {
        maxItems: TELEMETRY_BUFFER_MAX_ITEMS,
        maxBytes: TELEMETRY_BUFFER_MAX_BYTES,
        timeoutMs: config.bufferTimeoutMs,
      },
      destination: {
        protocol: 'HTTP',
        URI: `http://sandbox.localdomain:${listener.port}${TELEMETRY_LISTENER_PATH}`,
      },
    });
  } catch (error) {
    await listener.close();
    throw error;
  }
  log.debug(
    `shipping ${config.logTypes.join(',')} logs to ${describeUrl(config.pushUrl)}, flush ${config.flushStrategy}`,
  );

  try {
    const { shutdownReason } = await loop.run();
    report.dropped('left_at_shutdown', buffer.length, buffer.sizeBytes);
    const line = report.shutdownLine(shutdownReason, buffer.length);
    if (line !== undefined) log.warn(line);
  } finally {
    await listener.close();
  }
}

/** Remembers the result for the last argument: push headers change only when the credentials do. */
function lastValueCache<A, R>(compute: (arg: A) => R): (arg: A) => R {
  let lastArg: A | undefined;
  let lastResult: R | undefined;
  return (arg) => {
    if (lastResult === undefined || arg !== lastArg) {
      lastArg = arg;
      lastResult = compute(arg);
    }
    return lastResult;
  };
}

/** Origin and path only: never a query string that could hold a key. */
function describeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}
