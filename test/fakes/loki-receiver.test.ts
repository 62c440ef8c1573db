import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodePushRequest, type PushStreamInput, snappyCompress } from '../support/loki-codec.js';
import { postPush, postPushBody } from '../support/loki-push-client.js';
import { type LokiReceiver, type LokiReceiverOptions, startLokiReceiver } from '../support/loki-receiver.js';

const NOW_MS = Date.UTC(2024, 4, 1, 10, 0, 0);
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Nanosecond timestamp `offsetMs` from the receiver's frozen clock. */
function ns(offsetMs = 0, extraNs = 0n): bigint {
  return BigInt(NOW_MS + offsetMs) * 1_000_000n + extraNs;
}

function stream(
  labels: string,
  ...entries: Array<[bigint, string, Record<string, string>?]>
): PushStreamInput {
  return {
    labels,
    entries: entries.map(([timestampNs, line, metadata]) => ({ timestampNs, line, metadata })),
  };
}

const receivers: LokiReceiver[] = [];
const agents: Agent[] = [];

async function start(options: LokiReceiverOptions = {}): Promise<LokiReceiver> {
  const receiver = await startLokiReceiver({ now: () => NOW_MS, ...options });
  receivers.push(receiver);
  return receiver;
}

function keepAliveAgent(): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  agents.push(agent);
  return agent;
}

