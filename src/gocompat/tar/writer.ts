/**
 * Tar exactly as Go's `archive/tar` Writer writes it (writer.go, `Format` left
 * unspecified, uid/gid 0, no user or group names) — the bytes flux, helm, opa and
 * docker produce, so that digests agree:
 *
 *   USTAR when every field fits: an ASCII name of ≤ 100 bytes, or one split at the
 *   last possible "/" into a ≤ 155-byte prefix and a ≤ 100-byte name; an ASCII
 *   linkname of ≤ 100 bytes; size and mtime in octal. Otherwise PAX: an extended
 *   header named `dir/PaxHeaders.0/file` (mode, uid, gid, mtime 0, no device
 *   fields) with the sorted records that did not fit (`linkpath`, `mtime`, `path`,
 *   `size`), then the main header with the ASCII-only remnant of each string.
 *
 * Numbers are zero-padded octal with a NUL (`0000644\0`); a value that does not fit
 * is written as 0. The checksum is six octal digits, NUL, space. ModTime is rounded
 * to the second, as Go does for an unspecified format. The archive ends with two
 * zero blocks, not padded to a 10 KiB record.
 */
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import {
  BLOCK,
  MAX_SPECIAL_FILE_SIZE,
  TYPE,
  fitsOctal,
  formatOctal,
  formatPaxRecord,
  formatString,
  isASCII,
  padding,
  setUstarFormat,
  splitUSTARPath,
  toASCII,
} from './format.js';

export interface TarHeader {
  /** Slash-separated, written as given (Go's FileInfoHeader adds "/" to directories; flux does not). */
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink';
  /** Permission bits plus setuid/setgid/sticky. */
  mode: number;
  /** A file's size; 0 for every other type. */
  size?: number;
  /** ModTime in seconds since the epoch; absent = Go's zero time (written as 0). */
  mtime?: number;
  linkname?: string;
}

const TYPEFLAG: Record<TarHeader['type'], string> = {
  file: TYPE.reg,
  dir: TYPE.dir,
  symlink: TYPE.symlink,
  hardlink: TYPE.link,
};

export class TarHeaderError extends Error {}

/** templateV7Plus with the given string formatter (USTAR: as is; PAX: toASCII). */
function template(h: TarHeader, name: string, linkname: string, size: number, mtime: number): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(TYPEFLAG[h.type], 156, 'latin1');
  formatString(b, 'name', name);
  formatString(b, 'linkname', linkname);
  formatOctal(b, 'mode', h.mode);
  formatOctal(b, 'uid', 0);
  formatOctal(b, 'gid', 0);
  formatOctal(b, 'size', size);
  formatOctal(b, 'mtime', mtime);
  formatString(b, 'uname', '');
  formatString(b, 'gname', '');
  formatOctal(b, 'devmajor', 0);
  formatOctal(b, 'devminor', 0);
  return b;
}

/** writeRawFile: the extended header block that precedes a PAX entry. */
function paxHeaderBlock(entryName: string, dataLength: number): Buffer {
  const { dir, base } = splitPath(entryName);
  let name = toASCII(path.posix.join(dir, 'PaxHeaders.0', base));
  if (name.length > 100) name = name.slice(0, 100);
  name = name.replace(/\/+$/, '');
  const b = Buffer.alloc(BLOCK);
  b.write(TYPE.xHeader, 156, 'latin1');
  formatString(b, 'name', name);
  formatOctal(b, 'mode', 0);
  formatOctal(b, 'uid', 0);
  formatOctal(b, 'gid', 0);
  formatOctal(b, 'size', dataLength);
  formatOctal(b, 'mtime', 0);
  setUstarFormat(b);
  return b;
}

/** path.Split: everything up to the last "/", and the rest. */
function splitPath(p: string): { dir: string; base: string } {
  const i = p.lastIndexOf('/');
  return { dir: p.slice(0, i + 1), base: p.slice(i + 1) };
}

