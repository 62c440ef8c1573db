/**
 * Loki's `pattern` parser, as documented ("captures are matched from the beginning of the line, or
 * from the previous set of literals, to the end of the line or to the next set of literals"; anchored
 * at the start; `<_>` captures and drops) and as pkg/logql/log/pattern implements it: a capture ends
 * at the first occurrence of the next literal; when that literal is missing the capture takes the
 * rest of the line and matching stops; after a final literal the rest of the line is ignored.
 */

type Node =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'capture'; readonly name: string };

const CAPTURE = /<([A-Za-z_][A-Za-z0-9_]*)>/g;

export function parsePattern(pattern: string): Node[] {
  const nodes: Node[] = [];
  let last = 0;
  for (const match of pattern.matchAll(CAPTURE)) {
    if (match.index > last) nodes.push({ kind: 'literal', text: pattern.slice(last, match.index) });
    const previous = nodes.at(-1);
    if (previous?.kind === 'capture') throw new Error(`consecutive captures in pattern ${pattern}`);
    const name = match[1] ?? '_';
    if (name !== '_' && nodes.some((node) => node.kind === 'capture' && node.name === name)) {
      throw new Error(`duplicate capture name (${name}) in pattern ${pattern}`);
    }
    nodes.push({ kind: 'capture', name });
    last = match.index + match[0].length;
  }
  if (last < pattern.length) nodes.push({ kind: 'literal', text: pattern.slice(last) });
  if (!nodes.some((node) => node.kind === 'capture' && node.name !== '_')) {
    throw new Error(`at least one named capture is required: ${pattern}`);
  }
  return nodes;
}

/** The named captures of `line`, or undefined when the pattern does not match at all. */
export function matchPattern(pattern: string, line: string): Record<string, string> | undefined {
  let nodes = parsePattern(pattern);
  let rest = line;
  const first = nodes[0];
  if (first?.kind === 'literal') {
    if (!rest.startsWith(first.text)) return undefined;
    rest = rest.slice(first.text.length);
    nodes = nodes.slice(1);
  }
  if (nodes.length === 0) return undefined;
  const captures: Record<string, string> = {};
  const capture = (name: string, value: string) => {
    if (name !== '_') captures[name] = value;
  };
  while (nodes.length > 0) {
    const [head, next] = nodes;
    if (head?.kind !== 'capture') throw new Error('pattern: expected a capture');
    if (next === undefined) {
      capture(head.name, rest);
      return captures;
    }
    if (next.kind !== 'literal') throw new Error('pattern: expected a literal');
    nodes = nodes.slice(2);
    const at = rest.indexOf(next.text);
    if (at === -1) {
      capture(head.name, rest);
      return captures;
    }
    capture(head.name, rest.slice(0, at));
    rest = rest.slice(at + next.text.length);
  }
  return captures;
}
