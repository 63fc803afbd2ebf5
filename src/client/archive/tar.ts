/**
 * Tar, just enough for image archives, streaming both ways:
 *
 *   TarWriter  ustar entries written to any Writable, file bodies streamed with
 *              backpressure; PAX records for long paths and sizes ≥ 8 GiB.
 *   indexTar   reads only the 512-byte headers of an uncompressed tar file (seeking
 *              over the bodies) and returns where each member's bytes are, so members
 *              can be streamed in any order without extracting anything. Understands
 *              ustar prefixes, PAX (path, linkpath, size), GNU long names and base-256
 *              sizes; resolves symlinks and hard links inside the archive and refuses
 *              paths that climb out of it.
 */
import { open } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { parsePax, tarChecksumOk, tarNumber, tarString, ustarName } from '../../util/tar-header.js';

const BLOCK = 512;
const MAX_OCTAL_SIZE = 0o77777777777;

export interface TarEntryHeader {
  path: string;
  type?: 'file' | 'dir' | 'symlink';
  size?: number;
  mode?: number;
  /** Seconds since the epoch; default 0 (reproducible, like docker save). */
  mtime?: number;
  linkname?: string;
}

function writeField(buf: Buffer, s: string, offset: number, length: number): void {
  Buffer.from(s, 'utf8').copy(buf, offset, 0, length);
}

