import { splitList } from '../config-file.js';
import { ARCHES, type Arch, FLAVORS, type Flavor } from '../layer/targets.js';

/** Repeatable list option: `--arch a --arch b` or `--arch a,b` (split later, by `parseChoices`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Values of a list option (`a,b` or repeated), checked against the allowed ones; each bad one is a problem. */
export function parseChoices<T extends string>(
  name: string,
  values: readonly string[] | undefined,
  allowed: readonly T[],
  problems: string[],
): T[] | undefined {
  if (values === undefined) return undefined;
  const items = values.flatMap(splitList);
  const bad = items.filter((item) => !(allowed as readonly string[]).includes(item));
  if (bad.length > 0) problems.push(`${name} must be one of ${allowed.join(', ')}; got ${bad.join(', ')}`);
  return items.filter((item): item is T => (allowed as readonly string[]).includes(item));
}

export function parseArches(values: readonly string[] | undefined, problems: string[]): Arch[] | undefined {
  return parseChoices('--arch', values, ARCHES, problems);
}

export function parseFlavors(
  values: readonly string[] | undefined,
  problems: string[],
): Flavor[] | undefined {
  return parseChoices('--flavor', values, FLAVORS, problems);
}
