import { describe, expect, it } from 'vitest';
import { DeliveryReport } from '../../extension/delivery-report.js';
import { EntryMaker, noticeEntry } from '../../extension/entries.js';
import type { Logger } from '../../extension/logger.js';
import { buildRules } from '../../src/dashboard/alert-rules.js';
import { buildDashboard } from '../../src/dashboard/build-dashboard.js';
import { PRICE_PER_GB_SECOND_USD } from '../../src/dashboard/dashboard-model.js';
import {
  functionLogEvent,
  type InvocationStatus,
  logsDroppedEvent,
  reportEvent,
  runtimeDoneEvent,
  startEvent,
  type TelemetryEvent,
  type Tracing,
} from '../support/lambda-events.js';
import { type LogPipeline, logPipelines, runPipeline, syntaxErrors } from '../support/logql-pipeline.js';

/**
 * Every LogQL expression of the dashboard and the rules, read with Grafana's own LogQL grammar and
 * run on the exact lines the extension writes (its EntryMaker and notices, fed with Telemetry API
 * events as Lambda sends them) for a cold start, an error, a timeout and a normal invocation.
 */

const STREAM = { application: 'shop', environment: 'prod', function: 'orders' } as const;

/** Grafana's substitution of the dashboard's variables, for a test scope. */
const VARIABLES: Record<string, string> = {
  '${datasource}': 'loki',
  $__interval: '1m',
  $__range: '6h',
  $application: STREAM.application,
  $environment: STREAM.environment,
  $function: STREAM.function,
  $price_per_gb_second: String(PRICE_PER_GB_SECOND_USD.x86_64),
};

function substitute(expr: string): string {
  let out = expr;
  // Longest names first, so $function does not eat part of a longer name.
  for (const name of Object.keys(VARIABLES).sort((a, b) => b.length - a.length)) {
    out = out.replaceAll(name, VARIABLES[name] ?? '');
  }
  return out;
}

interface NamedQuery {
  readonly name: string;
  readonly expr: string;
}

function dashboardQueries(): NamedQuery[] {
  const queries: NamedQuery[] = [];
  for (const panel of buildDashboard({ application: 'shop', environment: 'prod' }).panels ?? []) {
    if (!('targets' in panel)) continue;
    for (const target of panel.targets ?? []) {
      const { expr, refId } = target as { expr?: string; refId?: string };
      if (expr !== undefined) queries.push({ name: `${panel.title} ${refId}`, expr: substitute(expr) });
    }
  }
  return queries;
}

function ruleQueries(): NamedQuery[] {
  return buildRules({ application: 'shop', environment: 'prod' }).groups.flatMap((group) =>
    group.rules.map((rule) => ({ name: rule.alert, expr: rule.expr })),
  );
}

const ALL_QUERIES = [...dashboardQueries(), ...ruleQueries()];

const SILENT_LOG: Logger = { info: () => {}, warn: () => {}, debug: () => {}, redact: (text) => text };

const TRACING: Tracing = { spanId: '0', type: 'X-Amzn-Trace-Id', value: 'Root=1-0-0' };

interface Invocation {
  readonly status: InvocationStatus;
  readonly errorType?: string;
  readonly durationMs: number;
  readonly maxMemoryUsedMB: number;
  readonly initDurationMs?: number;
  /** SnapStart: the restore of a snapshot instead of an init. */
  readonly restoreDurationMs?: number;
  readonly functionLines: ReadonlyArray<string | Record<string, unknown>>;
}

