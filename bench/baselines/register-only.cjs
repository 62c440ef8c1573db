// Baseline: the least an external extension can do. Registers for INVOKE and SHUTDOWN, then answers
// every event by calling /next again. No telemetry, no output.
'use strict';
// CommonJS, like the bundled extension: Node starts a .cjs file sooner than an ES module.
const http = require('node:http');

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const base = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2020-01-01/extension`;

function request(method, url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
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
    `${base}/register`,
    { 'Lambda-Extension-Name': process.env.EXTENSION_NAME ?? 'register-only' },
    JSON.stringify({ events: ['INVOKE', 'SHUTDOWN'] }),
  );
  const id = { 'Lambda-Extension-Identifier': registered.headers['lambda-extension-identifier'] };
  for (;;) {
    const event = JSON.parse((await request('GET', `${base}/event/next`, id)).body);
    if (event.eventType === 'SHUTDOWN') process.exit(0);
  }
}

main();
