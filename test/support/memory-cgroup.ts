/**
 * A memory cgroup for a test: the sandbox's memory limit, as Lambda enforces it. Uses whatever the
 * machine offers, cgroup v2 (memory.max) or v1 (memory.limit_in_bytes); creating one needs root.
 */
import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';

export interface MemoryCgroup {
  readonly version: 1 | 2;
  readonly path: string;
  /** Writing a pid here moves that process into the group. */
  readonly procsFile: string;
  /** The file with the group's current charge in bytes. */
  readonly usageFile: string;
  /** The most the group was charged since it was made (sampled when the kernel keeps no peak). */
  peakBytes(): Promise<number>;
  /** Processes the kernel's OOM killer ended in this group. */
  oomKills(): Promise<number>;
  /** Pids still in the group. */
  pids(): Promise<number[]>;
  remove(): Promise<void>;
}

export type CgroupResult =
  | { readonly ok: true; readonly cgroup: MemoryCgroup }
  | { readonly ok: false; readonly reason: string };

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

async function readNumber(path: string): Promise<number> {
  return Number((await readFile(path, 'utf8')).trim());
}

/** `oom_kill N` from memory.events (v2) or memory.oom_control (v1, kernel 4.13+). */
async function readOomKills(path: string): Promise<number> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const match = /^oom_kill (\d+)$/m.exec(text);
  return match ? Number(match[1]) : 0;
}

/** This process's cgroup path in a hierarchy: `0::/x` for v2, `N:memory:/x` for v1. */
async function ownPath(version: 1 | 2): Promise<string> {
  const lines = (await readFile('/proc/self/cgroup', 'utf8')).split('\n');
  for (const line of lines) {
    const [, controllers, path] = line.split(':', 3);
    if (path === undefined) continue;
    if (version === 2 && controllers === '') return path;
    if (version === 1 && controllers?.split(',').includes('memory')) return path;
  }
  return '/';
}

/** Creates a memory cgroup limited to `limitBytes`, without swap, or says why it cannot. */
export async function createMemoryCgroup(name: string, limitBytes: number): Promise<CgroupResult> {
  const reasons: string[] = [];
  if (await exists(join(CGROUP_ROOT, 'cgroup.controllers'))) {
    const made = await createV2(name, limitBytes, reasons);
    if (made) return { ok: true, cgroup: made };
  }
  const v1 = join(CGROUP_ROOT, 'memory');
  if (await exists(join(v1, 'memory.limit_in_bytes'))) {
    const made = await createV1(v1, name, limitBytes, reasons);
    if (made) return { ok: true, cgroup: made };
  }
  if (reasons.length === 0) reasons.push(`no memory controller under ${CGROUP_ROOT} (neither v2 nor v1)`);
  return { ok: false, reason: reasons.join('; ') };
}

async function createV2(
  name: string,
  limitBytes: number,
  reasons: string[],
): Promise<MemoryCgroup | undefined> {
  // Under our own group first; v2 lets a group with processes enable no controller for its children, so
  // the root is the fallback.
  const parents = [...new Set([join(CGROUP_ROOT, await ownPath(2)), CGROUP_ROOT])];
  for (const parent of parents) {
    const path = join(parent, name);
    try {
      await writeFile(join(parent, 'cgroup.subtree_control'), '+memory').catch(() => undefined);
      await mkdir(path);
      if (!(await exists(join(path, 'memory.max')))) {
        await rmdir(path);
        reasons.push(`cgroup v2: no memory controller in ${parent}`);
        continue;
      }
      await writeFile(join(path, 'memory.max'), String(limitBytes));
      await writeFile(join(path, 'memory.swap.max'), '0').catch(() => undefined);
      const hasPeak = await exists(join(path, 'memory.peak'));
      const sampler = hasPeak ? undefined : new PeakSampler(join(path, 'memory.current'));
      return {
        version: 2,
        path,
        procsFile: join(path, 'cgroup.procs'),
        usageFile: join(path, 'memory.current'),
        peakBytes: async () => (hasPeak ? readNumber(join(path, 'memory.peak')) : (sampler?.peak() ?? 0)),
        oomKills: () => readOomKills(join(path, 'memory.events')),
        pids: () => readPids(join(path, 'cgroup.procs')),
        remove: async () => {
          sampler?.stop();
          await rmdir(path);
        },
      };
    } catch (error) {
      reasons.push(`cgroup v2 under ${parent}: ${(error as Error).message}`);
    }
  }
  return undefined;
}

async function createV1(
  hierarchy: string,
  name: string,
  limitBytes: number,
  reasons: string[],
): Promise<MemoryCgroup | undefined> {
  const parents = [...new Set([join(hierarchy, await ownPath(1)), hierarchy])];
  for (const parent of parents) {
    const path = join(parent, name);
    try {
      await mkdir(path);
      await writeFile(join(path, 'memory.limit_in_bytes'), String(limitBytes));
      // No swap either: the sandbox has none.
      await writeFile(join(path, 'memory.memsw.limit_in_bytes'), String(limitBytes)).catch(() => undefined);
      await writeFile(join(path, 'memory.swappiness'), '0').catch(() => undefined);
      return {
        version: 1,
        path,
        procsFile: join(path, 'cgroup.procs'),
        usageFile: join(path, 'memory.usage_in_bytes'),
        peakBytes: () => readNumber(join(path, 'memory.max_usage_in_bytes')),
        oomKills: () => readOomKills(join(path, 'memory.oom_control')),
        pids: () => readPids(join(path, 'cgroup.procs')),
        remove: () => rmdir(path),
      };
    } catch (error) {
      reasons.push(`cgroup v1 under ${parent}: ${(error as Error).message}`);
    }
  }
  return undefined;
}

async function readPids(path: string): Promise<number[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map(Number);
}

/** For kernels without memory.peak: the highest memory.current seen, read every 20 ms. */
class PeakSampler {
  private highest = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(file: string) {
    this.timer = setInterval(() => {
      readNumber(file).then(
        (bytes) => {
          this.highest = Math.max(this.highest, bytes);
        },
        () => undefined,
      );
    }, 20);
    this.timer.unref();
  }

  peak(): number {
    return this.highest;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
