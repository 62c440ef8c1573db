import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { ENV_VARS, SECRET_ENV_VARS } from '../../extension/config.js';
import { SETTING_KEYS, SETTINGS } from '../../extension/settings.js';
import { addLokiOptions } from '../../src/commands/aws-options.js';
import { parseConfigValues } from '../../src/config-file.js';
import { renderSettingsTable } from '../../src/render/settings-table.js';

const README = new URL('../../README.md', import.meta.url);
const TABLE = /<!-- settings-table[^>]*-->\n([\s\S]*?)\n<!-- \/settings-table -->/;

describe('the settings table (extension/settings.ts)', () => {
  it('is the README table: regenerate the block between the settings-table markers from this output', () => {
    const readme = readFileSync(README, 'utf8');

    expect(TABLE.exec(readme)?.[1]).toBe(renderSettingsTable());
  });

  it('gives every row a LOKI_ variable, a flag and a config key of its own', () => {
    const variables = SETTING_KEYS.map((key) => SETTINGS[key].variable);
    const options = SETTING_KEYS.map((key) => SETTINGS[key].option);

    expect(new Set(variables).size).toBe(variables.length);
    expect(new Set(options).size).toBe(options.length);
    expect(ENV_VARS.endpointUrl).toBe('LOKI_ENDPOINT_URL');
    expect(SECRET_ENV_VARS).toEqual(['LOKI_BEARER_TOKEN', 'LOKI_PASSWORD']);
  });

  it('derives one commander flag per row, and a --<option>-file flag per secret', () => {
    const command = addLokiOptions(new Command('attach'));
    const flags = command.options.map((option) => option.long);

    for (const key of SETTING_KEYS) expect(flags).toContain(`--${SETTINGS[key].option}`);
    expect(flags).toContain('--bearer-token-file');
    expect(flags).toContain('--password-file');
    expect(flags).toHaveLength(SETTING_KEYS.length + 2);
  });

  it('derives the config-file keys: every plain row in camelCase, a secret only as its file', () => {
    const accepted = parseConfigValues(
      { lokiUrl: 'https://loki', maxBufferBytes: 65536, bearerTokenFile: 'token.txt', debug: true },
      'loki-lambda.config.json',
    );
    const refused = parseConfigValues({ password: 'x' }, 'loki-lambda.config.json');

    expect(accepted).toMatchObject({
      ok: true,
      values: {
        lokiUrl: 'https://loki',
        maxBufferBytes: '65536',
        bearerTokenFile: 'token.txt',
        debug: 'true',
      },
    });
    expect(refused).toEqual({
      ok: false,
      problems: [
        'loki-lambda.config.json: "password" does not belong in a config file; use LOKI_PASSWORD or "passwordFile"',
      ],
    });
  });
});
