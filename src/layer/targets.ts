/** What a layer zip is built for: CPU architecture (Lambda's names) and flavor (DESIGN.md §2). */
export const ARCHES = ['x86_64', 'arm64'] as const;
export type Arch = (typeof ARCHES)[number];

export const FLAVORS = ['slim', 'standalone', 'al2'] as const;
export type Flavor = (typeof FLAVORS)[number];

export const LAYER_NAME_DEFAULT = 'loki-lambda';

/** The extension's registered name, which the launcher's file name in /opt/extensions must equal. */
export { EXTENSION_NAME } from '../../extension/constants.js';

/** Node.js runtimes whose own `/var/lang/bin/node` runs the slim flavor's bundle. */
export const SLIM_RUNTIMES = ['nodejs20.x', 'nodejs22.x', 'nodejs24.x'] as const;

/**
 * Runtimes the standalone flavor serves: every Amazon Linux 2023 runtime (glibc 2.34). Official Node
 * binaries need glibc >= 2.28, so Amazon Linux 2 runtimes (glibc 2.26) are served by the al2 flavor (Bun).
 * Lambda accepts at most 15 CompatibleRuntimes per layer version.
 */
export const STANDALONE_RUNTIMES = [
  'nodejs20.x',
  'nodejs22.x',
  'nodejs24.x',
  'python3.12',
  'python3.13',
  'python3.14',
  'java21',
  'java25',
  'dotnet8',
  'dotnet10',
  'ruby3.3',
  'ruby3.4',
  'provided.al2023',
] as const;

/**
 * Runtimes on Amazon Linux 2 (glibc 2.26): official Node binaries cannot run there, so the `al2`
 * flavor serves them with Bun (glibc 2.17).
 */
export const AMAZON_LINUX_2_RUNTIMES = [
  'nodejs18.x',
  'nodejs16.x',
  'python3.8',
  'python3.9',
  'python3.10',
  'python3.11',
  'java8.al2',
  'java11',
  'java17',
  'dotnet6',
  'ruby3.2',
  'provided.al2',
] as const;

export function runtimesFor(flavor: Flavor): readonly string[] {
  if (flavor === 'al2') return AMAZON_LINUX_2_RUNTIMES;
  return flavor === 'slim' ? SLIM_RUNTIMES : STANDALONE_RUNTIMES;
}

export function layerZipName(flavor: Flavor, arch: Arch): string {
  return `loki-lambda-${flavor}-${arch}.zip`;
}

/** Lambda's limit for a layer zip uploaded directly (PublishLayerVersion ZipFile); larger ones go through S3. */
export const DIRECT_UPLOAD_LIMIT_BYTES = 50 * 1024 * 1024;
