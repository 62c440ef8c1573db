/**
 * The one redaction every output of the extension and the CLI goes through (no secret, not even a
 * prefix, in logs, messages, plans or JSON). Dependency-free: the extension bundles it.
 */

/** What every secret looks like once masked. */
export const MASK = '****';
/** A secret's first characters from this many on are masked wherever they appear (a cut secret). */
export const SECRET_PREFIX_MIN_CHARS = 6;
/** At the very end of a text (cut by a read limit), even a shorter start of a secret is masked. */
const TRAILING_PREFIX_MIN_CHARS = 4;
/**
 * Shorter secrets are not masked: masking every "ab" would garble every message and hide nothing that
 * could not be guessed anyway.
 */
const SECRET_MIN_CHARS = 4;
/** A guessed secret (a value whose variable name looks secret) shorter than this is not worth masking. */
const GUESSED_SECRET_MIN_CHARS = 8;

/** Variable and parameter names whose values are secrets: *PASSWORD*, *TOKEN*, *SECRET*, *KEY*, ... */
const SECRET_NAME = /PASS|PWD|SECRET|TOKEN|KEY|CREDENTIAL|PRIVATE|AUTH|SIGNATURE/i;
/** Names that hold a reference to a secret (an ARN, an SSM parameter name), not the secret: shown. */
const REFERENCE_NAME = /(?:_ARN|_SSM_NAME)$/i;
/**
 * The shell's working directories: `PWD` matches the password abbreviation (`DB_PWD`), but masking its
 * value would hide the directory in every path the CLI prints (a built zip's path in `build --json`).
 */
const WORKING_DIRECTORY_NAME = /^(?:OLD)?PWD$/i;
/*
 * The patterns below run over any text (a 256 KB error body, a long JSON document), so each one is
 * linear: a match may only start where a run of its characters starts (lookbehind) and every run is
 * bounded. Whether a name is secret is decided afterwards, in code.
 */
