import type { Redactor } from '../../extension/redact.js';
import type { CliIo } from '../io.js';

/** Where a command's text goes: the JSON document alone owns stdout under --json. */
export interface Output {
  readonly json: boolean;
  /** The secrets every write masks; register the ones a command learns (a function's environment). */
  readonly secrets: Redactor;
  /** Plans and results for people. */
  readonly human: (text: string) => void;
  readonly progress: (text: string) => void;
  readonly error: (text: string) => void;
  readonly document: (value: unknown) => void;
}

/** The one output convention of every command: `loki-lambda COMMAND: …` errors on stderr. */
export function createOutput(io: CliIo, command: string, json: boolean): Output {
  return {
    json,
    secrets: io.secrets,
    human: (text) => (json ? io.stderr : io.stdout).write(text),
    progress: (text) => io.stderr.write(text),
    error: (text) => io.stderr.write(`loki-lambda ${command}: ${text.endsWith('\n') ? text : `${text}\n`}`),
    document: (value) => io.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  };
}
