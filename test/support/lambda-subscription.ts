/**
 * Validation of a Telemetry API subscription (`PUT /2022-07-01/telemetry`), with the documented
 * ranges and defaults. Pure: returns the normalized subscription or every problem found.
 */
import { TelemetryType } from './lambda-events.js';

export const SUPPORTED_SCHEMA_VERSIONS = ['2022-07-01', '2022-12-13', '2025-01-29'] as const;

export const MAX_ITEMS_MIN = 1000;
export const MAX_ITEMS_MAX = 10_000;
export const MAX_ITEMS_DEFAULT = 1000;
export const MAX_BYTES_MIN = 262_144;
export const MAX_BYTES_MAX = 1_048_576;
export const MAX_BYTES_DEFAULT = 262_144;
export const TIMEOUT_MS_MIN = 25;
export const TIMEOUT_MS_MAX = 30_000;
export const TIMEOUT_MS_DEFAULT = 1000;

export interface TelemetryBuffering {
  readonly maxItems: number;
  readonly maxBytes: number;
  readonly timeoutMs: number;
}

export interface TelemetrySubscription {
  readonly schemaVersion: string;
  readonly types: readonly TelemetryType[];
  readonly buffering: TelemetryBuffering;
  readonly destination: { readonly protocol: 'HTTP'; readonly URI: string };
}

export type SubscriptionParse =
  | { readonly ok: true; readonly subscription: TelemetrySubscription }
  | { readonly ok: false; readonly errorMessage: string };

const KNOWN_TYPES: readonly string[] = Object.values(TelemetryType);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function intInRange(
  problems: string[],
  source: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
  fallback: number,
): number {
  const value = source[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push(`buffering.${key} must be an integer between ${min} and ${max}`);
    return fallback;
  }
  return value;
}

/** Parses the request body; problems are joined with "; " like Lambda's `ValidationError` messages. */
export function parseSubscription(body: string): SubscriptionParse {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, errorMessage: 'request body is not valid JSON' };
  }
  if (!isRecord(parsed)) return { ok: false, errorMessage: 'request body must be a JSON object' };

  const problems: string[] = [];
  const schemaVersion = parsed.schemaVersion;
  if (
    typeof schemaVersion !== 'string' ||
    !(SUPPORTED_SCHEMA_VERSIONS as readonly string[]).includes(schemaVersion)
  ) {
    problems.push(`schemaVersion must be one of ${SUPPORTED_SCHEMA_VERSIONS.join(', ')}`);
  }

  const types = parsed.types;
  if (!Array.isArray(types) || types.length === 0) {
    problems.push('types should not be empty');
  } else {
    const unknown = types.filter((t) => typeof t !== 'string' || !KNOWN_TYPES.includes(t));
    if (unknown.length > 0) problems.push(`types must be among ${KNOWN_TYPES.join(', ')}`);
  }

  const bufferingIn = parsed.buffering ?? {};
  let buffering: TelemetryBuffering = {
    maxItems: MAX_ITEMS_DEFAULT,
    maxBytes: MAX_BYTES_DEFAULT,
    timeoutMs: TIMEOUT_MS_DEFAULT,
  };
  if (!isRecord(bufferingIn)) {
    problems.push('buffering must be an object');
  } else {
    buffering = {
      maxItems: intInRange(
        problems,
        bufferingIn,
        'maxItems',
        MAX_ITEMS_MIN,
        MAX_ITEMS_MAX,
        MAX_ITEMS_DEFAULT,
      ),
      maxBytes: intInRange(
        problems,
        bufferingIn,
        'maxBytes',
        MAX_BYTES_MIN,
        MAX_BYTES_MAX,
        MAX_BYTES_DEFAULT,
      ),
      timeoutMs: intInRange(
        problems,
        bufferingIn,
        'timeoutMs',
        TIMEOUT_MS_MIN,
        TIMEOUT_MS_MAX,
        TIMEOUT_MS_DEFAULT,
      ),
    };
  }

  const destination = parsed.destination;
  let uri = '';
  if (!isRecord(destination)) {
    problems.push('destination is required');
  } else {
    if (destination.protocol === 'TCP') {
      problems.push('destination.protocol TCP is not supported by this emulator; use HTTP');
    } else if (destination.protocol !== 'HTTP') {
      problems.push('destination.protocol must be HTTP or TCP');
    }
    if (typeof destination.URI !== 'string') {
      problems.push('destination.URI is required');
    } else {
      uri = destination.URI;
      problems.push(...uriProblems(uri));
    }
  }

  if (problems.length > 0) return { ok: false, errorMessage: problems.join('; ') };
  return {
    ok: true,
    subscription: {
      schemaVersion: schemaVersion as string,
      types: types as TelemetryType[],
      buffering,
      destination: { protocol: 'HTTP', URI: uri },
    },
  };
}

function uriProblems(uri: string): string[] {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return ['destination.URI is not a valid URI'];
  }
  if (url.protocol !== 'http:') return ['destination.URI must use http'];
  if (url.port === '') return ['URI port is not provided'];
  return [];
}
