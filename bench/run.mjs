// `npm run bench`: there is no TypeScript loader at run time, so bundle bench/main.ts (and the test
// support it imports) with esbuild into a temporary file and run that. Packages stay external, so the
// file is written under node_modules/.cache/ where Node resolves them.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(root, 'node_modules', '.cache', 'loki-lambda-bench');
const outDir = join(cacheDir, `run-${process.pid}`);

// Modules find files beside themselves (the extension entry, push.proto) through import.meta.url,
// which would point at the bundle: give each source file its own URL instead.
const ownImportMetaUrl = {
  name: 'own-import-meta-url',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const url = JSON.stringify(pathToFileURL(args.path).href);
      return { contents: source.replaceAll('import.meta.url', url), loader: 'ts' };
    });
  },
};

await mkdir(outDir, { recursive: true });
await build({
  entryPoints: {
    main: join(root, 'bench', 'main.ts'),
    'receiver-worker': join(root, 'bench', 'receiver-worker.ts'),
  },
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: outDir,
  outExtension: { '.js': '.mjs' },
  sourcemap: 'inline',
  logLevel: 'warning',
  plugins: [ownImportMetaUrl],
});
try {
  const { main } = await import(pathToFileURL(join(outDir, 'main.mjs')).href);
  process.exitCode = await main(process.argv.slice(2), {
    receiverWorkerFile: join(outDir, 'receiver-worker.mjs'),
  });
} finally {
  await rm(outDir, { recursive: true, force: true });
}
