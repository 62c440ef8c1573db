/**
 * Loki's push wire format (DESIGN.md §4): a `logproto.PushRequest` protobuf, compressed with the
 * snappy *block* format. Decoding loads the real schema (proto/push.proto) with full protobufjs, so a
 * client that encodes anything else fails here as it would against Loki.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

export interface PushEntryInput {
  readonly timestampNs: bigint;
  readonly line: string;
  /** Structured metadata (EntryAdapter field 3), in the order given. */
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface PushStreamInput {
  /** Prometheus-style label string, sent as is: `{a="b", c="d"}`. */
  readonly labels: string;
  readonly entries: readonly PushEntryInput[];
}

export interface DecodedEntry {
  readonly timestampNs: bigint;
  readonly line: string;
  readonly metadata: ReadonlyArray<{ readonly name: string; readonly value: string }>;
}

export interface DecodedStream {
  readonly labels: string;
  readonly entries: readonly DecodedEntry[];
}

export interface DecodedPushRequest {
  readonly streams: readonly DecodedStream[];
}

/** The body could not be turned into a PushRequest; the message is what Loki would answer. */
export class PushDecodeError extends Error {
  override name = 'PushDecodeError';
}

/** Loki's default for the largest decompressed push body (distributor max receive size): 100 MiB. */
export const MAX_DECOMPRESSED_BYTES_DEFAULT = 100 * 1024 * 1024;

const NS_PER_SECOND = 1_000_000_000n;

interface SnappyJs {
  compress(input: Buffer): Buffer;
  uncompress(input: Buffer, maxLength?: number): Buffer;
}
// snappyjs ships no type declarations; loading it through require keeps the types local to this file.
const requireCjs = createRequire(import.meta.url);
const snappy = requireCjs('snappyjs') as SnappyJs;

const PROTO_PATH = fileURLToPath(new URL('./proto/push.proto', import.meta.url));
const root = new protobuf.Root().loadSync(PROTO_PATH, { keepCase: true });
const PushRequestType = root.lookupType('logproto.PushRequest');

interface WireTimestamp {
  seconds: string;
  nanos: number;
}
interface WirePair {
  name: string;
  value: string;
}
interface WireEntry {
  timestamp: WireTimestamp | null;
  line: string;
  structuredMetadata: WirePair[];
}
interface WireRequest {
  streams: Array<{ labels: string; entries: WireEntry[] }>;
}

function toWireTimestamp(ns: bigint): WireTimestamp {
  let seconds = ns / NS_PER_SECOND;
  let nanos = ns % NS_PER_SECOND;
  // google.protobuf.Timestamp keeps nanos in [0, 1e9) also before the epoch.
  if (nanos < 0n) {
    seconds -= 1n;
    nanos += NS_PER_SECOND;
  }
  return { seconds: seconds.toString(), nanos: Number(nanos) };
}

function fromWireTimestamp(ts: WireTimestamp | null): bigint {
  if (ts === null) return 0n;
  return BigInt(ts.seconds) * NS_PER_SECOND + BigInt(ts.nanos);
}

/** Protobuf bytes of a PushRequest, not yet compressed. */
export function encodePushRequestProto(streams: readonly PushStreamInput[]): Uint8Array {
  const message = PushRequestType.fromObject({
    streams: streams.map((stream) => ({
      labels: stream.labels,
      entries: stream.entries.map((entry) => ({
        timestamp: toWireTimestamp(entry.timestampNs),
        line: entry.line,
        structuredMetadata: Object.entries(entry.metadata ?? {}).map(([name, value]) => ({ name, value })),
      })),
    })),
  });
  return PushRequestType.encode(message).finish();
}

/** A push body exactly as a Loki client sends it: snappy block format around the protobuf. */
export function encodePushRequest(streams: readonly PushStreamInput[]): Buffer {
  return snappyCompress(encodePushRequestProto(streams));
}

export function snappyCompress(bytes: Uint8Array): Buffer {
  return snappy.compress(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** Reads the uncompressed length that starts every snappy block (a uvarint), like Go's DecodedLen. */
function snappyDecodedLength(body: Uint8Array): number | undefined {
  let length = 0;
  for (let i = 0; i < body.length && i < 5; i++) {
    const byte = body[i]!;
    length += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) return length <= 0xffffffff ? length : undefined;
  }
  return undefined;
}

/** Snappy block decompression with Loki's (golang/snappy's) error messages. */
export function snappyDecompress(body: Buffer, maxBytes = MAX_DECOMPRESSED_BYTES_DEFAULT): Buffer {
  if (body.length > maxBytes) {
    throw new PushDecodeError(`received message larger than max (${body.length} vs ${maxBytes})`);
  }
  const length = snappyDecodedLength(body);
  if (length === undefined) throw new PushDecodeError('snappy: corrupt input');
  if (length > maxBytes)
    throw new PushDecodeError(`received message larger than max (${length} vs ${maxBytes})`);
  try {
    return snappy.uncompress(body, maxBytes);
  } catch {
    throw new PushDecodeError('snappy: corrupt input');
  }
}

/** Decodes uncompressed PushRequest protobuf bytes. */
export function decodePushRequestProto(bytes: Uint8Array): DecodedPushRequest {
  let wire: WireRequest;
  try {
    const message = PushRequestType.decode(bytes);
    wire = PushRequestType.toObject(message, { longs: String, defaults: true, arrays: true }) as WireRequest;
  } catch (error) {
    throw new PushDecodeError(`proto: ${error instanceof Error ? error.message : String(error)}`);
  }
  return {
    streams: wire.streams.map((stream) => ({
      labels: stream.labels,
      entries: stream.entries.map((entry) => ({
        timestampNs: fromWireTimestamp(entry.timestamp),
        line: entry.line,
        metadata: entry.structuredMetadata.map(({ name, value }) => ({ name, value })),
      })),
    })),
  };
}

/** Decodes a snappy-compressed PushRequest body. */
export function decodePushRequest(
  body: Buffer,
  maxBytes = MAX_DECOMPRESSED_BYTES_DEFAULT,
): DecodedPushRequest {
  return decodePushRequestProto(snappyDecompress(body, maxBytes));
}
