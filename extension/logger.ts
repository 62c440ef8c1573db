/** The extension's own diagnostic lines (they reach CloudWatch). */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

const MASK = '****';

/**
 * Prefixes every line and masks the given secrets wherever they appear, e.g. in an error body a
 * proxy echoed back: no code path can print a token or password, with or without debug.
 */
export function createLogger(
  write: (line: string) => void,
  debugEnabled: boolean,
  secrets: readonly string[] = [],
): Logger {
  const masked = secrets.filter((secret) => secret.length > 0);
  const emit = (message: string) => {
    let line = message;
    for (const secret of masked) line = line.replaceAll(secret, MASK);
    write(`loki-lambda: ${line}\n`);
  };
  return {
    info: emit,
    warn: emit,
    debug: debugEnabled ? (message) => emit(`[debug] ${message}`) : () => {},
  };
}
