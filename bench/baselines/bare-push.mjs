// Baseline: the round trip of a Loki push and nothing else. For each line on stdin (a base64 push
// body, snappy + protobuf, prepared by the benchmark) POSTs it to PUSH_URL over one keep-alive
// connection, as the extension does, and prints the milliseconds from request to full response.
import http from 'node:http';
import { createInterface } from 'node:readline';

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const url = process.env.PUSH_URL;

function post(body) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: {
        'Content-Type': 'application/x-protobuf',
        'User-Agent': 'bare-push',
        'Content-Length': String(body.byteLength),
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ ms: performance.now() - started, status: res.statusCode }));
    });
    req.end(body);
  });
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line === '') continue;
  const { ms, status } = await post(Buffer.from(line, 'base64'));
  process.stdout.write(`${status} ${ms}\n`);
}
