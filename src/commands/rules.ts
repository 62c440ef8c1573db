import { isAbsolute, join } from 'node:path';
import {
  buildRules,
  RULE_THRESHOLDS_DEFAULT,
  type RuleThresholds,
  SILENCE_LOOKBACK,
} from '../dashboard/alert-rules.js';
import type { DashboardDeps } from '../dashboard/deps.js';
import { type CliIo, ExitCode } from '../io.js';
import { parseDurationMs } from '../loki/duration.js';
import { renderWriteFailure, renderWritten } from '../render/dashboard.js';
import { createOutput } from '../render/output.js';
import { ruleFileYaml } from '../render/rules-yaml.js';
import type { RegisterCommand } from './register.js';

interface RulesOptions {
  readonly app?: string;
  readonly env?: string;
  readonly errorRate: string;
  readonly memory: string;
  readonly window: string;
  readonly for: string;
  readonly silence: string;
  readonly json?: boolean;
  readonly out?: string;
}

const D = RULE_THRESHOLDS_DEFAULT;

export const registerRulesCommand: RegisterCommand<[Pick<DashboardDeps, 'writeTextFile'>]> = (
  program,
  io,
  setExitCode,
  deps,
) => {
  program
    .command('rules')
    .description(
      'write Loki ruler alerting rules for the functions (errors, timeouts, memory, dropped logs, silence)',
    )
    .option('--app <name>', 'only this application (default: every application)')
    .option('--env <name>', 'only this environment (default: every environment)')
    .option(
      '--error-rate <percent>',
      'alert when more than this % of invocations fail',
      String(D.errorRatePercent),
    )
    .option(
      '--memory <percent>',
      'alert when max memory used exceeds this % of memory size',
      String(D.memoryPercent),
    )
    .option('--window <duration>', 'window of each rate, count and maximum', D.window)
    .option(
      '--for <duration>',
      'how long error rate and memory must stay high before firing (0m: at once)',
      D.for,
    )
    .option(
      '--silence <duration>',
      'alert when a function that logged in the last hour is silent this long',
      D.silence,
    )
    .option('--json', 'JSON instead of YAML')
    .option('--out <file>', 'write the rules to this file (default: standard output)')
    .action(async (options: RulesOptions) => {
      setExitCode(await rulesCommand(io, options, deps));
    });
};

async function rulesCommand(
  io: CliIo,
  options: RulesOptions,
  deps: Pick<DashboardDeps, 'writeTextFile'>,
): Promise<number> {
  const out = createOutput(io, 'rules', options.json === true && options.out === undefined);
  const parsed = parseThresholds(options);
  if (typeof parsed === 'string') {
    out.error(parsed);
    return ExitCode.usage;
  }
  const rules = buildRules({ application: options.app, environment: options.env }, parsed);
  if (options.out === undefined) {
    if (options.json) out.document(rules);
    else out.human(ruleFileYaml(rules));
    return ExitCode.ok;
  }
  const text = options.json ? `${JSON.stringify(rules, null, 2)}\n` : ruleFileYaml(rules);
  try {
    await deps.writeTextFile(isAbsolute(options.out) ? options.out : join(io.cwd, options.out), text);
  } catch (cause) {
    out.error(renderWriteFailure(options.out, cause));
    return ExitCode.failure;
  }
  out.progress(renderWritten('alert rules', options.out));
  return ExitCode.ok;
}

/** A Prometheus duration as Loki reads it: `30s`, `5m`, `1h30m`. */
const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

/** The thresholds, or the first problem as a message saying what to fix. */
export function parseThresholds(options: RulesOptions): RuleThresholds | string {
  const percent = (flag: string, text: string): number | string => {
    const value = Number(text);
    return text.trim() !== '' && Number.isFinite(value) && value > 0 && value <= 100
      ? value
      : `${flag} must be a percentage above 0 and at most 100; got ${text}`;
  };
  const duration = (flag: string, text: string): string | { error: string } =>
    DURATION.test(text) ? text : { error: `${flag} must be a duration like 30s, 5m or 1h; got ${text}` };
  const errorRate = percent('--error-rate', options.errorRate);
  if (typeof errorRate === 'string') return errorRate;
  const memory = percent('--memory', options.memory);
  if (typeof memory === 'string') return memory;
  const durations = [
    duration('--window', options.window),
    duration('--for', options.for),
    duration('--silence', options.silence),
  ] as const;
  for (const d of durations) if (typeof d !== 'string') return d.error;
  const [window, held, silence] = durations as unknown as [string, string, string];
  if ((parseDurationMs(silence) ?? 0) >= (parseDurationMs(SILENCE_LOOKBACK) ?? 0)) {
    return `--silence must be shorter than ${SILENCE_LOOKBACK} (the rule looks for functions that logged within it); got ${silence}`;
  }
  return { errorRatePercent: errorRate, memoryPercent: memory, window, for: held, silence };
}
