import type { FunctionStatus } from '../aws/fleet-status.js';

export const FAIL_ON_CHOICES = ['outdated', 'invalid', 'missing'] as const;
export type FailOn = (typeof FAIL_ON_CHOICES)[number];

export interface FleetSummary {
  readonly functions: number;
  readonly instrumented: number;
  readonly outdated: number;
  readonly invalid: number;
  /** Not instrumented, though a flavor of the layer could serve them. */
  readonly missing: number;
  readonly unsupported: number;
  readonly unreadable: number;
}

export function summarize(statuses: readonly FunctionStatus[]): FleetSummary {
  const count = (test: (s: FunctionStatus) => boolean) => statuses.filter(test).length;
  return {
    functions: statuses.length,
    instrumented: count((s) => s.state === 'instrumented'),
    outdated: count((s) => s.outdated),
    invalid: count((s) => s.state === 'instrumented' && !s.valid),
    missing: count((s) => s.state === 'missing' && s.supported),
    unsupported: count((s) => s.state === 'missing' && !s.supported),
    unreadable: count((s) => s.state === 'error'),
  };
}

/** The conditions of `--fail-on` that hold for this fleet. */
export function failedConditions(summary: FleetSummary, failOn: readonly FailOn[]): FailOn[] {
  return failOn.filter((condition) => summary[condition] > 0);
}

function describe(status: FunctionStatus): string {
  if (status.state === 'error') return `cannot read it: ${status.error ?? 'unknown error'}`;
  const platform = `${status.runtime ?? 'image'} ${status.architecture}`;
  if (status.state === 'missing') {
    return status.supported
      ? `not instrumented  ${platform}`
      : `not instrumented  ${platform} (not supported)`;
  }
  const parts = [
    `instrumented  v${status.layerVersion ?? '?'}${status.flavor ? ` ${status.flavor}` : ''}`,
    status.outdated ? `outdated (v${status.newerVersion} published)` : 'up to date',
    `flush ${status.flushStrategy ?? 'auto'}`,
    status.lokiUrl ?? 'no Loki URL',
    status.valid ? 'settings valid' : `settings INVALID: ${status.problems.join('; ')}`,
  ];
  if (!status.supported) parts.push(`${platform} not supported`);
  return parts.join('  ');
}

/** One line per function, grouped by region, then the summary. */
export function renderStatus(statuses: readonly FunctionStatus[], summary: FleetSummary): string {
  const lines: string[] = [];
  const width = Math.max(0, ...statuses.map((s) => s.name.length));
  for (const region of [...new Set(statuses.map((s) => s.region))]) {
    lines.push(region);
    for (const status of statuses.filter((s) => s.region === region)) {
      lines.push(`  ${status.name.padEnd(width)}  ${describe(status)}`);
    }
  }
  lines.push(renderSummary(summary));
  return `${lines.join('\n')}\n`;
}

export function renderSummary(summary: FleetSummary): string {
  return [
    `${summary.functions} functions: ${summary.instrumented} instrumented`,
    `(${summary.outdated} outdated, ${summary.invalid} with invalid settings),`,
    `${summary.missing} not instrumented, ${summary.unsupported} not supported, ${summary.unreadable} unreadable`,
  ].join(' ');
}

export function renderFailOn(failed: readonly FailOn[], summary: FleetSummary): string {
  return `--fail-on: ${failed.map((condition) => `${summary[condition]} ${condition}`).join(', ')}`;
}
