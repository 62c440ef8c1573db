/**
 * The LogQL subset the test receiver answers queries with: a stream selector
 * `{a="b", c=~"re", d!="x", e!~"re"}`, line filters `|= "text"`, `!= "text"`, `|~ "re"`, `!~ "re"`,
 * and label filters `| name="value"` (also `!=`, `=~`, `!~`) on structured metadata or stream labels.
 * Errors read like Loki's (`parse error at line 1, col N: syntax error: ...`); regexps are anchored
 * like Prometheus matchers. Anything else (parsers, metric queries) is a parse error here.
 */

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
  readonly test: (value: string) => boolean;
}

export type PipelineStage =
  | {
      readonly kind: 'line';
      readonly op: '|=' | '!=' | '|~' | '!~';
      readonly test: (line: string) => boolean;
    }
  | { readonly kind: 'label'; readonly matcher: LabelMatcher };

export interface LogQuery {
  readonly matchers: readonly LabelMatcher[];
  readonly pipeline: readonly PipelineStage[];
}

export class LogqlParseError extends Error {
  override name = 'LogqlParseError';
}

/** Loki's answer when no matcher narrows the streams. */
export const EMPTY_MATCHERS_MESSAGE =
  'queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will';

type Token =
  | { readonly kind: 'punct'; readonly text: string; readonly col: number }
  | { readonly kind: 'ident'; readonly text: string; readonly col: number }
  | { readonly kind: 'string'; readonly text: string; readonly col: number }
  | { readonly kind: 'end'; readonly text: '$end'; readonly col: number };

const PUNCTUATION = ['|=', '|~', '!=', '!~', '=~', '{', '}', ',', '=', '|'] as const;

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  const fail = (message: string): never => {
    throw new LogqlParseError(`parse error at line 1, col ${pos + 1}: ${message}`);
  };
  while (pos < input.length) {
    const char = input[pos]!;
    if (/\s/.test(char)) {
      pos++;
      continue;
    }
    const col = pos + 1;
    const punct = PUNCTUATION.find((p) => input.startsWith(p, pos));
    if (punct !== undefined) {
      tokens.push({ kind: 'punct', text: punct, col });
      pos += punct.length;
      continue;
    }
    if (/[a-zA-Z_]/.test(char)) {
      const match = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(input.slice(pos))!;
      tokens.push({ kind: 'ident', text: match[0], col });
      pos += match[0].length;
      continue;
    }
    if (char === '`') {
      const end = input.indexOf('`', pos + 1);
      if (end < 0) fail('literal not terminated');
      tokens.push({ kind: 'string', text: input.slice(pos + 1, end), col });
      pos = end + 1;
      continue;
    }
    if (char === '"') {
      let end = pos + 1;
      while (end < input.length && input[end] !== '"') end += input[end] === '\\' ? 2 : 1;
      if (end >= input.length) fail('literal not terminated');
      try {
        // Go's double-quoted strings and JSON's agree on the escapes clients use.
        tokens.push({ kind: 'string', text: JSON.parse(input.slice(pos, end + 1)) as string, col });
      } catch {
        fail(`invalid escape in ${input.slice(pos, end + 1)}`);
      }
      pos = end + 1;
      continue;
    }
    fail(`syntax error: unexpected character ${JSON.stringify(char)}`);
  }
  tokens.push({ kind: 'end', text: '$end', col: input.length + 1 });
  return tokens;
}

function compileRegex(source: string, anchored: boolean, col: number): RegExp {
  try {
    return new RegExp(anchored ? `^(?:${source})$` : source);
  } catch (error) {
    throw new LogqlParseError(
      `parse error at line 1, col ${col}: error parsing regexp: ${(error as Error).message}`,
    );
  }
}