const MEMORY_SIZE_MB = 256;
const INVOCATIONS = {
  cold: {
    status: 'success',
    durationMs: 812.25,
    maxMemoryUsedMB: 97,
    initDurationMs: 245.5,
    functionLines: ['2024-05-01T10:00:00.000Z\tid\tINFO\tcold and fine'],
  },
  normal: { status: 'success', durationMs: 12.5, maxMemoryUsedMB: 98, functionLines: [{ message: 'ok' }] },
  snapstart: {
    status: 'success',
    durationMs: 150.5,
    maxMemoryUsedMB: 120,
    restoreDurationMs: 310.25,
    functionLines: ['[INFO]\trestored'],
  },
  error: {
    status: 'error',
    errorType: 'Runtime.UnhandledPromiseRejection',
    durationMs: 40.75,
    maxMemoryUsedMB: 99,
    functionLines: ['2024-05-01T10:00:00.000Z\tid\tERROR\tInvoke Error \t{"errorType":"Error"}'],
  },
  timeout: {
    status: 'timeout',
    errorType: 'Sandbox.Timedout',
    durationMs: 3000,
    maxMemoryUsedMB: 240,
    functionLines: [{ level: 'ERROR', message: 'still waiting' }],
  },
} as const satisfies Record<string, Invocation>;
type Kind = keyof typeof INVOCATIONS;
const KINDS = Object.keys(INVOCATIONS) as Kind[];

interface ShippedLine {
  readonly kind: Kind | 'notices';
  readonly stream: Readonly<Record<string, string>>;
  readonly line: string;
}

/** What the extension ships for each invocation: START, function lines, END, REPORT, in order. */
function shippedLines(): ShippedLine[] {
  const maker = new EntryMaker(() => Date.UTC(2024, 4, 1, 10));
  const lines: ShippedLine[] = [];
  const ship = (kind: ShippedLine['kind'], event: TelemetryEvent) => {
    const entry = maker.make(event);
    if (entry) lines.push({ kind, stream: { ...STREAM, source: entry.source }, line: entry.line });
  };
  let at = Date.UTC(2024, 4, 1, 10);
  for (const kind of KINDS) {
    const inv: Invocation = INVOCATIONS[kind];
    const requestId = `req-${kind}`;
    const startedAt = at;
    ship(kind, startEvent(at, requestId, '$LATEST', TRACING));
    for (const line of inv.functionLines) ship(kind, functionLogEvent(at, requestId, line));
    at += inv.durationMs;
    const outcome = { requestId, status: inv.status, errorType: inv.errorType, tracing: TRACING };
    ship(kind, runtimeDoneEvent(at, { ...outcome, startedAt, producedBytes: 10 }));
    const report = reportEvent(at, {
      ...outcome,
      durationMs: inv.durationMs,
      memorySizeMB: MEMORY_SIZE_MB,
      maxMemoryUsedMB: inv.maxMemoryUsedMB,
      initDurationMs: inv.initDurationMs,
    });
    ship(kind, inv.restoreDurationMs === undefined ? report : withRestore(report, inv.restoreDurationMs));
    at += 1000;
  }
  ship('notices', logsDroppedEvent(at, 17, 4096));
  // The extension's own notice, as its delivery report words it after drops of several kinds.
  const report = new DeliveryReport(SILENT_LOG, 'LOKI_MAX_BUFFER_BYTES=8388608');
  report.dropped('buffer_full_unreachable', 40, 8000);
  report.dropped('rejected_http_400', 2, 400);
  const notice = noticeEntry(report.takeNotice() ?? '', at);
  lines.push({ kind: 'notices', stream: { ...STREAM, source: notice.source }, line: notice.line });
  return lines;
}

/** A SnapStart REPORT: Telemetry API's `metrics.restoreDurationMs`. */
function withRestore(report: TelemetryEvent, restoreDurationMs: number): TelemetryEvent {
  const record = report.record as { metrics: Record<string, number> };
  return { ...report, record: { ...record, metrics: { ...record.metrics, restoreDurationMs } } };
}

const LINES = shippedLines();

interface Sample {
  readonly kind: ShippedLine['kind'];
  readonly line: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number | undefined;
}

/** For each log pipeline of the query, the lines it keeps and their sample values. */
function samples(expr: string): Sample[][] {
  return logPipelines(expr).map((pipeline: LogPipeline) =>
    LINES.flatMap(({ kind, stream, line }) => {
      const result = runPipeline(pipeline, stream, line);
      return result ? [{ kind, line, labels: result.labels, value: result.value }] : [];
    }),
  );
}

