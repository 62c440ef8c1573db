import { readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Command, CommanderError } from 'commander';
import { createHttpPost } from '../extension/http-post.js';
import type { AwsDeps } from './aws/deps.js';
import { NAME_PATTERN_BUDGET_MS } from './aws/name-pattern.js';
import { profileFiles, profileSections } from './aws/profiles.js';
import {
  AwsRetrySettingError,
  type AwsRetrySettings,
  awsRetryEnvSource,
  awsRetryProfileSource,
  resolveAwsRetry,
} from './aws/retry-settings.js';
import { WAITER_TIMING_DEFAULT } from './aws/waiter-timing.js';
import { registerAttachCommand } from './commands/attach.js';
import { registerBuildCommand } from './commands/build.js';
import { registerCheckCommand } from './commands/check.js';
import { registerDashboardCommand } from './commands/dashboard.js';
import { registerDeployCommand } from './commands/deploy.js';
import { registerDetachCommand } from './commands/detach.js';
import { registerPublishCommand } from './commands/publish.js';
import { registerRulesCommand } from './commands/rules.js';
import { registerSnippetCommand } from './commands/snippet.js';
import { registerStatusCommand } from './commands/status.js';
import { registerTailCommand } from './commands/tail.js';
import { registerUpgradeCommand } from './commands/upgrade.js';
import type { DashboardDeps } from './dashboard/deps.js';
import { type CliIo, ExitCode, type ProcessIo } from './io.js';
import { BUILT_LAYERS_SUBDIR, defaultCacheDir } from './layer/cache-dir.js';
import { createNpmRunner } from './layer/npm.js';
import type { LokiDeps } from './loki/deps.js';
import { createHttpGet } from './loki/http-get.js';
import { nodeSupportNotice } from './node-support.js';
import { redactingErrorBodies, withoutOptionValues, withRedaction } from './redacting-io.js';
import { VERSION } from './version.js';

/** Collaborators the CLI entry creates; tests replace any of them (e.g. clients backed by aws-sdk-client-mock). */
export type CliDeps = Partial<AwsDeps> & {
  readonly loki?: Partial<LokiDeps>;
  readonly grafana?: Partial<DashboardDeps>;
};

/** What tests of the real collaborators below may shorten; the CLI itself passes none. */
export interface DefaultAwsSeams {
  /** The pause before each retry of an AWS call (default: sdk-retry.ts's 0.5, 1, 2, 4 s). */
  readonly retryDelayMs?: (retry: number) => number;
  /** The extension the layers are built from (default: this package's extension/main.ts). */
  readonly extensionEntry?: string;
}

/**
 * The real AWS clients, build, clock and prompt: the only place they are created. The AWS SDK and the
 * layer build (esbuild, archiver) are imported when first used, so `--help` and the commands that do
 * not need them start without loading them (test/integration/cli-startup.test.ts holds that).
 */
