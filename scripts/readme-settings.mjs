// Rewrites the README's LOKI_* settings table from extension/settings.ts (npm run readme:settings).
// test/unit/settings-table.test.ts fails when the README and the table disagree.
import { readFile, writeFile } from 'node:fs/promises';
import { build } from 'esbuild';

const readmeUrl = new URL('../README.md', import.meta.url);
const bundled = await build({
  entryPoints: [new URL('../src/render/settings-table.ts', import.meta.url).pathname],
  bundle: true,
  format: 'esm',
  platform: 'node',
  write: false,
});
const source = bundled.outputFiles[0].text;
const { renderSettingsTable } = await import(
  `data:text/javascript;base64,${Buffer.from(source).toString('base64')}`
);
const readme = await readFile(readmeUrl, 'utf8');
const block = /(<!-- settings-table[^>]*-->\n)[\s\S]*?(\n<!-- \/settings-table -->)/;
if (!block.test(readme)) throw new Error('README.md has no <!-- settings-table --> block');
await writeFile(
  readmeUrl,
  readme.replace(block, (_, open, close) => `${open}${renderSettingsTable()}${close}`),
);
console.log('README.md: settings table updated');
