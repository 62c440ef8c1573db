import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../../extension/entries.js';
import { compressPushBody, encodePushRequest, streamLabelStrings } from '../../extension/push-encoder.js';
import { decodePushRequest, decodePushRequestProto } from '../support/loki-codec.js';

const labels = streamLabelStrings({
  application: 'shop',
  environment: 'prod',
  functionName: 'checkout',
  extraLabels: [['team', 'payments']],
});

function entry(
  source: LogEntry['source'],
  timeMs: number,
  line: string,
  requestId?: string,
  nanosInMs = 0,
): LogEntry {
  return { source, timeMs, nanosInMs, line, requestId, sizeBytes: line.length };
}

describe('encodePushRequest', () => {
  it('writes the exact bytes of a logproto.PushRequest (golden)', () => {
    const bytes = encodePushRequest(
      [entry('function', 1_700_000_000_123, 'hi', 'r1', 4)],
      { function: '{a="b"}', platform: '{a="p"}', extension: '{a="e"}' },
      { functionVersion: undefined },
    );

    // streams(1){ labels(1)="{a=\"b\"}" entries(2){ timestamp(1){seconds(1)=1700000000 nanos(2)=123000004}
    //   line(2)="hi" structuredMetadata(3){name(1)="request_id" value(2)="r1"} } }
    expect(Buffer.from(bytes).toString('hex')).toBe(
      '0a2e' +
        '0a077b613d2262227d' +
        '1223' +
        '0a0b' +
        '0880e2cfaa06' +
        '10c4a9d33a' +
        '12026869' +
        '1a100a0a726571756573745f69641202' +
        '7231',
    );
  });

  it('is decoded by protobufjs from the real push.proto into the entries, labels and metadata it was given', () => {
    const entries = [
      entry('platform', 1_700_000_000_000, 'START RequestId: r1 Version: $LATEST', 'r1'),
      entry('function', 1_700_000_000_001, 'first line', 'r1'),
      entry('function', 1_700_000_000_001, 'same millisecond', 'r1', 1),
      entry('platform', 1_700_000_000_002, 'END RequestId: r1', 'r1'),
    ];

    const decoded = decodePushRequestProto(
      encodePushRequest(entries, labels, { functionVersion: '$LATEST' }),
    );

    expect(decoded.streams).toEqual([
      {
        labels:
          '{application="shop", environment="prod", function="checkout", source="platform", team="payments"}',
        entries: [
          {
            timestampNs: 1_700_000_000_000_000_000n,
            line: 'START RequestId: r1 Version: $LATEST',
            metadata: [
              { name: 'request_id', value: 'r1' },
              { name: 'function_version', value: '$LATEST' },
            ],
          },
          {
            timestampNs: 1_700_000_000_002_000_000n,
            line: 'END RequestId: r1',
            metadata: [
              { name: 'request_id', value: 'r1' },
              { name: 'function_version', value: '$LATEST' },
            ],
          },
        ],
      },
      {
        labels:
          '{application="shop", environment="prod", function="checkout", source="function", team="payments"}',
        entries: [
          {
            timestampNs: 1_700_000_000_001_000_000n,
            line: 'first line',
            metadata: [
              { name: 'request_id', value: 'r1' },
              { name: 'function_version', value: '$LATEST' },
            ],
          },
          {
            timestampNs: 1_700_000_000_001_000_001n,
            line: 'same millisecond',
            metadata: [
              { name: 'request_id', value: 'r1' },
              { name: 'function_version', value: '$LATEST' },
            ],
          },
        ],
      },
    ]);
  });

  it('keeps unicode lines intact through snappy and protobuf', () => {
    const line = 'prix: 12 € — 日本語 🚀';

    const body = compressPushBody(
      encodePushRequest([entry('function', 1, line)], labels, { functionVersion: undefined }),
    );

    expect(decodePushRequest(Buffer.from(body)).streams[0]?.entries[0]?.line).toBe(line);
  });

  it('encodes large pushes of long and short lines from several streams exactly as protobufjs decodes them', () => {
    // Lengths of 1, 2 and 3 varint bytes, nanoseconds or none, request ids changing mid-stream.
    const entries = Array.from({ length: 300 }, (_, i) =>
      entry(
        i % 7 === 0 ? 'platform' : 'function',
        1_767_225_600_000 + Math.floor(i / 3),
        i % 50 === 0 ? `long ${i} ${'é'.repeat(10_000)}` : `line ${i} ${'x'.repeat(i)}`,
        i % 11 === 0 ? undefined : `req-${Math.floor(i / 100)}`,
        i % 3,
      ),
    );

    const decoded = decodePushRequestProto(
      Buffer.from(encodePushRequest(entries, labels, { functionVersion: '42' })),
    );

    const got = decoded.streams.flatMap((stream) => stream.entries.map((e) => e.line));
    // One stream per source, in the order the sources first appear (the first entry is a platform one).
    const want = [
      ...entries.filter((e) => e.source === 'platform'),
      ...entries.filter((e) => e.source === 'function'),
    ];
    expect(got).toEqual(want.map((e) => e.line));
    expect(decoded.streams.flatMap((stream) => stream.entries.map((e) => e.timestampNs))).toEqual(
      want.map((e) => BigInt(e.timeMs) * 1_000_000n + BigInt(e.nanosInMs)),
    );
    expect(decoded.streams.flatMap((stream) => stream.entries.map((e) => e.metadata))).toEqual(
      want.map((e) => [
        ...(e.requestId === undefined ? [] : [{ name: 'request_id', value: e.requestId }]),
        { name: 'function_version', value: '42' },
      ]),
    );
  });
});
