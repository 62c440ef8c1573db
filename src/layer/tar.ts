/**
 * A minimal streaming reader for (uncompressed) tar archives: enough to take one regular file out of
 * an npm package tarball without a dependency. Understands ustar prefixes, pax `path` records and GNU
 * long names, which is what npm's tar writer produces.
 */

const BLOCK_BYTES = 512;

export class TarFormatError extends Error {
  override readonly name = 'TarFormatError';
}

/** Reads exact byte counts from an async stream of chunks. */
class ByteReader {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private done = false;

  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  /** Returns exactly `n` bytes, or undefined when the stream ends first. */
  async read(n: number): Promise<Buffer | undefined> {
    while (this.buffered < n && !this.done) {
      const next = await this.source.next();
      if (next.done) {
        this.done = true;
      } else {
        const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
        this.chunks.push(chunk);
        this.buffered += chunk.length;
      }
    }
    if (this.buffered < n) return undefined;
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0]!;
      const take = Math.min(head.length, n - filled);
      head.copy(out, filled, 0, take);
      filled += take;
      if (take === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(take);
    }
    this.buffered -= n;
    return out;
  }
}

function cString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
}

function parseSize(block: Buffer): number {
  const field = block.subarray(124, 136);
  // GNU base-256 encoding for sizes that do not fit 11 octal digits.
  if ((field[0]! & 0x80) !== 0) {
    let value = 0;
    for (let i = 1; i < field.length; i += 1) value = value * 256 + field[i]!;
    return value;
  }
  const text = cString(field, 0, field.length).trim();
  const value = text === '' ? 0 : Number.parseInt(text, 8);
  if (!Number.isSafeInteger(value) || value < 0) throw new TarFormatError(`bad tar entry size "${text}"`);
  return value;
}

/** The `path` of a pax extended header body (`"<len> key=value\n"` records), if any. */
function paxPath(body: Buffer): string | undefined {
  let path: string | undefined;
  let offset = 0;
  while (offset < body.length) {
    const space = body.indexOf(0x20, offset);
    if (space === -1) break;
    const length = Number.parseInt(body.subarray(offset, space).toString('ascii'), 10);
    if (!Number.isSafeInteger(length) || length <= 0) break;
    const record = body.subarray(space + 1, offset + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals !== -1 && record.slice(0, equals) === 'path') path = record.slice(equals + 1);
    offset += length;
  }
  return path;
}

function isZeroBlock(block: Buffer): boolean {
  return block.every((byte) => byte === 0);
}

function paddedSize(size: number): number {
  return Math.ceil(size / BLOCK_BYTES) * BLOCK_BYTES;
}

/**
 * Returns the contents of the regular files at `wantedPaths` in the tar stream (those the archive
 * has). Stops reading as soon as all are found.
 */
export async function extractTarFiles(
  source: AsyncIterable<Uint8Array>,
  wantedPaths: readonly string[],
): Promise<Map<string, Buffer>> {
  const iterator = source[Symbol.asyncIterator]();
  try {
    return await findFiles(new ByteReader(iterator), new Set(wantedPaths));
  } finally {
    // Stop the source (close the file, end gunzip) whether we found the file early or failed.
    await iterator.return?.();
  }
}

async function findFiles(reader: ByteReader, wanted: Set<string>): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  let nextPath: string | undefined;
  while (found.size < wanted.size) {
    const header = await reader.read(BLOCK_BYTES);
    if (header === undefined || isZeroBlock(header)) break;
    const size = parseSize(header);
    const type = String.fromCharCode(header[156]!);
    const body = await reader.read(paddedSize(size));
    if (body === undefined) throw new TarFormatError('tar archive ends in the middle of an entry');
    const content = body.subarray(0, size);
    if (type === 'x') {
      nextPath = paxPath(content) ?? nextPath;
      continue;
    }
    if (type === 'L') {
      nextPath = cString(content, 0, content.length);
      continue;
    }
    if (type === 'g') continue;
    const isUstar = header.subarray(257, 262).toString('ascii') === 'ustar';
    const prefix = isUstar ? cString(header, 345, 155) : '';
    const name = cString(header, 0, 100);
    const path = nextPath ?? (prefix ? `${prefix}/${name}` : name);
    nextPath = undefined;
    if ((type === '0' || type === '\0') && wanted.has(path)) found.set(path, content);
  }
  return found;
}
