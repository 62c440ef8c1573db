// Compiles the CLI and the extension sources to dist/ one file at a time with esbuild's transform (no
// bundling, no type check): about half a second, where `tsc -p tsconfig.build.json` took ~9 s reading
// 1,765 files (mostly the AWS SDK's declarations) for types alone. Type checking is `npm run typecheck`
// and part of `npm test`. Compiling each file alone gives what tsc emits: tsconfig.json has
// isolatedModules and verbatimModuleSyntax, so no file needs another one's types to be emitted.
//
// npm runs it as `prepare` (npm install in the clone) and in `prepack` (npm pack, npm publish). With
// `--out-dir DIR` it compiles into DIR instead of dist/ (a test compiles its own copy).
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { transform } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: { 'out-dir': { type: 'string' }, 'skip-when-packing': { type: 'boolean' } },
});
// npm pack and npm publish run prepack, then prepare: prepack has just compiled (it must, before it
// bundles the secret reader with dist/), so prepare would compile the same files a second time.
if (values['skip-when-packing'] && ['pack', 'publish'].includes(process.env.npm_command ?? ''))
  process.exit(0);
const outDir = resolve(values['out-dir'] ?? join(root, 'dist'));
/** The directories tsconfig.build.json compiles (declaration-only ones, like types/, emit nothing). */
const { include } = JSON.parse(await readFile(join(root, 'tsconfig.build.json'), 'utf8'));

async function sourcesUnder(dir) {
  const entries = await readdir(join(root, dir), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

/** Writes only a changed file, through a temporary one: a process running dist/ never reads half a file. */
async function writeIfChanged(path, content) {
  if (existsSync(path) && (await readFile(path, 'utf8')) === content) return;
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, content);
  await rename(temporary, path);
}

async function compile(source) {
  const outFile = join(outDir, source.replace(/\.ts$/, '.js'));
  const name = outFile.slice(dirname(outFile).length + 1);
  const result = await transform(await readFile(join(root, source), 'utf8'), {
    loader: 'ts',
    format: 'esm',
    // package.json engines: node >= 20. Nothing below it is lowered, as tsc's ES2022 target lowers nothing.
    target: 'node20',
    // tsc's semantics for what tsconfig.json sets (class fields are ES2022's [[Define]]).
    tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true, useDefineForClassFields: true } },
    sourcemap: 'external',
    // Like tsc's maps: the source named relative to the output file, without its content.
    sourcefile: relative(dirname(outFile), join(root, source)),
    sourcesContent: false,
    logLevel: 'silent',
  });
  const map = { ...JSON.parse(result.map), file: name };
  await writeIfChanged(outFile, `${result.code}//# sourceMappingURL=${name}.map\n`);
  await writeIfChanged(`${outFile}.map`, JSON.stringify(map));
}

const sources = (await Promise.all(include.map(sourcesUnder))).flat();
await Promise.all(sources.map(compile));