function query(name: string): string {
  const found = ALL_QUERIES.find((q) => q.name === name);
  if (!found) throw new Error(`no query named ${name}: ${ALL_QUERIES.map((q) => q.name).join(', ')}`);
  return found.expr;
}

/** The sample value (or 1 for a counted line) of each invocation kind the single pipeline keeps. */
function perKind(name: string, pipelineIndex = 0): Partial<Record<ShippedLine['kind'], number>> {
  const kept = samples(query(name))[pipelineIndex] ?? [];
  const out: Partial<Record<ShippedLine['kind'], number>> = {};
  for (const sample of kept) {
    if (out[sample.kind] !== undefined)
      throw new Error(`${name}: two lines of ${sample.kind}: ${sample.line}`);
    out[sample.kind] = sample.value ?? 1;
  }
  return out;
}

const USED_MB = { cold: 97, normal: 98, snapstart: 120, error: 99, timeout: 240 };
const SIZE_MB = { cold: 256, normal: 256, snapstart: 256, error: 256, timeout: 256 };
const EVERY_INVOCATION_ONCE = { cold: 1, normal: 1, snapstart: 1, error: 1, timeout: 1 };
const billed = (kind: Kind) => Math.ceil(INVOCATIONS[kind].durationMs);
const gbMs = (kind: Kind) => (billed(kind) * MEMORY_SIZE_MB) / 1024;

describe('the queries of the dashboard and the rules', () => {
  it('are all found: every panel target and every alert rule', () => {
    expect(ALL_QUERIES.length).toBeGreaterThanOrEqual(25);
    expect(ALL_QUERIES.filter((q) => q.name.startsWith('Lambda') || q.name.startsWith('Loki'))).toHaveLength(
      6,
    );
  });

  it.each(ALL_QUERIES.map((q) => [q.name, q.expr]))(
    '%s parses with Grafana LogQL grammar, without error nodes',
    (_name, expr) => {
      expect(expr).not.toMatch(/\$[a-z_]/); // every template variable was substituted
      expect(syntaxErrors(expr)).toEqual([]);
    },
  );

  it('reject what Loki would reject: the grammar check can fail', () => {
    expect(syntaxErrors('sum by (function) (count_over_time({function="x"} | regexp [1m]))')).not.toEqual([]);
  });
});