export function defaultAwsDeps(io: ProcessIo, seams: DefaultAwsSeams = {}): AwsDeps {
  const retryStrategy = awsRetryStrategies(io, seams.retryDelayMs);
  return {
    // The SDK's default credential chain: env, profiles, SSO, web identity (CI), instance roles.
    createLambdaClient: async (region, profile) => {
      beforeAwsSdk(io);
      const { LambdaClient } = await import('@aws-sdk/client-lambda');
      return new LambdaClient({
        region,
        retryStrategy: await retryStrategy(profile),
        ...(profile ? { profile } : {}),
      });
    },
    createIamClient: async (region, profile) => {
      beforeAwsSdk(io);
      const { IAMClient } = await import('@aws-sdk/client-iam');
      return new IAMClient({
        region,
        retryStrategy: await retryStrategy(profile),
        ...(profile ? { profile } : {}),
      });
    },
    createSecretReader: async (region, profile) => {
      beforeAwsSdk(io);
      const { createAwsSecretReader } = await import('../extension/aws-secret-reader.js');
      return createAwsSecretReader({ region, credentials: undefined, profile });
    },
    createS3Client: async (region, profile) => {
      beforeAwsSdk(io);
      const { S3Client } = await import('@aws-sdk/client-s3');
      return new S3Client({
        region,
        retryStrategy: await retryStrategy(profile),
        ...(profile ? { profile } : {}),
      });
    },
    // attach, deploy and publish build into the cache directory, never into the user's working
    // directory; `build` passes the --out-dir it was given.
    buildLayers: async ({ arches, flavors, outDir, cacheDir, onProgress }) => {
      const { buildLayers } = await import('./layer/build-layers.js');
      const cache = cacheDir ?? defaultCacheDir(io.env, process.platform, io.env.HOME || homedir());
      return buildLayers({
        arches,
        flavors,
        outDir: outDir ?? join(cache, BUILT_LAYERS_SUBDIR),
        cacheDir: cache,
        // Only the cache directory's zips are reused: `build --out-dir` always writes fresh ones.
        reuse: outDir === undefined,
        runNpm: createNpmRunner(io.cwd, io.env),
        ...(onProgress ? { onProgress } : {}),
        ...(seams.extensionEntry ? { extensionEntry: seams.extensionEntry } : {}),
      });
    },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    waiter: WAITER_TIMING_DEFAULT,
    namePatternBudgetMs: NAME_PATTERN_BUDGET_MS,
    interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
    // Installed only while applying: a second Ctrl-C (or one at any other time) still ends the process.
    interrupted: () => {
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      return controller.signal;
    },
    confirm: async (question) => {
      const rl = createInterface({ input: process.stdin, output: io.stderr });
      try {
        return /^y(es)?$/i.test((await rl.question(question)).trim());
      } finally {
        rl.close();
      }
    },
  };
}

/**
 * A retry strategy per client from the user's AWS settings: AWS_MAX_ATTEMPTS and AWS_RETRY_MODE from
 * the environment, else `max_attempts` and `retry_mode` of the profile (the one given, else AWS_PROFILE,
 * else `default`), else ours. Resolved once per profile; a bad profile value fails the client's creation.
 */
function awsRetryStrategies(io: ProcessIo, delayMs: ((retry: number) => number) | undefined) {
  const resolved = new Map<string, Promise<AwsRetrySettings>>();
  const resolve = async (profile: string): Promise<AwsRetrySettings> => {
    const env = awsRetryEnvSource(io.env);
    const sources = [env];
    if (!env.maxAttempts?.trim() || !env.retryMode?.trim()) {
      const files = profileFiles(io.env, io.env.HOME || homedir());
      for (const { file, values } of await profileSections(files, profile))
        sources.push(awsRetryProfileSource(values, profile, file));
    }
    const settings = resolveAwsRetry(sources);
    if (!settings.ok) throw new AwsRetrySettingError(settings.problems);
    return settings.settings;
  };
  return async (profile: string | undefined) => {
    const name = profile || io.env.AWS_PROFILE || 'default';
    let settings = resolved.get(name);
    if (settings === undefined) {
      settings = resolve(name);
      resolved.set(name, settings);
    }
    const chosen = await settings;
    const { awsRetryStrategy } = await import('./aws/sdk-retry.js');
    return awsRetryStrategy(chosen, delayMs);
  };
}

let awsSdkPrepared = false;
/**
 * Once per run, before the first AWS client: the SDK's nine-line warning about an old Node.js becomes
 * one short line of ours (unless the user already silenced it with the SDK's own variable).
 */
export function beforeAwsSdk(io: ProcessIo): void {
  if (awsSdkPrepared) return;
  awsSdkPrepared = true;
  if (process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED === 'true') return;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const notice = nodeSupportNotice(process.version);
  if (notice !== undefined) io.stderr.write(notice);
}

