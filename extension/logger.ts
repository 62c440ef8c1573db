/** The extension's own diagnostic lines (they reach CloudWatch). Never given a secret. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

export function createLogger(write: (line: string) => void, debugEnabled: boolean): Logger {
  const emit = (message: string) => write(`loki-lambda: ${message}\n`);
  return {
    info: emit,
    warn: emit,
    debug: debugEnabled ? (message) => emit(`[debug] ${message}`) : () => {},
  };
}
