import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { type AuthSettingNames, ENV_VARS, parseAuth } from '../../extension/config.js';
import type { AwsDeps } from '../aws/deps.js';
import { firstDefined } from '../config-file.js';
import { type CliIo, ExitCode } from '../io.js';
import { createLokiClient } from '../loki/client.js';
import { baseUrlOf, type LokiConnection } from '../loki/connection.js';
import type { LokiDeps } from '../loki/deps.js';
import { parseDurationMs } from '../loki/duration.js';
import { HttpGetAbortedError } from '../loki/http-get.js';
import { buildQuery, TAIL_SOURCES, type TailSource, withFilter } from '../loki/logql.js';
import { createOutput } from '../render/output.js';
import { OUTPUT_FORMATS, type OutputFormat, renderEntry, renderLokiError } from '../render/tail.js';
import { USER_AGENT } from '../version.js';
import { functionNameOf, readFunctionEnv } from './function-settings.js';
import type { RegisterCommand } from './register.js';

export const SINCE_DEFAULT = '1h';
/** tail names its own flags when the extension's auth rules refuse a combination. */
const TAIL_AUTH_FLAGS: AuthSettingNames = {
  token: 'a bearer token',
  username: '--username',
  password: '--password',
};
export const LIMIT_LINES_DEFAULT = 30;
/** Loki's default `max_entries_limit_per_query`. */
export const LIMIT_LINES_MAX = 5000;

interface TailOptions {
  readonly since: string;
  readonly query?: string;
  readonly source?: string;
  readonly filter?: string;
  readonly limit: string;
  readonly output: string;
  readonly follow: boolean;
  readonly addr?: string;
  readonly username?: string;
  readonly password?: string;
  readonly bearerToken?: string;
  readonly bearerTokenFile?: string;
  readonly orgId?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly config?: string;
}

export const registerTailCommand: RegisterCommand<[AwsDeps, LokiDeps]> = (
  program,
  io,
  setExitCode,
  aws,
  loki,
) => {
  program
    .command('tail')
    .description("show a function's recent logs from Loki, then follow new ones as they arrive")
    .argument('[function]', 'function name or ARN (selects its logs; Loki address and labels read from it)')
    .option('--since <duration>', 'how far back the history starts, e.g. 10m, 2h', SINCE_DEFAULT)
    .option('--query <logql>', 'your own LogQL log query instead of the function selector')
    .option('--source <source>', `only ${TAIL_SOURCES.join(' or ')} lines`)
    .option('--filter <text>', 'only lines containing this text')
    .option('--limit <n>', 'lines of history to show first', String(LIMIT_LINES_DEFAULT))
    .option('-o, --output <format>', `${OUTPUT_FORMATS.join(', ')}`, 'default')
    .option('--no-follow', 'print the history and stop')
    .option('--addr <url>', "Loki's address (LOKI_ADDR; default: the function's LOKI_ENDPOINT_URL)")
    .option('--username <name>', 'basic auth user (LOKI_USERNAME)')
    .option('--password <password>', 'basic auth password; prefer LOKI_PASSWORD (shell history)')
    .option('--bearer-token <token>', 'bearer token; prefer LOKI_BEARER_TOKEN or --bearer-token-file')
    .option('--bearer-token-file <file>', 'read the bearer token from this file (LOKI_BEARER_TOKEN_FILE)')
    .option('--org-id <tenant>', 'X-Scope-OrgID for multi-tenant Loki (LOKI_ORG_ID)')
    .option('--region <region>', "AWS region, to read the function's settings")
    .option('--profile <name>', 'AWS profile')
    .option('--config <file>', 'settings file (default: ./loki-lambda.config.json when present)')
    .action(async (fn: string | undefined, options: TailOptions) => {
      setExitCode(await tailCommand(io, fn, options, aws, loki));
    });
};

