import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { postPush } from '../support/loki-push-client.js';
import { type LokiReceiver, type LokiReceiverOptions, startLokiReceiver } from '../support/loki-receiver.js';

const NOW_MS = Date.UTC(2024, 4, 1, 10, 0, 0);
const NS = 1_000_000n;
const BASE_NS = BigInt(NOW_MS - 60_000) * NS;
const ORDERS = '{application="shop", function="orders", source="function"}';
const PAYMENTS = '{application="shop", function="payments", source="function"}';

const receivers: LokiReceiver[] = [];
const sockets: WebSocket[] = [];

async function start(options: LokiReceiverOptions = {}): Promise<LokiReceiver> {
  const receiver = await startLokiReceiver({ now: () => NOW_MS, ...options });
  receivers.push(receiver);
  return receiver;
}

async function seed(receiver: LokiReceiver, headers: Record<string, string> = {}): Promise<void> {
  const response = await postPush(
    receiver.pushUrl,
    [
      {
        labels: ORDERS,
        entries: [
          { timestampNs: BASE_NS + 1n, line: 'order 1 ok', metadata: { request_id: 'r-1' } },
          { timestampNs: BASE_NS + 2n, line: 'order 2 failed', metadata: { request_id: 'r-2' } },
          { timestampNs: BASE_NS + 3n, line: 'order 3 ok' },
        ],
      },
      { labels: PAYMENTS, entries: [{ timestampNs: BASE_NS + 4n, line: 'payment ok' }] },
    ],
    { headers },
  );
  expect(response.status).toBe(204);
}

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          type: res.headers['content-type'],
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

function queryUrl(receiver: LokiReceiver, params: Record<string, string>): string {
  return `${receiver.url}/loki/api/v1/query_range?${new URLSearchParams(params).toString()}`;
}

const CATEGORIZE = { 'x-loki-response-encoding-flags': 'categorize-labels' };

/** Opens a tail websocket and collects its messages. */
function openTail(
  receiver: LokiReceiver,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): { socket: WebSocket; messages: unknown[]; nextMessage: () => Promise<unknown>; opened: Promise<void> } {
  const url = `${receiver.url.replace('http', 'ws')}/loki/api/v1/tail?${new URLSearchParams(params).toString()}`;
  const socket = new WebSocket(url, { headers });
  sockets.push(socket);
  const messages: unknown[] = [];
  const waiting: Array<(message: unknown) => void> = [];
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString()) as unknown;
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else messages.push(message);
  });
  // Tests that expect a refused upgrade listen for it themselves; never leave an error unhandled.
  socket.on('error', () => {});
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  opened.catch(() => {});
  return {
    socket,
    messages,
    nextMessage: () =>
      messages.length > 0
        ? Promise.resolve(messages.shift())
        : new Promise((resolve) => waiting.push(resolve)),
    opened,
  };
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

