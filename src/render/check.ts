import type { CheckReport, CheckStepName, StepStatus } from '../loki/check.js';

const STEP_TITLES: Readonly<Record<CheckStepName, string>> = {
  settings: 'settings',
  reachable: 'URL reachable',
  auth: 'auth accepted',
  tenant: 'tenant',
  push: 'push accepted',
  read: 'line readable',
};

const MARKS: Readonly<Record<StepStatus, string>> = {
  ok: 'ok  ',
  failed: 'FAIL',
  skipped: '-   ',
  unverified: '?   ',
};

const TITLE_WIDTH = Math.max(...Object.values(STEP_TITLES).map((title) => title.length));

/** The steps one per line, then the verdict. */
export function renderCheckReport(subject: string | undefined, report: CheckReport, color: boolean): string {
  const paint = (status: StepStatus, text: string): string => {
    if (!color) return text;
    const code = status === 'ok' ? '32' : status === 'failed' ? '31' : status === 'unverified' ? '33' : '2';
    return `\u001b[${code}m${text}\u001b[0m`;
  };
  const lines = [
    subject === undefined ? 'Checking the Loki settings:' : `Checking the Loki settings of ${subject}:`,
  ];
  for (const step of report.steps) {
    const detail = step.status === 'skipped' ? 'skipped (an earlier step failed)' : step.detail;
    lines.push(
      `  ${paint(step.status, MARKS[step.status])} ${STEP_TITLES[step.name].padEnd(TITLE_WIDTH)}  ${detail}`,
    );
  }
  lines.push('');
  if (!report.ok) {
    const failed = report.steps.find((step) => step.status === 'failed');
    lines.push(
      `FAILED at "${STEP_TITLES[report.failedStep ?? 'settings']}": ${failed?.detail ?? ''}`,
      'Logs from this configuration will not reach Loki.',
    );
  } else if (report.steps.some((step) => step.status === 'unverified')) {
    lines.push('OK: Loki accepted the test line, so logs will be shipped; reading it back was not possible.');
  } else {
    lines.push('OK: the test line reached Loki and was read back; logs from this configuration will arrive.');
  }
  if (report.line !== undefined) lines.push(`Test line: ${report.line}`);
  return `${lines.join('\n')}\n`;
}

/** The report as one JSON document for scripts. */
export function checkReportDocument(subject: string | undefined, report: CheckReport): unknown {
  return {
    function: subject ?? null,
    ok: report.ok,
    failedStep: report.failedStep ?? null,
    line: report.line ?? null,
    steps: report.steps.map((step) => ({ name: step.name, status: step.status, detail: step.detail })),
  };
}
