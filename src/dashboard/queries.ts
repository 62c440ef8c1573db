/**
 * The LogQL behind the dashboard and the alert rules, written once. Every figure comes from the lines
 * the extension ships: the CloudWatch-shaped platform lines (extension/platform-lines.ts, parts joined
 * by tabs) and its own notices on the `extension` stream. Only functions and stages that Loki 2.8
 * already has are used (unwrap, quantile_over_time, label_format with sprig math, pattern, regexp).
 *
 * The fields of a REPORT line are optional (Init Duration only on a cold start, Status only when not
 * a success), so each figure has its own `regexp` keyed on the tab and the field's name: a line
 * without that field simply has no such label, and a `pattern` would mis-capture instead.
 */

/** Which streams a query reads: regular expressions for the three identifying labels. */
export interface StreamScope {
  readonly application: string;
  readonly environment: string;
  readonly function: string;
}

export type StreamSource = 'platform' | 'function' | 'extension';

/** A range or instant window: `$__interval` in panels, a fixed duration in rules. */
export type Window = string;

/** `{application=~"…", environment=~"…", function=~"…", source="…"}`. */
export function selector(scope: StreamScope, source?: StreamSource): string {
  const matchers = [
    `application=~${quote(scope.application)}`,
    `environment=~${quote(scope.environment)}`,
    `function=~${quote(scope.function)}`,
  ];
  if (source !== undefined) matchers.push(`source="${source}"`);
  return `{${matchers.join(', ')}}`;
}

/** A LogQL double-quoted string (Go escapes). */
export function quote(value: string): string {
  return JSON.stringify(value);
}

/** One REPORT line per invocation, whatever its outcome. */
export const REPORT_FILTER = '|= "REPORT RequestId: "';

/** The `regexp` stage extracting one field of a REPORT line, e.g. `\tDuration: 12.5 ms`. */
export const REPORT_FIELDS = {
  duration_ms: String.raw`\tDuration: (?P<duration_ms>[0-9.]+) ms`,
  billed_duration_ms: String.raw`\tBilled Duration: (?P<billed_duration_ms>[0-9.]+) ms`,
  memory_size_mb: String.raw`\tMemory Size: (?P<memory_size_mb>[0-9]+) MB`,
  max_memory_used_mb: String.raw`\tMax Memory Used: (?P<max_memory_used_mb>[0-9]+) MB`,
  init_duration_ms: String.raw`\tInit Duration: (?P<init_duration_ms>[0-9.]+) ms`,
  restore_duration_ms: String.raw`\tRestore Duration: (?P<restore_duration_ms>[0-9.]+) ms`,
  status: String.raw`\tStatus: (?P<status>[a-z]+)`,
} as const;
export type ReportField = keyof typeof REPORT_FIELDS;

/** Statuses of an invocation that did not succeed (Telemetry API `status`), as CloudWatch's Errors counts them. */
export const FAILED_STATUSES = ['error', 'failure', 'timeout'] as const;

/** `| regexp \`…\``: backquoted, so the regular expression is passed to Loki as written. */
export function regexpStage(field: ReportField): string {
  return `| regexp \`${REPORT_FIELDS[field]}\``;
}

/** REPORT lines of the scope with one field extracted and unwrapped as the sample value. */
export function unwrapReportField(scope: StreamScope, field: ReportField, window: Window): string {
  return `${selector(scope, 'platform')} ${REPORT_FILTER} ${regexpStage(field)} | unwrap ${field} | __error__="" [${window}]`;
}

/** Invocations (REPORT lines) per group, counted over the window. */
export function invocationsCount(scope: StreamScope, window: Window, by = 'function'): string {
  return `sum by (${by}) (count_over_time(${selector(scope, 'platform')} ${REPORT_FILTER} [${window}]))`;
}

/** Invocations per minute and function. */
export function invocationsPerMinute(scope: StreamScope, window: Window): string {
  return `sum by (function) (rate(${selector(scope, 'platform')} ${REPORT_FILTER} [${window}])) * 60`;
}

/** Invocations per function whose status is one of `statuses`, grouped by status. */
export function failedInvocationsCount(
  scope: StreamScope,
  window: Window,
  statuses: readonly string[] = FAILED_STATUSES,
  by = 'function, status',
): string {
  return `sum by (${by}) (count_over_time(${selector(scope, 'platform')} ${REPORT_FILTER} ${regexpStage('status')} | status=~"${statuses.join('|')}" [${window}]))`;
}

/** `fn_over_time(…unwrap field…) by (function)`; `quantile` for quantile_over_time. */
export function reportFieldOverTime(
  fn: 'avg' | 'max' | 'sum' | 'quantile',
  scope: StreamScope,
  field: ReportField,
  window: Window,
  quantile?: number,
  by = 'function',
): string {
  const args = `${fn === 'quantile' ? `${quantile ?? 0.5}, ` : ''}${unwrapReportField(scope, field, window)}`;
  return `${fn}_over_time(${args}) by (${by})`;
}

