import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Panel, RowPanel, VariableModel } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  type Dashboard,
  DashboardBuilder,
  defaultDashboard,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli.js';
import { FakeGrafana } from '../support/fake-grafana.js';
import { LiveCapture } from '../support/loki-tail-cli.js';

const TOKEN = 'glsa_test_token_abcdef0123456789';
let work: string;
let grafana: FakeGrafana;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'loki-lambda-dashboard-'));
  await writeFile(join(work, 'token'), `${TOKEN}\n`);
  await writeFile(join(work, 'viewer-token'), 'glsa_viewer');
  await writeFile(join(work, 'empty-token'), '  \n');
  grafana = await new FakeGrafana().start();
  grafana.tokens.set(TOKEN, 'Editor');
  grafana.tokens.set('glsa_viewer', 'Viewer');
});

afterEach(async () => {
  await grafana.stop();
  await rm(work, { recursive: true, force: true });
});

async function cli(args: readonly string[]) {
  const stdout = new LiveCapture();
  const stderr = new LiveCapture();
  const code = await run(args, { stdout, stderr, env: {}, cwd: work });
  expect(stdout.text + stderr.text).not.toContain(TOKEN);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const upload = (...extra: string[]) =>
  cli([
    'dashboard',
    '--app',
    'shop',
    '--env',
    'prod',
    '--grafana-url',
    grafana.url,
    '--grafana-token-file',
    'token',
    ...extra,
  ]);

/** Grafana's reference to the datasource variable. */
const DATASOURCE_UID = '$' + '{datasource}';

const PANEL_TITLES = [
  'Invocations per minute',
  'Errors and timeouts',
  'Cold starts',
  'Duration p50 / p95 / p99 / max',
  'Billed duration',
  'Init duration',
  'Max memory used vs memory size',
  'Memory used (% of memory size)',
  'Estimated cost (time range)',
  'Estimated cost by function',
  'GB-seconds by function',
  'Log volume by function and source',
  'Log bytes by function and source',
  'Dropped log entries',
  'Recent errors',
];

describe('loki-lambda dashboard --out', () => {
  it('writes a dashboard in the current schema with the variables and every panel', async () => {
    const result = await cli(['dashboard', '--app', 'shop', '--env', 'prod', '--out', 'd.json']);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('Wrote the dashboard to d.json\n');
    const dashboard = JSON.parse(await readFile(join(work, 'd.json'), 'utf8')) as Dashboard;
    expect(dashboard.schemaVersion).toBe(defaultDashboard().schemaVersion);
    expect(dashboard.uid).toBe('loki-lambda-shop-prod');
    const variables = dashboard.templating.list ?? [];
    expect(variables.map((v) => [v.name, v.type, v.multi ?? false])).toEqual([
      ['datasource', 'datasource', false],
      ['application', 'query', false],
      ['environment', 'query', false],
      ['function', 'query', true],
      ['price_per_gb_second', 'custom', false],
    ]);
    expect(variables[0]?.query).toBe('loki');
    expect(variables.find((v) => v.name === 'application')?.current?.value).toBe('shop');
    expect(variables.find((v) => v.name === 'function')?.query).toBe(
      'label_values({application=~"$application", environment=~"$environment"}, function)',
    );
    expect(variables.find((v) => v.name === 'price_per_gb_second')?.query).toBe(
      'x86_64 : 0.0000166667,arm64 : 0.0000133334',
    );
    const panels = (dashboard.panels ?? []).filter((p): p is Panel => p.type !== 'row');
    expect(panels.map((p) => p.title)).toEqual(PANEL_TITLES);
    for (const panel of panels) {
      expect(panel.datasource).toEqual({ type: 'loki', uid: DATASOURCE_UID });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
    }
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    // One value over the time range where a single figure is shown; series elsewhere.
    const targets = panels.flatMap((p) =>
      (p.targets ?? []).map((t) => [p.type, (t as { queryType?: string }).queryType] as const),
    );
    expect(
      new Set(targets.filter(([type]) => type === 'stat' || type === 'bargauge').map(([, q]) => q)),
    ).toEqual(new Set(['instant']));
    expect(
      new Set(targets.filter(([type]) => type === 'timeseries' || type === 'logs').map(([, q]) => q)),
    ).toEqual(new Set(['range']));
  });

  it('round-trips through the SDK types: the JSON, rebuilt with its builders, is the same JSON', async () => {
    await cli(['dashboard', '--out', 'd.json']);
    const text = await readFile(join(work, 'd.json'), 'utf8');
    const parsed = JSON.parse(text) as Dashboard;

    const builder = new DashboardBuilder(parsed.title ?? '')
      .uid(parsed.uid ?? '')
      .description(parsed.description ?? '')
      .tags(parsed.tags ?? [])
      .editable()
      .tooltip(parsed.graphTooltip ?? 0)
      .time(parsed.time ?? { from: '', to: '' })
      .refresh(parsed.refresh ?? '')
      .timezone(parsed.timezone ?? '');
    for (const variable of parsed.templating.list ?? []) {
      builder.withVariable({ build: (): VariableModel => variable });
    }
    for (const panel of parsed.panels ?? []) {
      if (panel.type === 'row') builder.withRow({ build: (): RowPanel => panel as RowPanel });
      else builder.withPanel({ build: (): Panel => panel as Panel });
    }

    expect(JSON.parse(JSON.stringify(builder.build()))).toEqual(parsed);
  });

  it('prints the JSON on standard output without --out', async () => {
    const result = await cli(['dashboard']);

    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as Dashboard).uid).toBe('loki-lambda');
  });
});

