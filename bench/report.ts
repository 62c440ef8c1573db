/** How benchmark figures are printed: each with its baseline, the ratio, and the goal when there is one. */

export interface Figure {
  /** What was measured, e.g. "init, process start -> first /next (median)". */
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline?: { readonly name: string; readonly value: number };
  /** The goal in words and whether it was met; absent for figures given for information. */
  readonly goal?: { readonly text: string; readonly met: boolean };
  readonly note?: string;
}

export interface BenchmarkReport {
  readonly title: string;
  readonly figures: readonly Figure[];
  /** Conditions of the run: sample sizes, rates, sizes. */
  readonly details: readonly string[];
}

export function ratio(value: number, baseline: number): number {
  return baseline === 0 ? Number.NaN : value / baseline;
}

export function formatNumber(value: number, unit: string): string {
  if (!Number.isFinite(value)) return `n/a ${unit}`;
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return `${value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${unit}`;
}

export function formatFigure(figure: Figure): string {
  const parts = [`  ${figure.name}: ${formatNumber(figure.value, figure.unit)}`];
  if (figure.baseline !== undefined) {
    const r = ratio(figure.value, figure.baseline.value);
    parts.push(
      `  [${Number.isFinite(r) ? `${r.toFixed(2)}x` : 'n/a'} vs ${figure.baseline.name} ${formatNumber(figure.baseline.value, figure.unit)}]`,
    );
  }
  if (figure.goal !== undefined)
    parts.push(`  goal ${figure.goal.text}: ${figure.goal.met ? 'MET' : 'MISSED'}`);
  if (figure.note !== undefined) parts.push(`  (${figure.note})`);
  return parts.join('');
}

export function formatReport(report: BenchmarkReport): string {
  return [
    `== ${report.title}`,
    ...report.details.map((line) => `  - ${line}`),
    ...report.figures.map(formatFigure),
    '',
  ].join('\n');
}
