import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { VERSION } from '../version.js';

/** One bundled file: minified code, its source map, and what went into it. */
export interface BundledFile {
  readonly code: Uint8Array;
  readonly sourceMap: Uint8Array;
  /** Every source file bundled, relative to the project root (`node_modules/...` for packages). */
  readonly inputs: readonly string[];
}

/** The bundled extension, plus the AWS SDK secret reader it loads only when a credential is in AWS. */
export interface ExtensionBundle extends BundledFile {
  readonly secretsReader: BundledFile;
}

/** CommonJS: Node 20 starts a .cjs file ~10 ms sooner than the same code as ESM (measured, see docs/benchmarks.md). */
export const BUNDLE_FORMAT = 'cjs';
export const BUNDLE_FILE_NAME = 'index.cjs';
/** The Secrets Manager / Parameter Store reader (AWS SDK inside), beside index.cjs in the layer. */
export const SECRETS_BUNDLE_FILE_NAME = 'secrets.cjs';
/** The module the extension imports for it; bundled on its own, never into index.cjs. */
const SECRETS_READER_MODULE = 'aws-secret-reader';

/**
 * Keeps the secret reader out of index.cjs: `import('./aws-secret-reader.js')` becomes a plain
 * `require('./secrets.cjs')` of the file beside it (CommonJS, no ESM loader), run only when a
 * credential is kept in AWS, so functions without one never load the AWS SDK.
 */
export const secretsReaderIsSeparate: Plugin = {
  name: 'secrets-reader-is-separate',
  setup(esbuild) {
    esbuild.onResolve({ filter: /^\.\/aws-secret-reader\.js$/ }, () => ({
      path: SECRETS_READER_MODULE,
      namespace: SECRETS_READER_MODULE,
    }));
    esbuild.onLoad({ filter: /.*/, namespace: SECRETS_READER_MODULE }, () => ({
      contents: `module.exports = require('./${SECRETS_BUNDLE_FILE_NAME}');`,
      loader: 'js',
    }));
    esbuild.onResolve({ filter: /^\.\/secrets\.cjs$/ }, (args) => ({ path: args.path, external: true }));
  },
};

/**
 * Finds `extension/main.ts` from this module: `src/layer/` in a clone, `dist/src/layer/` in the
 * packed package (which ships the extension's TypeScript sources beside `dist/`).
 */
export function findExtensionEntry(fromDir = dirname(fileURLToPath(import.meta.url))): string {
  for (const up of ['../..', '../../..']) {
    const candidate = join(fromDir, up, 'extension', 'main.ts');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`Cannot find extension/main.ts near ${fromDir}; reinstall loki-lambda.`);
}

/**
 * Bundles the extension into index.cjs, and its AWS SDK secret reader into secrets.cjs, with no
 * runtime node_modules (Node built-ins stay external).
 */
export async function bundleExtension(entry = findExtensionEntry()): Promise<ExtensionBundle> {
  const root = join(dirname(entry), '..');
  const [main, secretsReader] = await Promise.all([
    bundleOne(root, entry, BUNDLE_FILE_NAME, [secretsReaderIsSeparate]),
    readPrebuiltSecretsReader(root) ?? bundleSecretsReader(root),
  ]);
  return { ...main, secretsReader };
}

/**
 * Where `npm pack` puts the secret reader it bundled from the repository's locked dependencies.
 * An installed loki-lambda uses it: npm resolves the AWS SDK's many packages afresh for every
 * install, and a reader bundled from those would make its layers differ from the repository's.
 */
export const PREBUILT_SECRETS_READER_DIR = join('dist', 'layer-assets');

export function bundleSecretsReader(root: string): Promise<BundledFile> {
  return bundleOne(
    root,
    join(root, 'extension', `${SECRETS_READER_MODULE}.ts`),
    SECRETS_BUNDLE_FILE_NAME,
    [],
  );
}

function readPrebuiltSecretsReader(root: string): Promise<BundledFile> | undefined {
  const code = join(root, PREBUILT_SECRETS_READER_DIR, SECRETS_BUNDLE_FILE_NAME);
  if (!existsSync(code)) return undefined;
  return (async () => ({
    code: await readFile(code),
    sourceMap: await readFile(`${code}.map`),
    inputs: JSON.parse(await readFile(`${code}.inputs.json`, 'utf8')) as string[],
  }))();
}

async function bundleOne(
  root: string,
  entry: string,
  fileName: string,
  plugins: BuildOptions['plugins'],
): Promise<BundledFile> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: BUNDLE_FORMAT,
    // The oldest Node that runs it: nodejs20.x for the slim flavor (package.json engines: >=20).
    target: 'node20',
    minify: true,
    // Given here, not read from tsconfig.json: the installed package ships no tsconfig, and the bundle
    // must be byte-identical wherever it is built ("use strict" comes from alwaysStrict).
    tsconfigRaw: { compilerOptions: { alwaysStrict: true } },
    sourcemap: 'external',
    // Keep the source map free of absolute paths so the bundle is the same on every machine: sources
    // are relative to the output file, which sits (virtually) in <root>/loki-lambda/ as in the layer.
    sourceRoot: '',
    sourcesContent: false,
    legalComments: 'none',
    write: false,
    outfile: join(root, 'loki-lambda', fileName),
    absWorkingDir: root,
    metafile: true,
    logLevel: 'silent',
    // The User-Agent of every push names the version (extension/version.ts).
    define: { __LOKI_LAMBDA_VERSION__: JSON.stringify(VERSION) },
    plugins,
  });
  const code = result.outputFiles.find((f) => f.path.endsWith(fileName));
  const map = result.outputFiles.find((f) => f.path.endsWith('.map'));
  if (!code || !map) throw new Error(`esbuild produced no ${fileName} for the extension`);
  const outDir = join(root, 'loki-lambda');
  return {
    code: code.contents,
    sourceMap: withPortableSources(map.contents, outDir, root),
    inputs: Object.keys(result.metafile.inputs)
      .map((input) => portablePath(input, root, root))
      .sort(),
  };
}

/**
 * `path` (relative to `fromDir`) as if every package sat in the project's own node_modules: npm may
 * hoist the dependencies of an installed loki-lambda next to it, and the layer must not depend on that.
 */
export function portablePath(path: string, fromDir: string, root: string, rootFromDir = ''): string {
  const absolute = resolve(fromDir, path);
  if (absolute.startsWith(`${root}/`)) return path;
  const at = absolute.lastIndexOf('/node_modules/');
  return at < 0 ? path : `${rootFromDir}${absolute.slice(at + 1)}`;
}

function withPortableSources(sourceMap: Uint8Array, outDir: string, root: string): Uint8Array {
  const map = JSON.parse(Buffer.from(sourceMap).toString('utf8')) as { sources: string[] };
  map.sources = map.sources.map((source) => portablePath(source, outDir, root, '../'));
  return Buffer.from(JSON.stringify(map));
}
