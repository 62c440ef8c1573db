import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { createNpmRunner, NpmNotFoundError } from '../../src/layer/npm.js';

describe('createNpmRunner', () => {
  it("runs the user's npm and reports its exit code and output", async () => {
    const npm = createNpmRunner(tmpdir(), process.env);

    const result = await npm(['--version']);

    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('fails with NpmNotFoundError when npm is not on PATH', async () => {
    const npm = createNpmRunner(tmpdir(), { PATH: '/nonexistent-loki-lambda-test' });

    await expect(npm(['--version'])).rejects.toThrow(NpmNotFoundError);
  });
});
