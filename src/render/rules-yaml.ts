import type { AlertRule, RuleFile } from '../dashboard/alert-rules.js';

/**
 * The rule file as Prometheus rule-group YAML (what the Loki ruler, `lokitool rules` and
 * `cortextool rules --backend=loki` read). A writer for this one shape, not a YAML library: every
 * string is double-quoted (JSON's escapes are YAML's) except `expr`, a literal block for people.
 */
export function ruleFileYaml(file: RuleFile): string {
  const lines = ['groups:'];
  for (const group of file.groups) {
    lines.push(`  - name: ${q(group.name)}`, '    rules:');
    for (const rule of group.rules) lines.push(...ruleLines(rule));
  }
  return `${lines.join('\n')}\n`;
}

function ruleLines(rule: AlertRule): string[] {
  const lines = [`      - alert: ${q(rule.alert)}`, '        expr: |-', `          ${rule.expr}`];
  if (rule.for !== undefined) lines.push(`        for: ${q(rule.for)}`);
  lines.push(...map('labels', rule.labels), ...map('annotations', rule.annotations));
  return lines;
}

function map(name: string, values: Readonly<Record<string, string>>): string[] {
  return [
    `        ${name}:`,
    ...Object.entries(values).map(([key, value]) => `          ${key}: ${q(value)}`),
  ];
}

function q(value: string): string {
  return JSON.stringify(value);
}