function octal(n: number, length: number): string {
  return `${n.toString(8).padStart(length - 1, '0')}\0`;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

function header(name: string, typeflag: string, size: number, mode: number, mtime: number, linkname = '', prefix = ''): Buffer {
  const h = Buffer.alloc(BLOCK);
  writeField(h, name, 0, 100);
  writeField(h, octal(mode, 8), 100, 8);
  writeField(h, octal(0, 8), 108, 8);
  writeField(h, octal(0, 8), 116, 8);
  writeField(h, octal(size, 12), 124, 12);
  writeField(h, octal(mtime, 12), 136, 12);
  h.fill(0x20, 148, 156);
  writeField(h, typeflag, 156, 1);
  writeField(h, linkname, 157, 100);
  writeField(h, 'ustar\0', 257, 6);
  writeField(h, '00', 263, 2);
  writeField(h, prefix, 345, 155);
  let sum = 0;
  for (const b of h) sum += b;
  writeField(h, `${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return h;
}

/** Splits a path into ustar prefix + name when it does not fit in 100 bytes. */
function splitPath(p: string): { name: string; prefix: string } | undefined {
  if (Buffer.byteLength(p) <= 100) return { name: p, prefix: '' };
  for (let i = p.indexOf('/'); i !== -1; i = p.indexOf('/', i + 1)) {
    const prefix = p.slice(0, i);
    const name = p.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '') return { name, prefix };
  }
  return undefined;
}

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

  private async write(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    this.written += chunk.length;
    if (!this.out.write(chunk)) {
      if (this.failure) throw this.failure;
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
  }

  /** Adds an entry; a file's body comes from `data` (bytes, or a stream of exactly `size` bytes). */
  async add(entry: TarEntryHeader, data?: Buffer | Readable): Promise<void> {
    const type = entry.type ?? 'file';
    let p = entry.path.replace(/^\/+/, '');
    if (type === 'dir' && !p.endsWith('/')) p += '/';
    const size = type === 'file' ? (Buffer.isBuffer(data) ? data.length : (entry.size ?? 0)) : 0;
    const mode = entry.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644);
    const mtime = entry.mtime ?? 0;
    const pax: string[] = [];
    let split = splitPath(p);
    if (!split) {
      pax.push(paxRecord('path', p));
      split = { name: p.slice(-100).replace(/^[^/]*\//, ''), prefix: '' };
    }
    const linkname = entry.linkname ?? '';
    if (Buffer.byteLength(linkname) > 100) pax.push(paxRecord('linkpath', linkname));
    if (size > MAX_OCTAL_SIZE) pax.push(paxRecord('size', String(size)));
    if (pax.length > 0) {
      const body = Buffer.from(pax.join(''), 'utf8');
      await this.write(header('PaxHeader', 'x', body.length, 0o644, mtime));
      await this.write(body);
      await this.pad(body.length);
    }
    const typeflag = type === 'file' ? '0' : type === 'dir' ? '5' : '2';
    await this.write(header(split.name, typeflag, Math.min(size, MAX_OCTAL_SIZE), mode, mtime, linkname.slice(0, 100), split.prefix));
    if (type !== 'file') return;
    if (Buffer.isBuffer(data)) {
      await this.write(data);
    } else if (data) {
      let n = 0;
      for await (const chunk of data as AsyncIterable<Buffer>) {
        n += chunk.length;
        if (n > size) throw new Error(`tar member ${p}: more than the announced ${size} bytes`);
        await this.write(chunk);
      }
      if (n !== size) throw new Error(`tar member ${p}: ${n} bytes instead of the announced ${size}`);
    } else if (size !== 0) {
      throw new Error(`tar member ${p}: no data for ${size} bytes`);
    }
    await this.pad(size);
  }

  private async pad(size: number): Promise<void> {
    const rem = size % BLOCK;
    if (rem !== 0) await this.write(Buffer.alloc(BLOCK - rem));
  }

  /** Writes the two zero blocks that end an archive. */
  async finish(): Promise<void> {
    await this.write(Buffer.alloc(2 * BLOCK));
  }
}

// ---------------------------------------------------------------------------------

export interface TarMemberInfo {
  /** Normalised path: no "./" or leading "/", no trailing "/" for directories. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';
  /** Byte offset of the body in the tar file. */
  offset: number;
  size: number;
  linkname: string;
}

/** Normalises a member path; undefined for paths escaping the archive root. */
export function normalizeMemberPath(p: string): string | undefined {
  let n = path.posix.normalize(p.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (n === '.') n = '';
  if (n === '..' || n.startsWith('../')) return undefined;
  return n;
}

export class TarFormatError extends Error {}

/** True when the block looks like a tar header (ustar magic or a valid checksum). */
export function looksLikeTar(firstBlock: Buffer): boolean {
  if (firstBlock.length < BLOCK) return false;
  return tarString(firstBlock, 257, 5) === 'ustar' || (!firstBlock.every((b) => b === 0) && tarChecksumOk(firstBlock));
}

/** Reads the member table of an uncompressed tar file without reading member bodies. */
export async function indexTar(file: string): Promise<Map<string, TarMemberInfo>> {
  const fh = await open(file, 'r');
  const members = new Map<string, TarMemberInfo>();
  try {
    const { size: fileSize } = await fh.stat();
    const h = Buffer.alloc(BLOCK);
    let pos = 0;
    let pax: Record<string, string> = {};
    let longName: string | undefined;
    let longLink: string | undefined;
    const readBody = async (offset: number, size: number): Promise<Buffer> => {
      if (size > 16 * 1024 * 1024) throw new TarFormatError(`oversized tar metadata record at ${offset}`);
      const b = Buffer.alloc(size);
      await fh.read(b, 0, size, offset);
      return b;
    };
    while (pos + BLOCK <= fileSize) {
      const { bytesRead } = await fh.read(h, 0, BLOCK, pos);
      if (bytesRead < BLOCK) break;
      if (h.every((b) => b === 0)) break;
      if (!tarChecksumOk(h)) throw new TarFormatError(`bad tar header checksum at byte ${pos}`);
      const typeflag = String.fromCharCode(h[156] ?? 0x30);
      let size = tarNumber(h, 124, 12);
      if (pax.size !== undefined) size = Number(pax.size);
      const body = pos + BLOCK;
      const next = body + size + ((BLOCK - (size % BLOCK)) % BLOCK);
      if (body + size > fileSize) throw new TarFormatError(`tar member at byte ${pos} runs past the end of the file (truncated archive?)`);
      if (typeflag === 'x') {
        pax = { ...pax, ...parsePax(await readBody(body, size)) };
      } else if (typeflag === 'g') {
        /* global PAX header: nothing we need */
      } else if (typeflag === 'L') {
        longName = (await readBody(body, size)).toString('utf8').replace(/\0+$/, '');
      } else if (typeflag === 'K') {
        longLink = (await readBody(body, size)).toString('utf8').replace(/\0+$/, '');
      } else {
        const name = pax.path ?? longName ?? ustarName(h);
        const linkname = pax.linkpath ?? longLink ?? tarString(h, 157, 100);
        const type: TarMemberInfo['type'] =
          typeflag === '0' || typeflag === '\0' || typeflag === '7'
            ? 'file'
            : typeflag === '5'
              ? 'dir'
              : typeflag === '2'
                ? 'symlink'
                : typeflag === '1'
                  ? 'hardlink'
                  : 'other';
        const p = normalizeMemberPath(name);
        if (p !== undefined && p !== '') members.set(p, { path: p, type, offset: body, size: type === 'file' ? size : 0, linkname });
        pax = {};
        longName = undefined;
        longLink = undefined;
      }
      pos = next;
    }
  } finally {
    await fh.close();
  }
  return members;
}

/** Follows symlinks and hard links inside the archive to a regular file (or undefined). */
export function resolveMember(members: Map<string, TarMemberInfo>, p: string): TarMemberInfo | undefined {
  let current = members.get(normalizeMemberPath(p) ?? '');
  for (let depth = 0; current && depth < 16; depth++) {
    if (current.type === 'file') return current;
    if (current.type === 'symlink') {
      const link = current.linkname;
      const target = normalizeMemberPath(link.startsWith('/') ? link : path.posix.join(path.posix.dirname(current.path), link));
      current = target === undefined ? undefined : members.get(target);
    } else if (current.type === 'hardlink') {
      const target = normalizeMemberPath(current.linkname);
      current = target === undefined ? undefined : members.get(target);
    } else {
      return undefined;
    }
  }
  return undefined;
}
