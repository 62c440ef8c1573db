/**
 * Stream label strings as Loki reads them: Loki parses `{a="b", c="d"}` with Prometheus'
 * `ParseMetric`, sorts by name, drops empty values, and prints the set back in Go's
 * `labels.String()` form, which is the stream's identity. This mirrors that closely enough to give
 * the same stream identity and the same accept/reject decisions; parse error texts are modelled on
 * Prometheus' (`1:7: parse error: ...`) but need not match them character for character.
 */

export interface LabelPair {
  readonly name: string;
  readonly value: string;
}

export class LabelParseError extends Error {
  override name = 'LabelParseError';
}

const METRIC_NAME_START = /[a-zA-Z_:]/;
const METRIC_NAME_PART = /[a-zA-Z0-9_:]/;
const LABEL_NAME_START = /[a-zA-Z_]/;
const LABEL_NAME_PART = /[a-zA-Z0-9_]/;
const WHITESPACE = /[ \t\r\n]/;
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
};

/** Parses a label string; returns pairs sorted by name, empty values dropped, duplicates kept. */
export function parseLabels(input: string): LabelPair[] {
  const parser = new LabelStringParser(input);
  return parser
    .parse()
    .filter((pair) => pair.value !== '')
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Go's `labels.String()`: `{a="b", c="d"}`, values quoted like `strconv.Quote`. */
export function formatLabels(pairs: readonly LabelPair[]): string {
  return `{${pairs.map((pair) => `${pair.name}=${goQuote(pair.value)}`).join(', ')}}`;
}

/** Go's `strconv.Quote` for valid UTF-8 text. */
export function goQuote(value: string): string {
  let out = '"';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (char === '"' || char === '\\') out += `\\${char}`;
    else if (char === ' ' || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(char)) out += char;
    else if (char === '\x07') out += '\\a';
    else if (char === '\b') out += '\\b';
    else if (char === '\f') out += '\\f';
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (char === '\v') out += '\\v';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code < 0x10000) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

class LabelStringParser {
  private pos = 0;

  constructor(private readonly input: string) {}

  parse(): LabelPair[] {
    const pairs: LabelPair[] = [];
    this.skipWhitespace();
    if (this.atEnd()) return pairs;
    if (METRIC_NAME_START.test(this.peek())) {
      pairs.push({ name: '__name__', value: this.readName(METRIC_NAME_START, METRIC_NAME_PART) });
      this.skipWhitespace();
      if (this.atEnd()) return pairs;
    }
    if (this.peek() !== '{') this.fail(`unexpected character: ${quoteChar(this.peek())}`);
    this.pos++;
    for (;;) {
      this.skipWhitespace();
      if (this.atEnd()) this.fail('unexpected end of input inside braces');
      if (this.peek() === '}') break;
      if (!LABEL_NAME_START.test(this.peek())) {
        this.fail(`unexpected character inside braces: ${quoteChar(this.peek())}`);
      }
      const name = this.readName(LABEL_NAME_START, LABEL_NAME_PART);
      this.skipWhitespace();
      this.expectEquals();
      this.skipWhitespace();
      pairs.push({ name, value: this.readString() });
      this.skipWhitespace();
      if (this.atEnd()) this.fail('unexpected end of input inside braces');
      if (this.peek() === ',') {
        this.pos++;
        continue;
      }
      if (this.peek() !== '}')
        this.fail(`unexpected ${quoteChar(this.peek())} in label set, expected "," or "}"`);
    }
    this.pos++;
    this.skipWhitespace();
    if (!this.atEnd()) this.fail(`unexpected ${quoteChar(this.peek())}, expected end of input`);
    return pairs;
  }

  private expectEquals(): void {
    if (this.atEnd()) this.fail('unexpected end of input inside braces');
    const two = this.input.slice(this.pos, this.pos + 2);
    if (two === '!=' || two === '=~' || two === '!~')
      this.fail(`unexpected "${two}" in label set, expected "="`);
    if (this.peek() !== '=') this.fail(`unexpected ${quoteChar(this.peek())} in label set, expected "="`);
    this.pos++;
  }

  private readName(start: RegExp, part: RegExp): string {
    const from = this.pos;
    if (!start.test(this.peek())) this.fail(`unexpected character: ${quoteChar(this.peek())}`);
    this.pos++;
    while (!this.atEnd() && part.test(this.peek())) this.pos++;
    return this.input.slice(from, this.pos);
  }

  private readString(): string {
    if (this.atEnd()) this.fail('unexpected end of input inside braces');
    const quote = this.peek();
    if (quote === '`') return this.readRawString();
    if (quote !== '"' && quote !== "'")
      this.fail(`unexpected ${quoteChar(quote)} in label set, expected string`);
    this.pos++;
    // Escapes like \xff and \377 give bytes, so the value is collected as UTF-8 bytes.
    const bytes: number[] = [];
    for (;;) {
      if (this.atEnd() || this.peek() === '\n') this.fail('unterminated quoted string');
      const char = this.input[this.pos++]!;
      if (char === quote) break;
      if (char !== '\\') {
        bytes.push(...Buffer.from(char, 'utf8'));
        continue;
      }
      this.readEscape(bytes, quote);
    }
    return Buffer.from(bytes).toString('utf8');
  }

  /** Go escapes; a quote may be escaped only inside a string of that quote, as in Prometheus' lexer. */
  private readEscape(bytes: number[], quote: string): void {
    if (this.atEnd()) this.fail('escape sequence not terminated');
    const char = this.input[this.pos++]!;
    const simple = char === quote ? quote : SIMPLE_ESCAPES[char];
    if (simple !== undefined) {
      bytes.push(...Buffer.from(simple, 'utf8'));
      return;
    }
    const hexDigits = char === 'x' ? 2 : char === 'u' ? 4 : char === 'U' ? 8 : 0;
    if (hexDigits > 0) {
      const digits = this.input.slice(this.pos, this.pos + hexDigits);
      if (!new RegExp(`^[0-9a-fA-F]{${hexDigits}}$`).test(digits))
        this.fail('illegal character in escape sequence');
      this.pos += hexDigits;
      const code = Number.parseInt(digits, 16);
      if (char === 'x') bytes.push(code);
      else if (code > 0x10ffff || (code >= 0xd800 && code < 0xe000))
        this.fail('escape sequence is an invalid Unicode code point');
      else bytes.push(...Buffer.from(String.fromCodePoint(code), 'utf8'));
      return;
    }
    if (/[0-7]/.test(char)) {
      const digits = char + this.input.slice(this.pos, this.pos + 2);
      if (!/^[0-7]{3}$/.test(digits) || Number.parseInt(digits, 8) > 255) {
        this.fail('illegal character in escape sequence');
      }
      this.pos += 2;
      bytes.push(Number.parseInt(digits, 8));
      return;
    }
    this.fail(
      `unknown escape sequence U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} '${char}'`,
    );
  }

  private readRawString(): string {
    const end = this.input.indexOf('`', this.pos + 1);
    if (end < 0) this.fail('unterminated raw string');
    const value = this.input.slice(this.pos + 1, end);
    this.pos = end + 1;
    return value;
  }

  private skipWhitespace(): void {
    while (!this.atEnd() && WHITESPACE.test(this.peek())) this.pos++;
  }

  private peek(): string {
    return this.input[this.pos] ?? '';
  }

  private atEnd(): boolean {
    return this.pos >= this.input.length;
  }

  private fail(message: string): never {
    throw new LabelParseError(`1:${this.pos + 1}: parse error: ${message}`);
  }
}

function quoteChar(char: string): string {
  return char === '' ? 'end of input' : `'${char}'`;
}
