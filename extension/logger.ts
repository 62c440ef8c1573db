import { createRedactor, type Redactor } from './redact.js';

/** The extension's own diagnostic lines (they reach CloudWatch). */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
  /** The redaction every line goes through, for text that is cut before it is logged (an error body). */
  redact(text: string): string;
}

/**
 * Prefixes every line and passes it whole through the redaction (known secrets, even cut ones, URL
 * userinfo and query values, secret-looking `NAME=value`): no code path can print a token or a
 * password, with or without debug.
 */
export function createLogger(
  write: (line: string) => void,
  debugEnabled: boolean,
  redactor: Redactor = createRedactor(),
): Logger {
  const redact = (text: string): string => redactor.redact(text);
  const emit = (message: string) => {
    write(`loki-lambda: ${redact(message)}\n`);
  };
  return {
    info: emit,
    warn: emit,
    debug: debugEnabled ? (message) => emit(`[debug] ${message}`) : () => {},
    redact,
  };
}
