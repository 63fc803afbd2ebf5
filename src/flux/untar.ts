/**
 * Reading artifact tarballs as a stream (gzip or plain): every member with its
 * normalised name, type and mode, its bytes streamed to a handler. Used to extract
 * pulled artifacts safely and to compare an artifact's contents with a directory.
 *
 * Extraction follows flux's `tar.Untar` (directories `mode | 0700`, files with their
 * permission bits, the header's mtime applied, symlinks dropped) and is stricter
 * about escaping the target: absolute names, backslashes and any `..` that climbs
 * out are refused, existing symlinks inside the target are never followed, and
 * files are opened with O_NOFOLLOW.
 */
import { constants as fsc } from 'node:fs';
import { lstat, mkdir, open, utimes } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { createHash } from 'node:crypto';
import { parsePax, tarChecksumOk, tarNumber, tarString, ustarName } from '../util/tar-header.js';

export type MemberType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

export interface TarMember {
  /** As stored (after PAX/GNU long names). */
  rawName: string;
  /** Normalised: no leading "./" or "/", no trailing "/"; "" for the root. */
  name: string;
  type: MemberType;
  mode: number;
  size: number;
  mtime: number;
  linkname: string;
}

export class TarError extends Error {}

/** "./a/b/" → "a/b"; "." → "". */
export function cleanName(raw: string): string {
  let n = raw.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (n === '.') n = '';
  return n;
}

/** A pull-buffer over a stream: read exactly n bytes, or skip them. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer>;
  private done = false;
  constructor(stream: AsyncIterable<Buffer>) {
    this.it = stream[Symbol.asyncIterator]();
  }
  private async more(): Promise<boolean> {
    if (this.done) return false;
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : r.value;
    return true;
  }
  /** Up to n bytes (fewer only at the end of the stream). */
  async read(n: number): Promise<Buffer> {
    while (this.buf.length < n && (await this.more()));
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(out.length);
    return out;
  }
  /** Streams n bytes to `sink` in chunks. */
  async pipe(n: number, sink: (chunk: Buffer) => Promise<void> | void): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.buf.length === 0 && !(await this.more())) throw new TarError('the archive ends in the middle of a member (truncated?)');
      const take = this.buf.subarray(0, left);
      this.buf = this.buf.subarray(take.length);
      left -= take.length;
      await sink(take);
    }
  }
}

/**
 * Walks a tar stream (gunzipped first when it starts with the gzip magic), calling
 * `onMember` for each member; for files, `onMember` returns where the bytes go.
 */
export async function readTar(
  input: Readable,
  onMember: (m: TarMember) => Promise<((chunk: Buffer) => Promise<void> | void) | undefined> | ((chunk: Buffer) => Promise<void> | void) | undefined,
  opts: { gzip?: boolean } = {},
): Promise<void> {
  const source = opts.gzip === false ? input : input.pipe(createGunzip());
  if (opts.gzip !== false) input.on('error', (e) => (source as NodeJS.ReadableStream & { destroy(e: Error): void }).destroy(e));
  const r = new ByteReader(source as AsyncIterable<Buffer>);
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const h = await r.read(512);
    if (h.length === 0) break;
    if (h.length < 512) throw new TarError('the archive ends in the middle of a header (truncated?)');
    if (h.every((b) => b === 0)) break;
    if (!tarChecksumOk(h)) throw new TarError('bad tar header checksum: not a tar archive, or a damaged one');
    const typeflag = String.fromCharCode(h[156]!);
    let size = tarNumber(h, 124, 12);
    if (pax.size !== undefined) size = Number(pax.size);
    const padded = size + ((512 - (size % 512)) % 512);
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      const data = await r.read(padded);
      if (data.length < padded) throw new TarError('the archive ends in the middle of a member (truncated?)');
      const body = data.subarray(0, size);
      if (typeflag === 'x') pax = { ...pax, ...parsePax(body) };
      else if (typeflag === 'L') longName = body.toString('utf8').replace(/\0+$/, '');
      else if (typeflag === 'K') longLink = body.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    const name = pax.path ?? longName ?? ustarName(h);
    const linkname = pax.linkpath ?? longLink ?? tarString(h, 157, 100);
    const type: MemberType =
      typeflag === '0' || typeflag === '\0' || typeflag === '7' ? (name.endsWith('/') ? 'dir' : 'file') : typeflag === '5' ? 'dir' : typeflag === '2' ? 'symlink' : typeflag === '1' ? 'hardlink' : 'other';
    const member: TarMember = { rawName: name, name: cleanName(name), type, mode: tarNumber(h, 100, 8) & 0o7777, size: type === 'file' ? size : 0, mtime: pax.mtime ? Math.floor(Number(pax.mtime)) : tarNumber(h, 136, 12), linkname };
    pax = {};
    longName = undefined;
    longLink = undefined;
    const sink = await onMember(member);
    if (sink && type === 'file') {
      await r.pipe(size, sink);
      await r.pipe(padded - size, () => undefined);
    } else {
      await r.pipe(padded, () => undefined);
    }
  }
}

