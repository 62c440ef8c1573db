/**
 * Loki's limits, its validation of a stream's labels and of each entry, and the plain-text messages
 * it answers with. The checks, their order and the message formats follow grafana/loki
 * (pkg/validation/validate.go, pkg/distributor/validator.go, pkg/ingester/stream.go).
 */
import { formatLabels, type LabelPair, LabelParseError, parseLabels } from './loki-labels.js';

export const MAX_LINE_SIZE_BYTES_DEFAULT = 262_144;
export const REJECT_OLD_SAMPLES_MAX_AGE_MS_DEFAULT = 7 * 24 * 60 * 60 * 1000;
export const CREATION_GRACE_PERIOD_MS_DEFAULT = 10 * 60 * 1000;
/** Half of Loki's default `max_chunk_age` (2 h): how far behind its stream's newest entry an entry may be. */
export const OUT_OF_ORDER_WINDOW_MS_DEFAULT = 60 * 60 * 1000;
export const MAX_LABEL_NAMES_PER_SERIES_DEFAULT = 15;
export const MAX_LABEL_NAME_LENGTH_BYTES_DEFAULT = 1024;
export const MAX_LABEL_VALUE_LENGTH_BYTES_DEFAULT = 2048;
/** The ingester lists at most this many rejected entries in one answer (`max_returned_stream_errors`). */
export const MAX_RETURNED_ERRORS_DEFAULT = 10;
/** The tenant Loki uses when multi-tenancy is off (`auth_enabled: false`). */
export const SINGLE_TENANT_ID = 'fake';

export const MISSING_LABELS_MESSAGE = 'error at least one label pair is required per stream';
export const NO_ORG_ID_MESSAGE = 'no org id';

export interface LokiLimits {
  readonly maxLineSizeBytes: number;
  readonly rejectOldSamplesMaxAgeMs: number;
  readonly creationGracePeriodMs: number;
  readonly outOfOrderWindowMs: number;
  readonly maxLabelNamesPerSeries: number;
  readonly maxLabelNameLengthBytes: number;
  readonly maxLabelValueLengthBytes: number;
  readonly maxReturnedErrors: number;
}

export const LOKI_LIMITS_DEFAULT: LokiLimits = Object.freeze({
  maxLineSizeBytes: MAX_LINE_SIZE_BYTES_DEFAULT,
  rejectOldSamplesMaxAgeMs: REJECT_OLD_SAMPLES_MAX_AGE_MS_DEFAULT,
  creationGracePeriodMs: CREATION_GRACE_PERIOD_MS_DEFAULT,
  outOfOrderWindowMs: OUT_OF_ORDER_WINDOW_MS_DEFAULT,
  maxLabelNamesPerSeries: MAX_LABEL_NAMES_PER_SERIES_DEFAULT,
  maxLabelNameLengthBytes: MAX_LABEL_NAME_LENGTH_BYTES_DEFAULT,
  maxLabelValueLengthBytes: MAX_LABEL_VALUE_LENGTH_BYTES_DEFAULT,
  maxReturnedErrors: MAX_RETURNED_ERRORS_DEFAULT,
});

export const NS_PER_MS = 1_000_000n;

export type LabelCheck =
  | { readonly ok: true; readonly pairs: readonly LabelPair[]; readonly stream: string }
  | { readonly ok: false; readonly error: string };

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Parses and validates a stream's label string (distributor `parseStreamLabels` + `ValidateLabels`). */
export function checkStreamLabels(raw: string, limits: LokiLimits): LabelCheck {
  let pairs: LabelPair[];
  try {
    pairs = parseLabels(raw);
  } catch (error) {
    if (!(error instanceof LabelParseError)) throw error;
    return { ok: false, error: `Error parsing labels '${raw}' with error: ${error.message}` };
  }
  if (pairs.length === 0) return { ok: false, error: MISSING_LABELS_MESSAGE };
  if (pairs.length > limits.maxLabelNamesPerSeries) {
    return {
      ok: false,
      error: `entry for stream '${raw}' has ${pairs.length} label names; limit ${limits.maxLabelNamesPerSeries}`,
    };
  }
  let previousName = '';
  for (const { name, value } of pairs) {
    if (byteLength(name) > limits.maxLabelNameLengthBytes) {
      return { ok: false, error: `stream '${raw}' has label name too long: '${name}'` };
    }
    if (byteLength(value) > limits.maxLabelValueLengthBytes) {
      return { ok: false, error: `stream '${raw}' has label value too long: '${value}'` };
    }
    if (name === previousName)
      return { ok: false, error: `stream '${raw}' has duplicate label name: '${name}'` };
    previousName = name;
  }
  return { ok: true, pairs, stream: formatLabels(pairs) };
}