afterEach(async () => {
  for (const agent of agents.splice(0)) agent.destroy();
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

describe('Loki receiver: accepted pushes', () => {
  it('answers 204 with an empty body and stores labels, timestamp, line and structured metadata', async () => {
    const receiver = await start();

    const response = await postPush(receiver.pushUrl, [
      stream(
        '{source="function", application="shop"}',
        [ns(0, 1n), 'first line', { request_id: 'r-1', function_version: '$LATEST' }],
        [ns(0, 2n), 'second line'],
      ),
    ]);

    expect(response.status).toBe(204);
    expect(response.body).toBe('');
    expect(receiver.entries()).toEqual([
      {
        stream: '{application="shop", source="function"}',
        labels: { application: 'shop', source: 'function' },
        timestampNs: ns(0, 1n),
        line: 'first line',
        metadata: { request_id: 'r-1', function_version: '$LATEST' },
        tenant: undefined,
      },
      {
        stream: '{application="shop", source="function"}',
        labels: { application: 'shop', source: 'function' },
        timestampNs: ns(0, 2n),
        line: 'second line',
        metadata: {},
        tenant: undefined,
      },
    ]);
  });

  it('reads escaped label values and prints the stream the way Loki does', async () => {
    const receiver = await start();

    const response = await postPush(receiver.pushUrl, [
      stream('{app="say \\"hi\\"", path="C:\\\\tmp\\nnext", empty=""}', [ns(), 'line']),
    ]);

    expect(response.status).toBe(204);
    const [entry] = receiver.entries();
    expect(entry?.labels).toEqual({ app: 'say "hi"', path: 'C:\\tmp\nnext' });
    expect(entry?.stream).toBe('{app="say \\"hi\\"", path="C:\\\\tmp\\nnext"}');
  });

  it('accepts a stream exactly at each of Loki limits', async () => {
    const receiver = await start();
    const fifteenLabels = Array.from({ length: 15 }, (_, i) => `l${String(i).padStart(2, '0')}="v"`);
    const longName = 'n'.repeat(1024);
    const longValue = 'v'.repeat(2048);

    const response = await postPush(receiver.pushUrl, [
      stream(`{${fifteenLabels.join(', ')}}`, [ns(), 'fifteen labels']),
      stream(`{${longName}="${longValue}"}`, [ns(), 'longest name and value']),
      stream('{app="longest line"}', [ns(), 'x'.repeat(262_144)]),
      stream('{app="oldest"}', [ns(-7 * DAY_MS), 'exactly a week old']),
      stream('{app="newest"}', [ns(10 * MINUTE_MS), 'exactly at the end of the grace period']),
    ]);

    expect(response.status).toBe(204);
    expect(receiver.entries()).toHaveLength(5);
  });

  it('drops an entry equal to a stored one (same stream, timestamp and line) and still answers 204', async () => {
    const receiver = await start();
    const push = [stream('{app="a"}', [ns(), 'same'], [ns(), 'other line, same time'])];

    const first = await postPush(receiver.pushUrl, push);
    const retry = await postPush(receiver.pushUrl, [stream('{app="a"}', [ns(), 'same'])]);

    expect([first.status, retry.status]).toEqual([204, 204]);
    expect(receiver.entries().map((entry) => entry.line)).toEqual(['same', 'other line, same time']);
    expect(receiver.requests().map((record) => [record.entriesInRequest, record.entriesStored])).toEqual([
      [2, 2],
      [1, 0],
    ]);
  });

  it('accepts a JSON push as Loki does', async () => {
    const receiver = await start();
    const body = JSON.stringify({
      streams: [{ stream: { app: 'json' }, values: [[String(ns()), 'from json', { trace_id: 't1' }]] }],
    });

    const response = await postPushBody(receiver.pushUrl, Buffer.from(body), {
      headers: { 'content-type': 'application/json' },
    });

    expect(response.status).toBe(204);
    expect(receiver.entries()).toMatchObject([
      { stream: '{app="json"}', timestampNs: ns(), line: 'from json', metadata: { trace_id: 't1' } },
    ]);
  });

  it('reads any content type other than JSON as snappy protobuf, like Loki (no 415)', async () => {
    const receiver = await start();

    const response = await postPushBody(
      receiver.pushUrl,
      encodePushRequest([stream('{app="a"}', [ns(), 'x'])]),
      {
        headers: { 'content-type': 'text/plain' },
      },
    );

    expect(response.status).toBe(204);
    expect(receiver.entries()).toHaveLength(1);
  });

  it('records whether each push came on a reused keep-alive connection', async () => {
    const receiver = await start();
    const agent = keepAliveAgent();

    await postPush(receiver.pushUrl, [stream('{app="a"}', [ns(0, 1n), 'one'])], { agent });
    await postPush(receiver.pushUrl, [stream('{app="a"}', [ns(0, 2n), 'two'])], { agent });

    expect(receiver.requests().map((record) => record.socketRequestIndex)).toEqual([1, 2]);
  });
});

describe('Loki receiver: label strings', () => {
  const cases: Array<{ labels: string; stream: string }> = [
    { labels: '{b="2",a="1",}', stream: '{a="1", b="2"}' },
    { labels: "  { app = 'single quoted' }  ", stream: '{app="single quoted"}' },
    { labels: '{app=`raw \\n`}', stream: '{app="raw \\\\n"}' },
    {
      labels: String.raw`{tab="a\tb", hex="\x41\u00e9", octal="\101", dq="\"", sq='\''}`,
      stream: String.raw`{dq="\"", hex="Aé", octal="A", sq="'", tab="a\tb"}`,
    },
    { labels: '{app="raw\ttab"}', stream: String.raw`{app="raw\ttab"}` },
    { labels: 'metric_name{app="a"}', stream: '{__name__="metric_name", app="a"}' },
  ];

  it.each(cases)('reads $labels as the stream $stream', async ({ labels, stream: expected }) => {
    const receiver = await start();

    const response = await postPush(receiver.pushUrl, [stream(labels, [ns(), 'x'])]);

    expect(response.status).toBe(204);
    expect(receiver.entries().map((entry) => entry.stream)).toEqual([expected]);
  });
});

describe('Loki receiver: rejected pushes', () => {
  const sixteenLabels = `{${Array.from({ length: 16 }, (_, i) => `l${String(i).padStart(2, '0')}="v"`).join(', ')}}`;
  const longName = 'n'.repeat(1025);
  const longValue = 'v'.repeat(2049);

  const cases: Array<{ name: string; body: () => Buffer; contentType?: string; message: string | RegExp }> = [
    {
      name: 'a body that is not snappy block format',
      body: () => Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      message: 'snappy: corrupt input',
    },
    {
      name: 'snappy around bytes that are not a PushRequest',
      body: () => snappyCompress(Buffer.from([0x0a, 0xff, 0x01])),
      message: /^proto: /,
    },
    {
      name: 'no Content-Type',
      body: () => encodePushRequest([stream('{app="a"}', [ns(), 'x'])]),
      contentType: '',
      message: 'mime: no media type',
    },
    {
      name: 'a label string without its closing brace',
      body: () => encodePushRequest([stream('{app="a"', [ns(), 'x'])]),
      message: `Error parsing labels '{app="a"' with error: 1:9: parse error: unexpected end of input inside braces`,
    },
    {
      name: 'a label name that starts with a digit',
      body: () => encodePushRequest([stream('{1app="a"}', [ns(), 'x'])]),
      message: `Error parsing labels '{1app="a"}' with error: 1:2: parse error: unexpected character inside braces: '1'`,
    },
    {
      name: 'a label matcher instead of a label pair',
      body: () => encodePushRequest([stream('{app!="a"}', [ns(), 'x'])]),
      message: /^Error parsing labels '\{app!="a"\}' with error: 1:5: parse error: unexpected "!="/,
    },
    {
      name: 'an empty label set',
      body: () => encodePushRequest([stream('{}', [ns(), 'x'])]),
      message: 'error at least one label pair is required per stream',
    },
    {
      name: 'labels whose values are all empty',
      body: () => encodePushRequest([stream('{app=""}', [ns(), 'x'])]),
      message: 'error at least one label pair is required per stream',
    },
    {
      name: 'an escaped single quote inside double quotes',
      body: () => encodePushRequest([stream(String.raw`{app="\'"}`, [ns(), 'x'])]),
      message: String.raw`Error parsing labels '{app="\'"}' with error: 1:9: parse error: unknown escape sequence U+0027 '''`,
    },
    {
      name: 'a duplicate label name',
      body: () => encodePushRequest([stream('{b="1", a="x", b="2"}', [ns(), 'x'])]),
      message: `stream '{b="1", a="x", b="2"}' has duplicate label name: 'b'`,
    },
    {
      name: 'sixteen label names',
      body: () => encodePushRequest([stream(sixteenLabels, [ns(), 'x'])]),
      message: `entry for stream '${sixteenLabels}' has 16 label names; limit 15`,
    },
    {
      name: 'a label name over 1024 bytes',
      body: () => encodePushRequest([stream(`{${longName}="v"}`, [ns(), 'x'])]),
      message: `stream '{${longName}="v"}' has label name too long: '${longName}'`,
    },
    {
      name: 'a label value over 2048 bytes',
      body: () => encodePushRequest([stream(`{app="${longValue}"}`, [ns(), 'x'])]),
      message: `stream '{app="${longValue}"}' has label value too long: '${longValue}'`,
    },
    {
      name: 'a line over 262144 bytes',
      body: () => encodePushRequest([stream('{app="a"}', [ns(), 'é'.repeat(131_073)])]),
      message: `Max entry size '262144' bytes exceeded for stream '{app="a"}' while adding an entry with length '262146' bytes`,
    },
    {
      name: 'a timestamp older than a week',
      body: () => encodePushRequest([stream('{app="a"}', [ns(-7 * DAY_MS - 1000), 'x'])]),
      message: `entry for stream '{app="a"}' has timestamp too old: 2024-04-24T09:59:59Z, oldest acceptable timestamp is: 2024-04-24T10:00:00Z`,
    },
    {
      name: 'a timestamp beyond the 10 minute creation grace period',
      body: () => encodePushRequest([stream('{app="a"}', [ns(10 * MINUTE_MS + 1000), 'x'])]),
      message: `entry for stream '{app="a"}' has timestamp too new: 2024-05-01T10:10:01Z`,
    },
  ];

  it.each(cases)(
    'answers 400 with Loki’s reason and stores nothing for $name',
    async ({ body, contentType, message }) => {
      const receiver = await start();

      const response = await postPushBody(receiver.pushUrl, body(), {
        headers: { 'content-type': contentType ?? 'application/x-protobuf' },
      });

      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(response.body.endsWith('\n')).toBe(true);
      if (typeof message === 'string') expect(response.body).toBe(`${message}\n`);
      else expect(response.body).toMatch(message);
      expect(receiver.entries()).toEqual([]);
    },
  );

  it('answers 400 for an entry too far behind its stream’s newest entry, listing the ignored entries', async () => {
    const receiver = await start();
    await postPush(receiver.pushUrl, [stream('{app="a"}', [ns(), 'newest'])]);

    const response = await postPush(receiver.pushUrl, [
      stream(
        '{app="a"}',
        [ns(-HOUR_MS - 1000, 500_000_000n), 'too far behind'],
        [ns(-HOUR_MS), 'just in the window'],
      ),
    ]);

    expect(response.status).toBe(400);
    expect(response.body).toBe(
      "entry with timestamp 2024-05-01 08:59:59.5 +0000 UTC ignored, reason: 'entry too far behind, entry timestamp is: 2024-05-01T08:59:59Z, oldest acceptable timestamp is: 2024-05-01T09:00:00Z',\n" +
        `user 'fake', total ignored: 1 out of 2 for stream: {app="a"}\n`,
    );
    expect(receiver.entries().map((entry) => entry.line)).toEqual(['newest', 'just in the window']);
  });

  it('stores the good entries of a partly rejected push and answers 400 with the last reason', async () => {
    const receiver = await start();

    const response = await postPush(receiver.pushUrl, [
      stream('{app="a"}', [ns(0, 1n), 'good one'], [ns(), 'x'.repeat(262_145)], [ns(0, 2n), 'good two']),
      stream('{}', [ns(), 'no labels']),
      stream('{app="b"}', [ns(-8 * DAY_MS), 'too old'], [ns(), 'good three']),
    ]);

    expect(response.status).toBe(400);
    expect(response.body).toMatch(/^entry for stream '\{app="b"\}' has timestamp too old: /);
    expect(receiver.entries().map((entry) => entry.line)).toEqual(['good one', 'good two', 'good three']);
    expect(receiver.requests()).toMatchObject([{ status: 400, entriesInRequest: 6, entriesStored: 3 }]);
  });

  it('answers 429 with Loki’s message when the tenant’s ingestion rate limit is exceeded', async () => {
    const receiver = await start({ ingestionRateLimit: { bytesPerSecond: 10, burstBytes: 10 } });

    const response = await postPush(receiver.pushUrl, [stream('{app="a"}', [ns(), '0123456789a'])]);

    expect(response.status).toBe(429);
    expect(response.body).toBe(
      "Ingestion rate limit exceeded for user fake (limit: 10 bytes/sec) while attempting to ingest '1' lines totaling '11' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased\n",
    );
    expect(receiver.entries()).toEqual([]);
  });
});

describe('Loki receiver: tenants and credentials', () => {
  it('answers 401 "no org id" when a tenant is required and X-Scope-OrgID is missing', async () => {
    const receiver = await start({ tenantRequired: true });

    const response = await postPush(receiver.pushUrl, [stream('{app="a"}', [ns(), 'x'])]);

    expect(response.status).toBe(401);
    expect(response.body).toBe('no org id\n');
    expect(receiver.entries()).toEqual([]);
    expect(receiver.requests()).toMatchObject([{ status: 401, entriesInRequest: 1, entriesStored: 0 }]);
  });

  it('stores entries under the tenant named by X-Scope-OrgID', async () => {
    const receiver = await start({ tenantRequired: true });

    const response = await postPush(receiver.pushUrl, [stream('{app="a"}', [ns(), 'x'])], {
      headers: { 'x-scope-orgid': 'team-a' },
    });

    expect(response.status).toBe(204);
    expect(receiver.entries()).toMatchObject([{ line: 'x', tenant: 'team-a' }]);
    expect(receiver.streams({ tenant: 'team-a' })).toHaveLength(1);
    expect(receiver.streams({ tenant: 'team-b' })).toHaveLength(0);
  });

  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const authCases: Array<{
    name: string;
    auth: LokiReceiverOptions['auth'];
    header: string | undefined;
    status: number;
  }> = [
    { name: 'the right bearer token', auth: { bearerToken: 's3cret' }, header: 'Bearer s3cret', status: 204 },
    { name: 'a wrong bearer token', auth: { bearerToken: 's3cret' }, header: 'Bearer guess', status: 401 },
    { name: 'no Authorization header', auth: { bearerToken: 's3cret' }, header: undefined, status: 401 },
    {
      name: 'the right basic credentials',
      auth: { username: 'u', password: 'p' },
      header: basic('u', 'p'),
      status: 204,
    },
    {
      name: 'a wrong basic password',
      auth: { username: 'u', password: 'p' },
      header: basic('u', 'x'),
      status: 401,
    },
    {
      name: 'basic credentials where a token is expected',
      auth: { bearerToken: 'p' },
      header: basic('u', 'p'),
      status: 401,
    },
  ];

  it.each(authCases)('answers $status to a push with $name', async ({ auth, header, status }) => {
    const receiver = await start({ auth });

    const response = await postPush(receiver.pushUrl, [stream('{app="a"}', [ns(), 'x'])], {
      headers: header === undefined ? {} : { authorization: header },
    });

    expect(response.status).toBe(status);
    expect(receiver.entries()).toHaveLength(status === 204 ? 1 : 0);
  });
});

/** Writes one raw HTTP/1.1 push on `socket` and resolves with the status line of the answer. */
function rawPush(socket: Socket, url: URL, body: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const onData = (chunk: Buffer): void => {
      received += chunk.toString('latin1');
      if (!received.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.off('error', reject);
      resolve(received.split('\r\n')[0] ?? '');
    };
    socket.on('data', onData);
    socket.once('error', reject);
    const head =
      `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/x-protobuf\r\n` +
      `Content-Length: ${body.length}\r\n\r\n`;
    // One write: a second one after the server's reset would fail with EPIPE instead.
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
  });
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // allowHalfOpen: like a frozen client, this one does not close its side when the server closes.
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => resolve(socket));
    socket.once('error', reject);
  });
}