describe('loki-lambda dashboard --grafana-url', () => {
  it('creates the folder and the dashboard, with the token only in the Authorization header', async () => {
    const result = await upload('--folder', 'Lambda');

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      'Created folder "Lambda" in Grafana.\n' +
        `Created dashboard "AWS Lambda (loki-lambda): shop / prod" in folder "Lambda" (version 1): ${grafana.url}/d/loki-lambda-shop-prod/lambda\n`,
    );
    const stored = grafana.dashboards.get('loki-lambda-shop-prod');
    expect(stored?.folderUid).toBe(grafana.folders[0]?.uid);
    expect(stored?.dashboard.title).toBe('AWS Lambda (loki-lambda): shop / prod');
    expect(new Set(grafana.requests.map((r) => r.authorization))).toEqual(new Set([`Bearer ${TOKEN}`]));
  });

  it('changes nothing when run again with nothing changed: no write at all', async () => {
    await upload('--folder', 'Lambda');
    grafana.requests.length = 0;

    const result = await upload('--folder', 'Lambda');

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      `Unchanged: dashboard "AWS Lambda (loki-lambda): shop / prod" in folder "Lambda" (version 1): ${grafana.url}/d/loki-lambda-shop-prod/lambda\n`,
    );
    expect(grafana.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/folders',
      'GET /api/dashboards/uid/loki-lambda-shop-prod',
    ]);
    expect(grafana.folders).toHaveLength(1);
  });

  it('updates the dashboard with the same uid when it differs, sending the stored version', async () => {
    await upload();
    const stored = grafana.dashboards.get('loki-lambda-shop-prod');
    if (stored) stored.dashboard = { ...stored.dashboard, description: 'edited in the UI' };

    const result = await upload();

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Updated dashboard "AWS Lambda (loki-lambda): shop / prod" (version 2)');
    const save = grafana.requests.filter((r) => r.path === '/api/dashboards/db').at(-1);
    expect(save?.body).toMatchObject({
      dashboard: { uid: 'loki-lambda-shop-prod', version: 1, id: null },
      overwrite: false,
    });
    expect(grafana.dashboards.get('loki-lambda-shop-prod')?.dashboard.description).not.toBe(
      'edited in the UI',
    );
    expect(grafana.dashboards.size).toBe(1);
  });

  it('works with Grafana served under a sub-path', async () => {
    const sub = await new FakeGrafana('/grafana').start();
    sub.tokens.set(TOKEN, 'Editor');
    try {
      const result = await cli([
        'dashboard',
        '--grafana-url',
        `${sub.url}/`,
        '--grafana-token-file',
        'token',
      ]);

      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe(
        `Created dashboard "AWS Lambda (loki-lambda)" (version 1): ${sub.url}/d/loki-lambda/lambda\n`,
      );
      expect([...sub.dashboards.keys()]).toEqual(['loki-lambda']);
    } finally {
      await sub.stop();
    }
  });

  it('says the token was refused on 401, without printing it', async () => {
    grafana.tokens.delete(TOKEN);

    const result = await upload();

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'loki-lambda dashboard: Grafana answered 401 to "read dashboard": invalid API key. The token was refused: check --grafana-token-file (a service account token of this Grafana and organization).\n',
    );
  });

  it('masks the token even when an error message echoes it', async () => {
    grafana.tokens.delete(TOKEN);
    grafana.echoAuthorization = true;

    const result = await upload();

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('invalid API key: Bearer ****');
  });

  it('says which role is missing on 403', async () => {
    const result = await cli([
      'dashboard',
      '--grafana-url',
      grafana.url,
      '--grafana-token-file',
      'viewer-token',
      '--folder',
      'Lambda',
    ]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Grafana answered 403 to "create folder": Access denied.');
    expect(result.stderr).toContain('Editor role');
    expect(grafana.folders).toEqual([]);
  });

  it('refuses to overwrite an edit made while uploading (412 version-mismatch)', async () => {
    await upload();
    const stored = grafana.dashboards.get('loki-lambda-shop-prod');
    if (stored) stored.dashboard = { ...stored.dashboard, description: 'edited' };
    grafana.editBetweenReadAndSave = true;

    const result = await upload();

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'Grafana answered 412 to "save dashboard": The dashboard has been changed by someone else.',
    );
    expect(result.stderr).toContain('run the command again');
    expect(grafana.dashboards.get('loki-lambda-shop-prod')?.dashboard.description).toBe('edited');
  });

  it('never replaces another dashboard with the same title (412 name-exists)', async () => {
    await upload();
    const mine = grafana.dashboards.get('loki-lambda-shop-prod');
    if (mine)
      grafana.dashboards.set('someone-else', {
        ...mine,
        id: 99,
        dashboard: { ...mine.dashboard, uid: 'someone-else' },
      });
    grafana.dashboards.delete('loki-lambda-shop-prod');

    const result = await upload();

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('412 to "save dashboard"');
    expect(result.stderr).toContain('Another dashboard in that folder has the same title');
    expect([...grafana.dashboards.keys()]).toEqual(['someone-else']);
  });

  it('says when Grafana cannot be reached', async () => {
    const url = grafana.url;
    await grafana.stop();

    const result = await cli(['dashboard', '--grafana-url', url, '--grafana-token-file', 'token']);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`^loki-lambda dashboard: cannot reach Grafana at ${url} \\(read dashboard\\): `),
    );
    grafana = await new FakeGrafana().start();
  });

  it.each([
    [
      ['--grafana-url', 'http://127.0.0.1:9'],
      '--grafana-url needs --grafana-token-file (a file holding a Grafana service account token)',
    ],
    [['--grafana-token-file', 'token'], '--grafana-token-file is used only with --grafana-url'],
    [['--folder', 'x'], '--folder is used only with --grafana-url'],
    [
      ['--grafana-url', 'https://admin:secret@grafana.example.com', '--grafana-token-file', 'token'],
      '--grafana-url must not contain credentials; put a service account token in --grafana-token-file',
    ],
    [
      ['--grafana-url', 'grafana', '--grafana-token-file', 'token'],
      '--grafana-url must be an http(s) URL like https://grafana.example.com',
    ],
    [
      ['--grafana-url', 'http://127.0.0.1:9', '--grafana-token-file', 'empty-token'],
      '--grafana-token-file empty-token is empty; put a Grafana service account token in it',
    ],
    [
      ['--grafana-url', 'http://127.0.0.1:9', '--grafana-token-file', 'missing'],
      'cannot read --grafana-token-file missing: no such file or directory',
    ],
  ])('refuses %j with a usage error', async (args, message) => {
    const result = await cli(['dashboard', ...args]);

    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`loki-lambda dashboard: ${message}\n`);
    expect(result.stderr).not.toContain('secret');
    expect(grafana.requests).toEqual([]);
  });
});