/** Validates one entry against time and size limits (distributor `ValidateEntry`); undefined when valid. */
export function checkEntry(
  stream: string,
  entry: { readonly timestampNs: bigint; readonly line: string },
  limits: LokiLimits,
  nowMs: number,
): string | undefined {
  const nowNs = BigInt(Math.trunc(nowMs)) * NS_PER_MS;
  const oldestNs = nowNs - BigInt(limits.rejectOldSamplesMaxAgeMs) * NS_PER_MS;
  if (entry.timestampNs < oldestNs) {
    return `entry for stream '${stream}' has timestamp too old: ${goRfc3339(entry.timestampNs)}, oldest acceptable timestamp is: ${goRfc3339(oldestNs)}`;
  }
  if (entry.timestampNs > nowNs + BigInt(limits.creationGracePeriodMs) * NS_PER_MS) {
    return `entry for stream '${stream}' has timestamp too new: ${goRfc3339(entry.timestampNs)}`;
  }
  const lineBytes = byteLength(entry.line);
  if (limits.maxLineSizeBytes !== 0 && lineBytes > limits.maxLineSizeBytes) {
    return `Max entry size '${limits.maxLineSizeBytes}' bytes exceeded for stream '${stream}' while adding an entry with length '${lineBytes}' bytes`;
  }
  return undefined;
}

/** The ingester's reason for an entry older than its stream's newest entry minus the window. */
export function tooFarBehindMessage(timestampNs: bigint, cutoffNs: bigint): string {
  return `entry too far behind, entry timestamp is: ${goRfc3339(timestampNs)}, oldest acceptable timestamp is: ${goRfc3339(cutoffNs)}`;
}

/** The ingester's answer listing the entries of one stream it ignored (`errorForFailedEntries`). */
export function ignoredEntriesMessage(
  rejected: ReadonlyArray<{ readonly timestampNs: bigint; readonly reason: string }>,
  totalEntries: number,
  tenant: string,
  stream: string,
  maxReturnedErrors: number,
): string {
  const listed = maxReturnedErrors > 0 ? rejected.slice(0, maxReturnedErrors) : rejected;
  const lines = listed.map(
    (entry) =>
      `entry with timestamp ${goTimeString(entry.timestampNs)} ignored, reason: '${entry.reason}',\n`,
  );
  return `${lines.join('')}user '${tenant}', total ignored: ${rejected.length} out of ${totalEntries} for stream: ${stream}`;
}

export function rateLimitedMessage(
  tenant: string,
  limitBytesPerSecond: number,
  lines: number,
  bytes: number,
): string {
  return `Ingestion rate limit exceeded for user ${tenant} (limit: ${limitBytesPerSecond} bytes/sec) while attempting to ingest '${lines}' lines totaling '${bytes}' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased`;
}

function splitNs(ns: bigint): { date: Date; nanos: bigint } {
  let ms = ns / NS_PER_MS;
  if (ns < 0n && ns % NS_PER_MS !== 0n) ms -= 1n;
  const secondsNs = (ms >= 0n ? ms / 1000n : (ms - 999n) / 1000n) * 1_000_000_000n;
  return { date: new Date(Number(ms)), nanos: ns - secondsNs };
}

/** Go's `time.Format(time.RFC3339)` in UTC: `2024-05-01T10:00:00Z` (no fraction). */
export function goRfc3339(ns: bigint): string {
  return `${splitNs(ns).date.toISOString().slice(0, 19)}Z`;
}

/** Go's `time.Time.String()` in UTC: `2024-05-01 10:00:00.5 +0000 UTC` (fraction trimmed). */
export function goTimeString(ns: bigint): string {
  const { date, nanos } = splitNs(ns);
  const iso = date.toISOString();
  const fraction = nanos === 0n ? '' : `.${nanos.toString().padStart(9, '0').replace(/0+$/, '')}`;
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction} +0000 UTC`;
}
