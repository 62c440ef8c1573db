import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The arrows of docs/architecture.md, checked on every import of src/ and extension/ (static,
 * dynamic, type-only and re-exports). A folder may import its own folder and the ones listed here.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

type Layer = 'cli' | 'commands' | 'render' | 'aws' | 'layer' | 'loki' | 'domain' | 'base' | 'extension';

const ALLOWED: Readonly<Record<Layer, readonly Layer[]>> = {
  cli: ['cli', 'commands', 'render', 'aws', 'layer', 'loki', 'domain', 'base', 'extension'],
  commands: ['commands', 'render', 'aws', 'layer', 'loki', 'domain', 'base', 'extension'],
  render: ['render', 'aws', 'layer', 'loki', 'domain', 'base', 'extension'],
  aws: ['aws', 'layer', 'base', 'extension'],
  layer: ['layer', 'base', 'extension'],
  loki: ['loki', 'base', 'extension'],
  domain: ['base', 'extension'],
  base: ['base', 'extension'],
  extension: ['extension'],
};

/** npm packages the extension may use at run time (they are bundled into its one file). */
const EXTENSION_PACKAGES = ['protobufjs/minimal.js', 'snappyjs'];
/** The secret reader is bundled on its own (secrets.cjs), loaded only when a credential is in AWS. */
const SEPARATELY_BUNDLED: Readonly<Record<string, readonly string[]>> = {
  'extension/aws-secret-reader.ts': [
    '@aws-sdk/client-secrets-manager',
    '@aws-sdk/client-ssm',
    // The SDK's retry strategy, for the test-only fixed retry delay.
    '@smithy/core/retry',
  ],
};

const KNOWN_FOLDERS: Readonly<Record<string, Layer>> = {
  commands: 'commands',
  render: 'render',
  aws: 'aws',
  layer: 'layer',
  loki: 'loki',
};

/** The layer of a file (a path relative to the repository), or undefined outside src/ and extension/. */
function layerOf(file: string): Layer | string {
  const parts = file.split('/');
  if (parts[0] === 'extension') return 'extension';
  if (parts[0] !== 'src') return parts[0] ?? file;
  if (parts.length === 2) return parts[1] === 'cli.ts' ? 'cli' : 'base';
  // A new folder is a domain folder (like loki/) until it is given a row of its own.
  return KNOWN_FOLDERS[parts[1] ?? ''] ?? 'domain';
}

/** Where the folder name matters for messages: a domain folder's own files may import each other. */
function folderOf(file: string): string {
  return file.split('/').slice(0, -1).join('/');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|cts)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const IMPORT_PATTERN =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm;

function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(IMPORT_PATTERN)].map((match) => match[1] ?? match[2] ?? match[3] ?? '');
}

interface Violation {
  readonly file: string;
  readonly imports: string;
}

function violations(): Violation[] {
  const found: Violation[] = [];
  for (const file of [...sourceFiles('src'), ...sourceFiles('extension')]) {
    const from = layerOf(file);
    for (const specifier of importsOf(file)) {
      if (!specifier.startsWith('.')) {
        const bare =
          specifier.startsWith('node:') ||
          EXTENSION_PACKAGES.includes(specifier) ||
          (SEPARATELY_BUNDLED[file] ?? []).includes(specifier);
        if (from === 'extension' && !bare) found.push({ file, imports: specifier });
        continue;
      }
      const target = relative(ROOT, normalize(join(ROOT, dirname(file), specifier))).replaceAll('\\', '/');
      const to = layerOf(target);
      const sameDomainFolder = from === 'domain' && folderOf(file) === folderOf(target);
      if (sameDomainFolder || from === to) continue;
      if (!(ALLOWED[from as Layer] ?? []).includes(to as Layer)) found.push({ file, imports: target });
    }
  }
  return found;
}

describe('the import graph (docs/architecture.md)', () => {
  it('has no import against the arrows', () => {
    expect(violations()).toEqual([]);
  });

  it('sees the imports it checks: the CLI entry reaches every command, dynamic imports included', () => {
    const cli = importsOf('src/cli.ts');

    expect(cli).toContain('./commands/build.js');
    expect(cli).toContain('./layer/build-layers.js');
    expect(importsOf('extension/push-encoder.ts')).toContain('snappyjs');
  });

  it('would catch the extension importing the CLI, and a domain folder importing a command', () => {
    expect(layerOf('extension/main.ts')).toBe('extension');
    expect(ALLOWED.extension).not.toContain(layerOf('src/config-file.ts'));
    expect(ALLOWED[layerOf('src/loki/client.ts') as Layer]).not.toContain(layerOf('src/commands/tail.ts'));
    expect(ALLOWED[layerOf('src/aws/functions.ts') as Layer]).not.toContain(layerOf('src/loki/client.ts'));
    expect(layerOf('src/dashboard/panels.ts')).toBe('domain');
  });
});
