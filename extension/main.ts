/**
 * Composition root of the Lambda extension: the only module that reads process.env, creates clients
 * and exits. Registers before loading the shipping pipeline, because Lambda's init phase waits for
 * every extension to register.
 */
import {
  describeConfigAdjustments,
  describeConfigProblems,
  ENV_VARS,
  functionMemoryMbFrom,
  parseConfig,
  SECRET_ENV_VARS,
} from './config.js';
import { EXTENSION_NAME } from './constants.js';
import { runIdleLoop } from './event-loop.js';
import { createLastResort } from './last-resort.js';
import { createLogger, type Logger } from './logger.js';
import {
  DEFAULT_SECRET_READ_TIMINGS,
  fixedCredentials,
  type LokiCredentials,
  SecretCredentials,
} from './loki-credentials.js';
import { DEFAULT_TIMINGS } from './push-decision.js';
import { createRedactor, type Redactor } from './redact.js';
import { RuntimeApiClient, TelemetryUnavailableError } from './runtime-api.js';
import type { SecretCredential } from './secret-refs.js';
import { parseTestTimings, type TestTimings, withTestTimings } from './test-timings.js';
import { userAgent } from './version.js';

const write = (line: string): void => {
  process.stdout.write(line);
};

async function main(): Promise<number> {
  const runtimeApiHost = process.env.AWS_LAMBDA_RUNTIME_API;
  if (runtimeApiHost === undefined || runtimeApiHost === '') {
    write(
      'loki-lambda: AWS_LAMBDA_RUNTIME_API is not set; this program runs inside AWS Lambda as a layer extension\n',
    );
    return 1;
  }
  const redactor = secretsOf(process.env);
  const configResult = parseConfig(process.env, {
    functionMemoryMb: functionMemoryMbFrom(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE),
  });
  const initializationType = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
  // Lambda Managed Instances refuse INVOKE (403): extensions there get SHUTDOWN only (DESIGN.md §6).
  const managedInstances = initializationType === 'lambda-managed-instances';
  const runtimeApi = new RuntimeApiClient(runtimeApiHost);
  await runtimeApi.register(EXTENSION_NAME, managedInstances ? ['SHUTDOWN'] : ['INVOKE', 'SHUTDOWN']);
  // From here on nothing may end the process during an invocation: an unexpected error is reported
  // once and the extension falls back to answering events.
  const lastResort = createLastResort(
    () => runtimeApi.next(),
    (message) => write(`loki-lambda: ${redactor.redact(message)}\n`),
  );
  process.on('uncaughtException', lastResort.fail);
  process.on('unhandledRejection', lastResort.fail);
  const next = lastResort.next;

  if (!configResult.ok) {
    write(`${redactor.redact(describeConfigProblems(configResult.problems))}\n`);
    await runIdleLoop(next);
    return 0;
  }
  const { config } = configResult;
  if (configResult.adjusted.length > 0)
    write(`${redactor.redact(describeConfigAdjustments(configResult.adjusted))}\n`);
  const log = createLogger(write, config.debug, redactor);
  // Undocumented, for tests only: shorter budgets, cooldowns and secret reads, so an outage test takes
  // milliseconds. Unset (as for every user), each table below is its defaults.
  const testTimings = parseTestTimings(process.env.LOKI_LAMBDA_TEST_TIMINGS);
  // A credential kept in AWS is read now, in parallel with the function's init; only the first push waits.
  const credentials =
    config.secretCredential === undefined
      ? fixedCredentials(config.auth)
      : readSecretCredential(config.secretCredential, redactor, log, testTimings);
  const [{ runShipper }, { createHttpPost }, { startTelemetryListener }] = await Promise.all([
    import('./shipper.js'),
    import('./http-post.js'),
    import('./telemetry-listener.js'),
  ]);
  const http = createHttpPost();
  // SnapStart: connections opened before the snapshot are dead after a restore; never reuse one.
  const snapStart = initializationType === 'snap-start';
  let restored = !snapStart;
  const shipping = runShipper({
    config,
    credentials,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'unknown',
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    userAgent: userAgent(process.version),
    next: async () => {
      const event = await next();
      if (!restored) {
        restored = true;
        http.resetConnections();
      }
      return event;
    },
    subscribe: (subscription) => runtimeApi.subscribeTelemetry(subscription),
    managedInstances,
    listen: (port, onEvents) =>
      startTelemetryListener(
        port,
        (events) => {
          if (events.some((event) => event.type === 'platform.restoreStart')) http.resetConnections();
          onEvents(events);
        },
        log,
      ),
    post: http.post,
    log,
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: Math.random,
    timings: withTestTimings(DEFAULT_TIMINGS, testTimings),
  });
  try {
    await Promise.race([shipping, lastResort.done]);
  } catch (error) {
    if (error instanceof TelemetryUnavailableError) {
      // aws-lambda-rie (sam local, base images, LocalStack) has no Telemetry API: step aside at once.
      log.warn(
        `the Telemetry API is not available here (${error.message}); logs will NOT be shipped, the function runs normally`,
      );
    } else {
      // Shipping cannot start (e.g. the listener port is taken): say so once, keep the function working.
      log.warn(`cannot ship logs, the function runs normally: ${(error as Error).message}`);
    }
    await runIdleLoop(next);
  } finally {
    http.close();
  }
  return 0;
}

/**
 * Every secret of the function's environment, known before the configuration is even valid: the
 * Loki token and password (and the basic-auth header they make), and values of secret-looking names.
 */
function secretsOf(env: NodeJS.ProcessEnv): Redactor {
  const redactor = createRedactor();
  redactor.addEnvironment(env, SECRET_ENV_VARS);
  const username = env[ENV_VARS.username]?.trim();
  const password = env[ENV_VARS.password]?.trim();
  if (username && password) redactor.addBasicAuth(username, password);
  return redactor;
}

/** Starts reading the credential with the function role's credentials; the AWS SDK loads only here. */
function readSecretCredential(
  credential: SecretCredential,
  redactor: Redactor,
  log: Logger,
  testTimings: TestTimings,
): LokiCredentials {
  const env = process.env;
  // The SDK warns on stderr about Node versions it will stop supporting: not the function's business.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  const credentials = new SecretCredentials({
    credential,
    loadReader: async () =>
      (await import('./aws-secret-reader.js')).createAwsSecretReader({
        region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
        // SnapStart functions get no keys in the environment: the SDK's own chain finds them.
        credentials:
          accessKeyId && secretAccessKey
            ? { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN }
            : undefined,
        retryDelayMs: testTimings.secretSdkRetryDelayMs,
      }),
    // Masked from the moment it is known, before any push could echo it.
    onSecret: (auth) => {
      if (auth.kind === 'bearer') redactor.addSecret(auth.token);
      if (auth.kind === 'basic') redactor.addBasicAuth(auth.username, auth.password);
    },
    log,
    now: Date.now,
    timings: withTestTimings(DEFAULT_SECRET_READ_TIMINGS, testTimings),
  });
  credentials.start();
  return credentials;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Only registration or the Runtime API itself can end up here: Lambda reports the extension failure.
    write(`loki-lambda: ${secretsOf(process.env).redact((error as Error).message)}\n`);
    process.exit(1);
  },
);
