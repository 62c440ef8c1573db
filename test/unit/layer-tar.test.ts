import { describe, expect, it } from 'vitest';
import { extractTarFiles, TarFormatError } from '../../src/layer/tar.js';
import { chunked, makeTar, paxRecord } from './layer-fixtures.js';

describe('extractTarFiles', () => {
  it('returns the wanted files of a tar delivered in odd-sized chunks', async () => {
    const big = Buffer.alloc(5000, 'n');
    const tar = makeTar([
      { name: 'package/', type: '5' },
      { name: 'package/LICENSE', content: 'license' },
      { name: 'package/bin/node', content: big, mode: 0o755 },
      { name: 'package/README.md', content: 'readme' },
    ]);

    const files = await extractTarFiles(chunked(tar, 333), ['package/bin/node', 'package/LICENSE']);

    expect(files.get('package/bin/node')?.equals(big)).toBe(true);
    expect(files.get('package/LICENSE')?.toString()).toBe('license');
    expect([...files.keys()].sort()).toEqual(['package/LICENSE', 'package/bin/node']);
  });

  it('joins the ustar prefix and name into the path', async () => {
    const tar = makeTar([{ name: 'bin/node', prefix: 'package', content: 'binary' }]);

    const files = await extractTarFiles(chunked(tar, 512), ['package/bin/node']);

    expect(files.get('package/bin/node')?.toString()).toBe('binary');
  });

  it('takes the path of a pax extended header over the header name', async () => {
    const long = `package/${'d'.repeat(120)}/node`;
    const tar = makeTar([
      { name: 'PaxHeader', type: 'x', content: paxRecord('path', long) },
      { name: 'package/truncated', content: 'binary' },
      { name: 'package/other', content: 'other' },
    ]);

    const files = await extractTarFiles(chunked(tar, 700), [long, 'package/truncated', 'package/other']);

    expect(files.get(long)?.toString()).toBe('binary');
    expect(files.has('package/truncated')).toBe(false);
    expect(files.get('package/other')?.toString()).toBe('other');
  });

  it('takes the path of a GNU long name entry', async () => {
    const long = `package/${'e'.repeat(150)}`;
    const tar = makeTar([
      { name: '././@LongLink', type: 'L', content: `${long}\0` },
      { name: 'package/short', content: 'binary' },
    ]);

    const files = await extractTarFiles(chunked(tar, 512), [long]);

    expect(files.get(long)?.toString()).toBe('binary');
  });

  it('returns nothing for a path the archive does not have, and ignores directories of that name', async () => {
    const tar = makeTar([{ name: 'package/bin/node', type: '5' }]);

    const files = await extractTarFiles(chunked(tar, 512), ['package/bin/node']);

    expect(files.size).toBe(0);
  });

  it('fails on an archive cut in the middle of an entry', async () => {
    const tar = makeTar([{ name: 'package/bin/node', content: Buffer.alloc(2000, 1) }]).subarray(0, 1200);

    await expect(extractTarFiles(chunked(tar, 512), ['package/bin/node'])).rejects.toThrow(TarFormatError);
  });
});