describe('Loki receiver: query_range', () => {
  it("answers Loki's JSON with structured metadata categorized when the client asks for it", async () => {
    const receiver = await start();
    await seed(receiver);

    const answer = await get(
      queryUrl(receiver, { query: '{function="orders"}', direction: 'forward' }),
      CATEGORIZE,
    );

    expect(answer.status).toBe(200);
    expect(answer.type).toBe('application/json; charset=UTF-8');
    const body = JSON.parse(answer.body) as { status: string; data: Record<string, unknown> };
    expect(body.status).toBe('success');
    expect(body.data.resultType).toBe('streams');
    expect(body.data.encodingFlags).toEqual(['categorize-labels']);
    expect(body.data.result).toEqual([
      {
        stream: { application: 'shop', function: 'orders', source: 'function' },
        values: [
          [`${BASE_NS + 1n}`, 'order 1 ok', { structuredMetadata: { request_id: 'r-1' } }],
          [`${BASE_NS + 2n}`, 'order 2 failed', { structuredMetadata: { request_id: 'r-2' } }],
          [`${BASE_NS + 3n}`, 'order 3 ok', {}],
        ],
      },
    ]);
  });

  it('merges structured metadata into the stream labels without the flag, one stream per label set', async () => {
    const receiver = await start();
    await seed(receiver);

    const answer = await get(queryUrl(receiver, { query: '{function="orders"}', direction: 'forward' }));

    const body = JSON.parse(answer.body) as { data: { result: Array<{ stream: Record<string, string> }> } };
    expect(body.data.result.map((stream) => stream.stream.request_id ?? '-')).toEqual(['r-1', 'r-2', '-']);
  });

  it('returns the newest `limit` lines backward and the oldest forward, within [start, end)', async () => {
    const receiver = await start();
    await seed(receiver);
    const lines = async (params: Record<string, string>) => {
      const body = JSON.parse((await get(queryUrl(receiver, params))).body) as {
        data: { result: Array<{ values: string[][] }> };
      };
      return body.data.result.flatMap((stream) => stream.values.map((value) => value[1]));
    };

    expect(await lines({ query: '{application="shop"}', limit: '2' })).toEqual(['payment ok', 'order 3 ok']);
    expect(await lines({ query: '{application="shop"}', limit: '2', direction: 'forward' })).toEqual([
      'order 1 ok',
      'order 2 failed',
    ]);
    expect(
      await lines({
        query: '{application="shop"}',
        start: `${BASE_NS + 2n}`,
        end: `${BASE_NS + 4n}`,
        direction: 'forward',
      }),
    ).toEqual(['order 2 failed', 'order 3 ok']);
  });

  it.each([
    ['{function=~"ord.*"} |= "ok"', ['order 1 ok', 'order 3 ok']],
    ['{application="shop", function!="orders"}', ['payment ok']],
    ['{function="orders"} != "ok"', ['order 2 failed']],
    ['{function="orders"} |~ "order [12]"', ['order 1 ok', 'order 2 failed']],
    ['{function="orders"} | request_id="r-2"', ['order 2 failed']],
    ['{function=~"pay"}', []],
  ])('selects with %s', async (query, expected) => {
    const receiver = await start();
    await seed(receiver);

    const body = JSON.parse((await get(queryUrl(receiver, { query, direction: 'forward' }))).body) as {
      data: { result: Array<{ values: string[][] }> };
    };

    expect(body.data.result.flatMap((stream) => stream.values.map((value) => value[1]))).toEqual(expected);
  });

  it.each([
    ['{function="orders"', 'parse error at line 1, col 19: syntax error: unexpected $end, expecting } or ,'],
    [
      '{function=orders}',
      'parse error at line 1, col 11: syntax error: unexpected IDENTIFIER, expecting STRING',
    ],
    [
      '{function=~".*"}',
      'queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will',
    ],
  ])('answers 400 in plain text for the bad query %s', async (query, message) => {
    const receiver = await start();

    const answer = await get(queryUrl(receiver, { query }));

    expect(answer.status).toBe(400);
    expect(answer.type).toBe('text/plain; charset=utf-8');
    expect(answer.body).toBe(`${message}\n`);
  });

  it('refuses a limit over max_entries_limit_per_query', async () => {
    const receiver = await start();

    const answer = await get(queryUrl(receiver, { query: '{a="b"}', limit: '5001' }));

    expect(answer.status).toBe(400);
    expect(answer.body).toBe(
      'max entries limit per query exceeded, limit > max_entries_limit_per_query (5001 > 5000)\n',
    );
  });

  it('answers 401 without the credentials a push needs, and reads only the asking tenant', async () => {
    const receiver = await start({ auth: { bearerToken: 't' }, tenantRequired: true });
    await seed(receiver, { authorization: 'Bearer t', 'x-scope-orgid': 'team-a' });
    const query = { query: '{application="shop"}' };

    const noToken = await get(queryUrl(receiver, query), { 'x-scope-orgid': 'team-a' });
    const noTenant = await get(queryUrl(receiver, query), { authorization: 'Bearer t' });
    const otherTenant = await get(queryUrl(receiver, query), {
      authorization: 'Bearer t',
      'x-scope-orgid': 'b',
    });
    const sameTenant = await get(queryUrl(receiver, query), {
      authorization: 'Bearer t',
      'x-scope-orgid': 'team-a',
      ...CATEGORIZE,
    });

    expect([noToken.status, noToken.body]).toEqual([401, 'unauthorized\n']);
    expect([noTenant.status, noTenant.body]).toEqual([401, 'no org id\n']);
    expect(JSON.parse(otherTenant.body).data.result).toEqual([]);
    expect(JSON.parse(sameTenant.body).data.result).toHaveLength(2);
  });
});

