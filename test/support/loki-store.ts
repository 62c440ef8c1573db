/**
 * What the test receiver has stored, per tenant and stream: the ingester's half of Loki. It drops
 * exact duplicates (same stream, timestamp and line) silently and rejects entries too far behind
 * their stream's newest entry. Kept apart from HTTP so query_range and tail endpoints can read it.
 */
import type { LabelPair } from './loki-labels.js';
import { ignoredEntriesMessage, NS_PER_MS, tooFarBehindMessage } from './loki-rules.js';

export interface ReceivedEntry {
  /** The stream's labels as Loki prints them: sorted, `{a="b", c="d"}`. */
  readonly stream: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly timestampNs: bigint;
  readonly line: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** The request's X-Scope-OrgID, if it had one. */
  readonly tenant: string | undefined;
}

export interface EntryToStore {
  readonly timestampNs: bigint;
  readonly line: string;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface StoredStream {
  readonly tenant: string | undefined;
  readonly stream: string;
  readonly labels: Readonly<Record<string, string>>;
  /** In arrival order. */
  readonly entries: readonly ReceivedEntry[];
}

export interface AppendResult {
  readonly stored: readonly ReceivedEntry[];
  /** Loki's 400 message when some entries were rejected (the others are stored). */
  readonly error: string | undefined;
}

export interface StoreOptions {
  readonly outOfOrderWindowMs: number;
  readonly maxReturnedErrors: number;
}

interface StreamState {
  readonly tenant: string | undefined;
  readonly stream: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly entries: ReceivedEntry[];
  readonly seen: Set<string>;
  newestNs: bigint | undefined;
}

export type AppendListener = (entries: readonly ReceivedEntry[]) => void;

export class LokiStore {
  private readonly all: ReceivedEntry[] = [];
  private readonly streamsByKey = new Map<string, StreamState>();
  private readonly listeners = new Set<AppendListener>();

  constructor(private readonly options: StoreOptions) {}

  /**
   * Appends one stream's entries of a push (already validated by the distributor).
   * `tenantName` is the name Loki puts in messages (`fake` when single-tenant).
   */
  append(
    tenant: string | undefined,
    tenantName: string,
    stream: string,
    pairs: readonly LabelPair[],
    entries: readonly EntryToStore[],
  ): AppendResult {
    const state = this.streamFor(tenant, stream, pairs);
    const windowNs = BigInt(this.options.outOfOrderWindowMs) * NS_PER_MS;
    const stored: ReceivedEntry[] = [];
    const rejected: Array<{ timestampNs: bigint; reason: string }> = [];
    for (const entry of entries) {
      const key = `${entry.timestampNs}\u0000${entry.line}`;
      if (state.seen.has(key)) continue;
      if (state.newestNs !== undefined && entry.timestampNs < state.newestNs - windowNs) {
        const cutoffNs = state.newestNs - windowNs;
        rejected.push({
          timestampNs: entry.timestampNs,
          reason: tooFarBehindMessage(entry.timestampNs, cutoffNs),
        });
        continue;
      }
      const received: ReceivedEntry = Object.freeze({
        stream,
        labels: state.labels,
        timestampNs: entry.timestampNs,
        line: entry.line,
        metadata: Object.freeze({ ...entry.metadata }),
        tenant,
      });
      state.seen.add(key);
      state.entries.push(received);
      if (state.newestNs === undefined || entry.timestampNs > state.newestNs)
        state.newestNs = entry.timestampNs;
      stored.push(received);
    }
    this.all.push(...stored);
    if (stored.length > 0) for (const listener of this.listeners) listener(stored);
    const error =
      rejected.length === 0
        ? undefined
        : ignoredEntriesMessage(rejected, entries.length, tenantName, stream, this.options.maxReturnedErrors);
    return { stored, error };
  }

  /** How many entries are stored. */
  get size(): number {
    return this.all.length;
  }

  /** Every stored entry, in arrival order. */
  entries(): ReceivedEntry[] {
    return [...this.all];
  }

  /** Stored streams, optionally of one tenant (undefined tenant = requests without X-Scope-OrgID). */
  streams(filter?: { readonly tenant: string | undefined }): StoredStream[] {
    const states = [...this.streamsByKey.values()];
    const chosen = filter === undefined ? states : states.filter((state) => state.tenant === filter.tenant);
    return chosen.map((state) => ({ ...state, entries: [...state.entries] }));
  }

  /** Calls `listener` with each batch of newly stored entries; returns the unsubscribe function. */
  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private streamFor(tenant: string | undefined, stream: string, pairs: readonly LabelPair[]): StreamState {
    const key = `${tenant ?? ''}\u0000${tenant === undefined ? 0 : 1}\u0000${stream}`;
    let state = this.streamsByKey.get(key);
    if (state === undefined) {
      state = {
        tenant,
        stream,
        labels: Object.freeze(Object.fromEntries(pairs.map((pair) => [pair.name, pair.value]))),
        entries: [],
        seen: new Set(),
        newestNs: undefined,
      };
      this.streamsByKey.set(key, state);
    }
    return state;
  }
}