/** `NAME=value` (env dumps, query strings, flags). */
const NAME_EQUALS_VALUE = /(?<![\w.-])([\w.-]{1,128})=([^\s&;,"'\\]+)/g;
/** `"NAME":"value"`, also inside JSON that was itself put in a JSON string (`\"NAME\":\"value\"`). */
const JSON_NAME_VALUE = /(\\?")([\w.-]{1,128})(\\?"\s{0,8}:\s{0,8}\\?")((?:[^"\\]|\\[^"])*)/g;
/** `scheme://[userinfo@]host/path[?query]` in free text. */
const URL_IN_TEXT =
  /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]{0,31}:\/\/)([^\s/?#"'<>\\]*@)?([^\s?#"'<>\\]*)(\?[^\s#"'<>\\]*)?/gi;
/** `user:password@host` without a scheme (a malformed URL). */
const BARE_USERINFO = /(?<![^\s/"'<>([=,;])[^\s/:@"'<>]{1,128}:[^\s/@"'<>]{1,256}@(?=[\w[])/g;
/** A whole URL, for redactUrl. */
const WHOLE_URL = /^([a-z][a-z0-9+.-]{0,31}:\/\/)([^/?#]*@)?([^?#]*)(\?[^#]*)?(#.*)?$/i;

export interface Redactor {
  /**
   * Registers a secret: from now on it, its URL- and JSON-escaped forms and any start of them of
   * SECRET_PREFIX_MIN_CHARS or more are masked.
   */
  addSecret(value: string | undefined): void;
  /** Registers basic-auth credentials: the password and the base64 `user:password` of the header. */
  addBasicAuth(username: string, password: string): void;
  /**
   * Registers the values of an environment: the secret ones by name (`secretNames`), and the values
   * of variables whose names look secret (whole values only: they are guesses).
   */
  addEnvironment(env: Readonly<Record<string, string | undefined>>, secretNames: readonly string[]): void;
  /** Known secrets only: for data that must otherwise stay as it is (log lines). */
  maskSecrets(text: string): string;
  /** Known secrets, URL userinfo and query values, and values of secret-looking names. */
  redact(text: string): string;
}

interface SecretForm {
  readonly text: string;
  /** How many leading characters identify a start of it (all of them for a guessed secret). */
  readonly headChars: number;
  readonly prefixes: boolean;
}

export function createRedactor(secrets: readonly string[] = []): Redactor {
  let forms: SecretForm[] = [];
  const addForm = (text: string, prefixes: boolean): void => {
    const existing = forms.find((form) => form.text === text);
    if (text === '' || (existing !== undefined && (existing.prefixes || !prefixes))) return;
    forms = forms.filter((form) => form !== existing);
    forms.push({
      text,
      headChars: prefixes ? Math.min(text.length, SECRET_PREFIX_MIN_CHARS) : text.length,
      prefixes,
    });
  };
  const addSecret = (value: string | undefined, prefixes = true): void => {
    if (value === undefined) return;
    // The trimmed value is what a parser keeps and sends.
    for (const form of encodedForms(value.trim())) addForm(form, prefixes);
  };
  const maskSecrets = (text: string): string => {
    if (forms.length === 0) return text;
    // Spans of every form first, merged: two forms sharing a start (a token and its URL-encoded
    // form) are masked as far as either goes.
    const spans: Array<readonly [number, number]> = [];
    for (const form of forms) {
      spansOf(text, form, spans);
      trailingSpan(text, form, spans);
    }
    return maskSpans(text, spans);
  };
  const redactor: Redactor = {
    addSecret: (value) => addSecret(value),
    addBasicAuth(username, password) {
      addSecret(password);
      addSecret(Buffer.from(`${username}:${password}`).toString('base64'));
    },
    addEnvironment(env, secretNames) {
      for (const [name, value] of Object.entries(env)) {
        if (value === undefined) continue;
        if (secretNames.includes(name)) addSecret(value);
        else if (isSecretName(name) && value.length >= GUESSED_SECRET_MIN_CHARS) addSecret(value, false);
      }
    },
    maskSecrets,
    redact: (text) => redactPatterns(maskSecrets(text)),
  };
  for (const secret of secrets) redactor.addSecret(secret);
  return redactor;
}

/** True when a variable or parameter with this name holds a secret (by its name). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) && !REFERENCE_NAME.test(name) && !WORKING_DIRECTORY_NAME.test(name);
}

/** A URL as it may be printed: userinfo and query values masked, a fragment dropped; never a malformed one. */
export function redactUrl(url: string): string {
  const match = WHOLE_URL.exec(url.trim());
  if (match === null || !canParse(url)) return '(not shown: not a valid URL)';
  const [, scheme = '', userinfo, rest = '', query] = match;
  return `${scheme}${userinfo === undefined ? '' : `${MASK}@`}${rest}${query === undefined ? '' : maskQuery(query)}`;
}

/** URL userinfo and query values, and `NAME=value` / `"NAME":"value"` of secret-looking names. */
export function redactPatterns(text: string): string {
  return text
    .replace(
      URL_IN_TEXT,
      (_all, scheme: string, userinfo: string | undefined, rest: string, query?: string) =>
        `${scheme}${userinfo === undefined ? '' : `${MASK}@`}${rest}${query === undefined ? '' : maskQuery(query)}`,
    )
    .replace(BARE_USERINFO, `${MASK}@`)
    .replace(NAME_EQUALS_VALUE, (all, name: string) => (isSecretName(name) ? `${name}=${MASK}` : all))
    .replace(JSON_NAME_VALUE, (all, open: string, name: string, colon: string) =>
      isSecretName(name) ? `${open}${name}${colon}${MASK}` : all,
    );
}

function maskQuery(query: string): string {
  if (query === '?') return query;
  const params = query
    .slice(1)
    .split('&')
    .map((param) => {
      const equals = param.indexOf('=');
      return equals < 0 ? (param === '' ? '' : MASK) : `${param.slice(0, equals + 1)}${MASK}`;
    });
  return `?${params.join('&')}`;
}

function canParse(url: string): boolean {
  try {
    new URL(url.trim());
    return true;
  } catch {
    return false;
  }
}

/** The value, and how it looks URL-encoded and inside a JSON string, when those differ. */
function encodedForms(value: string): string[] {
  if (value.length < SECRET_MIN_CHARS) return [];
  return [...new Set([value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)])];
}

/** Every run that starts with the form's head and goes on as the form does (the whole form or a cut start). */
function spansOf(text: string, form: SecretForm, spans: Array<readonly [number, number]>): void {
  const head = form.text.slice(0, form.headChars);
  for (let at = text.indexOf(head); at >= 0; ) {
    let end = at + head.length;
    while (end < text.length && end - at < form.text.length && text[end] === form.text[end - at]) end++;
    spans.push([at, end]);
    at = text.indexOf(head, end);
  }
}

/** A text that ends with the first few characters of a secret (cut there) loses them. */
function trailingSpan(text: string, form: SecretForm, spans: Array<readonly [number, number]>): void {
  if (!form.prefixes) return;
  for (let chars = Math.min(form.headChars - 1, text.length); chars >= TRAILING_PREFIX_MIN_CHARS; chars--) {
    if (text.endsWith(form.text.slice(0, chars))) {
      spans.push([text.length - chars, text.length]);
      return;
    }
  }
}

/** Replaces each run of overlapping or touching spans by one MASK. */
function maskSpans(text: string, spans: Array<readonly [number, number]>): string {
  if (spans.length === 0) return text;
  spans.sort((a, b) => a[0] - b[0]);
  let result = '';
  let from = 0;
  let [start, end] = spans[0] as readonly [number, number];
  for (const [nextStart, nextEnd] of spans.slice(1)) {
    if (nextStart <= end) end = Math.max(end, nextEnd);
    else {
      result += `${text.slice(from, start)}${MASK}`;
      from = end;
      [start, end] = [nextStart, nextEnd];
    }
  }
  return `${result}${text.slice(from, start)}${MASK}${text.slice(end)}`;
}
