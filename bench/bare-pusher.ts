/**
 * Drives bench/baselines/bare-push.mjs: a separate process that POSTs prepared Loki push bodies over
 * one keep-alive connection and reports each round trip, the baseline of the `end` strategy.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { encodePushRequest } from '../test/support/loki-receiver.js';
import { logLine } from './log-lines.js';
import { baselinePath } from './processes.js';

export interface BarePush {
  readonly status: number;
  readonly roundTripMs: number;
  readonly bodyBytes: number;
}

export class BarePusher {
  private readonly waiting: Array<(line: string) => void> = [];
  private sequence = 0;
  private lastTimestampNs = 0n;

  private constructor(private readonly child: ChildProcess) {
    if (child.stdout === null) throw new Error('bare-push has no stdout');
    createInterface({ input: child.stdout }).on('line', (line) => this.waiting.shift()?.(line));
  }

  static start(pushUrl: string): BarePusher {
    const child = spawn(process.execPath, [baselinePath('bare-push.mjs')], {
      env: { PATH: process.env.PATH ?? '', PUSH_URL: pushUrl },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    return new BarePusher(child);
  }

  /** A fresh push body (distinct lines, increasing timestamps) of `lines` lines of `lineBytes` each. */
  body(lines: number, lineBytes: number): Buffer {
    const entries = [];
    for (let i = 0; i < lines; i++) {
      const timestampNs = BigInt(Date.now()) * 1_000_000n;
      this.lastTimestampNs = timestampNs > this.lastTimestampNs ? timestampNs : this.lastTimestampNs + 1n;
      entries.push({
        timestampNs: this.lastTimestampNs,
        line: logLine(`bare-${this.sequence++}`, lineBytes),
        metadata: { request_id: '8f5a4c3e-0000-4000-8000-000000000000', function_version: '$LATEST' },
      });
    }
    return encodePushRequest([
      {
        labels: '{application="bench", environment="bare", function="bare-push", source="function"}',
        entries,
      },
    ]);
  }

  /** POSTs one body from the child process and returns what it measured. */
  push(body: Buffer): Promise<BarePush> {
    const stdin = this.child.stdin;
    if (stdin === null) throw new Error('bare-push has no stdin');
    return new Promise((resolve) => {
      this.waiting.push((line) => {
        const [status, ms] = line.split(' ');
        resolve({ status: Number(status), roundTripMs: Number(ms), bodyBytes: body.byteLength });
      });
      stdin.write(`${body.toString('base64')}\n`);
    });
  }

  close(): void {
    this.child.stdin?.end();
    this.child.kill();
  }
}
