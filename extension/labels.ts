/** Prometheus-style label sets, as Loki's push API expects them (DESIGN.md §4). */

export const LABEL_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Labels every stream carries; LOKI_EXTRA_LABELS may not redefine them. */
export const RESERVED_LABEL_NAMES = ['application', 'environment', 'function', 'source'] as const;

export function isValidLabelName(name: string): boolean {
  return LABEL_NAME_PATTERN.test(name);
}

/** Escapes a label value the way Prometheus' text format does: backslash, double quote, newline. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** Formats `{a="1", b="2"}` with names sorted, so the same set always gives the same stream. */
export function formatLabels(labels: Readonly<Record<string, string>>): string {
  const names = Object.keys(labels).sort();
  return `{${names.map((name) => `${name}="${escapeLabelValue(labels[name] ?? '')}"`).join(', ')}}`;
}
