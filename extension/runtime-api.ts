import http from 'node:http';

/** Events of the Extensions API 2020-01-01. */
export type ExtensionEvent =
  | {
      readonly eventType: 'INVOKE';
      readonly requestId: string;
      readonly deadlineMs: number;
      readonly invokedFunctionArn?: string;
    }
  | { readonly eventType: 'SHUTDOWN'; readonly shutdownReason: string; readonly deadlineMs: number };

export class RuntimeApiError extends Error {
  override readonly name = 'RuntimeApiError';
}

export interface TelemetrySubscription {
  readonly schemaVersion: string;
  readonly types: readonly string[];
  readonly buffering: { readonly maxItems: number; readonly maxBytes: number; readonly timeoutMs: number };
  readonly destination: { readonly protocol: 'HTTP'; readonly URI: string };
}

/** Client of the Lambda Extensions and Telemetry APIs, over one local keep-alive connection. */
export class RuntimeApiClient {
  private extensionId: string | undefined;

  constructor(
    private readonly hostPort: string,
    private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 }),
  ) {}

  /** Registers for INVOKE and SHUTDOWN; must happen before Lambda's init phase can end. */
  async register(name: string): Promise<string> {
    const response = await this.request('POST', '/2020-01-01/extension/register', {
      headers: { 'Lambda-Extension-Name': name },
      body: JSON.stringify({ events: ['INVOKE', 'SHUTDOWN'] }),
    });
    const id = response.headers['lambda-extension-identifier'];
    if (typeof id !== 'string' || id === '')
      throw new RuntimeApiError('register returned no Lambda-Extension-Identifier');
    this.extensionId = id;
    return id;
  }

  /** Blocks until Lambda sends the next event (the sandbox may be frozen meanwhile). */
  async next(): Promise<ExtensionEvent> {
    const response = await this.request('GET', '/2020-01-01/extension/event/next', {});
    return JSON.parse(response.body) as ExtensionEvent;
  }

  async subscribeTelemetry(subscription: TelemetrySubscription): Promise<void> {
    await this.request('PUT', '/2022-07-01/telemetry', { body: JSON.stringify(subscription) });
  }

  private request(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: string },
  ): Promise<{ headers: http.IncomingHttpHeaders; body: string }> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...options.headers };
      if (this.extensionId !== undefined) headers['Lambda-Extension-Identifier'] = this.extensionId;
      if (options.body !== undefined) headers['Content-Type'] = 'application/json';
      const request = http.request(`http://${this.hostPort}${path}`, { method, headers, agent: this.agent });
      request.on('error', (error) =>
        reject(new RuntimeApiError(`${method} ${path} failed: ${error.message}`)),
      );
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve({ headers: response.headers, body });
          else
            reject(new RuntimeApiError(`${method} ${path} answered HTTP ${status}: ${body.slice(0, 300)}`));
        });
      });
      request.end(options.body);
    });
  }
}
