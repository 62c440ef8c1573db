/**
 * Turns a push request's body into a PushRequest the way Loki's `ParseLokiRequest` does:
 * Content-Encoding (none, snappy, gzip, deflate), then `application/json`, or else snappy-compressed
 * protobuf. Loki answers no 415: any other content type is read as protobuf, and a missing one is
 * a 400 (`mime: no media type`).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import {
  type DecodedEntry,
  type DecodedPushRequest,
  type DecodedStream,
  decodePushRequest,
  PushDecodeError,
} from './loki-codec.js';
import { formatLabels, goQuote } from './loki-labels.js';

function firstHeader(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

function decodeContentEncoding(headers: IncomingHttpHeaders, body: Buffer): Buffer {
  const encoding = firstHeader(headers['content-encoding']);
  try {
    switch (encoding) {
      case '':
      case 'snappy': // the snappy block is decoded with the protobuf below; some clients say so here
        return body;
      case 'gzip':
        return gunzipSync(body);
      case 'deflate':
        return inflateRawSync(body);
    }
  } catch (error) {
    throw new PushDecodeError(error instanceof Error ? error.message : String(error));
  }
  throw new PushDecodeError(`Content-Encoding ${goQuote(encoding)} not supported`);
}

function mediaType(headers: IncomingHttpHeaders): string {
  const raw = firstHeader(headers['content-type']);
  const type = raw.split(';')[0]!.trim().toLowerCase();
  if (type === '') throw new PushDecodeError('mime: no media type');
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+$/.test(type)) {
    throw new PushDecodeError('mime: expected slash after first token');
  }
  return type;
}

export function parsePushBody(headers: IncomingHttpHeaders, rawBody: Buffer): DecodedPushRequest {
  const body = decodeContentEncoding(headers, rawBody);
  return mediaType(headers) === 'application/json' ? decodeJsonPush(body) : decodePushRequest(body);
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((item) => typeof item === 'string')
  );
}

/** Loki's JSON push: `{"streams":[{"stream":{...},"values":[["<ns>","line",{meta}]]}]}`. */
export function decodeJsonPush(body: Buffer): DecodedPushRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new PushDecodeError(`JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const streams = (parsed as { streams?: unknown } | null)?.streams;
  if (!Array.isArray(streams)) throw new PushDecodeError('JSON: "streams" must be an array');
  return { streams: streams.map(decodeJsonStream) };
}

function decodeJsonStream(stream: unknown): DecodedStream {
  const { stream: labels = {}, values = [] } = (stream ?? {}) as { stream?: unknown; values?: unknown };
  if (!isStringRecord(labels)) throw new PushDecodeError('JSON: "stream" must be an object of strings');
  if (!Array.isArray(values)) throw new PushDecodeError('JSON: "values" must be an array');
  const pairs = Object.entries(labels)
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { labels: formatLabels(pairs), entries: values.map(decodeJsonValue) };
}

function decodeJsonValue(value: unknown): DecodedEntry {
  if (!Array.isArray(value) || value.length < 2 || value.length > 3) {
    throw new PushDecodeError(
      'JSON: each value must be ["<unix epoch in nanoseconds>", "<log line>", {metadata}]',
    );
  }
  const [timestamp, line, metadata = {}] = value as unknown[];
  if (typeof timestamp !== 'string' || !/^-?\d+$/.test(timestamp)) {
    throw new PushDecodeError(
      `JSON: invalid timestamp ${JSON.stringify(timestamp)}, want nanoseconds as a string`,
    );
  }
  if (typeof line !== 'string') throw new PushDecodeError('JSON: the log line must be a string');
  if (!isStringRecord(metadata))
    throw new PushDecodeError('JSON: structured metadata must be an object of strings');
  return {
    timestampNs: BigInt(timestamp),
    line,
    metadata: Object.entries(metadata).map(([name, metaValue]) => ({ name, value: metaValue })),
  };
}