describe('each query, run on the lines the extension ships', () => {
  it('counts one invocation per REPORT line, whatever its outcome', () => {
    expect(perKind('Invocations per minute A')).toEqual(EVERY_INVOCATION_ONCE);
  });

  it('counts errors and timeouts from the status of the REPORT line, and nothing else', () => {
    const kept = samples(query('Errors and timeouts A'))[0] ?? [];

    expect(kept.map((s) => [s.kind, s.labels.status])).toEqual([
      ['error', 'error'],
      ['timeout', 'timeout'],
    ]);
  });

  it('extracts the duration of every invocation for the percentiles and the maximum', () => {
    const expected = { cold: 812.25, normal: 12.5, snapstart: 150.5, error: 40.75, timeout: 3000 };
    for (const ref of ['A', 'B', 'C', 'D']) {
      expect(perKind(`Duration p50 / p95 / p99 / max ${ref}`)).toEqual(expected);
    }
  });

  it('extracts the billed duration, rounded up to the millisecond as Lambda bills', () => {
    expect(perKind('Billed duration A')).toEqual({
      cold: 813,
      normal: 13,
      snapstart: 151,
      error: 41,
      timeout: 3000,
    });
  });

  it('finds cold starts (init or SnapStart restore) and their durations only there', () => {
    expect(perKind('Cold starts A')).toEqual({ cold: 1, snapstart: 1 });
    expect(perKind('Init duration A')).toEqual({ cold: 245.5 });
    expect(perKind('Init duration B')).toEqual({ cold: 245.5 });
    expect(perKind('Init duration C')).toEqual({ snapstart: 310.25 });
    expect(perKind('Init duration D')).toEqual({ snapstart: 310.25 });
  });

  it('extracts max memory used and memory size for the headroom', () => {
    expect(perKind('Max memory used vs memory size A')).toEqual(USED_MB);
    expect(perKind('Max memory used vs memory size B')).toEqual(SIZE_MB);
    expect(perKind('Memory used (% of memory size) A', 0)).toEqual(USED_MB);
    expect(perKind('Memory used (% of memory size) A', 1)).toEqual(SIZE_MB);
  });

  it('computes GB-milliseconds per invocation from billed duration and memory size for the cost', () => {
    const expected = {
      cold: gbMs('cold'),
      normal: gbMs('normal'),
      snapstart: gbMs('snapstart'),
      error: gbMs('error'),
      timeout: gbMs('timeout'),
    };

    expect(expected.cold).toBe(203.25); // 813 ms × 0.25 GB
    expect(perKind('Estimated cost (time range) A')).toEqual(expected);
    expect(perKind('Estimated cost by function A')).toEqual(expected);
    expect(perKind('GB-seconds by function A')).toEqual(expected);
    expect(query('Estimated cost (time range) A')).toContain(`/ 1000 * ${PRICE_PER_GB_SECOND_USD.x86_64}`);
  });

  it("reads the count of the extension's drop notice and of Lambda's LOGS_DROPPED line", () => {
    expect(perKind('Dropped log entries A')).toEqual({ notices: 42 });
    expect(perKind('Dropped log entries B')).toEqual({ notices: 17 });
  });

  it('counts every line of every source for the log volume', () => {
    const kept = samples(query('Log volume by function and source A'))[0] ?? [];

    expect(kept).toHaveLength(LINES.length);
    expect(new Set(kept.map((s) => s.labels.source))).toEqual(new Set(['platform', 'function', 'extension']));
  });

  it('shows the END lines of failed invocations and the function lines at ERROR level as recent errors', () => {
    const kept = samples(query('Recent errors A'))[0] ?? [];

    expect(kept.map((s) => [s.kind, s.line.split('\t')[0]?.slice(0, 24)])).toEqual([
      ['error', '2024-05-01T10:00:00.000Z'],
      ['error', 'END RequestId: req-error'],
      ['timeout', '{"timestamp":"2024-05-01'],
      ['timeout', 'END RequestId: req-timeou'.slice(0, 24)],
    ]);
  });

  it('alert on the error rate with the failed and the total invocations', () => {
    const [failed, total] = samples(query('LambdaErrorRateHigh'));

    expect(failed?.map((s) => s.kind)).toEqual(['error', 'timeout']);
    expect(total?.map((s) => s.kind)).toEqual(KINDS);
    expect(query('LambdaErrorRateHigh')).toMatch(/ > 5$/);
  });

  it('alert on timeouts only for the timed-out invocation', () => {
    expect(perKind('LambdaTimeout')).toEqual({ timeout: 1 });
  });

  it('alert on memory with used and size of every invocation', () => {
    expect(perKind('LambdaMemoryHigh', 0)).toEqual(USED_MB);
    expect(perKind('LambdaMemoryHigh', 1)).toEqual(SIZE_MB);
    expect(query('LambdaMemoryHigh')).toMatch(/ > 90$/);
  });

  it('alert on entries dropped by the extension and records dropped by Lambda', () => {
    expect(perKind('LokiLambdaDroppedEntries')).toEqual({ notices: 42 });
    expect(perKind('LambdaLogsDropped')).toEqual({ notices: 17 });
  });

  it('alert on silence with every line of the function on both sides of unless', () => {
    const [lookback, recent] = samples(query('LambdaNoLogs'));

    expect(lookback).toHaveLength(LINES.length);
    expect(recent).toHaveLength(LINES.length);
    expect(query('LambdaNoLogs')).toContain('[1h])) > 0) unless (');
  });
});