function matcher(name: string, op: MatchOp, value: string, col: number): LabelMatcher {
  if (op === '=' || op === '!=') {
    const want = op === '=';
    return { name, op, value, test: (actual) => (actual === value) === want };
  }
  const regex = compileRegex(value, true, col);
  const want = op === '=~';
  return { name, op, value, test: (actual) => regex.test(actual) === want };
}

/** Parses a log query; throws LogqlParseError with Loki's kind of message. */
export function parseLogQuery(input: string): LogQuery {
  const tokens = tokenize(input);
  let index = 0;
  const peek = (): Token => tokens[index]!;
  const next = (): Token => tokens[index++]!;
  const unexpected = (token: Token, expecting: string): never => {
    const what = token.kind === 'string' ? 'STRING' : token.kind === 'ident' ? 'IDENTIFIER' : token.text;
    throw new LogqlParseError(
      `parse error at line 1, col ${token.col}: syntax error: unexpected ${what}, expecting ${expecting}`,
    );
  };
  const expectPunct = (text: string, expecting = text): Token => {
    const token = next();
    if (token.kind !== 'punct' || token.text !== text) unexpected(token, expecting);
    return token;
  };
  const expectString = (): Token => {
    const token = next();
    if (token.kind !== 'string') unexpected(token, 'STRING');
    return token;
  };
  const readMatcher = (): LabelMatcher => {
    const name = next();
    if (name.kind !== 'ident') unexpected(name, 'IDENTIFIER');
    const op = next();
    if (op.kind !== 'punct' || !['=', '!=', '=~', '!~'].includes(op.text)) unexpected(op, '=, !=, =~ or !~');
    const value = expectString();
    return matcher(name.text, op.text as MatchOp, value.text, value.col);
  };

  expectPunct('{');
  const matchers: LabelMatcher[] = [];
  if (!(peek().kind === 'punct' && peek().text === '}')) {
    matchers.push(readMatcher());
    while (peek().kind === 'punct' && peek().text === ',') {
      next();
      matchers.push(readMatcher());
    }
  }
  expectPunct('}', '} or ,');

  const pipeline: PipelineStage[] = [];
  while (peek().kind !== 'end') {
    const op = next();
    if (op.kind !== 'punct') unexpected(op, '|=, !=, |~, !~ or |');
    if (op.text === '|=' || op.text === '!=' || op.text === '|~' || op.text === '!~') {
      const value = expectString();
      const regex =
        op.text === '|~' || op.text === '!~' ? compileRegex(value.text, false, value.col) : undefined;
      const contains = (line: string): boolean => (regex ? regex.test(line) : line.includes(value.text));
      const want = op.text === '|=' || op.text === '|~';
      pipeline.push({ kind: 'line', op: op.text, test: (line) => contains(line) === want });
    } else if (op.text === '|') {
      pipeline.push({ kind: 'label', matcher: readMatcher() });
    } else {
      unexpected(op, '|=, !=, |~, !~ or |');
    }
  }

  if (matchers.length === 0) {
    throw new LogqlParseError('parse error : syntax error: unexpected }, expecting IDENTIFIER');
  }
  if (!matchers.some((m) => !m.test(''))) throw new LogqlParseError(EMPTY_MATCHERS_MESSAGE);
  return { matchers, pipeline };
}

/** Whether a stream's labels match the selector (an absent label matches as the empty string). */
export function matchesStream(query: LogQuery, labels: Readonly<Record<string, string>>): boolean {
  return query.matchers.every((m) => m.test(labels[m.name] ?? ''));
}

/** Whether an entry passes the pipeline; label filters look at structured metadata, then stream labels. */
export function passesPipeline(
  query: LogQuery,
  entry: {
    readonly line: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly metadata: Readonly<Record<string, string>>;
  },
): boolean {
  return query.pipeline.every((stage) =>
    stage.kind === 'line'
      ? stage.test(entry.line)
      : stage.matcher.test(entry.metadata[stage.matcher.name] ?? entry.labels[stage.matcher.name] ?? ''),
  );
}
