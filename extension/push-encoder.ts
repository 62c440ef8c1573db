import protobuf from 'protobufjs/minimal.js';
import { compress } from 'snappyjs';
import type { LogEntry, Source } from './entries.js';
import { formatLabels } from './labels.js';

const { Writer } = protobuf;

/** The labels every stream of this function carries, by source (DESIGN.md §4). */
export interface StreamLabels {
  readonly application: string;
  readonly environment: string;
  readonly functionName: string;
  readonly extraLabels: ReadonlyArray<readonly [string, string]>;
}

/** Precomputes the label string of each source's stream once. */
export function streamLabelStrings(labels: StreamLabels): Readonly<Record<Source, string>> {
  const base: Record<string, string> = {
    application: labels.application,
    environment: labels.environment,
    function: labels.functionName,
  };
  for (const [name, value] of labels.extraLabels) base[name] = value;
  return {
    function: formatLabels({ ...base, source: 'function' }),
    platform: formatLabels({ ...base, source: 'platform' }),
    extension: formatLabels({ ...base, source: 'extension' }),
  };
}

/** Structured metadata attached to every entry besides its request id. */
export interface EntryMetadata {
  readonly functionVersion: string | undefined;
}

// Field tags of logproto.PushRequest and friends: (field number << 3) | wire type.
const TAG_STREAMS = (1 << 3) | 2;
const TAG_LABELS = (1 << 3) | 2;
const TAG_ENTRIES = (2 << 3) | 2;
const TAG_TIMESTAMP = (1 << 3) | 2;
const TAG_SECONDS = (1 << 3) | 0;
const TAG_NANOS = (2 << 3) | 0;
const TAG_LINE = (2 << 3) | 2;
const TAG_METADATA = (3 << 3) | 2;
const TAG_NAME = (1 << 3) | 2;
const TAG_VALUE = (2 << 3) | 2;

/**
 * Encodes entries as a logproto.PushRequest (one stream per source, entries in buffer order),
 * the protobuf body of Loki's push API before compression.
 */
export function encodePushRequest(
  entries: readonly LogEntry[],
  labelStrings: Readonly<Record<Source, string>>,
  metadata: EntryMetadata,
): Uint8Array {
  const bySource = new Map<Source, LogEntry[]>();
  for (const entry of entries) {
    const list = bySource.get(entry.source);
    if (list) list.push(entry);
    else bySource.set(entry.source, [entry]);
  }
  const writer = Writer.create();
  for (const [source, streamEntries] of bySource) {
    writer.uint32(TAG_STREAMS).fork();
    writer.uint32(TAG_LABELS).string(labelStrings[source]);
    for (const entry of streamEntries) writeEntry(writer, entry, metadata);
    writer.ldelim();
  }
  return writer.finish();
}

function writeEntry(writer: protobuf.Writer, entry: LogEntry, metadata: EntryMetadata): void {
  const seconds = Math.floor(entry.timeMs / 1000);
  const nanos = (entry.timeMs - seconds * 1000) * 1_000_000 + entry.nanosInMs;
  writer.uint32(TAG_ENTRIES).fork();
  writer
    .uint32(TAG_TIMESTAMP)
    .fork()
    .uint32(TAG_SECONDS)
    .int64(seconds)
    .uint32(TAG_NANOS)
    .int32(nanos)
    .ldelim();
  writer.uint32(TAG_LINE).string(entry.line);
  if (entry.requestId !== undefined) writePair(writer, 'request_id', entry.requestId);
  if (metadata.functionVersion !== undefined) writePair(writer, 'function_version', metadata.functionVersion);
  writer.ldelim();
}

function writePair(writer: protobuf.Writer, name: string, value: string): void {
  writer.uint32(TAG_METADATA).fork().uint32(TAG_NAME).string(name).uint32(TAG_VALUE).string(value).ldelim();
}

/** Snappy block format, as Loki expects (not the framed format). */
export function compressPushBody(protobufBody: Uint8Array): Uint8Array {
  return compress(protobufBody);
}
