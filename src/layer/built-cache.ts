import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { VERSION } from '../version.js';
import type { BuiltLayer } from './build-layers.js';
import type { ExtensionBundle } from './bundle.js';
import { LAUNCHER_SCRIPT } from './launcher.js';
import { BUN_PACKAGES, NODE_PACKAGES } from './node-binary.js';
import type { Arch, Flavor } from './targets.js';

/** Bumped when the layout of a layer zip changes without its inputs changing. */
const LAYOUT = 1;

/**
 * What a layer zip is made of, as one digest: the bundles, the launcher, the pinned runtime (version
 * and integrity of its package), flavor, arch and CLI version. Equal keys give byte-equal zips (the
 * zip is deterministic), so a zip built with the same key can be reused instead of built again.
 */
export function builtLayerKey(bundle: ExtensionBundle, flavor: Flavor, arch: Arch): string {
  const hash = createHash('sha256');
  const runtime =
    flavor === 'standalone' ? NODE_PACKAGES[arch] : flavor === 'al2' ? BUN_PACKAGES[arch] : undefined;
  hash.update(JSON.stringify([LAYOUT, VERSION, flavor, arch, runtime?.version, runtime?.integrity]));
  for (const part of [
    LAUNCHER_SCRIPT,
    bundle.code,
    bundle.sourceMap,
    bundle.secretsReader.code,
    bundle.secretsReader.sourceMap,
  ])
    hash.update(createHash('sha256').update(part).digest());
  return hash.digest('hex');
}

function keyFile(zipPath: string): string {
  return `${zipPath}.key.json`;
}

/** Notes next to a zip what it was built from, for `reusableLayer`. */
export async function recordBuiltLayer(layer: BuiltLayer, key: string): Promise<void> {
  await writeFile(keyFile(layer.path), `${JSON.stringify({ key, layer })}\n`);
}

/**
 * The zip at `zipPath` when it was built from the same inputs and is still what was written (its
 * SHA-256 is checked again: a truncated or edited file is built again, never published).
 */
export async function reusableLayer(zipPath: string, key: string): Promise<BuiltLayer | undefined> {
  try {
    const note = JSON.parse(await readFile(keyFile(zipPath), 'utf8')) as { key?: string; layer?: BuiltLayer };
    if (note.key !== key || note.layer === undefined || note.layer.path !== zipPath) return undefined;
    const digest = createHash('sha256')
      .update(await readFile(zipPath))
      .digest();
    if (digest.toString('hex') !== note.layer.sha256Hex) return undefined;
    return note.layer;
  } catch {
    return undefined;
  }
}
