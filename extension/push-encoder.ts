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
 * the protobuf body of Loki's push API before compression. Hot path, in two passes: the first
 * measures every message, the second writes them into one buffer of exactly that size. No object
 * per field and no copy at the end (protobufjs's writer made about 15 of each per entry, garbage
 * that a small young generation, as the launcher gives a 128 MB function, collects often).
 * protobufjs still encodes the metadata pairs, once per push or request id.
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
  const lineBytes = new Int32Array(entries.length);

  // Pass 1: sizes.
  let total = 0;
  let index = 0;
  const streamSizes: number[] = [];
  for (const [source, streamEntries] of bySource) {
    let size = fieldSize(Buffer.byteLength(labelStrings[source], 'utf8'));
    for (const entry of streamEntries) {
      const bytes = Buffer.byteLength(entry.line, 'utf8');
      lineBytes[index++] = bytes;
      size += fieldSize(entrySize(entry, bytes, requestPairs, versionPair));
    }
    streamSizes.push(size);
    total += fieldSize(size);
  }

  // Pass 2: bytes.
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  index = 0;
  let stream = 0;
  for (const [source, streamEntries] of bySource) {
    pos = writeVarint(out, pos, TAG_STREAMS);
    pos = writeVarint(out, pos, streamSizes[stream++] ?? 0);
    pos = writeString(out, pos, TAG_LABELS, labelStrings[source]);
    for (const entry of streamEntries) {
      const bytes = lineBytes[index++] ?? 0;
      const requestPair = entry.requestId === undefined ? undefined : requestPairs.get(entry.requestId);
      pos = writeVarint(out, pos, TAG_ENTRIES);
      pos = writeVarint(out, pos, entrySize(entry, bytes, requestPairs, versionPair));
      pos = writeTimestamp(out, pos, entry);
      pos = writeVarint(out, pos, TAG_LINE);
      pos = writeVarint(out, pos, bytes);
      pos += out.write(entry.line, pos, 'utf8');
      if (requestPair !== undefined) pos = writeBytes(out, pos, TAG_METADATA, requestPair);
      if (versionPair !== undefined) pos = writeBytes(out, pos, TAG_METADATA, versionPair);
    }
  }
  if (pos !== total) throw new Error(`push encoding wrote ${pos} bytes, expected ${total}`);
  return out;
}

/** A length-delimited field of this many bytes, with its one-byte tag and its length. */
function fieldSize(bytes: number): number {
  return 1 + varintLength(bytes) + bytes;
}

/** The size of one EntryAdapter message. */
function entrySize(
  entry: LogEntry,
  lineBytes: number,
  requestPairs: PairCache,
  versionPair: Uint8Array | undefined,
): number {
  let size = fieldSize(timestampSize(entry)) + fieldSize(lineBytes);
  if (entry.requestId !== undefined) size += fieldSize(requestPairs.get(entry.requestId).length);
  if (versionPair !== undefined) size += fieldSize(versionPair.length);
  return size;
}

/** google.protobuf.Timestamp; seconds fit in 32 bits until 2106, so no 64-bit arithmetic. */
function secondsOf(entry: LogEntry): number {
  return Math.floor(entry.timeMs / 1000);
}

function nanosOf(entry: LogEntry, seconds: number): number {
  return (entry.timeMs - seconds * 1000) * 1_000_000 + entry.nanosInMs;
}

function timestampSize(entry: LogEntry): number {
  const seconds = secondsOf(entry);
  const nanos = nanosOf(entry, seconds);
  return 1 + varintLength(seconds) + (nanos === 0 ? 0 : 1 + varintLength(nanos));
}

function writeTimestamp(out: Buffer, start: number, entry: LogEntry): number {
  const seconds = secondsOf(entry);
  const nanos = nanosOf(entry, seconds);
  let pos = writeVarint(out, start, TAG_TIMESTAMP);
  pos = writeVarint(out, pos, 1 + varintLength(seconds) + (nanos === 0 ? 0 : 1 + varintLength(nanos)));
  pos = writeVarint(out, pos, TAG_SECONDS);
  pos = writeVarint(out, pos, seconds);
  if (nanos !== 0) {
    pos = writeVarint(out, pos, TAG_NANOS);
    pos = writeVarint(out, pos, nanos);
  }
  return pos;
}

/** An unsigned varint of at most 32 bits. */
function writeVarint(out: Buffer, start: number, value: number): number {
  let pos = start;
  let rest = value >>> 0;
  while (rest > 0x7f) {
    out[pos++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  out[pos++] = rest;
  return pos;
}

function writeString(out: Buffer, start: number, tag: number, value: string): number {
  let pos = writeVarint(out, start, tag);
  pos = writeVarint(out, pos, Buffer.byteLength(value, 'utf8'));
  return pos + out.write(value, pos, 'utf8');
}

function writeBytes(out: Buffer, start: number, tag: number, value: Uint8Array): number {
  let pos = writeVarint(out, start, tag);
  pos = writeVarint(out, pos, value.length);
  out.set(value, pos);
  return pos + value.length;
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
