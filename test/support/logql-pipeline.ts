/**
 * LogQL read with Grafana's own grammar (@grafana/lezer-logql), and the log pipelines of a query run
 * on lines in JS: stream matchers, line filters, `regexp` (the same expression; only Go's `(?P<name>`
 * is spelled `(?<name>` for JS), `pattern` (test/support/loki-pattern.ts), string label filters,
 * `label_format` with the sprig math the queries use, and `unwrap`. Enough to prove what each query
 * counts or measures on the extension's real lines; not a Loki.
 */
import { parser } from '@grafana/lezer-logql';
import { matchPattern } from './loki-pattern.js';

type Tree = ReturnType<typeof parser.parse>;
type SyntaxNode = Tree['topNode'];

export function parseLogql(query: string): Tree {
  return parser.parse(query);
}

/** The text around each error node of the parse, empty when the query parses. */
export function syntaxErrors(query: string): string[] {
  const errors: string[] = [];
  parseLogql(query).iterate({
    enter: (node) => {
      if (node.type.isError)
        errors.push(`at ${node.from}: …${query.slice(Math.max(0, node.from - 20), node.to + 20)}…`);
    },
  });
  return errors;
}

type Matcher = { readonly name: string; readonly op: string; readonly value: string };
type Stage =
  | { readonly kind: 'lineFilter'; readonly op: string; readonly value: string }
  | { readonly kind: 'regexp' | 'pattern'; readonly expression: string }
  | { readonly kind: 'labelFilter'; readonly matcher: Matcher }
  | { readonly kind: 'labelFormat'; readonly name: string; readonly template: string };

export interface LogPipeline {
  readonly selector: readonly Matcher[];
  readonly stages: readonly Stage[];
  /** The label unwrapped as the sample value, if any. */
  readonly unwrap: string | undefined;
}

/** Every log query (selector + pipeline) inside `query`, in the order they appear. */
export function logPipelines(query: string): LogPipeline[] {
  const pipelines: LogPipeline[] = [];
  const text = (node: SyntaxNode) => query.slice(node.from, node.to);
  const visit = (node: SyntaxNode): void => {
    if (node.name === 'LogRangeExpr' || node.name === 'LogExpr') {
      pipelines.push(readPipeline(node, text));
      return;
    }
    for (let child = node.firstChild; child; child = child.nextSibling) visit(child);
  };
  visit(parseLogql(query).topNode);
  return pipelines;
}

function readPipeline(root: SyntaxNode, text: (node: SyntaxNode) => string): LogPipeline {
  const selector: Matcher[] = [];
  const stages: Stage[] = [];
  let unwrap: string | undefined;
  const walk = (node: SyntaxNode, inSelector: boolean): void => {
    switch (node.name) {
      case 'Selector':
        for (let c = node.firstChild; c; c = c.nextSibling) walk(c, true);
        return;
      case 'Matcher':
        if (inSelector) selector.push(readMatcher(node, text));
        return;
      case 'LineFilter': {
        const op = node.getChild('Filter');
        const value = node.getChild('String');
        if (!op || !value) throw new Error(`unsupported line filter: ${text(node)}`);
        stages.push({ kind: 'lineFilter', op: text(op), value: unquote(text(value)) });
        return;
      }
      case 'LabelParser': {
        const value = node.getChild('String');
        if (!value) throw new Error(`unsupported parser: ${text(node)}`);
        const kind = node.getChild('Regexp') ? 'regexp' : node.getChild('Pattern') ? 'pattern' : undefined;
        if (!kind) throw new Error(`unsupported parser: ${text(node)}`);
        stages.push({ kind, expression: unquote(text(value)) });
        return;
      }
      case 'LabelFilter': {
        const matcher = node.getChild('Matcher');
        if (!matcher) throw new Error(`unsupported label filter: ${text(node)}`);
        stages.push({ kind: 'labelFilter', matcher: readMatcher(matcher, text) });
        return;
      }
      case 'LabelFormatMatcher': {
        const name = node.getChild('Identifier');
        const value = node.getChild('String');
        if (!name || !value) throw new Error(`unsupported label_format: ${text(node)}`);
        stages.push({ kind: 'labelFormat', name: text(name), template: unquote(text(value)) });
        return;
      }
      case 'UnwrapExpr': {
        const label = node.getChild('Identifier');
        if (label) unwrap = text(label);
        // The post-unwrap `__error__=""` filter keeps what converted; conversion is checked in run().
        for (let c = node.firstChild; c; c = c.nextSibling) if (c.name === 'UnwrapExpr') walk(c, false);
        return;
      }
      default:
        for (let c = node.firstChild; c; c = c.nextSibling) walk(c, inSelector);
    }
  };
  walk(root, false);
  return { selector, stages, unwrap };
}