async function tailCommand(
  io: CliIo,
  fn: string | undefined,
  options: TailOptions,
  aws: AwsDeps,
  loki: LokiDeps,
): Promise<number> {
  const out = createOutput(io, 'tail', false);
  const error = out.error;
  const problems: string[] = [];
  const sinceMs = parseDurationMs(options.since);
  if (sinceMs === undefined) problems.push(`--since must be a duration like 10m or 2h; got ${options.since}`);
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > LIMIT_LINES_MAX) {
    problems.push(`--limit must be a whole number from 1 to ${LIMIT_LINES_MAX}; got ${options.limit}`);
  }
  if (!(OUTPUT_FORMATS as readonly string[]).includes(options.output)) {
    problems.push(`--output must be one of ${OUTPUT_FORMATS.join(', ')}; got ${options.output}`);
  }
  if (options.source !== undefined && !(TAIL_SOURCES as readonly string[]).includes(options.source)) {
    problems.push(`--source must be one of ${TAIL_SOURCES.join(', ')}; got ${options.source}`);
  }
  if (options.source !== undefined && options.query !== undefined) {
    problems.push('--source narrows the function selector; with --query, put source="..." in your query');
  }
  if (fn === undefined && options.query === undefined) {
    problems.push('give a FUNCTION (name or ARN) or a --query');
  }
  if (problems.length > 0 || sinceMs === undefined) {
    for (const problem of problems) error(problem);
    return ExitCode.usage;
  }

  const flagAddr = firstDefined(options.addr, io.env.LOKI_ADDR);
  let functionEnv: Readonly<Record<string, string>> = {};
  if (fn !== undefined && (flagAddr === undefined || options.query === undefined)) {
    const read = await readFunctionEnv(io, aws, options, fn);
    if (read.ok) functionEnv = read.env;
    else if (flagAddr === undefined) {
      error(
        `cannot read the settings of ${fn} to find Loki (${read.reason}); pass --addr (or set LOKI_ADDR)`,
      );
      return ExitCode.failure;
    } else if (options.query === undefined) {
      error(
        `note: cannot read the settings of ${fn} (${read.reason}); selecting its logs by function name only`,
      );
    }
  }
  const connection = await resolveConnection(io, options, flagAddr, functionEnv, fn);
  if (!connection.ok) {
    for (const problem of connection.problems) error(problem);
    return ExitCode.usage;
  }

  const query =
    options.query !== undefined
      ? withFilter(options.query, options.filter)
      : buildQuery({
          functionName: functionNameOf(fn ?? ''),
          application: functionEnv[ENV_VARS.application],
          environment: functionEnv[ENV_VARS.environment],
          source: options.source as TailSource | undefined,
          filter: options.filter,
        });
  const render = {
    format: options.output as OutputFormat,
    color: loki.stdoutIsTty && options.output === 'default',
    showFunction: options.query !== undefined,
  };
  // Loaded here, with ws, so that the other commands start without them.
  const { followLogs } = await import('../loki/follow.js');
  const openWebSocket = await loki.loadWebSocketFactory();
  const signal = options.follow ? loki.interrupted() : new AbortController().signal;
  try {
    await followLogs(
      createLokiClient(connection.connection, loki.httpGet, USER_AGENT),
      {
        query,
        sinceMs: loki.now() - sinceMs,
        limit,
        follow: options.follow,
        // Log lines skip the stream's redaction (which masks URLs' query values): raw is byte-exact, as
        // logcli's; the other formats mask only known secrets.
        onEntry: (entry) =>
          io.rawStdout.write(
            render.format === 'raw'
              ? renderEntry(entry, render)
              : io.secrets.maskSecrets(renderEntry(entry, render)),
          ),
        onNotice: (text) => error(text),
      },
      { now: loki.now, sleep: loki.sleep, openWebSocket, signal },
    );
  } catch (caught) {
    if (signal.aborted && caught instanceof HttpGetAbortedError) return ExitCode.ok;
    error(renderLokiError(caught));
    return ExitCode.failure;
  }
  return ExitCode.ok;
}

type ConnectionResult =
  | { readonly ok: true; readonly connection: LokiConnection }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * logcli's precedence: a flag, then its LOKI_* variable. When the address comes from the function,
 * so do its credentials and tenant (unless given): they belong to that Loki.
 */
async function resolveConnection(
  io: CliIo,
  options: TailOptions,
  flagAddr: string | undefined,
  functionEnv: Readonly<Record<string, string>>,
  fn: string | undefined,
): Promise<ConnectionResult> {
  const problems: string[] = [];
  const fromFunction = flagAddr === undefined;
  const inherited = (name: string): string | undefined => (fromFunction ? functionEnv[name] : undefined);
  const endpoint = flagAddr ?? functionEnv[ENV_VARS.endpointUrl];
  if (endpoint === undefined) {
    return {
      ok: false,
      problems: [
        `${fn ?? 'the function'} has no ${ENV_VARS.endpointUrl} (is loki-lambda attached?); pass --addr (or set LOKI_ADDR)`,
      ],
    };
  }
  let addr: string;
  try {
    const url = new URL(endpoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    // Node sends userinfo as basic auth: it is a secret like --password.
    if (url.password !== '') {
      io.secrets.addBasicAuth(decodeURIComponent(url.username), decodeURIComponent(url.password));
      io.secrets.addSecret(url.password);
    }
    addr = fromFunction ? baseUrlOf(endpoint) : endpoint.replace(/\/+$/, '');
  } catch {
    // Never echoed: a mistyped address may still hold credentials.
    const where = fromFunction
      ? `the ${ENV_VARS.endpointUrl} of ${fn ?? 'the function'}`
      : '--addr (or LOKI_ADDR)';
    return { ok: false, problems: [`${where} must be an http:// or https:// URL (its value is not shown)`] };
  }
  let token = firstDefined(options.bearerToken);
  const tokenFile = firstDefined(options.bearerTokenFile, io.env.LOKI_BEARER_TOKEN_FILE);
  if (token === undefined && tokenFile !== undefined) {
    try {
      token = (await readFile(isAbsolute(tokenFile) ? tokenFile : join(io.cwd, tokenFile), 'utf8')).trim();
    } catch {
      problems.push(`cannot read the bearer token file ${tokenFile}`);
    }
  }
  token = firstDefined(token, io.env.LOKI_BEARER_TOKEN, inherited(ENV_VARS.bearerToken));
  const username = firstDefined(options.username, io.env.LOKI_USERNAME, inherited(ENV_VARS.username));
  const password = firstDefined(options.password, io.env.LOKI_PASSWORD, inherited(ENV_VARS.password));
  const auth = parseAuth(token, username, password, problems, TAIL_AUTH_FLAGS);
  if (problems.length > 0) return { ok: false, problems };
  if (auth.kind === 'bearer') io.secrets.addSecret(auth.token);
  if (auth.kind === 'basic') io.secrets.addBasicAuth(auth.username, auth.password);
  const orgId = firstDefined(options.orgId, io.env.LOKI_ORG_ID, inherited(ENV_VARS.tenantId));
  return { ok: true, connection: { addr, auth, orgId } };
}
