/**
 * One decoded push through Loki's write path: validate each stream's labels and each entry
 * (distributor), apply the tenant's ingestion rate limit, then store (ingester). Like Loki, a
 * rejected entry or stream does not stop the others: the good entries are stored and the answer is
 * a 400 carrying the last error seen, an ingester error taking precedence over a validation error.
 */
import type { DecodedPushRequest } from './loki-codec.js';
import type { LabelPair } from './loki-labels.js';
import type { IngestionRateLimiter } from './loki-rate-limit.js';
import { checkEntry, checkStreamLabels, type LokiLimits, rateLimitedMessage } from './loki-rules.js';
import type { EntryToStore, LokiStore } from './loki-store.js';

export interface PushOutcome {
  readonly status: number;
  /** Plain-text reason; empty for 204. */
  readonly message: string;
  readonly entriesInRequest: number;
  readonly entriesStored: number;
}

export interface PushContext {
  readonly store: LokiStore;
  readonly limits: LokiLimits;
  readonly rateLimiter: IngestionRateLimiter | undefined;
  readonly nowMs: number;
  /** X-Scope-OrgID of the request, if any. */
  readonly tenant: string | undefined;
  /** The tenant name Loki uses in messages. */
  readonly tenantName: string;
}

interface ValidStream {
  readonly stream: string;
  readonly pairs: readonly LabelPair[];
  readonly entries: readonly EntryToStore[];
}

const STATUS = { noContent: 204, badRequest: 400, tooManyRequests: 429 } as const;

export function ingestPush(request: DecodedPushRequest, context: PushContext): PushOutcome {
  const { limits } = context;
  const entriesInRequest = request.streams.reduce((sum, stream) => sum + stream.entries.length, 0);
  let validationError: string | undefined;
  const valid: ValidStream[] = [];
  let validLines = 0;
  let validBytes = 0;

  for (const stream of request.streams) {
    // Loki skips a stream without entries before looking at its labels.
    if (stream.entries.length === 0) continue;
    const labels = checkStreamLabels(stream.labels, limits);
    if (!labels.ok) {
      validationError = labels.error;
      continue;
    }
    const entries: EntryToStore[] = [];
    for (const entry of stream.entries) {
      const error = checkEntry(labels.stream, entry, limits, context.nowMs);
      if (error !== undefined) {
        validationError = error;
        continue;
      }
      entries.push({
        timestampNs: entry.timestampNs,
        line: entry.line,
        metadata: Object.fromEntries(entry.metadata.map((pair) => [pair.name, pair.value])),
      });
      validLines++;
      validBytes += Buffer.byteLength(entry.line, 'utf8');
    }
    valid.push({ stream: labels.stream, pairs: labels.pairs, entries });
  }

  const answer = (status: number, message: string, entriesStored: number): PushOutcome => ({
    status,
    message,
    entriesInRequest,
    entriesStored,
  });
  if (valid.length === 0) {
    return validationError === undefined
      ? answer(STATUS.noContent, '', 0)
      : answer(STATUS.badRequest, validationError, 0);
  }

  const { rateLimiter } = context;
  if (rateLimiter !== undefined && !rateLimiter.allow(context.tenantName, validBytes, context.nowMs)) {
    const message = rateLimitedMessage(
      context.tenantName,
      rateLimiter.limit.bytesPerSecond,
      validLines,
      validBytes,
    );
    return answer(STATUS.tooManyRequests, message, 0);
  }

  let ingesterError: string | undefined;
  let entriesStored = 0;
  for (const stream of valid) {
    const result = context.store.append(
      context.tenant,
      context.tenantName,
      stream.stream,
      stream.pairs,
      stream.entries,
    );
    entriesStored += result.stored.length;
    if (result.error !== undefined) ingesterError = result.error;
  }
  const error = ingesterError ?? validationError;
  return error === undefined
    ? answer(STATUS.noContent, '', entriesStored)
    : answer(STATUS.badRequest, error, entriesStored);
}
