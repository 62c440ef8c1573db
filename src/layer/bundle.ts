import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { VERSION } from '../version.js';

/** The bundled extension: one minified CommonJS file and its source map. */
export interface ExtensionBundle {
  readonly code: Uint8Array;
  readonly sourceMap: Uint8Array;
  /** Every source file bundled, relative to the project root (`node_modules/...` for packages). */
  readonly inputs: readonly string[];
}

/** CommonJS: Node 20 starts a .cjs file ~10 ms sooner than the same code as ESM (measured, see docs/benchmarks.md). */
export const BUNDLE_FORMAT = 'cjs';
export const BUNDLE_FILE_NAME = 'index.cjs';

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

/** Bundles the extension into one file with no runtime node_modules (Node built-ins stay external). */
export async function bundleExtension(entry = findExtensionEntry()): Promise<ExtensionBundle> {
  const root = join(dirname(entry), '..');
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
    outfile: join(root, 'loki-lambda', BUNDLE_FILE_NAME),
    absWorkingDir: root,
    metafile: true,
    logLevel: 'silent',
    // The User-Agent of every push names the version (extension/version.ts).
    define: { __LOKI_LAMBDA_VERSION__: JSON.stringify(VERSION) },
  });
  const code = result.outputFiles.find((f) => f.path.endsWith(BUNDLE_FILE_NAME));
  const map = result.outputFiles.find((f) => f.path.endsWith('.map'));
  if (!code || !map) throw new Error('esbuild produced no bundle for the extension');
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
