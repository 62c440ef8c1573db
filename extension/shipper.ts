import type { ExtensionConfig, LogType } from './config.js';
import { EntryMaker, noticeEntry } from './entries.js';
import { EntryBuffer } from './entry-buffer.js';
import { EventLoop } from './event-loop.js';
import { FlushPolicy } from './flush-policy.js';
import { Flusher, MAX_PUSH_BYTES } from './flusher.js';
import type { HttpPost } from './http-post.js';
import type { Logger } from './logger.js';
import { pushHeaders, pushWithRetry } from './loki-push.js';
import type { ExtensionEvent, TelemetrySubscription } from './runtime-api.js';
import { streamLabelStrings } from './stream-labels.js';
import { TELEMETRY_SCHEMA_VERSION, type TelemetryEvent } from './telemetry.js';
import type { TelemetryListener } from './telemetry-listener.js';
import { TelemetryTracker } from './telemetry-tracker.js';

/** Lambda's minimum batch limits; small batches arrive sooner. */
const TELEMETRY_MAX_ITEMS = 1_000;
const TELEMETRY_MAX_BYTES = 256 * 1024;
const TELEMETRY_PATH = '/telemetry';

/** protobufjs and snappy load at the first push, not during Lambda's init (a cold start waits for init). */
let encoderModule: Promise<typeof import('./push-encoder.js')> | undefined;
function loadEncoder(): Promise<typeof import('./push-encoder.js')> {
  encoderModule ??= import('./push-encoder.js');
  return encoderModule;
}

export interface ShipperDeps {
  readonly config: ExtensionConfig;
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
  const buffer = new EntryBuffer(config.maxBufferBytes);
  const maker = new EntryMaker(now);
  const tracker = new TelemetryTracker();
  const shipped = new Set<string>(config.logTypes);
  const labelStrings = streamLabelStrings({
    application: config.application,
    environment: config.environment,
    functionName: deps.functionName,
    extraLabels: config.extraLabels,
  });
  const headers = pushHeaders(config, deps.userAgent);
  const metadata = { functionVersion: deps.functionVersion };
  const flusher = new Flusher({
    buffer,
    send: async (entries, deadlineMs) => {
      const { compressPushBody, encodePushRequest } = await loadEncoder();
      const body = compressPushBody(encodePushRequest(entries, labelStrings, metadata));
      return pushWithRetry({ ...deps, redact: log.redact }, config.pushUrl, headers, body, deadlineMs);
    },
    dropNotice: (entries, bytes) =>
      noticeEntry(
        `loki-lambda dropped ${entries} log entries (${bytes} bytes) while Loki was unreachable: the buffer limit LOKI_MAX_BUFFER_BYTES=${config.maxBufferBytes} was reached`,
        now(),
      ),
    now,
    log,
  });
  const loop = new EventLoop({
    next: deps.next,
    tracker,
    flush: async (deadlineMs) => {
      const result = await flusher.flush(deadlineMs);
      if (result.sent + result.rejected > 0)
        log.debug(`pushed ${result.sent} entries, ${result.rejected} rejected`);
      return result;
    },
    coolingDown: () => flusher.coolingDown(),
    pendingEntries: () => buffer.length,
    pendingBytes: () => buffer.sizeBytes,
    fullBatchBytes: MAX_PUSH_BYTES,
    policy: new FlushPolicy(config.flushStrategy, log),
    flushIntervalMs: config.flushIntervalMs,
    now,
    log,
  });

  const listener = await deps.listen(config.listenerPort, (events) => {
    for (const event of events) {
      const entry = maker.make(event);
      if (entry !== undefined && shipped.has(entry.source)) buffer.add(entry);
    }
    tracker.observe(events);
    loop.onBuffered();
  });
  try {
    await deps.subscribe({
      schemaVersion: TELEMETRY_SCHEMA_VERSION,
      types: subscribedTypes(config.logTypes),
      buffering: {
        maxItems: TELEMETRY_MAX_ITEMS,
        maxBytes: TELEMETRY_MAX_BYTES,
        timeoutMs: config.bufferTimeoutMs,
      },
      destination: { protocol: 'HTTP', URI: `http://sandbox.localdomain:${listener.port}${TELEMETRY_PATH}` },
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
    if (buffer.length > 0) {
      log.warn(`shutting down (${shutdownReason}) with ${buffer.length} entries Loki could not take in time`);
    }
  } finally {
    await listener.close();
  }
}

/** Origin and path only: never a query string that could hold a key. */
function describeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}
