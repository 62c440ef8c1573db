/**
 * A parser for the subset of HCL (Terraform's language) that configuration fragments use: blocks
 * with labels, attributes, strings (with `$${` escapes; an unescaped `${` template is refused, as
 * `loki-lambda snippet` never writes one), numbers, booleans, lists, objects and references such as
 * `var.token`. Throws on anything else, so a test that parses a fragment checks its syntax.
 */
export type HclValue = string | number | boolean | { readonly ref: string } | HclValue[] | HclObject;
export interface HclObject {
  [key: string]: HclValue;
}
export interface HclBlock {
  readonly type: string;
  readonly labels: readonly string[];
  readonly body: HclBody;
}
export interface HclBody {
  readonly attributes: Record<string, HclValue>;
  readonly blocks: HclBlock[];
}

type Token = { kind: 'ident' | 'string' | 'number' | 'punct'; text: string; value?: string };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const rest = source.slice(i);
    const space = /^(\s+|#[^\n]*|\/\/[^\n]*)/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(rest);
    if (ident) {
      tokens.push({ kind: 'ident', text: ident[0] });
      i += ident[0].length;
      continue;
    }
    const number = /^-?\d+(\.\d+)?/.exec(rest);
    if (number) {
      tokens.push({ kind: 'number', text: number[0] });
      i += number[0].length;
      continue;
    }
    if (rest[0] === '"') {
      const string = /^"(?:[^"\\\n]|\\.)*"/.exec(rest);
      if (!string) throw new Error(`unterminated string at ${i}`);
      const raw = string[0];
      if (/(^|[^$])\$\{/.test(raw.replaceAll('$${', '')) || /(^|[^%])%\{/.test(raw.replaceAll('%%{', '')))
        throw new Error(`template sequence in string ${raw}`);
      const value = (JSON.parse(raw) as string).replaceAll('$${', '${').replaceAll('%%{', '%{');
      tokens.push({ kind: 'string', text: raw, value });
      i += raw.length;
      continue;
    }
    if ('{}[]=,.'.includes(rest[0] ?? '')) {
      tokens.push({ kind: 'punct', text: rest[0] ?? '' });
      i += 1;
      continue;
    }
    throw new Error(`unexpected character ${JSON.stringify(rest[0])} at ${i}`);
  }
  return tokens;
}

export function parseHcl(source: string): HclBody {
  const tokens = tokenize(source);
  let at = 0;
  const peek = () => tokens[at];
  const next = (): Token => {
    const token = tokens[at++];
    if (!token) throw new Error('unexpected end of input');
    return token;
  };
  const expect = (text: string) => {
    const token = next();
    if (token.text !== text) throw new Error(`expected ${text}, got ${token.text}`);
  };

  function expression(): HclValue {
    const token = next();
    if (token.kind === 'string') return token.value ?? '';
    if (token.kind === 'number') return Number(token.text);
    if (token.kind === 'ident') {
      if (token.text === 'true' || token.text === 'false') return token.text === 'true';
      let ref = token.text;
      while (peek()?.text === '.') {
        next();
        const part = next();
        if (part.kind !== 'ident') throw new Error(`bad reference after ${ref}`);
        ref += `.${part.text}`;
      }
      return { ref };
    }
    if (token.text === '[') {
      const items: HclValue[] = [];
      while (peek()?.text !== ']') {
        items.push(expression());
        if (peek()?.text === ',') next();
      }
      expect(']');
      return items;
    }
    if (token.text === '{') {
      const object: HclObject = {};
      while (peek()?.text !== '}') {
        const key = next();
        if (key.kind !== 'ident' && key.kind !== 'string') throw new Error(`bad object key ${key.text}`);
        expect('=');
        object[key.value ?? key.text] = expression();
        if (peek()?.text === ',') next();
      }
      expect('}');
      return object;
    }
    throw new Error(`unexpected ${token.text}`);
  }

  function body(closing: string | undefined): HclBody {
    const result: HclBody = { attributes: {}, blocks: [] };
    while (at < tokens.length && peek()?.text !== closing) {
      const name = next();
      if (name.kind !== 'ident') throw new Error(`expected a name, got ${name.text}`);
      if (peek()?.text === '=') {
        next();
        if (name.text in result.attributes) throw new Error(`duplicate attribute ${name.text}`);
        result.attributes[name.text] = expression();
        continue;
      }
      const labels: string[] = [];
      while (peek()?.kind === 'string' || (peek()?.kind === 'ident' && tokens[at + 1]?.text !== '=')) {
        const label = next();
        if (label.text === '{') break;
        labels.push(label.value ?? label.text);
      }
      expect('{');
      result.blocks.push({ type: name.text, labels, body: body('}') });
      expect('}');
    }
    return result;
  }

  const parsed = body(undefined);
  if (at !== tokens.length) throw new Error(`unexpected ${peek()?.text}`);
  return parsed;
}
