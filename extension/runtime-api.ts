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

/**
 * The Telemetry API refused the subscription or is not there (aws-lambda-rie answers 202 with
 * `Telemetry.NotSupported`): no log will ever arrive, so there is nothing to ship.
 */
export class TelemetryUnavailableError extends Error {
  override readonly name = 'TelemetryUnavailableError';
}

/** The events an external extension can register for. */
export type ExtensionEventType = 'INVOKE' | 'SHUTDOWN';

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

  /**
   * Registers (INVOKE and SHUTDOWN, or SHUTDOWN only on Lambda Managed Instances); must happen
   * before Lambda's init phase can end.
   */
  async register(
    name: string,
    events: readonly ExtensionEventType[] = ['INVOKE', 'SHUTDOWN'],
  ): Promise<string> {
    const response = await this.request('POST', '/2020-01-01/extension/register', {
      headers: { 'Lambda-Extension-Name': name },
      body: JSON.stringify({ events }),
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

  /** Subscribes; throws TelemetryUnavailableError when no telemetry can arrive (see subscriptionProblem). */
  async subscribeTelemetry(subscription: TelemetrySubscription): Promise<void> {
    const response = await this.request(
      'PUT',
      '/2022-07-01/telemetry',
      { body: JSON.stringify(subscription) },
      { acceptAnyStatus: true },
    );
    const problem = subscriptionProblem(response.status, response.body);
    if (problem !== undefined) throw new TelemetryUnavailableError(problem);
  }

  private request(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: string },
    { acceptAnyStatus = false } = {},
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
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
          if (acceptAnyStatus || (status >= 200 && status < 300))
            resolve({ status, headers: response.headers, body });
          else
            reject(new RuntimeApiError(`${method} ${path} answered HTTP ${status}: ${body.slice(0, 300)}`));
        });
      });
      request.end(options.body);
    });
  }
}

/**
 * Why a subscription answer means no telemetry will come, or undefined when it worked. Any non-2xx,
 * and any `errorType` in the body even with a 2xx (aws-lambda-rie: `202 Telemetry.NotSupported`).
 */
export function subscriptionProblem(status: number, body: string): string | undefined {
  const error = lambdaError(body);
  const ok = status >= 200 && status < 300;
  if (ok && error === undefined) return undefined;
  const reason =
    error !== undefined
      ? [error.errorType, error.errorMessage].filter((part) => part !== '').join(': ')
      : body.trim().slice(0, 200) || 'no explanation given';
  return ok ? reason : `HTTP ${status}, ${reason}`;
}

function lambdaError(body: string): { errorType: string; errorMessage: string } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { errorType, errorMessage } = parsed as Record<string, unknown>;
  if (typeof errorType !== 'string' || errorType === '') return undefined;
  return { errorType, errorMessage: typeof errorMessage === 'string' ? errorMessage : '' };
}
