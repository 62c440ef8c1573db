import { CLI_SETTINGS } from '../settings.js';

/** The README's table of the LOKI_* settings, rendered from the settings table (one row each). */
export function renderSettingsTable(): string {
  const rows = CLI_SETTINGS.map(({ setting, configKey, fileKey }) => {
    const flag =
      setting.kind === 'boolean'
        ? `\`--${setting.option}\``
        : `\`--${setting.option}\`${fileKey ? `, \`--${setting.option}-file\`` : ''}`;
    const key = `\`${configKey ?? fileKey}\``;
    return `| \`${setting.variable}\` | ${flag} (${key}) | ${setting.docDefault} | ${setting.doc} |`;
  });
  return ['| variable | CLI flag (config key) | default | meaning |', '|---|---|---|---|', ...rows].join(
    '\n',
  );
}