/** The header block(s) Go writes for `h`: one USTAR block, or a PAX header, its records and the main block. */
export function goTarHeader(h: TarHeader): Buffer {
  const size = h.type === 'file' ? (h.size ?? 0) : 0;
  const linkname = h.linkname ?? '';
  if (h.name.includes('\0') || linkname.includes('\0'))
    throw new TarHeaderError(`tar name ${JSON.stringify(h.name)}: NUL is not allowed`);
  if (h.type === 'file' && h.name.endsWith('/'))
    throw new TarHeaderError(`tar name ${JSON.stringify(h.name)}: a file name may not end in "/"`);
  if (!Number.isSafeInteger(size) || size < 0) throw new TarHeaderError(`tar member ${h.name}: bad size ${size}`);
  const mtime = h.mtime === undefined ? 0 : Math.round(h.mtime);

  // allowedFormats: what USTAR cannot hold goes into PAX records.
  const pax = new Map<string, string>();
  let ustar = true;
  if (!isASCII(h.name) || h.name.length > 100) {
    pax.set('path', h.name);
    if (!splitUSTARPath(h.name)) ustar = false;
  }
  if (!isASCII(linkname) || linkname.length > 100) {
    pax.set('linkpath', linkname);
    ustar = false;
  }
  if (!fitsOctal(size, 12)) {
    pax.set('size', String(size));
    ustar = false;
  }
  if (h.mtime !== undefined && !fitsOctal(mtime, 12)) {
    pax.set('mtime', String(mtime));
    ustar = false;
  }

  if (ustar) {
    const split = splitUSTARPath(h.name);
    const b = template(h, split ? split.suffix : h.name, linkname, size, mtime);
    if (split) formatString(b, 'prefix', split.prefix);
    setUstarFormat(b);
    return b;
  }
  const keys = [...pax.keys()].sort();
  const data = Buffer.from(keys.map((k) => formatPaxRecord(k, pax.get(k)!)).join(''), 'utf8');
  if (data.length > MAX_SPECIAL_FILE_SIZE) throw new TarHeaderError(`tar member ${h.name}: PAX records too long`);
  const main = template(h, toASCII(h.name), toASCII(linkname), size, mtime);
  setUstarFormat(main);
  return Buffer.concat([paxHeaderBlock(h.name, data.length), data, Buffer.alloc(padding(data.length)), main]);
}

/** The zero padding after a body of `size` bytes. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc(padding(size));
}

/** The end of an archive: two zero blocks (Go does not pad to a 10 KiB record). */
export const TAR_TRAILER = Buffer.alloc(2 * BLOCK);

/** One whole member in memory: header(s), body, padding. */
export function goTarEntry(h: Omit<TarHeader, 'size'>, body: Buffer): Buffer {
  return Buffer.concat([goTarHeader({ ...h, size: body.length }), body, tarPadding(body.length)]);
}

/**
 * A tar stream written to any Writable, bodies streamed with backpressure. The
 * bytes are goTarHeader's, so an archive written here equals Go's for the same headers.
 */
export class TarWriter {
  private written = 0;
  private failure: Error | undefined;

  constructor(private readonly out: Writable) {
    // Remembered, so a failing output (a closed pipe, a full disk) fails the next write.
    out.on('error', (e) => (this.failure ??= e));
  }

  /** Bytes written so far. */
  get bytesWritten(): number {
    return this.written;
  }

  /** Throws the output's error, if it failed (a method, as out.write() may set it synchronously). */
  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private async write(chunk: Buffer): Promise<void> {
    this.throwIfFailed();
    this.written += chunk.length;
    if (this.out.write(chunk)) return;
    this.throwIfFailed();
    const out = this.out;
    await new Promise<void>((resolve, reject) => {
      const done = (e?: Error) => {
        out.off('drain', onDrain);
        out.off('error', done);
        out.off('close', onClose);
        if (e) reject(e);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(new Error('the output closed before the archive was complete'));
      out.on('drain', onDrain).on('error', done).on('close', onClose);
    });
  }

  /** Adds a member; a file's body is `data` (bytes, or a stream of exactly `size` bytes). */
  async add(h: TarHeader, data?: Buffer | Readable): Promise<void> {
    const size = h.type === 'file' ? (Buffer.isBuffer(data) ? data.length : (h.size ?? 0)) : 0;
    await this.write(goTarHeader({ ...h, size }));
    if (h.type !== 'file') return;
    if (Buffer.isBuffer(data)) {
      await this.write(data);
    } else if (data) {
      let n = 0;
      for await (const chunk of data as AsyncIterable<Buffer>) {
        n += chunk.length;
        if (n > size) throw new Error(`tar member ${h.name}: more than the announced ${size} bytes`);
        await this.write(chunk);
      }
      if (n !== size) throw new Error(`tar member ${h.name}: ${n} bytes instead of the announced ${size}`);
    } else if (size !== 0) {
      throw new Error(`tar member ${h.name}: no data for ${size} bytes`);
    }
    if (padding(size)) await this.write(tarPadding(size));
  }

  /** Writes the two zero blocks that end an archive. */
  async finish(): Promise<void> {
    await this.write(TAR_TRAILER);
  }
}
