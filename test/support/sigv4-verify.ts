/**
 * Server-side verification of AWS Signature Version 4, as AWS's front ends do it: rebuild the
 * canonical request from what arrived, derive the signing key from the expected secret key, and
 * compare signatures. Used by the fake Secrets Manager / SSM endpoint to prove that a request was
 * signed with the credentials and region the emulated function was given.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface SigV4Expectation {
  readonly credentials: SigningCredentials;
  readonly region: string;
  /** The signing name of the service: `secretsmanager`, `ssm`. */
  readonly service: string;
  readonly now: () => number;
}

export type SigV4Verdict =
  | { readonly ok: true; readonly accessKeyId: string; readonly region: string }
  /** `errorType` is what AWS answers in that case; `problem` says what was wrong, for test failures. */
  | { readonly ok: false; readonly errorType: string; readonly problem: string };

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** AWS refuses requests whose X-Amz-Date is more than 15 minutes off. */
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** The signing key of SigV4: HMAC chain over date, region, service and "aws4_request". */
export function signingKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), 'aws4_request');
}

/** RFC 3986 encoding as SigV4 wants it (everything but unreserved characters, upper-case hex). */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Non-S3 services encode each path segment twice (once by the client, once for signing). */
function canonicalUri(path: string): string {
  if (path === '' || path === '/') return '/';
  return path
    .split('/')
    .map((segment) => uriEncode(uriEncode(decodeURIComponent(segment))))
    .join('/');
}

function canonicalQuery(search: URLSearchParams): string {
  return [...search.entries()]
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function headerValues(req: IncomingMessage, name: string): string | undefined {
  const values = req.headersDistinct[name];
  if (values === undefined) return undefined;
  return values.map((value) => value.trim().replace(/\s+/g, ' ')).join(',');
}

const refuse = (errorType: string, problem: string): SigV4Verdict => ({ ok: false, errorType, problem });

/** Checks the request's Authorization header against the expected credentials, region and service. */
export function verifySigV4(
  req: IncomingMessage,
  body: Uint8Array,
  expected: SigV4Expectation,
): SigV4Verdict {
  const authorization = req.headers.authorization;
  if (authorization === undefined) {
    return refuse('MissingAuthenticationTokenException', 'the request has no Authorization header');
  }
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (match === null)
    return refuse('IncompleteSignatureException', `malformed Authorization: ${authorization}`);
  const [, accessKeyId = '', date = '', region = '', service = '', signedHeaderList = '', signature = ''] =
    match;

  if (accessKeyId !== expected.credentials.accessKeyId) {
    return refuse('UnrecognizedClientException', `signed with access key ${accessKeyId}, not the function's`);
  }
  if (region !== expected.region) {
    return refuse('InvalidSignatureException', `signed for region ${region}, expected ${expected.region}`);
  }
  if (service !== expected.service) {
    return refuse('InvalidSignatureException', `signed for service ${service}, expected ${expected.service}`);
  }
  const amzDate = req.headers['x-amz-date'];
  if (typeof amzDate !== 'string' || !/^\d{8}T\d{6}Z$/.test(amzDate) || !amzDate.startsWith(date)) {
    return refuse(
      'IncompleteSignatureException',
      `X-Amz-Date ${String(amzDate)} does not match the scope date ${date}`,
    );
  }
  const signedAtMs = Date.parse(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  if (Math.abs(expected.now() - signedAtMs) > MAX_CLOCK_SKEW_MS) {
    return refuse('InvalidSignatureException', `signature date ${amzDate} is more than 15 minutes off`);
  }
  const signedHeaders = signedHeaderList.split(';');
  for (const required of ['host', 'x-amz-date']) {
    if (!signedHeaders.includes(required)) {
      return refuse('IncompleteSignatureException', `the signature does not cover the ${required} header`);
    }
  }
  const { sessionToken } = expected.credentials;
  if (sessionToken !== undefined) {
    if (req.headers['x-amz-security-token'] !== sessionToken) {
      return refuse('UnrecognizedClientException', 'the session token is missing or not the function’s');
    }
    if (!signedHeaders.includes('x-amz-security-token')) {
      return refuse('IncompleteSignatureException', 'the signature does not cover X-Amz-Security-Token');
    }
  }

  const url = new URL(req.url ?? '/', 'http://placeholder');
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${headerValues(req, name) ?? ''}\n`).join('');
  const payloadHash = sha256Hex(body);
  const declaredHash = req.headers['x-amz-content-sha256'];
  if (typeof declaredHash === 'string' && declaredHash !== payloadHash) {
    return refuse('InvalidSignatureException', 'X-Amz-Content-Sha256 does not match the body');
  }
  const canonicalRequest = [
    req.method ?? 'GET',
    canonicalUri(url.pathname),
    canonicalQuery(url.searchParams),
    canonicalHeaders,
    signedHeaderList,
    payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const computed = createHmac(
    'sha256',
    signingKey(expected.credentials.secretAccessKey, date, region, service),
  )
    .update(stringToSign)
    .digest();
  if (!timingSafeEqual(computed, Buffer.from(signature, 'hex'))) {
    return refuse(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided',
    );
  }
  return { ok: true, accessKeyId, region };
}
