import {
  extensionDroppedEntries,
  failedInvocationsCount,
  invocationsCount,
  lambdaDroppedRecords,
  memoryUsedPercent,
  type StreamScope,
  silentFunctions,
} from './queries.js';

/** Thresholds of the alerts, each a flag of `loki-lambda rules`. */
export interface RuleThresholds {
  /** Alert when more than this percentage of a function's invocations fail. */
  readonly errorRatePercent: number;
  /** Alert when Max Memory Used exceeds this percentage of Memory Size. */
  readonly memoryPercent: number;
  /** The window each rate, count and maximum is computed over, e.g. `5m`. */
  readonly window: string;
  /** How long the error rate and memory conditions must hold before firing, e.g. `5m` (`0m`: at once). */
  readonly for: string;
  /** Alert on a function silent this long after it shipped logs in the last hour, e.g. `15m`. */
  readonly silence: string;
}

export const RULE_THRESHOLDS_DEFAULT: RuleThresholds = {
  errorRatePercent: 5,
  memoryPercent: 90,
  window: '5m',
  for: '5m',
  silence: '15m',
};

/** Functions that had logs this recently count for the "no logs" alert. */
export const SILENCE_LOOKBACK = '1h';

export interface RuleScope {
  /** Only this application's functions (every application without it). */
  readonly application?: string | undefined;
  readonly environment?: string | undefined;
}

/** One Prometheus-style alerting rule, as the Loki ruler reads it. */
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly AlertRule[];
}

export interface RuleFile {
  readonly groups: readonly RuleGroup[];
}

export const RULE_GROUP_NAME = 'loki-lambda';
const BY = 'application, environment, function';
const WHO = '{{ $labels.function }} ({{ $labels.application }}/{{ $labels.environment }})';

/** The alert rules for the functions of the scope: pure, same input, same rules. */
export function buildRules(scope: RuleScope, t: RuleThresholds = RULE_THRESHOLDS_DEFAULT): RuleFile {
  const streams: StreamScope = {
    application: exactOrAny(scope.application),
    environment: exactOrAny(scope.environment),
    function: '.+',
  };
  const w = t.window;
  const held = t.for === '0m' || t.for === '0s' ? {} : { for: t.for };
  const rules: AlertRule[] = [
    {
      alert: 'LambdaErrorRateHigh',
      expr: `100 * ${failedInvocationsCount(streams, w, undefined, BY)} / ${invocationsCount(streams, w, BY)} > ${t.errorRatePercent}`,
      ...held,
      labels: { severity: 'warning' },
      annotations: {
        summary: `${WHO}: more than ${t.errorRatePercent}% of invocations failed`,
        description: `{{ printf "%.1f" $value }}% of the invocations of the last ${w} ended in error, failure or timeout (status of their REPORT lines).`,
      },
    },
    {
      alert: 'LambdaTimeout',
      expr: `${failedInvocationsCount(streams, w, ['timeout'], BY)} > 0`,
      labels: { severity: 'warning' },
      annotations: {
        summary: `${WHO}: an invocation timed out`,
        description: `{{ $value }} invocation(s) reached the function's timeout in the last ${w}.`,
      },
    },
    {
      alert: 'LambdaMemoryHigh',
      expr: `${memoryUsedPercent(streams, w, BY)} > ${t.memoryPercent}`,
      ...held,
      labels: { severity: 'warning' },
      annotations: {
        summary: `${WHO}: memory used above ${t.memoryPercent}% of memory size`,
        description: `Max Memory Used reached {{ printf "%.0f" $value }}% of Memory Size in the last ${w}; at 100% Lambda ends the invocation.`,
      },
    },
    {
      alert: 'LokiLambdaDroppedEntries',
      expr: `${extensionDroppedEntries(streams, w, BY)} > 0`,
      labels: { severity: 'warning' },
      annotations: {
        summary: `${WHO}: loki-lambda dropped log entries`,
        description: `loki-lambda dropped {{ $value }} log entries in the last ${w}: Loki was unreachable and its buffer (LOKI_MAX_BUFFER_BYTES) was full.`,
      },
    },
    {
      alert: 'LambdaLogsDropped',
      expr: `${lambdaDroppedRecords(streams, w, BY)} > 0`,
      labels: { severity: 'info' },
      annotations: {
        summary: `${WHO}: Lambda dropped log records before loki-lambda got them`,
        description: `Lambda reported {{ $value }} dropped log records (platform.logsDropped) in the last ${w}.`,
      },
    },
    {
      alert: 'LambdaNoLogs',
      expr: silentFunctions(streams, t.silence, SILENCE_LOOKBACK),
      labels: { severity: 'warning' },
      annotations: {
        summary: `${WHO}: no logs for ${t.silence}`,
        description: `The function shipped logs in the last ${SILENCE_LOOKBACK} but none in the last ${t.silence}: it stopped being invoked, or its logs stopped reaching Loki.`,
      },
    },
  ];
  return { groups: [{ name: RULE_GROUP_NAME, rules }] };
}

/** A label value as an exact regular expression, or any non-empty value. */
function exactOrAny(value: string | undefined): string {
  return value === undefined || value === '' ? '.+' : value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