function errorCode(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => 'no error',
    (error: NodeJS.ErrnoException) => error.code,
  );
}

describe('Loki receiver: injected faults', () => {
  it('answers an injected status the given number of times without storing, then returns to normal', async () => {
    const receiver = await start();
    await receiver.inject({ kind: 'status', status: 503, body: 'try later', times: 2, retryAfterSeconds: 3 });
    const push = [stream('{app="a"}', [ns(), 'x'])];

    const responses = [
      await postPush(receiver.pushUrl, push),
      await postPush(receiver.pushUrl, push),
      await postPush(receiver.pushUrl, push),
    ];

    expect(responses.map((response) => response.status)).toEqual([503, 503, 204]);
    expect(responses[0]?.body).toBe('try later\n');
    expect(responses[0]?.headers['retry-after']).toBe('3');
    expect(receiver.entries()).toHaveLength(1);
    expect(receiver.requests().map((record) => record.fault)).toEqual(['status', 'status', undefined]);
  });

  it('keeps answering an injected status without times until the faults are cleared', async () => {
    const receiver = await start();
    await receiver.inject({ kind: 'status', status: 500 });
    const push = [stream('{app="a"}', [ns(), 'x'])];

    const during = [await postPush(receiver.pushUrl, push), await postPush(receiver.pushUrl, push)];
    receiver.clearFaults();
    const after = await postPush(receiver.pushUrl, push);

    expect(during.map((response) => [response.status, response.body])).toEqual([
      [500, 'Internal Server Error\n'],
      [500, 'Internal Server Error\n'],
    ]);
    expect(after.status).toBe(204);
  });

  it('stores a delayed push before it answers', async () => {
    const receiver = await start();
    await receiver.inject({ kind: 'delay', ms: 50, times: 1 });
    let answered = false;

    const pending = postPush(receiver.pushUrl, [stream('{app="a"}', [ns(), 'slow'])]).then((response) => {
      answered = true;
      return response;
    });
    const stored = await receiver.waitForEntries(1);
    const answeredWhenStored = answered;
    const response = await pending;

    expect(stored.map((entry) => entry.line)).toEqual(['slow']);
    expect(answeredWhenStored).toBe(false);
    expect(response.status).toBe(204);
  });

  it('keeps a push that was stored but never answered, and drops it as a duplicate when retried', async () => {
    const receiver = await start();
    await receiver.inject({ kind: 'delay', ms: 60_000, times: 1 });
    const push = [stream('{app="a"}', [ns(), 'stored, answer lost'])];

    const lost = errorCode(postPush(receiver.pushUrl, push));
    await receiver.waitForEntries(1);
    await receiver.inject({ kind: 'down' });
    const failure = await lost;
    await receiver.inject({ kind: 'up' });
    const retry = await postPush(receiver.pushUrl, push);

    expect(failure).toBe('ECONNRESET');
    expect(retry.status).toBe(204);
    expect(receiver.entries().map((entry) => entry.line)).toEqual(['stored, answer lost']);
    expect(receiver.requests().map((record) => [record.status, record.entriesStored])).toEqual([
      [0, 1],
      [204, 0],
    ]);
  });

  it('never answers a hung push and ends its connection on close()', async () => {
    const receiver = await start();
    await receiver.inject({ kind: 'hang' });

    const pending = errorCode(postPush(receiver.pushUrl, [stream('{app="a"}', [ns(), 'x'])]));
    const [record] = await receiver.waitForRequests(1);
    await receiver.close();

    expect(record).toMatchObject({ status: 0, fault: 'hang', entriesInRequest: 1 });
    expect(await pending).toBe('ECONNRESET');
    expect(receiver.entries()).toEqual([]);
  });

  it('refuses connections while down and accepts pushes on the same port once up again', async () => {
    const receiver = await start();

    await receiver.inject({ kind: 'down' });
    const whileDown = await errorCode(postPush(receiver.pushUrl, [stream('{app="a"}', [ns(0, 1n), 'lost'])]));
    await receiver.inject({ kind: 'up' });
    const afterUp = await postPush(receiver.pushUrl, [stream('{app="a"}', [ns(0, 2n), 'kept'])]);

    expect(whileDown).toBe('ECONNREFUSED');
    expect(afterUp.status).toBe(204);
    expect(receiver.entries().map((entry) => entry.line)).toEqual(['kept']);
  });

  it('closes idle keep-alive sockets so that a push sent on one before the client noticed fails with a reset', async () => {
    const receiver = await start();
    const agent = keepAliveAgent();
    await postPush(receiver.pushUrl, [stream('{app="a"}', [ns(0, 1n), 'one'])], { agent });

    // In the same tick, as a client frozen while the server closed its connection: the agent still
    // believes its socket is open and writes the next push on it.
    const injected = receiver.inject({ kind: 'closeIdleSockets' });
    const onOldSocket = errorCode(
      postPush(receiver.pushUrl, [stream('{app="a"}', [ns(0, 2n), 'two'])], { agent }),
    );
    await injected;
    const failure = await onOldSocket;
    const onNewSocket = await postPush(receiver.pushUrl, [stream('{app="a"}', [ns(0, 3n), 'three'])], {
      agent,
    });

    expect(failure).toBe('ECONNRESET');
    expect(onNewSocket.status).toBe(204);
    expect(receiver.entries().map((entry) => entry.line)).toEqual(['one', 'three']);
    expect(receiver.requests().map((record) => record.socketRequestIndex)).toEqual([1, 1]);
  });

  it('resets idle keep-alive sockets at once when asked for a reset', async () => {
    const receiver = await start();
    const socket = await openSocket(receiver.port);
    await rawPush(socket, new URL(receiver.pushUrl), encodePushRequest([stream('{app="a"}', [ns(), 'one'])]));
    const failed = new Promise<string | undefined>((resolve) =>
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code)),
    );

    await receiver.inject({ kind: 'closeIdleSockets', reset: true });

    expect(await failed).toBe('ECONNRESET');
  });

  it('leaves a connection with a push in flight open when closing idle sockets', async () => {
    const receiver = await start();
    await receiver.inject({ kind: 'delay', ms: 50, times: 1 });

    const pending = postPush(receiver.pushUrl, [stream('{app="a"}', [ns(), 'in flight'])]);
    await receiver.waitForRequests(1);
    await receiver.inject({ kind: 'closeIdleSockets' });

    expect((await pending).status).toBe(204);
  });
});

describe('Loki receiver: waiting for entries', () => {
  it('rejects with what arrived when fewer entries than awaited are stored in time', async () => {
    const receiver = await start();
    await postPush(receiver.pushUrl, [stream('{app="a"}', [ns(), 'only line'])]);

    const waited = receiver.waitForEntries(2, 50);

    await expect(waited).rejects.toThrow(
      /waiting for 2 stored entries; 1 entries stored:\n {2}\{app="a"\} \d+ "only line"/,
    );
  });
});