/** flux's validRelPath plus a check that the cleaned name stays inside the target. */
export function safeRelPath(raw: string): string | undefined {
  if (raw === '' || raw.includes('\\') || raw.startsWith('/') || raw.includes('../')) return undefined;
  const n = path.posix.normalize(cleanName(raw));
  if (n === '..' || n.startsWith('../') || path.posix.isAbsolute(n)) return undefined;
  return n === '.' ? '' : n;
}

export interface ExtractResult {
  files: number;
  dirs: number;
  bytes: number;
  /** Symlinks in the archive, not extracted (as flux drops them). */
  skippedSymlinks: string[];
}

/** Makes sure every existing component of `rel` under `root` is a real directory (never a symlink). */
async function ensureDirs(root: string, rel: string, made: Set<string>, mode: number): Promise<void> {
  if (rel === '' || made.has(rel)) return;
  const parts = rel.split('/');
  let cur = '';
  for (const part of parts) {
    cur = cur ? `${cur}/${part}` : part;
    if (made.has(cur)) continue;
    const abs = path.join(root, cur);
    try {
      const st = await lstat(abs);
      if (!st.isDirectory()) throw new TarError(`refusing to extract through ${abs}: it exists and is not a directory${st.isSymbolicLink() ? ' (a symlink)' : ''}`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      await mkdir(abs, { mode: cur === rel ? mode : 0o750 });
    }
    made.add(cur);
  }
}

/** Extracts a (gzipped) tar stream into `dir`, which is created when missing. */
export async function extractTar(input: Readable, dir: string, opts: { gzip?: boolean; now?: Date; /** OPA bundles name members "/x.rego": read them as relative. */ rooted?: boolean } = {}): Promise<ExtractResult> {
  const root = path.resolve(dir);
  await mkdir(root, { recursive: true });
  const made = new Set<string>();
  const result: ExtractResult = { files: 0, dirs: 0, bytes: 0, skippedSymlinks: [] };
  const now = opts.now ?? new Date();
  await readTar(
    input,
    async (m) => {
      const rel = safeRelPath(opts.rooted ? m.rawName.replace(/^\/+/, '') || '.' : m.rawName);
      if (rel === undefined) throw new TarError(`tar contained invalid name ${JSON.stringify(m.rawName)} (absolute, with a backslash, or climbing out with ..)`);
      if (m.type === 'symlink') {
        result.skippedSymlinks.push(rel);
        return undefined;
      }
      if (m.type === 'dir') {
        await ensureDirs(root, rel, made, (m.mode & 0o777) | 0o700);
        result.dirs++;
        return undefined;
      }
      if (m.type !== 'file') throw new TarError(`tar file entry ${m.rawName} is a ${m.type === 'hardlink' ? 'hard link' : 'special file'}, which artifacts may not contain`);
      if (rel === '') throw new TarError(`tar contained a file named ${JSON.stringify(m.rawName)}`);
      await ensureDirs(root, path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel), made, 0o750);
      const abs = path.join(root, rel);
      try {
        const st = await lstat(abs);
        if (!st.isFile()) throw new TarError(`refusing to overwrite ${abs}: it is not a regular file${st.isSymbolicLink() ? ' (a symlink)' : ''}`);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      const fh = await open(abs, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC | fsc.O_NOFOLLOW, m.mode & 0o777);
      result.files++;
      let written = 0;
      const finish = async () => {
        await fh.close();
        const t = m.mtime * 1000 > now.getTime() ? now : new Date(m.mtime * 1000);
        await utimes(abs, t, t);
      };
      if (m.size === 0) {
        await finish();
        return undefined;
      }
      return async (chunk: Buffer) => {
        await fh.write(chunk);
        written += chunk.length;
        result.bytes += chunk.length;
        if (written === m.size) await finish();
      };
    },
    opts.gzip === false ? { gzip: false } : {},
  );
  return result;
}

export interface ContentEntry {
  type: 'file' | 'dir';
  mode: number;
  size: number;
  /** sha256 hex of a file's bytes. */
  sha256?: string;
}

/** name → type, mode and content hash of every file and directory in a (gzipped) tar stream. */
export async function tarContents(input: Readable, opts: { gzip?: boolean } = {}): Promise<Map<string, ContentEntry>> {
  const out = new Map<string, ContentEntry>();
  await readTar(
    input,
    (m) => {
      if (m.type === 'dir') {
        out.set(m.name, { type: 'dir', mode: m.mode, size: 0 });
        return undefined;
      }
      if (m.type !== 'file') return undefined;
      const h = createHash('sha256');
      const e: ContentEntry = { type: 'file', mode: m.mode, size: m.size };
      out.set(m.name, e);
      if (m.size === 0) e.sha256 = h.digest('hex');
      let seen = 0;
      return (chunk: Buffer) => {
        h.update(chunk);
        seen += chunk.length;
        if (seen === m.size) e.sha256 = h.digest('hex');
      };
    },
    opts,
  );
  return out;
}
