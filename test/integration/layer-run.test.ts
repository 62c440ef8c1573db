import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RUNTIME_NODE_PATH } from '../../src/layer/launcher.js';
import { lokiEnv } from '../support/extension-harness.js';
import { type LambdaEmulator, startLambdaEmulator } from '../support/lambda-emulator.js';
import { type LokiReceiver, startLokiReceiver } from '../support/loki-receiver.js';
import { readZip } from '../support/read-zip.js';
import { sharedLayerBuild } from '../support/shared-layers.js';

const BUILD_TIMEOUT_MS = 300_000;
const RUN_TIMEOUT_MS = 120_000;
/** Node under qemu user emulation starts in seconds, not milliseconds. */
const EMULATED_INIT_TIMEOUT_MS = 60_000;

/** What runs an aarch64 Node on an x86_64 Debian host, and the packages that provide it. */
const QEMU_AARCH64 = '/usr/bin/qemu-aarch64-static';
const AARCH64_SYSROOT = '/usr/aarch64-linux-gnu';
const ARM64_REQUIREMENTS = [
  { path: QEMU_AARCH64, pkg: 'qemu-user-static' },
  { path: `${AARCH64_SYSROOT}/lib/ld-linux-aarch64.so.1`, pkg: 'libc6-arm64-cross' },
  { path: `${AARCH64_SYSROOT}/lib/libstdc++.so.6`, pkg: 'libstdc++6-arm64-cross' },
];
const onLinux = process.platform === 'linux';
const x86_64Runnable = onLinux && process.arch === 'x64';
const x86_64SkipReason = x86_64Runnable ? '' : ' (skipped: needs Linux on x86_64)';
const missingArm64Packages =
  process.arch === 'arm64' ? [] : ARM64_REQUIREMENTS.filter((r) => !existsSync(r.path)).map((r) => r.pkg);
const arm64Runnable = onLinux && missingArm64Packages.length === 0;
// In CI the packages are installed by .ci/run, so a missing one is a failure there, not a skip.
const skipArm64 = !onLinux || (!arm64Runnable && !process.env.CI);
const arm64SkipReason = !onLinux
  ? ' (skipped: needs Linux)'
  : skipArm64
    ? ` (skipped: ${missingArm64Packages.join(', ')} missing; apt-get install -y ${missingArm64Packages.join(' ')})`
    : '';

let work: string;
let layers: { flavor: string; arch: string; path: string }[];
let receiver: LokiReceiver | undefined;
let emulator: LambdaEmulator | undefined;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'loki-lambda-layer-run-'));
  // The zips `loki-lambda build` wrote in this test run, built once for this file and build.test.ts.
  const { result } = await sharedLayerBuild();
  if (result.code !== 0)
    throw new Error(`loki-lambda build failed (exit code ${result.code}): ${result.err}`);
  layers = (JSON.parse(result.out) as { layers: typeof layers }).layers;
}, BUILD_TIMEOUT_MS);