describe('Loki receiver: tail websocket', () => {
  it('replays the newest `limit` lines since start, then sends new ones as they are stored', async () => {
    const receiver = await start();
    await seed(receiver);

    const tail = openTail(receiver, { query: '{function="orders"}', start: `${BASE_NS + 2n}`, limit: '10' });
    await tail.opened;
    const replay = await tail.nextMessage();
    await postPush(receiver.pushUrl, [
      { labels: ORDERS, entries: [{ timestampNs: BASE_NS + 10n, line: 'order 4 ok' }] },
      { labels: PAYMENTS, entries: [{ timestampNs: BASE_NS + 11n, line: 'not for this tail' }] },
    ]);
    const live = await tail.nextMessage();

    const stream = { application: 'shop', function: 'orders', source: 'function' };
    expect(replay).toEqual({
      streams: [
        { stream: { ...stream, request_id: 'r-2' }, values: [[`${BASE_NS + 2n}`, 'order 2 failed']] },
        { stream, values: [[`${BASE_NS + 3n}`, 'order 3 ok']] },
      ],
    });
    expect(live).toEqual({ streams: [{ stream, values: [[`${BASE_NS + 10n}`, 'order 4 ok']] }] });
    expect(receiver.tails.requests().map((r) => [r.query, r.startNs, r.limit])).toEqual([
      ['{function="orders"}', BASE_NS + 2n, 10],
    ]);
  });

  it('categorizes structured metadata when asked, like query_range', async () => {
    const receiver = await start();
    await seed(receiver);

    const tail = openTail(
      receiver,
      { query: '{function="orders"} |= "failed"', start: `${BASE_NS}` },
      CATEGORIZE,
    );

    expect(await tail.nextMessage()).toEqual({
      streams: [
        {
          stream: { application: 'shop', function: 'orders', source: 'function' },
          values: [[`${BASE_NS + 2n}`, 'order 2 failed', { structuredMetadata: { request_id: 'r-2' } }]],
        },
      ],
      encodingFlags: ['categorize-labels'],
    });
  });

  it('answers the upgrade with 401 without credentials and 400 for bad LogQL', async () => {
    const receiver = await start({ auth: { bearerToken: 't' } });
    const statusOf = (headers: Record<string, string>, query: string) =>
      new Promise<number>((resolve) => {
        const tail = openTail(receiver, { query }, headers);
        tail.socket.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          res.resume();
        });
        tail.socket.on('error', () => {});
      });

    expect(await statusOf({}, '{a="b"}')).toBe(401);
    expect(await statusOf({ authorization: 'Bearer t' }, '{a=')).toBe(400);
  });

  it('answers a plain GET, and every upgrade while refusing websockets, with 400 like Loki behind a proxy', async () => {
    const receiver = await start();
    receiver.tails.refuseWebsockets(true);

    const plain = await get(`${receiver.url}/loki/api/v1/tail?query=${encodeURIComponent('{a="b"}')}`);
    const refused = await new Promise<number>((resolve) => {
      const tail = openTail(receiver, { query: '{a="b"}' });
      tail.socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      tail.socket.on('error', () => {});
    });

    expect([plain.status, plain.body]).toEqual([
      400,
      "websocket: the client is not using the websocket protocol: 'upgrade' token not found in 'Connection' header\n",
    ]);
    expect(refused).toBe(400);
    expect(receiver.tails.requests()).toEqual([]);
  });

  it.each([
    [false, 1006],
    [true, 1000],
  ])('drops open tails (graceful: %s) with close code %i', async (graceful, code) => {
    const receiver = await start();
    const tail = openTail(receiver, { query: '{a="b"}' });
    await tail.opened;
    const closed = new Promise<number>((resolve) =>
      tail.socket.on('close', (closeCode) => resolve(closeCode)),
    );

    receiver.tails.drop({ graceful });

    expect(await closed).toBe(code);
    expect(receiver.tails.openCount).toBe(0);
  });
});
