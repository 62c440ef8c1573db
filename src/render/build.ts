import type { BuiltLayer } from '../layer/build-layers.js';
import { DIRECT_UPLOAD_LIMIT_BYTES, runtimesFor } from '../layer/targets.js';
import { displayPath, formatBytes } from './format.js';

/** The human-readable result: one line per zip (path, size, SHA-256), then what each flavor serves. */
export function renderBuiltLayers(layers: readonly BuiltLayer[], cwd: string): string {
  const lines = layers.map(
    (layer) => `${displayPath(layer.path, cwd)}  ${formatBytes(layer.sizeBytes)}  sha256:${layer.sha256Hex}`,
  );
  const flavors = [...new Set(layers.map((layer) => layer.flavor))];
  for (const flavor of flavors) {
    lines.push(
      flavor === 'slim'
        ? `slim: Node.js runtimes only (${runtimesFor('slim').join(', ')})`
        : flavor === 'al2'
          ? `al2: bundles Bun ${layers.find((l) => l.bunVersion)?.bunVersion}, for Amazon Linux 2 runtimes (${runtimesFor('al2').join(', ')})`
          : `standalone: bundles Node.js ${layers.find((l) => l.nodeVersion)?.nodeVersion}, for every Amazon Linux 2023 runtime; not for Amazon Linux 2 runtimes (glibc 2.26: use al2)`,
    );
  }
  if (layers.some((layer) => layer.sizeBytes > DIRECT_UPLOAD_LIMIT_BYTES)) {
    lines.push(
      `Zips over ${formatBytes(DIRECT_UPLOAD_LIMIT_BYTES)} cannot be uploaded to Lambda directly; publish them through S3.`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The `--json` document: the same facts, for CI. */
export function builtLayersDocument(layers: readonly BuiltLayer[]): unknown {
  return {
    layers: layers.map((layer) => ({
      flavor: layer.flavor,
      arch: layer.arch,
      path: layer.path,
      sizeBytes: layer.sizeBytes,
      sha256Hex: layer.sha256Hex,
      sha256Base64: layer.sha256Base64,
      nodeVersion: layer.nodeVersion,
      ...(layer.bunVersion === undefined ? {} : { bunVersion: layer.bunVersion }),
      compatibleRuntimes: runtimesFor(layer.flavor),
    })),
  };
}
