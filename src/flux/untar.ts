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
import { TarError, TarReader } from '../gocompat/tar/reader.js';

export { TarError };

/** "./a/b/" → "a/b"; "." → "". */
export function cleanName(raw: string): string {
  let n = raw.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (n === '.') n = '';
  return n;
}

/** A reader over a tar stream, gunzipped first unless `gzip` is false. */
export function openTarStream(input: Readable, opts: { gzip?: boolean } = {}): TarReader {
  if (opts.gzip === false) return TarReader.fromStream(input);
  const gunzip = createGunzip();
  input.on('error', (e) => gunzip.destroy(e));
  return TarReader.fromStream(input.pipe(gunzip));
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
      if (!st.isDirectory())
        throw new TarError(
          `refusing to extract through ${abs}: it exists and is not a directory${st.isSymbolicLink() ? ' (a symlink)' : ''}`,
        );
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      await mkdir(abs, { mode: cur === rel ? mode : 0o750 });
    }
    made.add(cur);
  }
}

/** Extracts a (gzipped) tar stream into `dir`, which is created when missing. */
export async function extractTar(
  input: Readable,
  dir: string,
  opts: {
    gzip?: boolean;
    now?: Date;
    /** OPA bundles name members "/x.rego": read them as relative. */ rooted?: boolean;
  } = {},
): Promise<ExtractResult> {
  const root = path.resolve(dir);
  await mkdir(root, { recursive: true });
  const made = new Set<string>();
  const result: ExtractResult = { files: 0, dirs: 0, bytes: 0, skippedSymlinks: [] };
  const now = opts.now ?? new Date();
  const tar = openTarStream(input, opts.gzip === false ? { gzip: false } : {});
  for (let m = await tar.next(); m; m = await tar.next()) {
    const rel = safeRelPath(opts.rooted ? m.name.replace(/^\/+/, '') || '.' : m.name);
    if (rel === undefined)
      throw new TarError(
        `tar contained invalid name ${JSON.stringify(m.name)} (absolute, with a backslash, or climbing out with ..)`,
      );
    if (m.type === 'symlink') {
      result.skippedSymlinks.push(rel);
      continue;
    }
    if (m.type === 'dir') {
      await ensureDirs(root, rel, made, (m.mode & 0o777) | 0o700);
      result.dirs++;
      continue;
    }
    if (m.type !== 'file')
      throw new TarError(
        `tar file entry ${m.name} is a ${m.type === 'hardlink' ? 'hard link' : 'special file'}, which artifacts may not contain`,
      );
    if (rel === '') throw new TarError(`tar contained a file named ${JSON.stringify(m.name)}`);
    await ensureDirs(root, path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel), made, 0o750);
    const abs = path.join(root, rel);
    try {
      const st = await lstat(abs);
      if (!st.isFile())
        throw new TarError(
          `refusing to overwrite ${abs}: it is not a regular file${st.isSymbolicLink() ? ' (a symlink)' : ''}`,
        );
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const fh = await open(abs, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC | fsc.O_NOFOLLOW, m.mode & 0o777);
    result.files++;
    try {
      for await (const chunk of tar.body()) {
        await fh.write(chunk);
        result.bytes += chunk.length;
      }
    } finally {
      await fh.close();
    }
    const t = m.mtime * 1000 > now.getTime() ? now : new Date(m.mtime * 1000);
    await utimes(abs, t, t);
  }
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
  const tar = openTarStream(input, opts);
  for (let m = await tar.next(); m; m = await tar.next()) {
    const name = cleanName(m.name);
    if (m.type === 'dir') out.set(name, { type: 'dir', mode: m.mode, size: 0 });
    if (m.type !== 'file') continue;
    const h = createHash('sha256');
    for await (const chunk of tar.body()) h.update(chunk);
    out.set(name, { type: 'file', mode: m.mode, size: m.size, sha256: h.digest('hex') });
  }
  return out;
}
