import { PanelBuilder as BarGaugePanelBuilder } from '@grafana/grafana-foundation-sdk/bargauge';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import {
  BarGaugeDisplayMode,
  BigValueColorMode,
  BigValueGraphMode,
  GraphDrawStyle,
  LegendDisplayMode,
  LegendPlacement,
  LogsSortOrder,
  ReduceDataOptionsBuilder,
  StackingConfigBuilder,
  StackingMode,
  VizLegendOptionsBuilder,
  VizOrientation,
} from '@grafana/grafana-foundation-sdk/common';
import {
  CustomVariableBuilder,
  type Dashboard,
  DashboardBuilder,
  DashboardCursorSync,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  type VariableModel,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as LogsPanelBuilder } from '@grafana/grafana-foundation-sdk/logs';
import { DataqueryBuilder, LokiQueryType, QueryEditorMode } from '@grafana/grafana-foundation-sdk/loki';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { DASHBOARD_VARIABLES, dashboardUid, PRICE_PER_GB_SECOND_USD } from './dashboard-model.js';
import {
  coldStartsCount,
  errorLines,
  extensionDroppedEntries,
  failedInvocationsCount,
  gbSeconds,
  invocationsPerMinute,
  lambdaDroppedRecords,
  logBytes,
  logLines,
  memoryUsedPercent,
  reportFieldOverTime,
  type StreamScope,
} from './queries.js';

export interface DashboardOptions {
  /** Preselected `application` (the variable still lists every application). */
  readonly application?: string | undefined;
  /** Preselected `environment`. */
  readonly environment?: string | undefined;
}

const V = DASHBOARD_VARIABLES;
/** Every query reads the streams the three variables select. */
const SCOPE: StreamScope = {
  application: `$${V.application}`,
  environment: `$${V.environment}`,
  function: `$${V.function}`,
};
const INTERVAL = '$__interval';
const RANGE = '$__range';
const DATASOURCE: DataSourceRef = { type: 'loki', uid: `\${${V.datasource}}` };
/** Rate windows shorter than a minute make jagged, mostly empty series for functions. */
const MIN_INTERVAL = '1m';

/**
 * The Lambda dashboard, built with Grafana's dashboards-as-code SDK (classic JSON model, the one
 * `POST /api/dashboards/db` and the UI's Import take). Pure: same options, same JSON.
 */
