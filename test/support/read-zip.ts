import { constants, inflateRawSync } from 'node:zlib';

/** One entry of a zip's central directory, as an unzipper (and Lambda) sees it. */
export interface ZipEntry {
  readonly name: string;
  readonly isDirectory: boolean;
  /** Unix permission bits (e.g. 0o755) from the external attributes; 0 when not made on Unix. */
  readonly mode: number;
  /** Unix file type bits (S_IFREG 0o100000, S_IFDIR 0o040000). */
  readonly fileType: number;
  /** Host that made the entry: 3 is Unix (the only one whose mode bits unzip applies). */
  readonly madeByHost: number;
  /** MS-DOS date and time words of the entry. */
  readonly dosDate: number;
  readonly dosTime: number;
  /** Extra field lengths (extended timestamps, uid/gid... would show up here). */
  readonly localExtraBytes: number;
  readonly centralExtraBytes: number;
  readonly compressedSize: number;
  readonly size: number;
  /** The uncompressed content. */
  readonly content: () => Buffer;
  /**
   * The first bytes of the content (at least `bytes` when the entry is that long), without inflating
   * the rest: an ELF header of a 100 MB binary costs microseconds instead of a second.
   */
  readonly head: (bytes: number) => Buffer;
}

export class ZipFormatError extends Error {
  override readonly name = 'ZipFormatError';
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_FILE_HEADER = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;
const METHOD_STORED = 0;
const METHOD_DEFLATED = 8;

function findEndOfCentralDirectory(zip: Buffer): number {
  // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  for (let offset = zip.length - 22; offset >= Math.max(0, zip.length - 22 - 0xffff); offset -= 1) {
    if (zip.readUInt32LE(offset) === END_OF_CENTRAL_DIRECTORY) return offset;
  }
  throw new ZipFormatError('not a zip file (no end of central directory record)');
}

/** Lists a zip's entries (no ZIP64, which layer zips never need). */
export function readZip(zip: Buffer): ZipEntry[] {
  const end = findEndOfCentralDirectory(zip);
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i += 1) {
    if (zip.readUInt32LE(offset) !== CENTRAL_FILE_HEADER)
      throw new ZipFormatError(`bad central header #${i}`);
    const madeBy = zip.readUInt16LE(offset + 4);
    const method = zip.readUInt16LE(offset + 10);
    const dosTime = zip.readUInt16LE(offset + 12);
    const dosDate = zip.readUInt16LE(offset + 14);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const size = zip.readUInt32LE(offset + 24);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const external = zip.readUInt32LE(offset + 38);
    const localOffset = zip.readUInt32LE(offset + 42);
    const name = zip.subarray(offset + 46, offset + 46 + nameLength).toString('utf8');
    if (zip.readUInt32LE(localOffset) !== LOCAL_FILE_HEADER)
      throw new ZipFormatError(`bad local header of ${name}`);
    const localExtraBytes = zip.readUInt16LE(localOffset + 28);
    const dataStart = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + localExtraBytes;
    const unixMode = external >>> 16;
    entries.push({
      name,
      isDirectory: name.endsWith('/'),
      mode: unixMode & 0o7777,
      fileType: unixMode & 0o170000,
      madeByHost: madeBy >>> 8,
      dosDate,
      dosTime,
      localExtraBytes,
      centralExtraBytes: extraLength,
      compressedSize,
      size,
      content: () => {
        const data = zip.subarray(dataStart, dataStart + compressedSize);
        if (method === METHOD_STORED) return Buffer.from(data);
        if (method === METHOD_DEFLATED) return inflateRawSync(data);
        throw new ZipFormatError(`unsupported compression method ${method} for ${name}`);
      },
      head: (bytes) => {
        const data = zip.subarray(dataStart, dataStart + compressedSize);
        if (method === METHOD_STORED) return Buffer.from(data.subarray(0, bytes));
        if (method !== METHOD_DEFLATED)
          throw new ZipFormatError(`unsupported compression method ${method} for ${name}`);
        // Deflate never takes more than ~1 input byte per 1 output byte plus block headers: inflating
        // a cut start (sync flush: no error for the missing end) gives at least `bytes` out.
        const cut = data.subarray(0, bytes + 1024);
        return inflateRawSync(cut, { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, bytes);
      },
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
