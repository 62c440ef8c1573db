import type { Source } from './entries.js';
import { formatLabels } from './labels.js';

/** The labels every stream of this function carries, by source (DESIGN.md §4). */
export interface StreamLabels {
  readonly application: string;
  readonly environment: string;
  readonly functionName: string;
  readonly extraLabels: ReadonlyArray<readonly [string, string]>;
}

/** Precomputes the label string of each source's stream once. */
export function streamLabelStrings(labels: StreamLabels): Readonly<Record<Source, string>> {
  const base: Record<string, string> = {
    application: labels.application,
    environment: labels.environment,
    function: labels.functionName,
  };
  for (const [name, value] of labels.extraLabels) base[name] = value;
  return {
    function: formatLabels({ ...base, source: 'function' }),
    platform: formatLabels({ ...base, source: 'platform' }),
    extension: formatLabels({ ...base, source: 'extension' }),
  };
}