export function buildDashboard(options: DashboardOptions = {}): Dashboard {
  const ids = panelIds();
  const builder = new DashboardBuilder(dashboardTitle(options))
    .uid(dashboardUid(options))
    .description('AWS Lambda functions seen through the logs loki-lambda ships to Loki')
    .tags(['loki-lambda', 'aws-lambda', 'loki'])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .time({ from: 'now-6h', to: 'now' })
    .refresh('1m')
    .timezone('browser');
  for (const variable of variables(options)) builder.withVariable(variable);

  builder
    .withRow(new RowBuilder('Invocations'))
    .withPanel(
      timeseries(
        ids,
        'Invocations per minute',
        'REPORT lines per minute, one per invocation whatever its outcome.',
      )
        .unit('short')
        .withTarget(loki('A', invocationsPerMinute(SCOPE, INTERVAL), '{{function}}'))
        .span(8),
    )
    .withPanel(
      timeseries(
        ids,
        'Errors and timeouts',
        'Invocations whose platform status is error, failure or timeout (the REPORT line says Status: …).',
      )
        .unit('short')
        .drawStyle(GraphDrawStyle.Bars)
        .stacking(new StackingConfigBuilder().mode(StackingMode.Normal))
        .withTarget(loki('A', failedInvocationsCount(SCOPE, INTERVAL), '{{function}} {{status}}'))
        .span(8),
    )
    .withPanel(
      timeseries(
        ids,
        'Cold starts',
        'Invocations whose REPORT line carries an Init Duration, or a Restore Duration (SnapStart).',
      )
        .unit('short')
        .drawStyle(GraphDrawStyle.Bars)
        .stacking(new StackingConfigBuilder().mode(StackingMode.Normal))
        .withTarget(loki('A', coldStartsCount(SCOPE, INTERVAL), '{{function}}'))
        .span(8),
    )
    .withRow(new RowBuilder('Duration'))
    .withPanel(
      timeseries(ids, 'Duration p50 / p95 / p99 / max', 'Duration of the REPORT lines, per function.')
        .unit('ms')
        .withTarget(
          loki('A', reportFieldOverTime('quantile', SCOPE, 'duration_ms', INTERVAL, 0.5), '{{function}} p50'),
        )
        .withTarget(
          loki(
            'B',
            reportFieldOverTime('quantile', SCOPE, 'duration_ms', INTERVAL, 0.95),
            '{{function}} p95',
          ),
        )
        .withTarget(
          loki(
            'C',
            reportFieldOverTime('quantile', SCOPE, 'duration_ms', INTERVAL, 0.99),
            '{{function}} p99',
          ),
        )
        .withTarget(loki('D', reportFieldOverTime('max', SCOPE, 'duration_ms', INTERVAL), '{{function}} max'))
        .span(8),
    )
    .withPanel(
      timeseries(
        ids,
        'Billed duration',
        'Billed Duration of the REPORT lines (what Lambda charges for), per function.',
      )
        .unit('ms')
        .withTarget(
          loki('A', reportFieldOverTime('avg', SCOPE, 'billed_duration_ms', INTERVAL), '{{function}} avg'),
        )
        .withTarget(
          loki('B', reportFieldOverTime('max', SCOPE, 'billed_duration_ms', INTERVAL), '{{function}} max'),
        )
        .span(8),
    )
    .withPanel(
      timeseries(
        ids,
        'Init duration',
        'Init Duration of cold starts and Restore Duration of SnapStart restores, per function.',
      )
        .unit('ms')
        .withTarget(
          loki('A', reportFieldOverTime('avg', SCOPE, 'init_duration_ms', INTERVAL), '{{function}} avg'),
        )
        .withTarget(
          loki('B', reportFieldOverTime('max', SCOPE, 'init_duration_ms', INTERVAL), '{{function}} max'),
        )
        .withTarget(
          loki(
            'C',
            reportFieldOverTime('avg', SCOPE, 'restore_duration_ms', INTERVAL),
            '{{function}} restore avg',
          ),
        )
        .withTarget(
          loki(
            'D',
            reportFieldOverTime('max', SCOPE, 'restore_duration_ms', INTERVAL),
            '{{function}} restore max',
          ),
        )
        .span(8),
    )
    .withRow(new RowBuilder('Memory'))
    .withPanel(
      timeseries(
        ids,
        'Max memory used vs memory size',
        'Max Memory Used against the configured Memory Size, per function: the gap is the headroom.',
      )
        .unit('decmbytes')
        .min(0)
        .withTarget(
          loki('A', reportFieldOverTime('max', SCOPE, 'max_memory_used_mb', INTERVAL), '{{function}} used'),
        )
        .withTarget(
          loki('B', reportFieldOverTime('max', SCOPE, 'memory_size_mb', INTERVAL), '{{function}} size'),
        )
        .span(16),
    )
    .withPanel(
      new BarGaugePanelBuilder()
        .id(ids())
        .title('Memory used (% of memory size)')
        .description(
          'The highest Max Memory Used over the time range as a share of Memory Size; red from 90 %.',
        )
        .datasource(DATASOURCE)
        .unit('percent')
        .min(0)
        .max(100)
        .thresholds(percentThresholds())
        .displayMode(BarGaugeDisplayMode.Gradient)
        .orientation(VizOrientation.Horizontal)
        .reduceOptions(lastValue())
        .withTarget(loki('A', memoryUsedPercent(SCOPE, RANGE), '{{function}}', true))
        .span(8),
    )
    .withRow(new RowBuilder('Cost'))
    .withPanel(
      new StatPanelBuilder()
        .id(ids())
        .title('Estimated cost (time range)')
        .description(
          'GB-seconds (billed duration × memory size) times the price per GB-second chosen above. Duration only: request charges, free tier, tiers and Savings Plans are not counted.',
        )
        .datasource(DATASOURCE)
        .unit('currencyUSD')
        .decimals(4)
        .graphMode(BigValueGraphMode.None)
        .colorMode(BigValueColorMode.None)
        .reduceOptions(lastValue())
        .withTarget(loki('A', `${gbSeconds(SCOPE, RANGE)} * $${V.pricePerGbSecond}`, 'cost', true))
        .span(6),
    )
    .withPanel(
      timeseries(ids, 'Estimated cost by function', 'GB-seconds × price per GB-second, per function.')
        .unit('currencyUSD')
        .drawStyle(GraphDrawStyle.Bars)
        .stacking(new StackingConfigBuilder().mode(StackingMode.Normal))
        .withTarget(
          loki('A', `${gbSeconds(SCOPE, INTERVAL, 'function')} * $${V.pricePerGbSecond}`, '{{function}}'),
        )
        .span(9),
    )
    .withPanel(
      timeseries(ids, 'GB-seconds by function', 'Billed duration × memory size, per function.')
        .unit('short')
        .drawStyle(GraphDrawStyle.Bars)
        .stacking(new StackingConfigBuilder().mode(StackingMode.Normal))
        .withTarget(loki('A', gbSeconds(SCOPE, INTERVAL, 'function'), '{{function}}'))
        .span(9),
    )
    .withRow(new RowBuilder('Logs'))
    .withPanel(
      timeseries(
        ids,
        'Log volume by function and source',
        'Lines shipped per function and source (function, platform, extension).',
      )
        .unit('short')
        .drawStyle(GraphDrawStyle.Bars)
        .stacking(new StackingConfigBuilder().mode(StackingMode.Normal))
        .withTarget(loki('A', logLines(SCOPE, INTERVAL), '{{function}} {{source}}'))
        .span(8),
    )
    .withPanel(
      timeseries(ids, 'Log bytes by function and source', 'Bytes shipped per function and source.')
        .unit('decbytes')
        .drawStyle(GraphDrawStyle.Bars)
        .stacking(new StackingConfigBuilder().mode(StackingMode.Normal))
        .withTarget(loki('A', logBytes(SCOPE, INTERVAL), '{{function}} {{source}}'))
        .span(8),
    )
    .withPanel(
      timeseries(
        ids,
        'Dropped log entries',
        'Entries loki-lambda dropped (its notices: buffer full while Loki was unreachable, refused by Loki, not encodable), and records Lambda dropped before they reached it (LOGS_DROPPED).',
      )
        .unit('short')
        .drawStyle(GraphDrawStyle.Bars)
        .stacking(new StackingConfigBuilder().mode(StackingMode.Normal))
        .withTarget(
          loki('A', extensionDroppedEntries(SCOPE, INTERVAL), '{{function}} dropped by loki-lambda'),
        )
        .withTarget(loki('B', lambdaDroppedRecords(SCOPE, INTERVAL), '{{function}} dropped by Lambda'))
        .span(8),
    )
    .withPanel(
      new LogsPanelBuilder()
        .id(ids())
        .title('Recent errors')
        .description('END lines with a failed status and function lines logged at ERROR level, newest first.')
        .datasource(DATASOURCE)
        .showTime(true)
        .wrapLogMessage(true)
        .enableLogDetails(true)
        .sortOrder(LogsSortOrder.Descending)
        .withTarget(loki('A', errorLines(SCOPE)).maxLines(200))
        .span(24)
        .height(12),
    );
  return builder.build();
}

