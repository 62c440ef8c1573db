import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli.js';
import { canSpin } from '../../src/commands/build.js';
import { fakeZip } from '../support/aws-cli.js';

/** A terminal-like stdout whose width the test chooses. */
class Terminal extends Writable {
  text = '';
  readonly isTTY = true;
  constructor(readonly columns: number | undefined) {
    super();
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

let work: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'loki-lambda-spinner-'));
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the build spinner', () => {
  it('is used only on a terminal whose width is known and not 0, outside CI and TERM=dumb', () => {
    expect(canSpin({ isTTY: true, columns: 80 })).toBe(true);
    expect(canSpin({ isTTY: true, columns: 0 })).toBe(false);
    expect(canSpin({ isTTY: true, columns: undefined })).toBe(false);
    expect(canSpin({ isTTY: false, columns: 80 })).toBe(false);
    expect(canSpin({ isTTY: true, columns: 80 }, { CI: 'true' })).toBe(false);
    expect(canSpin({ isTTY: true, columns: 80 }, { TERM: 'dumb' })).toBe(false);
  });

  it('writes no escape codes when the terminal width is unknown or 0', async () => {
    for (const columns of [undefined, 0]) {
      const stdout = new Terminal(columns);
      const stderr = new Terminal(columns);
      const code = await run(
        ['build', '--flavor', 'slim', '--arch', 'arm64'],
        { stdout, stderr, env: {}, cwd: work },
        {
          buildLayers: async ({ onProgress }) => {
            onProgress?.('bundling the extension');
            return [{ ...(await fakeZip(work, 'slim', 'arm64')), nodeVersion: null }];
          },
        },
      );

      expect(code).toBe(0);
      expect(stdout.text).toContain('loki-lambda-slim-arm64.zip');
      expect(stdout.text).not.toContain('\u001b');
    }
  });
});
