import { type ExtensionConfig, type FunctionContext, parseConfig } from '../../extension/config.js';
import { noticeEntry } from '../../extension/entries.js';
import type { HttpPost, HttpResponse } from '../../extension/http-post.js';
import { type PushOutcome, pushHeaders, pushWithRetry } from '../../extension/loki-push.js';
import { compressPushBody, encodePushRequest, streamLabelStrings } from '../../extension/push-encoder.js';
import { redactUrl } from '../../extension/redact.js';
import { createLokiClient } from './client.js';
import { baseUrlOf, describeAuth } from './connection.js';
import { msToNs } from './entry.js';
import { firstLine, LokiAuthError } from './errors.js';
import type { HttpGet } from './http-get.js';
import { logqlString } from './logql.js';

/** The steps `check` reports, in order; a failed step skips the ones after it. */
export const CHECK_STEPS = ['settings', 'reachable', 'auth', 'tenant', 'push', 'read'] as const;
export type CheckStepName = (typeof CHECK_STEPS)[number];

export type StepStatus = 'ok' | 'failed' | 'skipped' | 'unverified';

export interface CheckStep {
  readonly name: CheckStepName;
  readonly status: StepStatus;
  readonly detail: string;
}

export interface CheckReport {
  readonly ok: boolean;
  readonly steps: readonly CheckStep[];
  /** The first step that failed. */
  readonly failedStep: CheckStepName | undefined;
  /** The test line, to look for in Grafana. */
  readonly line: string | undefined;
}

/** How long the push may take, retries included (Loki answering 429/5xx, or slow). */
export const CHECK_PUSH_BUDGET_MS = 15_000;
/** Also at most this many push attempts: a refused connection should fail in a moment, not after the budget. */
export const CHECK_PUSH_ATTEMPTS_MAX = 4;
/** Loki makes a pushed line queryable within moments (ingesters answer queries); ask a few times. */
export const READ_ATTEMPTS = 5;
export const READ_RETRY_DELAY_MS = 1000;
/** The query window around the test line's timestamp. */
const READ_WINDOW_MS = 60_000;

export interface CheckDeps {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly post: HttpPost;
  readonly get: HttpGet;
  readonly userAgent: string;
}

/** The report when the settings could not even be assembled (e.g. an unreadable token file). */
export function settingsFailedReport(problems: readonly string[]): CheckReport {
  return {
    ok: false,
    failedStep: 'settings',
    line: undefined,
    steps: CHECK_STEPS.map((name) =>
      name === 'settings'
        ? { name, status: 'failed', detail: problems.join('; ') }
        : { name, status: 'skipped', detail: '' },
    ),
  };
}

/**
 * Validates the LOKI_* variables with the extension's own parser, pushes one test line with the
 * extension's own encoder and headers, then reads it back with query_range.
 */
export async function runCheck(
  env: Readonly<Record<string, string | undefined>>,
  functionName: string,
  deps: CheckDeps,
  context: FunctionContext = {},
): Promise<CheckReport> {
  const steps: CheckStep[] = [];
  const finish = (line?: string): CheckReport => {
    for (const name of CHECK_STEPS) {
      if (!steps.some((step) => step.name === name)) steps.push({ name, status: 'skipped', detail: '' });
    }
    const failed = steps.find((step) => step.status === 'failed');
    return { ok: failed === undefined, steps, failedStep: failed?.name, line };
  };

  const parsed = parseConfig(env, context);
  if (!parsed.ok) return settingsFailedReport(parsed.problems);
  // The extension would ship with a safe value instead: the settings as given are not right.
  if (parsed.adjusted.length > 0) return settingsFailedReport(parsed.adjusted);
  const config = parsed.config;
  steps.push({
    name: 'settings',
    status: 'ok',
    detail: `valid: ${redactUrl(config.pushUrl)}, application=${config.application}, environment=${config.environment}`,
  });

  const nowMs = deps.now();
  const id = Math.floor(deps.random() * 2 ** 48)
    .toString(36)
    .padStart(10, '0');
  const line = `loki-lambda check ${id}: test line for ${functionName} at ${new Date(nowMs).toISOString()}`;
  const entry = noticeEntry(line, nowMs);
  const labelStrings = streamLabelStrings({
    application: config.application,
    environment: config.environment,
    functionName,
    extraLabels: config.extraLabels,
  });
  const body = compressPushBody(encodePushRequest([entry], labelStrings, { functionVersion: undefined }));
  const target = { pushUrl: config.pushUrl, auth: config.auth, tenantId: config.tenantId };
  const answers: HttpResponse[] = [];
  const observed: HttpPost = async (...args) => {
    const response = await deps.post(...args);
    answers.push(response);
    return response;
  };
  const outcome = await pushWithRetry(
    {
      post: observed,
      now: deps.now,
      sleep: deps.sleep,
      random: deps.random,
      maxAttempts: CHECK_PUSH_ATTEMPTS_MAX,
    },
    config.pushUrl,
    pushHeaders(target, deps.userAgent),
    body,
    nowMs + CHECK_PUSH_BUDGET_MS,
  );
  pushSteps(outcome, answers, config, steps);
  if (outcome.kind !== 'accepted') return finish(line);

  const selector = `{${labelPairs(config, functionName)
    .map(([name, value]) => `${name}=${logqlString(value)}`)
    .join(', ')}} |= ${logqlString(id)}`;
  const client = createLokiClient(
    { addr: baseUrlOf(config.pushUrl), auth: config.auth, orgId: config.tenantId },
    deps.get,
    deps.userAgent,
  );
  steps.push(await readBack(client, selector, nowMs, line, deps));
  return finish(line);
}

