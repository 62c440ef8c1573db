import { field, numberField, safeJson, stringField, type TelemetryEvent, valueText } from './telemetry.js';

/**
 * One readable line per platform event, shaped like the lines CloudWatch shows (START, END,
 * REPORT, INIT_START, ...), so queries and habits carry over.
 */
export function formatPlatformEvent(event: TelemetryEvent): string {
  const r = event.record;
  const requestId = stringField(r, 'requestId') ?? '';
  const metrics = field(r, 'metrics');
  switch (event.type) {
    case 'platform.start':
      return `START RequestId: ${requestId} Version: ${stringField(r, 'version') ?? '$LATEST'}`;
    case 'platform.runtimeDone':
      return join(`END RequestId: ${requestId}`, statusPart(r));
    case 'platform.report':
      return join(
        `REPORT RequestId: ${requestId}`,
        ms('Duration', numberField(metrics, 'durationMs')),
        ms('Billed Duration', numberField(metrics, 'billedDurationMs')),
        mb('Memory Size', numberField(metrics, 'memorySizeMB')),
        mb('Max Memory Used', numberField(metrics, 'maxMemoryUsedMB')),
        ms('Init Duration', numberField(metrics, 'initDurationMs')),
        ms('Restore Duration', numberField(metrics, 'restoreDurationMs')),
        ms('Billed Restore Duration', numberField(metrics, 'billedRestoreDurationMs')),
        statusPart(r),
      );
    case 'platform.initStart':
      return join(
        'INIT_START',
        part('Runtime Version', stringField(r, 'runtimeVersion')),
        part('Runtime Version ARN', stringField(r, 'runtimeVersionArn')),
        part('Phase', stringField(r, 'phase')),
      );
    case 'platform.initRuntimeDone':
      return join('INIT_RUNTIME_DONE', part('Phase', stringField(r, 'phase')), statusPart(r, true));
    case 'platform.initReport':
      return join(
        'INIT_REPORT',
        ms('Init Duration', numberField(metrics, 'durationMs')),
        part('Phase', stringField(r, 'phase')),
        statusPart(r, true),
      );
    case 'platform.restoreStart':
      // SnapStart (DESIGN.md §6): a sandbox restored from the snapshot taken after init.
      return join(
        'RESTORE_START',
        part('Runtime Version', stringField(r, 'runtimeVersion')),
        part('Runtime Version ARN', stringField(r, 'runtimeVersionArn')),
      );
    case 'platform.restoreRuntimeDone':
      return join('RESTORE_RUNTIME_DONE', statusPart(r, true));
    case 'platform.restoreReport':
      return join(
        'RESTORE_REPORT',
        ms('Restore Duration', numberField(metrics, 'durationMs')),
        statusPart(r),
      );
    case 'platform.extension':
      return join(
        'EXTENSION',
        part('Name', stringField(r, 'name')),
        part('State', stringField(r, 'state')),
        part('Events', list(field(r, 'events'))),
        part('Error Type', stringField(r, 'errorType')),
      );
    case 'platform.telemetrySubscription':
      return join(
        'TELEMETRY',
        part('Name', stringField(r, 'name')),
        part('State', stringField(r, 'state')),
        part('Types', list(field(r, 'types'))),
      );
    case 'platform.logsDropped':
      return `LOGS_DROPPED Lambda dropped ${numberField(r, 'droppedRecords') ?? '?'} log records (${
        numberField(r, 'droppedBytes') ?? '?'
      } bytes) before they reached loki-lambda: ${stringField(r, 'reason') ?? 'no reason given'}`;
    default:
      // A platform event this version does not know: keep it, readable enough.
      return `${event.type.replace(/^platform\./, '').toUpperCase()} ${safeJson(r)}`;
  }
}

function join(...parts: Array<string | undefined>): string {
  return parts.filter((p): p is string => p !== undefined && p !== '').join('\t');
}

function part(label: string, value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : `${label}: ${value}`;
}

function ms(label: string, value: number | undefined): string | undefined {
  return value === undefined ? undefined : `${label}: ${round(value)} ms`;
}

function mb(label: string, value: number | undefined): string | undefined {
  return value === undefined ? undefined : `${label}: ${value} MB`;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function list(value: unknown): string | undefined {
  return Array.isArray(value) ? `[${value.map(valueText).join(',')}]` : undefined;
}

/** "Status: timeout Error Type: Sandbox.Timedout"; nothing for a plain success unless asked. */
function statusPart(record: unknown, always = false): string | undefined {
  const status = stringField(record, 'status');
  if (status === undefined || (status === 'success' && !always)) return undefined;
  return join(part('Status', status), part('Error Type', stringField(record, 'errorType')));
}
