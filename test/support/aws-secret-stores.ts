/**
 * A fake AWS Secrets Manager and SSM Parameter Store on loopback, reached by the AWS SDK through
 * `AWS_ENDPOINT_URL_SECRETS_MANAGER` / `AWS_ENDPOINT_URL_SSM`. It speaks their JSON 1.1 protocol
 * (`X-Amz-Target` `secretsmanager.GetSecretValue`, `AmazonSSM.GetParameter`), answers with AWS's
 * status codes and error shapes, and refuses any request that is not SigV4-signed with the
 * credentials and region it was told the function has.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type SigningCredentials, verifySigV4 } from './sigv4-verify.js';

export const FAKE_ACCOUNT_ID = '123456789012';

/** What the store can be told to answer for one secret or parameter. */
export type StoreFault =
  /** The caller's role lacks secretsmanager:GetSecretValue / ssm:GetParameter. */
  | { readonly kind: 'access-denied' }
  /** The role may read the secret but not decrypt it with its customer-managed KMS key. */
  | { readonly kind: 'kms' }
  /** `ThrottlingException` (Rate exceeded) for the next `times` requests, every request without it. */
  | { readonly kind: 'throttling'; readonly times?: number }
  /** Answer (normally) only after `ms`. */
  | { readonly kind: 'slow'; readonly ms: number }
  /** Answer (normally) only once `until` resolves: a read the test holds and releases. */
  | { readonly kind: 'held'; readonly until: Promise<void> };

export type StoreService = 'secretsmanager' | 'ssm';

export interface StoreRequest {
  readonly service: StoreService;
  readonly action: string;
  /** SecretId or parameter Name as sent. */
  readonly id: string;
  readonly withDecryption: boolean | undefined;
  /** `valid`, or what was wrong with the signature. */
  readonly signature: string;
  readonly status: number;
}

export interface FakeSecretStoresOptions {
  /** The credentials the emulated function was given: requests must be signed with them. */
  readonly credentials: SigningCredentials;
  readonly region: string;
}

export interface FakeSecretStores {
  readonly url: string;
  /** Stores (or rotates) a secret; returns its full ARN, with the random suffix AWS adds. */
  putSecret(name: string, value: string): string;
  putParameter(name: string, value: string, type?: 'String' | 'SecureString'): string;
  /** Faults apply to one secret (ARN or name) or parameter (name); `undefined` clears them. */
  setFault(id: string, fault: StoreFault | undefined): void;
  readonly requests: readonly StoreRequest[];
  close(): Promise<void>;
}

interface StoredSecret {
  readonly name: string;
  readonly arn: string;
  value: string;
  version: number;
}

interface StoredParameter {
  readonly name: string;
  readonly arn: string;
  readonly type: 'String' | 'SecureString';
  value: string;
  version: number;
}

const TARGETS: Readonly<Record<string, { service: StoreService; action: string }>> = {
  'secretsmanager.GetSecretValue': { service: 'secretsmanager', action: 'GetSecretValue' },
  'AmazonSSM.GetParameter': { service: 'ssm', action: 'GetParameter' },
};

/** Signature problems are 403, other client errors 400, like the real JSON 1.1 endpoints. */
const SIGNATURE_ERROR_STATUS: Readonly<Record<string, number>> = {
  InvalidSignatureException: 403,
  IncompleteSignatureException: 403,
  MissingAuthenticationTokenException: 403,
  UnrecognizedClientException: 400,
};