function pushSteps(
  outcome: PushOutcome,
  answers: readonly HttpResponse[],
  config: ExtensionConfig,
  steps: CheckStep[],
): void {
  const last = answers.at(-1);
  if (last === undefined) {
    const reason = outcome.kind === 'accepted' ? '' : outcome.reason;
    steps.push({
      name: 'reachable',
      status: 'failed',
      detail: `no answer from ${redactUrl(config.pushUrl)}: ${reason}`,
    });
    return;
  }
  steps.push({
    name: 'reachable',
    status: 'ok',
    detail: `${redactUrl(config.pushUrl)} answered HTTP ${last.status}`,
  });
  const reason = firstLine(last.body);
  const noOrgId = last.status === 401 && /no org id/i.test(reason);
  if ((last.status === 401 || last.status === 403) && !noOrgId) {
    const fix =
      config.auth.kind === 'none'
        ? 'Loki (or its gateway) wants credentials: set LOKI_BEARER_TOKEN or LOKI_USERNAME/LOKI_PASSWORD'
        : config.auth.kind === 'bearer'
          ? 'check LOKI_BEARER_TOKEN (and that it may write logs)'
          : 'check LOKI_USERNAME and LOKI_PASSWORD';
    steps.push({
      name: 'auth',
      status: 'failed',
      detail: `refused with ${describeAuth(config.auth)} (HTTP ${last.status}${reason === '' ? '' : ` ${reason}`}): ${fix}`,
    });
    return;
  }
  steps.push({ name: 'auth', status: 'ok', detail: `accepted (${describeAuth(config.auth)})` });
  if (noOrgId) {
    steps.push({
      name: 'tenant',
      status: 'failed',
      detail: `Loki is multi-tenant and answered "HTTP 401 ${reason}": set LOKI_TENANT_ID (sent as X-Scope-OrgID)`,
    });
    return;
  }
  steps.push({
    name: 'tenant',
    status: 'ok',
    detail:
      config.tenantId === undefined
        ? 'none sent; Loki did not ask for one'
        : `X-Scope-OrgID ${config.tenantId} accepted`,
  });
  steps.push(
    outcome.kind === 'accepted'
      ? { name: 'push', status: 'ok', detail: `test line accepted (HTTP ${last.status})` }
      : outcome.kind === 'rejected'
        ? {
            name: 'push',
            status: 'failed',
            detail: `Loki refused the test line (HTTP ${outcome.status}${outcome.reason === '' ? '' : ` ${outcome.reason}`})`,
          }
        : {
            name: 'push',
            status: 'failed',
            detail: `the test line was not accepted in time: ${outcome.reason}`,
          },
  );
}

/** The labels of the stream the test line went to (the extension's own stream). */
function labelPairs(config: ExtensionConfig, functionName: string): Array<[string, string]> {
  return [
    ['application', config.application],
    ['environment', config.environment],
    ['function', functionName],
    ['source', 'extension'],
    ...config.extraLabels.map(([name, value]): [string, string] => [name, value]),
  ];
}

async function readBack(
  client: ReturnType<typeof createLokiClient>,
  query: string,
  nowMs: number,
  line: string,
  deps: CheckDeps,
): Promise<CheckStep> {
  for (let attempt = 1; attempt <= READ_ATTEMPTS; attempt++) {
    try {
      const entries = await client.queryRange({
        query,
        startNs: msToNs(nowMs - READ_WINDOW_MS),
        endNs: msToNs(Math.max(deps.now(), nowMs) + READ_WINDOW_MS),
        limit: 10,
        direction: 'backward',
      });
      if (entries.some((entry) => entry.line === line)) {
        return {
          name: 'read',
          status: 'ok',
          detail: `found with ${query} (${attempt === 1 ? 'first query' : `query ${attempt}`})`,
        };
      }
    } catch (error) {
      if (error instanceof LokiAuthError) {
        return {
          name: 'read',
          status: 'unverified',
          detail: `reading was refused (HTTP ${error.status} ${error.reason}); these credentials may be write-only, which is all the extension needs`,
        };
      }
      return {
        name: 'read',
        status: 'unverified',
        detail: `could not query ${redactUrl(client.connection.addr)}: ${(error as Error).message}`,
      };
    }
    if (attempt < READ_ATTEMPTS) await deps.sleep(READ_RETRY_DELAY_MS);
  }
  return {
    name: 'read',
    status: 'failed',
    detail: `Loki accepted the test line but ${query} did not find it after ${READ_ATTEMPTS} queries`,
  };
}
