/**
 * The extension's process as Lambda runs it: its own process group (a launcher script and the Node
 * it starts are frozen together), output captured line by line, SIGSTOP/SIGCONT for freeze/thaw.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly atMs: number;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  readonly spawnError: string | undefined;
}

export interface SpawnOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly now: () => number;
  readonly onLine: (line: string) => void;
}

// Groups still alive, so a crashing test run never leaves a stopped process behind.
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pid of liveGroups) {
      signalGroup(pid, 'SIGCONT');
      signalGroup(pid, 'SIGKILL');
    }
  });
}

export class ExtensionProcess {
  readonly exited: Promise<ProcessExit>;
  /** Resolves when stdout and stderr are closed too (all output captured). */
  readonly outputClosed: Promise<void>;
  private readonly child: ChildProcess;
  private exit: ProcessExit | undefined;
  private stoppedNow = false;
  private captured = '';

  private constructor(options: SpawnOptions) {
    installExitHook();
    this.child = spawn(options.command, [...options.args], {
      env: { ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const pid = this.child.pid;
    if (pid !== undefined) liveGroups.add(pid);
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream !== null) this.captureLines(stream, options.onLine);
    }
    this.exited = new Promise((resolve) => {
      const finish = (exit: ProcessExit): void => {
        if (this.exit !== undefined) return;
        this.exit = exit;
        this.stoppedNow = false;
        resolve(exit);
      };
      this.child.once('exit', (code, signal) =>
        finish({ code, signal, atMs: options.now(), spawnError: undefined }),
      );
      this.child.once('error', (error) =>
        finish({ code: null, signal: null, atMs: options.now(), spawnError: error.message }),
      );
    });
    this.outputClosed = new Promise((resolve) => {
      this.child.once('close', () => resolve());
      this.child.once('error', () => resolve());
    });
  }

  static start(options: SpawnOptions): ExtensionProcess {
    return new ExtensionProcess(options);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exit === undefined && this.child.pid !== undefined;
  }

  get frozen(): boolean {
    return this.stoppedNow;
  }

  get exitInfo(): ProcessExit | undefined {
    return this.exit;
  }

  /** Everything the process wrote to stdout and stderr, in arrival order. */
  output(): string {
    return this.captured;
  }

  freeze(): void {
    const pid = this.child.pid;
    if (!this.alive || this.stoppedNow || pid === undefined) return;
    signalGroup(pid, 'SIGSTOP');
    this.stoppedNow = true;
  }

  thaw(): void {
    const pid = this.child.pid;
    if (!this.stoppedNow || pid === undefined) return;
    signalGroup(pid, 'SIGCONT');
    this.stoppedNow = false;
  }

  /** SIGKILL for the whole group; SIGCONT first so nothing stays stopped. */
  kill(): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    signalGroup(pid, 'SIGCONT');
    signalGroup(pid, 'SIGKILL');
    this.stoppedNow = false;
  }

  /** Forgets the group once it is dead, so the exit hook never signals a reused id. */
  release(): void {
    const pid = this.child.pid;
    if (pid !== undefined && !this.alive) liveGroups.delete(pid);
  }

  /** Peak resident memory of the process (VmHWM), in MB rounded up; 0 when unknown. */
  maxMemoryUsedMb(): number {
    const pid = this.child.pid;
    if (pid === undefined || !this.alive) return 0;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1];
      return kb === undefined ? 0 : Math.ceil(Number(kb) / 1024);
    } catch {
      return 0;
    }
  }

  private captureLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.captured += chunk;
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const part of parts) onLine(part.replace(/\r$/, ''));
    });
    stream.on('end', () => {
      if (partial !== '') onLine(partial);
      partial = '';
    });
  }
}
