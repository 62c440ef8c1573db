import type { AwsDeps } from '../aws/deps.js';
import { loadConfigFile } from '../config-file.js';
import { type CliIo, ExitCode } from '../io.js';
import type { CheckReport } from '../loki/check.js';
import type { LokiDeps } from '../loki/deps.js';
import { checkReportDocument, renderCheckReport } from '../render/check.js';
import { createOutput } from '../render/output.js';
import type { LokiOptions } from '../settings.js';
import { USER_AGENT } from '../version.js';
import { addCommonOptions, addLokiOptions, type CommonOptions, resolveLokiEnv } from './aws-options.js';
import type { SecretCheck } from './check-secret.js';
import { functionNameOf, readFunctionEnv } from './function-settings.js';
import type { RegisterCommand } from './register.js';

/** The `function` label of the test line when no function is named. */
export const CHECK_FUNCTION_LABEL = 'loki-lambda-check';

type CheckOptions = CommonOptions & LokiOptions;

export const registerCheckCommand: RegisterCommand<[AwsDeps, LokiDeps]> = (
  program,
  io,
  setExitCode,
  aws,
  loki,
) => {
  const command = program
    .command('check')
    .description('prove that Loki settings work: validate them, push a test line and read it back')
    .argument('[function]', "check this function's LOKI_* settings (name or ARN)");
  addLokiOptions(command);
  addCommonOptions(command).action(async (fn: string | undefined, options: CheckOptions) => {
    setExitCode(await checkCommand(io, fn, options, aws, loki));
  });
};

async function checkCommand(
  io: CliIo,
  fn: string | undefined,
  options: CheckOptions,
  aws: AwsDeps,
  loki: LokiDeps,
): Promise<number> {
  const out = createOutput(io, 'check', options.json ?? false);
  const error = out.error;
  if (
    fn !== undefined &&
    (options.lokiUrl !== undefined || options.app !== undefined || options.env !== undefined)
  ) {
    error('give a FUNCTION (its settings are checked) or --loki-url/--app/--env, not both');
    return ExitCode.usage;
  }
  // Loaded here (with the extension's push encoder) so that the other commands start without it.
  const { runCheck, settingsFailedReport } = await import('../loki/check.js');
  let env: Readonly<Record<string, string | undefined>> | undefined;
  let functionMemoryMb: number | undefined;
  let report: CheckReport | undefined;
  let credential: SecretCheck | undefined;
  if (fn !== undefined) {
    const read = await readFunctionEnv(io, aws, options, fn);
    if (!read.ok) {
      error(`cannot read the settings of ${fn}: ${read.reason}`);
      return ExitCode.failure;
    }
    env = read.env;
    functionMemoryMb = read.memorySizeMb;
    // A credential kept in AWS: read it as the caller, push with it, and ask IAM about the role.
    const { renderSecretCheck, resolveSecretReference } = await import('./check-secret.js');
    const resolution = await resolveSecretReference(io, aws, read.env, read);
    if (resolution.kind !== 'none') {
      credential = resolution.check;
      out.human(renderSecretCheck(credential));
    }
    if (resolution.kind === 'resolved') env = resolution.env;
    if (resolution.kind === 'failed' && !resolution.check.read.ok) {
      report = settingsFailedReport([
        `cannot read ${resolution.check.reference} with your credentials (${resolution.check.read.problem})`,
      ]);
    }
  } else {
    const loaded = await loadConfigFile(io.cwd, options.config);
    if (!loaded.ok) {
      for (const problem of loaded.problems) error(problem);
      return ExitCode.usage;
    }
    const resolved = await resolveLokiEnv(io, options, loaded.values);
    if (resolved.ok) env = resolved.env;
    else report = settingsFailedReport(resolved.problems);
  }
  if (report === undefined && env !== undefined) {
    const { post, close } = loki.createHttpPost();
    try {
      report = await runCheck(
        env,
        fn === undefined ? CHECK_FUNCTION_LABEL : functionNameOf(fn),
        {
          now: loki.now,
          sleep: loki.sleep,
          random: loki.random,
          post,
          get: loki.httpGet,
          userAgent: USER_AGENT,
        },
        { functionMemoryMb },
      );
    } finally {
      close();
    }
  }
  if (report === undefined) return ExitCode.failure;
  const subject = fn;
  if (out.json) {
    out.document({
      ...(checkReportDocument(subject, report) as Record<string, unknown>),
      ...(credential !== undefined ? { credential } : {}),
    });
  } else out.human(renderCheckReport(subject, report, loki.stdoutIsTty));
  return report.ok ? ExitCode.ok : ExitCode.failure;
}
