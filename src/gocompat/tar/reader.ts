/**
 * The one tar reader: a stream of headers, each member's body streamed or skipped,
 * over any source — a stream (bodies skipped by reading past them) or a file (bodies
 * skipped by seeking, so indexing a docker save archive reads only its headers).
 *
 * Reads what Go's `archive/tar` Reader reads: V7, USTAR (name prefix), PAX extended
 * headers (path, linkpath, size, mtime; global headers ignored), GNU long names and
 * long links, base-256 numbers; refuses sparse files (GNU 'S' members and PAX
 * GNU.sparse.* records) rather than return their bytes wrong, bad checksums,
 * malformed PAX records, metadata records over 1 MiB, and truncated archives.
 * It stops at the first zero block. What a name may be (escaping the root,
 * symlinks) is each caller's policy.
 */
import { open, type FileHandle } from 'node:fs/promises';
import {
  BLOCK,
  MAX_SPECIAL_FILE_SIZE,
  TYPE,
  checksumOk,
  isZeroBlock,
  padding,
  parseNumeric,
  parsePaxRecords,
  parseString,
} from './format.js';

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

export interface TarEntry {
  /** As stored: the PAX path, else the GNU long name, else the (prefixed) header name. */
  name: string;
  type: TarEntryType;
  typeflag: string;
  /** Permission bits plus setuid/setgid/sticky. */
  mode: number;
  /** Body size; 0 for everything but files. */
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname: string;
  /** Where the body starts in the archive. */
  offset: number;
}

/** An archive the reader cannot or will not read (and the refusals of the callers' policies). */
export class TarError extends Error {}

/** Where the bytes come from. */
export interface TarSource {
  /** Up to n bytes; fewer only at the end. */
  read(n: number): Promise<Buffer>;
  /** Between 1 and max bytes, whatever is at hand; none only at the end. */
  readSome(max: number): Promise<Buffer>;
  /** Moves past n bytes; false when the source ends first. */
  skip(n: number): Promise<boolean>;
  close(): Promise<void>;
}

/** A pull buffer over a stream. */
export function streamSource(stream: AsyncIterable<Buffer>): TarSource {
  const it = stream[Symbol.asyncIterator]();
  let buf: Buffer = Buffer.alloc(0);
  let done = false;
  const more = async (): Promise<boolean> => {
    if (done) return false;
    const r = await it.next();
    if (r.done) {
      done = true;
      return false;
    }
    buf = buf.length ? Buffer.concat([buf, r.value]) : r.value;
    return true;
  };
  const readSome = async (max: number): Promise<Buffer> => {
    if (buf.length === 0) await more();
    const out = buf.subarray(0, max);
    buf = buf.subarray(out.length);
    return out;
  };
  return {
    async read(n) {
      while (buf.length < n && (await more()));
      const out = buf.subarray(0, n);
      buf = buf.subarray(out.length);
      return out;
    },
    readSome,
    async skip(n) {
      for (let left = n; left > 0;) {
        const c = await readSome(left);
        if (c.length === 0) return false;
        left -= c.length;
      }
      return true;
    },
    async close() {
      await it.return?.();
    },
  };
}

/** Positional reads of a file; skipping seeks. */
export async function fileSource(file: string): Promise<TarSource> {
  const fh: FileHandle = await open(file, 'r');
  const { size } = await fh.stat();
  let pos = 0;
  const read = async (n: number) => {
    const b = Buffer.alloc(Math.max(0, Math.min(n, size - pos)));
    if (b.length) await fh.read(b, 0, b.length, pos);
    pos += b.length;
    return b;
  };
  return {
    read,
    readSome: (max) => read(Math.min(max, 1 << 20)),
    async skip(n) {
      if (pos + n > size) return false;
      pos += n;
      return true;
    },
    close: () => fh.close(),
  };
}

function entryType(typeflag: string, name: string): TarEntryType {
  switch (typeflag) {
    case TYPE.reg:
    case TYPE.cont:
      return 'file';
    case TYPE.regA:
      return name.endsWith('/') ? 'dir' : 'file';
    case TYPE.dir:
      return 'dir';
    case TYPE.symlink:
      return 'symlink';
    case TYPE.link:
      return 'hardlink';
    default:
      return 'other';
  }
}

const HEADER_ONLY = new Set<string>([TYPE.link, TYPE.symlink, TYPE.char, TYPE.block, TYPE.dir, TYPE.fifo]);

/** True when the block looks like a tar header (ustar magic, or a valid checksum). */
export function looksLikeTar(firstBlock: Buffer): boolean {
  if (firstBlock.length < BLOCK) return false;
  return parseString(firstBlock, 'magic') === 'ustar' || (!isZeroBlock(firstBlock) && checksumOk(firstBlock));
}

export class TarReader {
  private pos = 0;
  /** Unread bytes (body and padding) of the current member. */
  private pending = 0;
  private current: TarEntry | undefined;
  private ended = false;

  constructor(private readonly source: TarSource) {}

  static fromStream(stream: AsyncIterable<Buffer>): TarReader {
    return new TarReader(streamSource(stream));
  }