export function dashboardTitle(options: DashboardOptions): string {
  const scope = [options.application, options.environment].filter((v) => v !== undefined && v !== '');
  return scope.length === 0 ? 'AWS Lambda (loki-lambda)' : `AWS Lambda (loki-lambda): ${scope.join(' / ')}`;
}

function variables(options: DashboardOptions): Array<cog.Builder<VariableModel>> {
  const ds = new DatasourceVariableBuilder(V.datasource).label('Loki').type('loki');
  const labelValues = (name: string, query: string, current: string | undefined, multi: boolean) => {
    const variable = new QueryVariableBuilder(name)
      .label(name)
      .datasource(DATASOURCE)
      .query(query)
      .definition(query)
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc)
      .multi(multi)
      .includeAll(true)
      .allValue('.+');
    if (current !== undefined && current !== '') {
      variable.current({ selected: true, text: current, value: current });
    }
    return variable;
  };
  const app = `${V.application}=~"$${V.application}"`;
  const env = `${V.environment}=~"$${V.environment}"`;
  const price = new CustomVariableBuilder(V.pricePerGbSecond)
    .label('Price per GB-second (USD)')
    .description(
      "Lambda's duration price: x86_64 or arm64 (us-east-1, first tier); type your region's or contract's.",
    )
    .values(`x86_64 : ${PRICE_PER_GB_SECOND_USD.x86_64},arm64 : ${PRICE_PER_GB_SECOND_USD.arm64}`)
    .current({ selected: true, text: 'x86_64', value: String(PRICE_PER_GB_SECOND_USD.x86_64) })
    .allowCustomValue(true);
  return [
    ds,
    labelValues(V.application, `label_values(${V.application})`, options.application, false),
    labelValues(V.environment, `label_values({${app}}, ${V.environment})`, options.environment, false),
    labelValues(V.function, `label_values({${app}, ${env}}, ${V.function})`, undefined, true),
    price,
  ];
}

function panelIds(): () => number {
  let id = 0;
  return () => ++id;
}

function timeseries(ids: () => number, title: string, description: string): TimeseriesPanelBuilder {
  return new TimeseriesPanelBuilder()
    .id(ids())
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .interval(MIN_INTERVAL)
    .fillOpacity(10)
    .legend(
      new VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(LegendDisplayMode.Table)
        .placement(LegendPlacement.Bottom)
        .calcs(['mean', 'max']),
    );
}

/**
 * A Loki target opened in the code editor (the builder cannot show every stage used here), as a
 * range query unless `instant` (one value for the whole time range: stat and bar gauge panels).
 */
function loki(refId: string, expr: string, legend?: string, instant = false): DataqueryBuilder {
  const query = new DataqueryBuilder()
    .refId(refId)
    .datasource(DATASOURCE)
    .editorMode(QueryEditorMode.Code)
    .expr(expr)
    .queryType(instant ? LokiQueryType.Instant : LokiQueryType.Range)
    .instant(instant)
    .range(!instant);
  return legend === undefined ? query : query.legendFormat(legend);
}

function lastValue(): ReduceDataOptionsBuilder {
  return new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false);
}

function percentThresholds(): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
    { value: null, color: 'green' },
    { value: 80, color: 'orange' },
    { value: 90, color: 'red' },
  ]);
}