afterEach(async () => {
  await emulator?.close();
  await receiver?.close();
  emulator = undefined;
  receiver = undefined;
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Unzips a layer the way Lambda does into a directory laid out like /opt, keeping the modes. */
async function unpackLayer(flavor: string, arch: string): Promise<string> {
  const layer = layers.find((l) => l.flavor === flavor && l.arch === arch)!;
  const opt = join(work, `opt-${flavor}-${arch}`);
  for (const entry of readZip(await readFile(layer.path))) {
    const target = join(opt, entry.name);
    if (entry.isDirectory) {
      await mkdir(target, { recursive: true });
    } else {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, entry.content());
      await chmod(target, entry.mode);
    }
  }
  return opt;
}

/** Starts `/opt/extensions/loki-lambda` as Lambda would, runs one invocation, and shuts down. */
async function runLayer(opt: string, initTimeoutMs?: number) {
  receiver = await startLokiReceiver();
  emulator = await startLambdaEmulator({
    command: join(opt, 'extensions', 'loki-lambda'),
    env: lokiEnv(receiver.url, { LOKI_FLUSH_STRATEGY: 'end' }),
    functionName: 'layer-check',
    ...(initTimeoutMs ? { initTimeoutMs } : {}),
  });
  const init = await emulator.init();
  const invoke = init.ok
    ? await emulator.invoke({ logs: ['hello from the layer', 'and a second line'] })
    : undefined;
  const shutdown = init.ok ? await emulator.shutdown() : undefined;
  return { init, invoke, shutdown, output: emulator.output(), entries: receiver.entries() };
}

/**
 * Unzips an arm64 layer; off arm64, its runtime binary (`node` or `bun`) is kept and started through
 * qemu by a wrapper in its place.
 */
async function unpackArm64Layer(flavor: string, runtime: 'node' | 'bun'): Promise<string> {
  if (!arm64Runnable) {
    throw new Error(
      `cannot run the arm64 layer: install ${missingArm64Packages.join(', ')} (apt-get install -y ${missingArm64Packages.join(' ')})`,
    );
  }
  const opt = await unpackLayer(flavor, 'arm64');
  if (process.arch !== 'arm64') {
    const binary = join(opt, 'loki-lambda', runtime);
    await rename(binary, `${binary}.aarch64`);
    await writeFile(
      binary,
      `#!/bin/sh\nexec ${QEMU_AARCH64} -L ${AARCH64_SYSROOT} "${binary}.aarch64" "$@"\n`,
    );
    await chmod(binary, 0o755);
  }
  return opt;
}

/** The extension registered and shipped the function's two lines. */
function expectShipped(result: Awaited<ReturnType<typeof runLayer>>): void {
  expect(result.init, result.output).toMatchObject({ ok: true, registered: true });
  const lines = result.entries.filter((e) => e.labels.source === 'function').map((e) => e.line);
  expect(lines).toEqual(['hello from the layer', 'and a second line']);
}

describe('the standalone layer, unpacked like /opt', () => {
  it('has no Node of a Lambda runtime to fall back on here, so the layer’s own Node must run it', () => {
    expect(existsSync(RUNTIME_NODE_PATH)).toBe(false);
  });

  it.skipIf(!x86_64Runnable)(
    `x86_64: the launcher starts the extension, which registers and ships the function’s logs${x86_64SkipReason}`,
    async () => {
      const opt = await unpackLayer('standalone', 'x86_64');

      const result = await runLayer(opt);

      expectShipped(result);
      expect(emulator?.registeredName()).toBe('loki-lambda');
      expect(result.entries[0]?.labels).toMatchObject({ application: 'shop', function: 'layer-check' });
      expect(result.shutdown).toMatchObject({ exitedBeforeDeadline: true, killed: false });
    },
    RUN_TIMEOUT_MS,
  );

  it.skipIf(skipArm64)(
    `arm64: the launcher starts the layer’s aarch64 Node (under qemu), which registers and ships logs${arm64SkipReason}`,
    async () => {
      const opt = await unpackArm64Layer('standalone', 'node');

      const result = await runLayer(opt, EMULATED_INIT_TIMEOUT_MS);

      expectShipped(result);
      expect(emulator?.registeredName()).toBe('loki-lambda');
    },
    RUN_TIMEOUT_MS,
  );
});

describe('the al2 layer (Bun, for Amazon Linux 2 runtimes), unpacked like /opt', () => {
  it.skipIf(!x86_64Runnable)(
    `x86_64: the launcher starts the extension with the layer’s Bun, which registers and ships the function’s logs${x86_64SkipReason}`,
    async () => {
      const opt = await unpackLayer('al2', 'x86_64');

      const result = await runLayer(opt);

      expectShipped(result);
      expect(emulator?.registeredName()).toBe('loki-lambda');
      expect(result.entries[0]?.labels).toMatchObject({ application: 'shop', function: 'layer-check' });
      expect(result.shutdown).toMatchObject({ exitedBeforeDeadline: true, killed: false });
    },
    RUN_TIMEOUT_MS,
  );

  it.skipIf(skipArm64)(
    `arm64: the launcher starts the layer’s aarch64 Bun (under qemu), which registers and ships logs${arm64SkipReason}`,
    async () => {
      const opt = await unpackArm64Layer('al2', 'bun');

      const result = await runLayer(opt, EMULATED_INIT_TIMEOUT_MS);

      expectShipped(result);
    },
    RUN_TIMEOUT_MS,
  );
});
