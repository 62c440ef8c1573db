/**
 * Loki's per-tenant ingestion rate limit: a token bucket over line bytes (Go's `rate.Limiter`),
 * refilled at `bytesPerSecond` up to `burstBytes`. A push that does not fit is refused whole (429).
 */

/** Loki's default `ingestion_burst_size_mb` 6 (its `ingestion_rate_mb` is 4; tests give their own rate). */
export const INGESTION_BURST_BYTES_DEFAULT = 6 * 1024 * 1024;

export interface IngestionRateLimit {
  readonly bytesPerSecond: number;
  readonly burstBytes?: number;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

export class IngestionRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly burstBytes: number;

  constructor(readonly limit: IngestionRateLimit) {
    this.burstBytes = limit.burstBytes ?? Math.max(limit.bytesPerSecond, INGESTION_BURST_BYTES_DEFAULT);
  }

  /** Takes `bytes` tokens for `tenant` at `nowMs` if they are there; false (nothing taken) otherwise. */
  allow(tenant: string, bytes: number, nowMs: number): boolean {
    const bucket = this.buckets.get(tenant) ?? { tokens: this.burstBytes, atMs: nowMs };
    const elapsedMs = Math.max(0, nowMs - bucket.atMs);
    const tokens = Math.min(this.burstBytes, bucket.tokens + (elapsedMs * this.limit.bytesPerSecond) / 1000);
    this.buckets.set(tenant, { tokens, atMs: nowMs });
    if (bytes > tokens) return false;
    this.buckets.set(tenant, { tokens: tokens - bytes, atMs: nowMs });
    return true;
  }
}