/** The real clock, HTTP, websockets and Ctrl-C for `tail` and `check`: the only place they are created. */
export function defaultLokiDeps(io: ProcessIo): LokiDeps {
  return {
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: Math.random,
    httpGet: createHttpGet(),
    createHttpPost,
    // ws is loaded only when `tail` follows.
    loadWebSocketFactory: async () => (await import('./loki/tail-socket.js')).createWebSocket,
    // Installed only by commands that run until interrupted, so Ctrl-C still stops every other command.
    interrupted: () => {
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      return controller.signal;
    },
    stdoutIsTty: io.stdout.isTTY === true,
  };
}

/** Node's fetch and files for `dashboard` and `rules`: the only place they are chosen. */
export function defaultDashboardDeps(): DashboardDeps {
  return {
    fetch: (url, init) => fetch(url, init),
    readTextFile: (path) => readFile(path, 'utf8'),
    writeTextFile: (path, text) => writeFile(path, text),
  };
}

/** Builds the commander program; each command sets the exit code through `setExitCode`. */
export function createProgram(io: CliIo, setExitCode: (code: number) => void, deps: CliDeps = {}): Command {
  const program = new Command('loki-lambda')
    .description('Ship AWS Lambda logs to Grafana Loki: build, publish and attach the loki-lambda extension')
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(withoutOptionValues(s)),
    })
    .showHelpAfterError('(run with --help for usage)')
    .hook('preAction', (_program, action) => refuseBadAwsRetryEnv(io, action));
  const { loki: lokiOverrides, grafana: grafanaOverrides, ...awsOverrides } = deps;
  const aws: AwsDeps = { ...defaultAwsDeps(io), ...awsOverrides };
  const merged: LokiDeps = { ...defaultLokiDeps(io), ...lokiOverrides };
  const loki: LokiDeps = {
    ...merged,
    httpGet: redactingErrorBodies(merged.httpGet, io.secrets),
    createHttpPost: () => {
      const client = merged.createHttpPost();
      return { ...client, post: redactingErrorBodies(client.post, io.secrets) };
    },
  };
  registerBuildCommand(program, io, setExitCode, aws.buildLayers);
  registerPublishCommand(program, io, setExitCode, aws);
  registerAttachCommand(program, io, setExitCode, aws);
  registerDetachCommand(program, io, setExitCode, aws);
  registerDeployCommand(program, io, setExitCode, aws);
  registerUpgradeCommand(program, io, setExitCode, aws);
  registerTailCommand(program, io, setExitCode, aws, loki);
  registerCheckCommand(program, io, setExitCode, aws, loki);
  const grafana: DashboardDeps = { ...defaultDashboardDeps(), ...grafanaOverrides };
  registerDashboardCommand(program, io, setExitCode, grafana);
  registerRulesCommand(program, io, setExitCode, grafana);
  registerSnippetCommand(program, io, setExitCode, aws);
  registerStatusCommand(program, io, setExitCode, aws);
  return program;
}

/**
 * Before a command that may call AWS (those with --profile) does anything: an AWS_MAX_ATTEMPTS or
 * AWS_RETRY_MODE the SDK could not use is a usage error (exit 2) saying what to write instead.
 */
function refuseBadAwsRetryEnv(io: CliIo, action: Command): void {
  if (!action.options.some((option) => option.long === '--profile')) return;
  const resolved = resolveAwsRetry([awsRetryEnvSource(io.env)]);
  if (resolved.ok) return;
  for (const problem of resolved.problems) io.stderr.write(`loki-lambda ${action.name()}: ${problem}\n`);
  throw new CommanderError(ExitCode.usage, 'loki-lambda.awsRetryEnv', resolved.problems.join('; '));
}

/** Runs the CLI and returns its exit code; never calls process.exit. */
export async function run(
  argv: readonly string[],
  processIo: ProcessIo,
  deps: CliDeps = {},
): Promise<number> {
  const io = withRedaction(processIo, argv);
  let exitCode: number = ExitCode.ok;
  const program = createProgram(
    io,
    (code) => {
      exitCode = code;
    },
    deps,
  );
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    io.stderr.write(`loki-lambda: ${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof AwsRetrySettingError ? ExitCode.usage : ExitCode.failure;
  }
  return exitCode;
}
