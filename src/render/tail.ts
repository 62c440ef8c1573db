import type { LokiEntry } from '../loki/entry.js';
import { isoTime } from '../loki/entry.js';
import { LokiAuthError, LokiQueryError, LokiResponseError, LokiUnreachableError } from '../loki/errors.js';

export const OUTPUT_FORMATS = ['default', 'raw', 'jsonl'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'WARNING', 'ERROR', 'FATAL', 'CRITICAL'] as const;
/** Where a level word may appear in a text line: Lambda's `time\trequestId\tLEVEL\tmessage`, `[LEVEL]`, ... */
const LEVEL_SEARCH_CHARS = 80;
const LEVEL_WORD = new RegExp(`(?:^|[\\s\\[])(${LEVELS.join('|')})(?=[\\s\\]:]|$)`);

const ANSI = {
  reset: '\u001b[0m',
  dim: '\u001b[2m',
  red: '\u001b[31m',
  yellow: '\u001b[33m',
  cyan: '\u001b[36m',
} as const;

export interface RenderOptions {
  readonly format: OutputFormat;
  /** Only when stdout is a terminal. */
  readonly color: boolean;
  /** Show the function label too (a custom --query may select several functions). */
  readonly showFunction: boolean;
}

/** One entry as one or more output lines, ending with a newline. */
export function renderEntry(entry: LokiEntry, options: RenderOptions): string {
  switch (options.format) {
    case 'raw':
      return `${entry.line}\n`;
    case 'jsonl':
      return `${JSON.stringify({
        time: isoTime(entry.timestampNs),
        timestamp: entry.timestampNs.toString(),
        labels: entry.labels,
        metadata: entry.metadata,
        line: entry.line,
      })}\n`;
    case 'default':
      return renderHuman(entry, options);
  }
}

function renderHuman(entry: LokiEntry, options: RenderOptions): string {
  const paint = (code: string, text: string): string =>
    options.color && text !== '' ? `${code}${text}${ANSI.reset}` : text;
  const level = levelOf(entry.line);
  const fields = [
    paint(ANSI.dim, isoTime(entry.timestampNs)),
    ...(options.showFunction ? [escapeControl(entry.labels.function ?? '-')] : []),
    paint(ANSI.cyan, escapeControl(entry.labels.source ?? '-').padEnd(8)),
    paint(levelColor(level), escapeControl(level ?? '').padEnd(5)),
    paint(ANSI.dim, escapeControl(entry.metadata.request_id ?? '-')),
    escapeControl(entry.line),
  ];
  return `${fields.join(' ')}\n`;
}

/**
 * Control characters of a log line, as visible escapes: a line must not drive the terminal (OSC 52
 * clipboard writes, screen clears, cursor moves) nor forge lines with an embedded newline. Tab stays;
 * bidirectional overrides are escaped too, so that what is shown is what is stored. `-o raw` keeps
 * the bytes, as logcli does.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL_CHARS, (char) => {
    const named = NAMED_ESCAPES[char];
    if (named !== undefined) return named;
    const code = char.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

const CONTROL_CHARS =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters it escapes
  /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const NAMED_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r' };

/** The log level a line states, from a JSON-format record's `level` or a word near the start of a text line. */
export function levelOf(line: string): string | undefined {
  if (line.startsWith('{')) {
    try {
      const record = JSON.parse(line) as Record<string, unknown>;
      const level = record.level ?? record.levelname ?? record.severity;
      return typeof level === 'string' ? level.toUpperCase() : undefined;
    } catch {
      // not JSON after all: look for a word
    }
  }
  const match = LEVEL_WORD.exec(line.slice(0, LEVEL_SEARCH_CHARS));
  return match?.[1];
}

function levelColor(level: string | undefined): string {
  switch (level) {
    case 'ERROR':
    case 'FATAL':
    case 'CRITICAL':
      return ANSI.red;
    case 'WARN':
    case 'WARNING':
      return ANSI.yellow;
    case 'DEBUG':
    case 'TRACE':
      return ANSI.dim;
    default:
      return '';
  }
}

/** One message for an error that ends `tail`, saying what to do; never a secret. */
export function renderLokiError(error: unknown): string {
  if (error instanceof LokiUnreachableError) {
    return `${error.message}; check --addr (or LOKI_ADDR) and that Loki is up`;
  }
  if (error instanceof LokiAuthError) {
    if (/no org id/i.test(error.reason)) {
      return `Loki needs a tenant (HTTP ${error.status} ${error.reason}): pass --org-id (or LOKI_ORG_ID)`;
    }
    return (
      `Loki refused the credentials (HTTP ${error.status}${error.reason === '' ? '' : ` ${error.reason}`}): ` +
      'pass --username/--password, --bearer-token or --bearer-token-file (or LOKI_USERNAME/LOKI_PASSWORD, ' +
      "LOKI_BEARER_TOKEN); a function's push credentials may not be allowed to read"
    );
  }
  if (error instanceof LokiQueryError) return `Loki rejected the query ${error.query}: ${error.reason}`;
  if (error instanceof LokiResponseError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
