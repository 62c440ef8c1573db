import { isAbsolute, join } from 'node:path';
import type { DashboardDeps } from '../dashboard/deps.js';
import { type CliIo, ExitCode } from '../io.js';
import {
  renderFileFailure,
  renderUploadFailure,
  renderUploadSuccess,
  renderWriteFailure,
  renderWritten,
} from '../render/dashboard.js';
import { createOutput } from '../render/output.js';
import { USER_AGENT, VERSION } from '../version.js';
import type { RegisterCommand } from './register.js';

interface DashboardOptions {
  readonly app?: string;
  readonly env?: string;
  readonly out?: string;
  readonly grafanaUrl?: string;
  readonly grafanaTokenFile?: string;
  readonly folder?: string;
}

export const registerDashboardCommand: RegisterCommand<[DashboardDeps]> = (
  program,
  io,
  setExitCode,
  deps,
) => {
  program
    .command('dashboard')
    .description(
      'write a Grafana dashboard of the functions (invocations, errors, duration, memory, cost), or upload it',
    )
    .option('--app <name>', 'preselect this application')
    .option('--env <name>', 'preselect this environment')
    .option(
      '--out <file>',
      'write the dashboard JSON to this file (default: standard output, unless uploading)',
    )
    .option('--grafana-url <url>', 'upload to this Grafana through its HTTP API (created, or updated by uid)')
    .option('--grafana-token-file <file>', 'file holding a Grafana service account token (Editor)')
    .option('--folder <name>', 'Grafana folder to put the dashboard in (created if missing)')
    .action(async (options: DashboardOptions) => {
      setExitCode(await dashboardCommand(io, options, deps));
    });
};

async function dashboardCommand(io: CliIo, options: DashboardOptions, deps: DashboardDeps): Promise<number> {
  const out = createOutput(io, 'dashboard', false);
  const error = out.error;
  const problem = validate(options);
  if (problem !== undefined) {
    error(problem);
    return ExitCode.usage;
  }
  let token: string | undefined;
  if (options.grafanaTokenFile !== undefined) {
    try {
      token = (await deps.readTextFile(resolvePath(io, options.grafanaTokenFile))).trim();
    } catch (cause) {
      error(renderFileFailure('read --grafana-token-file', options.grafanaTokenFile, cause));
      return ExitCode.usage;
    }
    // From here on, no output of this process can show it, whoever writes.
    if (token !== '') io.secrets.addSecret(token);
    if (token === '') {
      error(
        `--grafana-token-file ${options.grafanaTokenFile} is empty; put a Grafana service account token in it`,
      );
      return ExitCode.usage;
    }
  }
  // Grafana's SDK is loaded here, so that the other commands start without it.
  const { buildDashboard, dashboardTitle } = await import('../dashboard/build-dashboard.js');
  const scope = { application: options.app, environment: options.env };
  const dashboard = buildDashboard(scope);
  if (options.out !== undefined) {
    try {
      await deps.writeTextFile(resolvePath(io, options.out), `${JSON.stringify(dashboard, null, 2)}\n`);
    } catch (cause) {
      error(renderWriteFailure(options.out, cause));
      return ExitCode.failure;
    }
    out.progress(renderWritten('dashboard', options.out));
  } else if (options.grafanaUrl === undefined) {
    out.document(dashboard);
  }
  if (options.grafanaUrl === undefined || token === undefined) return ExitCode.ok;

  const { uploadDashboard } = await import('../dashboard/grafana-upload.js');
  const outcome = await uploadDashboard(
    {
      grafanaUrl: options.grafanaUrl,
      token,
      dashboard: { ...dashboard },
      folder: options.folder,
      message: `loki-lambda ${VERSION}`,
      userAgent: USER_AGENT,
    },
    deps.fetch,
  );
  if (!outcome.ok) {
    error(renderUploadFailure(outcome, displayUrl(options.grafanaUrl)));
    return ExitCode.failure;
  }
  out.human(renderUploadSuccess(outcome, dashboardTitle(scope)));
  return ExitCode.ok;
}

function validate(options: DashboardOptions): string | undefined {
  const uploading = options.grafanaUrl !== undefined;
  if (uploading && options.grafanaTokenFile === undefined) {
    return '--grafana-url needs --grafana-token-file (a file holding a Grafana service account token)';
  }
  if (!uploading && options.grafanaTokenFile !== undefined)
    return '--grafana-token-file is used only with --grafana-url';
  if (!uploading && options.folder !== undefined) return '--folder is used only with --grafana-url';
  if (options.folder !== undefined && options.folder.trim() === '') return '--folder must not be empty';
  if (options.grafanaUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(options.grafanaUrl);
    } catch {
      return '--grafana-url must be an http(s) URL like https://grafana.example.com';
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return `--grafana-url must be an http(s) URL like https://grafana.example.com; got ${url.protocol}`;
    }
    if (url.username !== '' || url.password !== '') {
      return '--grafana-url must not contain credentials; put a service account token in --grafana-token-file';
    }
  }
  return undefined;
}

/** The Grafana URL without query or fragment, for messages. */
function displayUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

function resolvePath(io: CliIo, path: string): string {
  return isAbsolute(path) ? path : join(io.cwd, path);
}