  static async fromFile(file: string): Promise<TarReader> {
    return new TarReader(await fileSource(file));
  }

  private async block(what: string): Promise<Buffer | undefined> {
    const h = await this.source.read(BLOCK);
    this.pos += h.length;
    if (h.length === 0) return undefined;
    if (h.length < BLOCK) throw new TarError(`the archive ends in the middle of ${what} (truncated?)`);
    return h;
  }

  private async skipPending(): Promise<void> {
    if (this.pending === 0) return;
    const at = this.pos;
    if (!(await this.source.skip(this.pending)))
      throw new TarError(`the tar member at byte ${at - BLOCK} runs past the end of the archive (truncated?)`);
    this.pos += this.pending;
    this.pending = 0;
  }

  private async special(size: number, at: number): Promise<Buffer> {
    if (size > MAX_SPECIAL_FILE_SIZE) throw new TarError(`oversized tar metadata record (${size} bytes) at byte ${at}`);
    const data = await this.source.read(size + padding(size));
    this.pos += data.length;
    if (data.length < size + padding(size))
      throw new TarError('the archive ends in the middle of a member (truncated?)');
    return data.subarray(0, size);
  }

  /** The next member (after skipping what is left of the current one), or undefined at the end. */
  async next(): Promise<TarEntry | undefined> {
    await this.skipPending();
    this.current = undefined;
    if (this.ended) return undefined;
    let pax = new Map<string, string>();
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      const at = this.pos;
      const h = await this.block('a header');
      if (!h || isZeroBlock(h)) {
        this.ended = true;
        if (pax.size || longName !== undefined || longLink !== undefined)
          throw new TarError('the archive ends after an extended header');
        return undefined;
      }
      if (!checksumOk(h))
        throw new TarError(`bad tar header checksum at byte ${at}: not a tar archive, or a damaged one`);
      const typeflag = String.fromCharCode(h[156]!);
      let size = parseNumeric(h, 'size');
      if (!Number.isFinite(size) || size < 0) throw new TarError(`bad size field in the tar header at byte ${at}`);
      if (typeflag === TYPE.xHeader || typeflag === TYPE.xGlobalHeader) {
        const records = parsePaxRecords(await this.special(size, at));
        if (!records) throw new TarError(`malformed PAX records at byte ${at}`);
        if (typeflag === TYPE.xHeader) pax = new Map([...pax, ...records]);
        continue;
      }
      if (typeflag === TYPE.gnuLongName || typeflag === TYPE.gnuLongLink) {
        const text = (await this.special(size, at)).toString('utf8').replace(/\0+$/, '');
        if (typeflag === TYPE.gnuLongName) longName = text;
        else longLink = text;
        continue;
      }
      if (typeflag === TYPE.gnuSparse || [...pax.keys()].some((k) => k.startsWith('GNU.sparse.'))) {
        throw new TarError(`the tar member at byte ${at} is a sparse file, which is not supported`);
      }
      if (pax.has('size')) {
        size = Number(pax.get('size'));
        if (!Number.isSafeInteger(size) || size < 0) throw new TarError(`bad PAX size at byte ${at}`);
      }
      const prefix = parseString(h, 'prefix');
      const headerName =
        prefix && parseString(h, 'magic') === 'ustar' ? `${prefix}/${parseString(h, 'name')}` : parseString(h, 'name');
      const name = pax.get('path') ?? longName ?? headerName;
      const type = entryType(typeflag, name);
      const mtime = pax.has('mtime') ? Math.floor(Number(pax.get('mtime'))) : parseNumeric(h, 'mtime');
      // Header-only types carry no body whatever their size field says (as Go reads them).
      const bodySize = HEADER_ONLY.has(typeflag) ? 0 : size;
      this.current = {
        name,
        type,
        typeflag,
        mode: parseNumeric(h, 'mode') & 0o7777,
        size: type === 'file' ? size : 0,
        mtime: Number.isFinite(mtime) ? mtime : 0,
        linkname: pax.get('linkpath') ?? longLink ?? parseString(h, 'linkname'),
        offset: this.pos,
      };
      this.pending = bodySize + padding(bodySize);
      return this.current;
    }
  }

  /** Streams the current file's body; what a consumer leaves unread is skipped by next(). */
  async *body(): AsyncGenerator<Buffer> {
    const e = this.current;
    if (!e || e.type !== 'file') return;
    const pad = padding(e.size);
    while (this.pending > pad) {
      const c = await this.source.readSome(this.pending - pad);
      if (c.length === 0) throw new TarError('the archive ends in the middle of a member (truncated?)');
      this.pos += c.length;
      this.pending -= c.length;
      yield c;
    }
  }

  /** The current file's body in memory; refuses bodies over `limit` bytes. */
  async readBody(limit = 64 * 1024 * 1024): Promise<Buffer> {
    const e = this.current;
    if (e && e.size > limit) throw new TarError(`tar member ${e.name} is larger than ${limit} bytes`);
    const parts: Buffer[] = [];
    for await (const c of this.body()) parts.push(c);
    return Buffer.concat(parts);
  }

  async close(): Promise<void> {
    await this.source.close();
  }
}
