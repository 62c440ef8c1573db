import protobuf from 'protobufjs/minimal.js';
import { compress } from 'snappyjs';
import type { LogEntry, Source } from './entries.js';

const { Writer } = protobuf;

export { type StreamLabels, streamLabelStrings } from './stream-labels.js';

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
 * the protobuf body of Loki's push API before compression. Hot path: metadata pairs are encoded
 * once and reused, and the timestamp is written without a nested fork.
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
  const versionPair =
    metadata.functionVersion === undefined
      ? undefined
      : encodePair('function_version', metadata.functionVersion);
  const requestPairs = new PairCache('request_id');
  const writer = Writer.create();
  for (const [source, streamEntries] of bySource) {
    writer.uint32(TAG_STREAMS).fork();
    writer.uint32(TAG_LABELS).string(labelStrings[source]);
    for (const entry of streamEntries) {
      writer.uint32(TAG_ENTRIES).fork();
      writeTimestamp(writer, entry);
      writer.uint32(TAG_LINE).string(entry.line);
      if (entry.requestId !== undefined) writer.uint32(TAG_METADATA).bytes(requestPairs.get(entry.requestId));
      if (versionPair !== undefined) writer.uint32(TAG_METADATA).bytes(versionPair);
      writer.ldelim();
    }
    writer.ldelim();
  }
  return writer.finish();
}

/** google.protobuf.Timestamp; seconds fit in 32 bits until 2106, so no 64-bit arithmetic. */
function writeTimestamp(writer: protobuf.Writer, entry: LogEntry): void {
  const seconds = Math.floor(entry.timeMs / 1000);
  const nanos = (entry.timeMs - seconds * 1000) * 1_000_000 + entry.nanosInMs;
  const length = 1 + varintLength(seconds) + (nanos === 0 ? 0 : 1 + varintLength(nanos));
  writer.uint32(TAG_TIMESTAMP).uint32(length).uint32(TAG_SECONDS).uint32(seconds);
  if (nanos !== 0) writer.uint32(TAG_NANOS).uint32(nanos);
}

function varintLength(value: number): number {
  let length = 1;
  for (let rest = value >>> 7; rest !== 0; rest >>>= 7) length++;
  return length;
}

/** The body of a LabelPairAdapter. */
function encodePair(name: string, value: string): Uint8Array {
  return Writer.create().uint32(TAG_NAME).string(name).uint32(TAG_VALUE).string(value).finish();
}

/** Entries of one invocation share a request id: encode its pair once. */
class PairCache {
  private lastValue: string | undefined;
  private lastBytes: Uint8Array = new Uint8Array();

  constructor(private readonly name: string) {}

  get(value: string): Uint8Array {
    if (value !== this.lastValue) {
      this.lastValue = value;
      this.lastBytes = encodePair(this.name, value);
    }
    return this.lastBytes;
  }
}

/** Snappy block format, as Loki expects (not the framed format). */
export function compressPushBody(protobufBody: Uint8Array): Uint8Array {
  return compress(protobufBody);
}
