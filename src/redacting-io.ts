/**
 * The CLI's side of the one redaction (extension/redact.ts): stdout and stderr mask every known secret
 * and URL userinfo/query values, whatever command or renderer wrote; Loki's error bodies are masked
 * before anything cuts them; commander's usage errors never echo an option's value.
 */
import { ENV_VARS, SECRET_ENV_VARS } from '../extension/config.js';
import { createRedactor, type Redactor } from '../extension/redact.js';
import type { CliIo, ProcessIo } from './io.js';

/** Shell variables whose values are secrets, whatever their length (other names are guessed). */
const SHELL_SECRET_VARS = [...SECRET_ENV_VARS, 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];
/** Flags whose value is a secret. */
const SECRET_FLAGS = ['--bearer-token', '--password'] as const;

/** The io every command gets: redacting streams, and the secrets of the shell and the command line. */
export function withRedaction(io: ProcessIo, argv: readonly string[]): CliIo {
  const secrets = createRedactor();
  secrets.addEnvironment(io.env, SHELL_SECRET_VARS);
  const username = io.env[ENV_VARS.username]?.trim();
  const password = io.env[ENV_VARS.password]?.trim();
  if (username && password) secrets.addBasicAuth(username, password);
  for (const value of secretFlagValues(argv)) secrets.addSecret(value);
  return {
    ...io,
    stdout: redactingStream(io.stdout, secrets),
    stderr: redactingStream(io.stderr, secrets),
    secrets,
    rawStdout: io.stdout,
  };
}

/** Values given to --bearer-token and --password, as `--flag value` or `--flag=value`. */
export function secretFlagValues(argv: readonly string[]): string[] {
  const values: string[] = [];
  argv.forEach((arg, i) => {
    for (const flag of SECRET_FLAGS) {
      if (arg === flag && argv[i + 1] !== undefined) values.push(argv[i + 1] as string);
      else if (arg.startsWith(`${flag}=`)) values.push(arg.slice(flag.length + 1));
    }
  });
  return values;
}

/**
 * The same stream (TTY checks, cursor control for a spinner, events all still work) whose `write`
 * redacts each chunk; every message is written whole, so a secret is never split across writes.
 */
export function redactingStream<T extends NodeJS.WritableStream>(stream: T, secrets: Redactor): T {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  const redacting = (chunk: unknown, ...rest: unknown[]): boolean =>
    write(
      typeof chunk === 'string' || Buffer.isBuffer(chunk) ? secrets.redact(chunk.toString()) : chunk,
      ...rest,
    );
  // Whoever replaces `write` (a spinner hooking the stream) wraps the redacting one, not the original.
  let current: unknown = redacting;
  return new Proxy(stream, {
    get(target, property) {
      if (property === 'write') return current;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    set(target, property, value) {
      if (property === 'write') current = value;
      else Reflect.set(target, property, value, target);
      return true;
    },
  });
}

/** commander's `unknown option '--bearer-tokn=glc_…'` without the value (a mistyped flag's value is a secret too). */
export function withoutOptionValues(message: string): string {
  return message.replace(/'(-{1,2}[^'=\s]+)=[^']*'/g, "'$1'");
}

/**
 * An HTTP client (GET or POST) whose error answers are masked before anything reads or cuts them: a
 * gateway may echo the Authorization header in its refusal.
 */
export function redactingErrorBodies<Args extends unknown[], Answer extends { status: number; body: string }>(
  send: (...args: Args) => Promise<Answer>,
  secrets: Redactor,
): (...args: Args) => Promise<Answer> {
  return async (...args) => {
    const answer = await send(...args);
    return isSuccess(answer.status) ? answer : { ...answer, body: secrets.redact(answer.body) };
  };
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/**
 * A function's environment holds secrets (LOKI_BEARER_TOKEN, LOKI_PASSWORD, DB_PASSWORD, ...): masked
 * wherever they appear from now on, e.g. in an AWS error that quotes the variables.
 */
export function registerFunctionSecrets(
  secrets: Redactor,
  env: Readonly<Record<string, string | undefined>>,
): void {
  secrets.addEnvironment(env, SECRET_ENV_VARS);
  const username = env[ENV_VARS.username]?.trim();
  const password = env[ENV_VARS.password]?.trim();
  if (username && password) secrets.addBasicAuth(username, password);
}