export async function startFakeSecretStores(options: FakeSecretStoresOptions): Promise<FakeSecretStores> {
  const { region, credentials } = options;
  const roleArn = `arn:aws:sts::${FAKE_ACCOUNT_ID}:assumed-role/fn-role/my-function`;
  const secrets = new Map<string, StoredSecret>();
  const parameters = new Map<string, StoredParameter>();
  const faults = new Map<string, { fault: StoreFault; remaining: number }>();
  const requests: StoreRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const findSecret = (id: string): StoredSecret | undefined => {
    for (const secret of secrets.values()) {
      // A full ARN, a partial ARN (without the random suffix) or the name all find the secret.
      const partialArn = secret.arn.slice(0, -7);
      if (id === secret.arn || id === partialArn || id === secret.name) return secret;
    }
    return undefined;
  };
  const parameterKey = (id: string): string => {
    const fromArn = /^arn:aws:ssm:[^:]+:\d{12}:parameter(\/.*)$/.exec(id)?.[1];
    const name = fromArn ?? id;
    // Parameter ARNs drop the leading slash of hierarchical names: parameter/a/b is "/a/b".
    return fromArn !== undefined && !parameters.has(name) ? name.slice(1) : name;
  };
  const faultFor = (...ids: string[]): StoreFault | undefined => {
    for (const id of ids) {
      const entry = faults.get(id);
      if (entry === undefined) continue;
      entry.remaining--;
      if (entry.remaining <= 0) faults.delete(id);
      return entry.fault;
    }
    return undefined;
  };

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
    });
    res.end(text);
  };
  const error = (res: ServerResponse, status: number, type: string, message: string) =>
    send(res, status, { __type: type, message, Message: message });

  function answerSecret(res: ServerResponse, id: string, fault: StoreFault | undefined): number {
    const secret = findSecret(id);
    const resource = secret?.arn ?? `arn:aws:secretsmanager:${region}:${FAKE_ACCOUNT_ID}:secret:${id}`;
    if (fault?.kind === 'access-denied') {
      error(
        res,
        400,
        'AccessDeniedException',
        `User: ${roleArn} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${resource} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
      );
      return 400;
    }
    if (secret === undefined) {
      error(res, 400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      return 400;
    }
    if (fault?.kind === 'kms') {
      error(
        res,
        400,
        'DecryptionFailure',
        "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
      );
      return 400;
    }
    send(res, 200, {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: `v${secret.version}-${secret.arn.slice(-6)}`,
      SecretString: secret.value,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: Date.now() / 1000,
    });
    return 200;
  }

  function answerParameter(
    res: ServerResponse,
    id: string,
    withDecryption: boolean | undefined,
    fault: StoreFault | undefined,
  ): number {
    const parameter = parameters.get(parameterKey(id));
    const resource =
      parameter?.arn ?? `arn:aws:ssm:${region}:${FAKE_ACCOUNT_ID}:parameter/${id.replace(/^\//, '')}`;
    if (fault?.kind === 'access-denied') {
      error(
        res,
        400,
        'AccessDeniedException',
        `User: ${roleArn} is not authorized to perform: ssm:GetParameter on resource: ${resource} because no identity-based policy allows the ssm:GetParameter action`,
      );
      return 400;
    }
    if (parameter === undefined) {
      error(res, 400, 'ParameterNotFound', '');
      return 400;
    }
    if (fault?.kind === 'kms' && parameter.type === 'SecureString' && withDecryption === true) {
      error(
        res,
        400,
        'AccessDeniedException',
        `User: ${roleArn} is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:${region}:${FAKE_ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab because no identity-based policy allows the kms:Decrypt action (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException)`,
      );
      return 400;
    }
    // Without WithDecryption a SecureString comes back encrypted, as from the real service.
    const encrypted = parameter.type === 'SecureString' && withDecryption !== true;
    send(res, 200, {
      Parameter: {
        Name: parameter.name,
        Type: parameter.type,
        Value: encrypted ? `AQICAH${randomBytes(48).toString('base64')}` : parameter.value,
        Version: parameter.version,
        LastModifiedDate: Date.now() / 1000,
        ARN: parameter.arn,
        DataType: 'text',
      },
    });
    return 200;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const target = TARGETS[String(req.headers['x-amz-target'])];
    if (req.method !== 'POST' || target === undefined) {
      error(
        res,
        400,
        'UnknownOperationException',
        `unsupported ${req.method} ${String(req.headers['x-amz-target'])}`,
      );
      return;
    }
    let input: Record<string, unknown> = {};
    try {
      input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      error(res, 400, 'SerializationException', 'body is not JSON');
      return;
    }
    const id = String((target.service === 'secretsmanager' ? input.SecretId : input.Name) ?? '');
    const withDecryption = typeof input.WithDecryption === 'boolean' ? input.WithDecryption : undefined;
    const record = (status: number, signature: string) =>
      requests.push({
        service: target.service,
        action: target.action,
        id,
        withDecryption,
        signature,
        status,
      });

    const verdict = verifySigV4(req, body, { credentials, region, service: target.service, now: Date.now });
    if (!verdict.ok) {
      const status = SIGNATURE_ERROR_STATUS[verdict.errorType] ?? 403;
      error(res, status, verdict.errorType, verdict.problem);
      record(status, verdict.problem);
      return;
    }
    const secret = target.service === 'secretsmanager' ? findSecret(id) : undefined;
    const fault = faultFor(id, ...(secret ? [secret.arn, secret.name] : []), parameterKey(id));
    if (fault?.kind === 'slow' || fault?.kind === 'held') {
      await (fault.kind === 'held'
        ? fault.until
        : new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              timers.delete(timer);
              resolve();
            }, fault.ms);
            timers.add(timer);
          }));
      if (res.destroyed) {
        record(0, 'valid');
        return;
      }
    }
    if (fault?.kind === 'throttling') {
      error(res, 400, 'ThrottlingException', 'Rate exceeded');
      record(400, 'valid');
      return;
    }
    const status =
      target.service === 'secretsmanager'
        ? answerSecret(res, id, fault)
        : answerParameter(res, id, withDecryption, fault);
    record(status, 'valid');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((failure: unknown) => {
      if (!res.headersSent) error(res, 500, 'InternalServiceError', String(failure));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake secret stores: no port');

  return {
    url: `http://127.0.0.1:${address.port}`,
    putSecret(name, value) {
      const existing = secrets.get(name);
      if (existing) {
        existing.value = value;
        existing.version++;
        return existing.arn;
      }
      const suffix = randomBytes(6).toString('base64url').replace(/[-_]/g, 'x').slice(0, 6);
      const arn = `arn:aws:secretsmanager:${region}:${FAKE_ACCOUNT_ID}:secret:${name}-${suffix}`;
      secrets.set(name, { name, arn, value, version: 1 });
      return arn;
    },
    putParameter(name, value, type = 'SecureString') {
      const existing = parameters.get(name);
      if (existing) {
        existing.value = value;
        existing.version++;
        return existing.arn;
      }
      const arn = `arn:aws:ssm:${region}:${FAKE_ACCOUNT_ID}:parameter/${name.replace(/^\//, '')}`;
      parameters.set(name, { name, arn, type, value, version: 1 });
      return arn;
    },
    setFault(id, fault) {
      if (fault === undefined) faults.delete(id);
      else {
        const times = fault.kind === 'throttling' ? fault.times : undefined;
        faults.set(id, { fault, remaining: times ?? Number.POSITIVE_INFINITY });
      }
    },
    requests,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The environment that points the AWS SDK of a child process at the fake stores. */
export function fakeStoresEnv(
  stores: FakeSecretStores,
  credentials: SigningCredentials,
): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: stores.url,
    AWS_ENDPOINT_URL_SSM: stores.url,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    ...(credentials.sessionToken === undefined ? {} : { AWS_SESSION_TOKEN: credentials.sessionToken }),
  };
}