/** Cold starts: REPORT lines that carry an Init Duration, or a Restore Duration (SnapStart). */
export function coldStartsCount(scope: StreamScope, window: Window): string {
  return `sum by (function) (count_over_time(${selector(scope, 'platform')} ${REPORT_FILTER} |~ \`\\t(Init|Restore) Duration: \` [${window}]))`;
}

/** Memory used as a percentage of memory size, the highest of the window, per function. */
export function memoryUsedPercent(scope: StreamScope, window: Window, by = 'function'): string {
  const used = reportFieldOverTime('max', scope, 'max_memory_used_mb', window, undefined, by);
  const size = reportFieldOverTime('max', scope, 'memory_size_mb', window, undefined, by);
  return `100 * ${used} / ${size}`;
}

/**
 * GB-seconds per function: billed duration × memory size of each invocation, summed. Loki cannot
 * unwrap a product, so `label_format` computes it per line (sprig's `mulf`/`divf`, in Loki since 2.3)
 * as GB-milliseconds, which keeps the number away from exponent notation; the sum is then / 1000.
 */
export function gbSeconds(scope: StreamScope, window: Window, by?: string): string {
  return `${sumBy(by)}(sum_over_time(${selector(scope, 'platform')} ${REPORT_FILTER} ${regexpStage('billed_duration_ms')} ${regexpStage('memory_size_mb')} | label_format gb_ms=\`{{ divf (mulf .billed_duration_ms .memory_size_mb) 1024 }}\` | unwrap gb_ms | __error__="" [${window}])) / 1000`;
}

/** The notice the extension ships after dropping entries, whatever the reason (extension/delivery-report.ts). */
export const EXTENSION_DROP_FILTER = '|= "loki-lambda dropped "';
export const EXTENSION_DROP_PATTERN = 'loki-lambda dropped <dropped_entries> log entries';

/** Entries the extension dropped (buffer full while Loki was unreachable, refused by Loki, …), per group. */
export function extensionDroppedEntries(scope: StreamScope, window: Window, by = 'function'): string {
  return `sum by (${by}) (sum_over_time(${selector(scope, 'extension')} ${EXTENSION_DROP_FILTER} | pattern \`${EXTENSION_DROP_PATTERN}\` | unwrap dropped_entries | __error__="" [${window}]))`;
}

/** Lambda's own `platform.logsDropped`: records it dropped before they reached the extension. */
export const LAMBDA_DROP_FILTER = '|= "LOGS_DROPPED "';
export const LAMBDA_DROP_PATTERN = 'LOGS_DROPPED Lambda dropped <dropped_records> log records';

export function lambdaDroppedRecords(scope: StreamScope, window: Window, by = 'function'): string {
  return `sum by (${by}) (sum_over_time(${selector(scope, 'platform')} ${LAMBDA_DROP_FILTER} | pattern \`${LAMBDA_DROP_PATTERN}\` | unwrap dropped_records | __error__="" [${window}]))`;
}

/** Log lines per function and source. */
export function logLines(scope: StreamScope, window: Window): string {
  return `sum by (function, source) (count_over_time(${selector(scope)} [${window}]))`;
}

/** Log bytes per function and source. */
export function logBytes(scope: StreamScope, window: Window): string {
  return `sum by (function, source) (bytes_over_time(${selector(scope)} [${window}]))`;
}

/**
 * Lines that report a failure: END lines with a status (a success has none), and function lines
 * at ERROR level in the runtimes' text format (`\tERROR\t`, Python's `[ERROR]`) or JSON format.
 */
export const ERROR_LINE_REGEX = String.raw`^END RequestId: .*\tStatus: |\tERROR\t|\[ERROR\]|"level":"(ERROR|FATAL)"`;

export function errorLines(scope: StreamScope): string {
  return `${selector(scope)} |~ \`${ERROR_LINE_REGEX}\``;
}

/**
 * Functions that shipped logs within `lookback` but none within `silence`: `unless` keeps the first
 * side's series that have no match on the other side.
 */
export function silentFunctions(scope: StreamScope, silence: Window, lookback: Window): string {
  const lines = (window: Window) =>
    `sum by (application, environment, function) (count_over_time(${selector(scope)} [${window}]))`;
  return `(${lines(lookback)} > 0) unless (${lines(silence)} > 0)`;
}

/** `sum by (labels) ` or, without labels, `sum`. */
function sumBy(by: string | undefined): string {
  return by === undefined ? 'sum' : `sum by (${by}) `;
}
