// Baseline: the least any telemetry extension must do. Registers, starts a listener, subscribes to
// the Telemetry API and calls /next. The listener only JSON.parses each batch and answers: it is the
// ceiling of the throughput benchmark (nothing is shipped anywhere).
'use strict';
// CommonJS, like the bundled extension: Node starts a .cjs file sooner than an ES module.
const http = require('node:http');

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const runtimeApi = `http://${process.env.AWS_LAMBDA_RUNTIME_API}`;

function request(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${runtimeApi}${path}`, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function main() {
  const registered = await request(
    'POST',
    '/2020-01-01/extension/register',
    { 'Lambda-Extension-Name': process.env.EXTENSION_NAME ?? 'minimal-telemetry' },
    JSON.stringify({ events: ['INVOKE', 'SHUTDOWN'] }),
  );
  const id = { 'Lambda-Extension-Identifier': registered.headers['lambda-extension-identifier'] };

  let parsedEvents = 0;
  const listener = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      parsedEvents += JSON.parse(Buffer.concat(chunks).toString('utf8')).length;
      res.writeHead(200).end();
    });
  });
  listener.keepAliveTimeout = 60_000;
  await new Promise((resolve) => listener.listen(0, '0.0.0.0', resolve));

  await request(
    'PUT',
    '/2022-07-01/telemetry',
    { ...id, 'Content-Type': 'application/json' },
    JSON.stringify({
      schemaVersion: '2022-12-13',
      types: ['platform', 'function'],
      buffering: { maxItems: 1000, maxBytes: 262144, timeoutMs: 25 },
      destination: {
        protocol: 'HTTP',
        URI: `http://sandbox.localdomain:${listener.address().port}/telemetry`,
      },
    }),
  );
  for (;;) {
    const event = JSON.parse((await request('GET', '/2020-01-01/extension/event/next', id)).body);
    if (event.eventType === 'SHUTDOWN') {
      process.stdout.write(`parsed ${parsedEvents} events\n`);
      process.exit(0);
    }
  }
}

main();
