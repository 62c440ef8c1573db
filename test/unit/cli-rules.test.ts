import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli.js';
import type { RuleFile } from '../../src/dashboard/alert-rules.js';
import { syntaxErrors } from '../support/logql-pipeline.js';
import { LiveCapture } from '../support/loki-tail-cli.js';

let work: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'loki-lambda-rules-'));
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function cli(args: readonly string[]) {
  const stdout = new LiveCapture();
  const stderr = new LiveCapture();
  const code = await run(['rules', ...args], { stdout, stderr, env: {}, cwd: work });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const ALERTS = [
  'LambdaErrorRateHigh',
  'LambdaTimeout',
  'LambdaMemoryHigh',
  'LokiLambdaDroppedEntries',
  'LambdaLogsDropped',
  'LambdaNoLogs',
];

describe('loki-lambda rules', () => {
  it('writes one Prometheus rule group with every alert, as YAML by default', async () => {
    const result = await cli(['--app', 'shop']);

    expect(result.code, result.stderr).toBe(0);
    expect(
      result.stdout.startsWith(
        'groups:\n  - name: "loki-lambda"\n    rules:\n      - alert: "LambdaErrorRateHigh"\n        expr: |-\n          100 * sum by (application, environment, function)',
      ),
    ).toBe(true);
    expect([...result.stdout.matchAll(/^ {6}- alert: "(\w+)"$/gm)].map((m) => m[1])).toEqual(ALERTS);
    // Each expression is a literal block line, exactly the LogQL of the JSON form.
    const json = JSON.parse((await cli(['--app', 'shop', '--json'])).stdout) as RuleFile;
    const exprs = [...result.stdout.matchAll(/^ {8}expr: \|-\n {10}(.*)$/gm)].map((m) => m[1]);
    expect(exprs).toEqual(json.groups[0]?.rules.map((r) => r.expr));
    for (const expr of exprs) expect(syntaxErrors(expr ?? '')).toEqual([]);
    expect(result.stdout).toContain('application=~"shop", environment=~".+", function=~".+"');
  });

  it('puts the thresholds given as flags into the expressions', async () => {
    const result = await cli([
      '--json',
      '--error-rate',
      '2.5',
      '--memory',
      '80',
      '--window',
      '10m',
      '--for',
      '0m',
      '--silence',
      '30m',
    ]);

    expect(result.code, result.stderr).toBe(0);
    const rules = (JSON.parse(result.stdout) as RuleFile).groups[0]?.rules ?? [];
    const byName = Object.fromEntries(rules.map((r) => [r.alert, r]));
    expect(byName.LambdaErrorRateHigh?.expr).toMatch(/\[10m\]\)\) > 2\.5$/);
    expect(byName.LambdaErrorRateHigh?.for).toBeUndefined();
    expect(byName.LambdaMemoryHigh?.expr).toMatch(/ > 80$/);
    expect(byName.LambdaNoLogs?.expr).toContain('[30m])) > 0)');
    expect(byName.LambdaNoLogs?.expr).toContain('[1h])) > 0) unless (');
  });

  it('escapes an application name so that it matches only itself', async () => {
    const result = await cli(['--json', '--app', 'shop.v2', '--env', 'prod']);

    expect(result.stdout).toContain('application=~\\"shop\\\\\\\\.v2\\", environment=~\\"prod\\"');
  });

  it('writes the rules to --out', async () => {
    const result = await cli(['--out', 'rules.yaml']);

    expect(result.code).toBe(0);
    expect(result.stderr).toBe('Wrote the alert rules to rules.yaml\n');
    expect(await readFile(join(work, 'rules.yaml'), 'utf8')).toMatch(/^groups:\n/);
  });

  it.each([
    [['--error-rate', '0'], '--error-rate must be a percentage above 0 and at most 100; got 0'],
    [['--memory', '120'], '--memory must be a percentage above 0 and at most 100; got 120'],
    [['--window', 'five'], '--window must be a duration like 30s, 5m or 1h; got five'],
    [
      ['--silence', '2h'],
      '--silence must be shorter than 1h (the rule looks for functions that logged within it); got 2h',
    ],
  ])('refuses %j with a usage error', async (args, message) => {
    const result = await cli(args);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`loki-lambda rules: ${message}\n`);
    expect(result.stdout).toBe('');
  });
});
