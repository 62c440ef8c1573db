import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDeterministicZip, ZIP_ENTRY_DATE } from '../../src/layer/zip.js';
import { readZip } from '../support/read-zip.js';

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const UNIX_HOST = 3;
/** 1980-01-01 00:00:00 as MS-DOS date and time words. */
const DOS_DATE_1980_01_01 = (0 << 9) | (1 << 5) | 1;

const files = [
  { path: 'loki-lambda/index.cjs', content: Buffer.from('console.log(1)'), mode: 0o644 },
  { path: 'extensions/loki-lambda', content: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
  { path: 'loki-lambda/node', content: Buffer.alloc(100_000, 7), mode: 0o755 },
];

afterEach(() => {
  vi.useRealTimers();
});

describe('createDeterministicZip', () => {
  it('writes byte-identical zips for the same files, whatever their order or the time', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2001-02-03T04:05:06Z'));
    const first = await createDeterministicZip(files);
    vi.setSystemTime(new Date('2031-12-30T23:59:58Z'));
    const second = await createDeterministicZip([...files].reverse());
    vi.useRealTimers();

    expect(second.equals(first)).toBe(true);
  });

  it('sorts entries and adds a 0755 entry for every directory', async () => {
    const entries = readZip(await createDeterministicZip(files));

    expect(entries.map((e) => [e.name, e.mode.toString(8), e.fileType])).toEqual([
      ['extensions/', '755', S_IFDIR],
      ['extensions/loki-lambda', '755', S_IFREG],
      ['loki-lambda/', '755', S_IFDIR],
      ['loki-lambda/index.cjs', '644', S_IFREG],
      ['loki-lambda/node', '755', S_IFREG],
    ]);
  });

  it('gives every entry Unix attributes, the fixed date and no extra fields (no extended timestamps)', async () => {
    const entries = readZip(await createDeterministicZip(files));

    for (const entry of entries) {
      expect(entry.madeByHost, entry.name).toBe(UNIX_HOST);
      expect(entry.dosDate, entry.name).toBe(DOS_DATE_1980_01_01);
      expect(entry.dosTime, entry.name).toBe(0);
      expect(entry.localExtraBytes, entry.name).toBe(0);
      expect(entry.centralExtraBytes, entry.name).toBe(0);
    }
    expect(ZIP_ENTRY_DATE.toISOString()).toBe('1980-01-01T00:00:00.000Z');
  });

  it('stores the contents faithfully, compressed', async () => {
    const zip = await createDeterministicZip(files);
    const node = readZip(zip).find((e) => e.name === 'loki-lambda/node')!;

    expect(node.content().equals(files[2]!.content)).toBe(true);
    expect(node.compressedSize).toBeLessThan(node.size);
  });

  it('lets a test read the start of a big entry without inflating all of it (an ELF header)', async () => {
    // Incompressible bytes: the cut start must still inflate to as many bytes as asked.
    const binary = randomBytes(4 * 1024 * 1024);
    const zip = await createDeterministicZip([{ path: 'bin/big', content: binary, mode: 0o755 }]);
    const entry = readZip(zip).find((e) => e.name === 'bin/big')!;

    expect(entry.head(64).equals(binary.subarray(0, 64))).toBe(true);
    expect(entry.head(100_000).equals(binary.subarray(0, 100_000))).toBe(true);
  });

  it.each([
    ['an absolute path', '/etc/passwd'],
    ['a parent reference', 'a/../../b'],
    ['a directory name', 'a/'],
  ])('rejects %s', async (_case, path) => {
    await expect(createDeterministicZip([{ path, content: Buffer.from(''), mode: 0o644 }])).rejects.toThrow(
      /invalid zip entry path/,
    );
  });

  it('rejects the same path twice', async () => {
    await expect(createDeterministicZip([files[0]!, files[0]!])).rejects.toThrow(/duplicate zip entry/);
  });
});
