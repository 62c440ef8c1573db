/** Builders for the layer tests: tar archives and npm-like package tarballs, made in memory. */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export interface TarEntrySpec {
  readonly name: string;
  readonly content?: string | Buffer;
  /** Tar type flag: '0' file, '5' directory, 'x' pax header, 'L' GNU long name. */
  readonly type?: string;
  readonly prefix?: string;
  readonly mode?: number;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** One ustar header plus its content padded to 512-byte blocks. */
function tarEntry(spec: TarEntrySpec): Buffer {
  const content = Buffer.from(spec.content ?? '');
  const header = Buffer.alloc(512);
  header.write(spec.name, 0, 100, 'utf8');
  header.write(octal(spec.mode ?? 0o644, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii');
  header.write(octal(0, 8), 116, 'ascii');
  header.write(octal(content.length, 12), 124, 'ascii');
  header.write(octal(0, 12), 136, 'ascii');
  header.write(spec.type ?? '0', 156, 'ascii');
  header.write('ustar\u000000', 257, 'ascii');
  header.write(spec.prefix ?? '', 345, 155, 'utf8');
  header.fill(' ', 148, 156);
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  header.write(octal(checksum, 7), 148, 'ascii');
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding]);
}

/** A pax extended header record: `"<len> key=value\n"`, where len counts the whole record. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = body.length + 1;
  while (`${length}${body}`.length !== length) length += 1;
  return `${length}${body}`;
}

export function makeTar(entries: readonly TarEntrySpec[]): Buffer {
  return Buffer.concat([...entries.map(tarEntry), Buffer.alloc(1024)]);
}

/** A gzipped tarball shaped like the node-linux-* packages: package/bin/node and package/LICENSE. */
export function makeNodePackageTarball(nodeContent: string, licenseContent = 'MIT license text'): Buffer {
  return gzipSync(
    makeTar([
      { name: 'package/LICENSE', content: licenseContent },
      { name: 'package/README.md', content: 'readme' },
      { name: 'package/bin/node', content: nodeContent, mode: 0o755 },
    ]),
  );
}

export function sriOf(content: Buffer): string {
  return `sha512-${createHash('sha512').update(content).digest('base64')}`;
}

/** An async iterable delivering `data` in chunks of `size` bytes (to cross block boundaries). */
export async function* chunked(data: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
}
