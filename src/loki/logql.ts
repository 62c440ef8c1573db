/** The LogQL `tail` runs: a stream selector for one function, narrowed by source and a line filter. */

export const TAIL_SOURCES = ['function', 'platform'] as const;
export type TailSource = (typeof TAIL_SOURCES)[number];

export interface SelectorInput {
  readonly functionName: string;
  readonly application?: string | undefined;
  readonly environment?: string | undefined;
  readonly source?: TailSource | undefined;
  /** Keep only lines containing this text (`|= "text"`). */
  readonly filter?: string | undefined;
}

/** A LogQL string literal: Go's double-quoted syntax accepts JSON's escapes. */
export function logqlString(value: string): string {
  return JSON.stringify(value);
}

/** `{application="shop", environment="prod", function="orders"} |= "text"` */
export function buildQuery(input: SelectorInput): string {
  const matchers: Array<[string, string | undefined]> = [
    ['application', input.application],
    ['environment', input.environment],
    ['function', input.functionName],
    ['source', input.source],
  ];
  const selector = matchers
    .filter((matcher): matcher is [string, string] => matcher[1] !== undefined && matcher[1] !== '')
    .map(([name, value]) => `${name}=${logqlString(value)}`)
    .join(', ');
  return withFilter(`{${selector}}`, input.filter);
}

/** Adds a line filter to a query (the user's own --query, or ours). */
export function withFilter(query: string, filter: string | undefined): string {
  return filter === undefined || filter === '' ? query : `${query} |= ${logqlString(filter)}`;
}