function readMatcher(node: SyntaxNode, text: (node: SyntaxNode) => string): Matcher {
  const name = node.getChild('Identifier');
  const value = node.getChild('String');
  const op = node.getChild('Eq') ?? node.getChild('Neq') ?? node.getChild('Re') ?? node.getChild('Nre');
  if (!name || !value || !op) throw new Error(`unsupported matcher: ${text(node)}`);
  return { name: text(name), op: text(op), value: unquote(text(value)) };
}

/** A LogQL string: backquoted strings are raw, double-quoted ones have Go's escapes. */
export function unquote(literal: string): string {
  if (literal.startsWith('`')) return literal.slice(1, -1);
  return JSON.parse(literal) as string;
}

/** Go's RE2 named group `(?P<name>…)` in JS syntax; nothing else changes. */
export function jsRegExp(re2: string): RegExp {
  return new RegExp(re2.replaceAll('(?P<', '(?<'));
}

function labelMatches(matcher: Matcher, value: string): boolean {
  switch (matcher.op) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return jsRegExp(`^(?:${matcher.value})$`).test(value);
    case '!~':
      return !jsRegExp(`^(?:${matcher.value})$`).test(value);
    default:
      throw new Error(`unsupported operator ${matcher.op}`);
  }
}

export interface PipelineResult {
  /** Stream labels plus the extracted ones. */
  readonly labels: Readonly<Record<string, string>>;
  /** The unwrapped sample, when the pipeline unwraps. */
  readonly value: number | undefined;
}

/** Runs the pipeline on one line of a stream: undefined when the line is filtered out (or fails unwrap). */
export function runPipeline(
  pipeline: LogPipeline,
  stream: Readonly<Record<string, string>>,
  line: string,
): PipelineResult | undefined {
  if (!pipeline.selector.every((m) => labelMatches(m, stream[m.name] ?? ''))) return undefined;
  const labels: Record<string, string> = { ...stream };
  for (const stage of pipeline.stages) {
    switch (stage.kind) {
      case 'lineFilter': {
        const pass =
          stage.op === '|='
            ? line.includes(stage.value)
            : stage.op === '!='
              ? !line.includes(stage.value)
              : stage.op === '|~'
                ? jsRegExp(stage.value).test(line)
                : !jsRegExp(stage.value).test(line);
        if (!pass) return undefined;
        break;
      }
      case 'regexp': {
        const groups = jsRegExp(stage.expression).exec(line)?.groups;
        for (const [name, value] of Object.entries(groups ?? {}))
          if (value !== undefined) labels[name] = value;
        break;
      }
      case 'pattern':
        Object.assign(labels, matchPattern(stage.expression, line) ?? {});
        break;
      case 'labelFilter':
        if (stage.matcher.name === '__error__') break; // no stage of ours sets an error before unwrap
        if (!labelMatches(stage.matcher, labels[stage.matcher.name] ?? '')) return undefined;
        break;
      case 'labelFormat':
        labels[stage.name] = String(evalTemplate(stage.template, labels));
        break;
    }
  }
  if (pipeline.unwrap === undefined) return { labels, value: undefined };
  const raw = labels[pipeline.unwrap];
  const value = raw === undefined || raw === '' ? Number.NaN : Number(raw);
  // Loki marks a failed conversion with __error__; the queries drop those samples.
  return Number.isFinite(value) ? { labels, value } : undefined;
}

/**
 * The Go templates the queries use: `{{ fn arg… }}` with sprig's float math (`mulf`, `divf`, `addf`,
 * `subf`), label references `.name` (missing or non-numeric: 0, as sprig converts) and numbers.
 */
export function evalTemplate(template: string, labels: Readonly<Record<string, string>>): number {
  const body = /^\{\{-?\s*(.*?)\s*-?\}\}$/s.exec(template.trim())?.[1];
  if (body === undefined) throw new Error(`unsupported template: ${template}`);
  const tokens = body.match(/\(|\)|[^\s()]+/g) ?? [];
  let at = 0;
  const fns: Record<string, (a: number, b: number) => number> = {
    mulf: (a, b) => a * b,
    divf: (a, b) => a / b,
    addf: (a, b) => a + b,
    subf: (a, b) => a - b,
  };
  const operand = (): number => {
    const token = tokens[at++];
    if (token === '(') {
      const value = call();
      if (tokens[at++] !== ')') throw new Error(`unbalanced template: ${template}`);
      return value;
    }
    if (token?.startsWith('.')) {
      const value = Number(labels[token.slice(1)] ?? '');
      return Number.isFinite(value) ? value : 0;
    }
    const value = Number(token);
    if (!Number.isFinite(value)) throw new Error(`unsupported template operand ${token}`);
    return value;
  };
  const call = (): number => {
    const name = tokens[at++] ?? '';
    const fn = fns[name];
    if (!fn) throw new Error(`unsupported template function ${name}`);
    return fn(operand(), operand());
  };
  const value = call();
  if (at !== tokens.length) throw new Error(`unsupported template: ${template}`);
  return value;
}
