/**
 * The Flux artifact tarball (`flux build artifact`, and the layer of `flux push
 * artifact`), built as fluxcd/pkg `oci.build` → `tar.Tar` builds it:
 *
 *   - walk `--path` recursively, root included (named `.`), names in byte order
 *     within each directory, without following symlinks (Go `filepath.Walk`);
 *   - skip anything that is not a regular file or a directory (symlinks, sockets…);
 *   - skip what the ignore patterns exclude, without pruning excluded directories;
 *   - headers: relative `/`-separated names (directories without a trailing `/`),
 *     permission bits as on disk, uid/gid 0, no user/group names, mtime 0 (src/gocompat/tar);
 *   - gzip with Go's compressor (src/gocompat/gzip.ts), so the same tree gives flux's digest.
 *
 * A single file is archived as flux ≥ 2.9 does: staged in a fresh temporary
 * directory, so the archive holds `.` (mode 0700) and the file (its permissions
 * under the umask).
 *
 * One deliberate difference: a `--path` that is itself a symlink to a directory is
 * resolved first (flux archives nothing for it, since the walk does not follow the
 * root link).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, lstat, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { GoGzipWriter } from '../gocompat/gzip.js';
import { TAR_TRAILER, goTarHeader, tarPadding, type TarHeader } from '../gocompat/tar/writer.js';
import { DEFAULT_IGNORE_PATHS, IgnoreMatcher } from './ignore.js';

export interface ArchiveEntry extends TarHeader {
  type: 'file' | 'dir';
  size: number;
  /** Where the file's bytes are read from. */
  source?: string;
}

export interface CollectOptions {
  /** Ignore patterns (gitignore syntax); default flux's DEFAULT_IGNORE_PATHS. An empty list ignores nothing. */
  ignorePaths?: readonly string[];
  /** The process umask, for single files (default: the process's). */
  umask?: number;
}

export class BuildError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function processUmask(): number {
  // process.umask() with no argument reads it (and is only a documentation deprecation).
  return process.umask();
}

/** The entries of the archive for `sourcePath` (a directory or a single file), in archive order. */
export async function collectEntries(sourcePath: string, opts: CollectOptions = {}): Promise<ArchiveEntry[]> {
  const abs = path.resolve(sourcePath);
  let st;
  try {
    st = await stat(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BuildError(
      code === 'ENOENT' ? `source path does not exist: ${abs}` : `invalid source path ${abs}: ${(e as Error).message}`,
      'give --path a directory of manifests (or a single file)',
    );
  }
  const matcher = new IgnoreMatcher(opts.ignorePaths ?? DEFAULT_IGNORE_PATHS);
  if (!st.isDirectory()) {
    if (!st.isFile()) throw new BuildError(`${abs} is neither a directory nor a regular file`);
    const umask = opts.umask ?? processUmask();
    const name = path.basename(abs);
    const entries: ArchiveEntry[] = [{ name: '.', type: 'dir', mode: 0o700, size: 0 }];
    if (!matcher.excludes(name, false))
      entries.push({ name, type: 'file', mode: st.mode & 0o777 & ~umask, size: st.size, source: abs });
    return entries;
  }
  const root = await realpath(abs);
  const out: ArchiveEntry[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    const info = await lstat(dir);
    const isDir = info.isDirectory();
    if ((info.isFile() || isDir) && !matcher.excludes(rel, isDir)) {
      out.push({
        name: rel,
        type: isDir ? 'dir' : 'file',
        mode: info.mode & 0o7777,
        size: isDir ? 0 : info.size,
        ...(isDir ? {} : { source: dir }),
      });
    }
    if (!isDir) return;
    const names = (await readdir(dir)).sort(byteOrder);
    for (const n of names) await walk(path.join(dir, n), rel === '.' ? n : `${rel}/${n}`);
  };
  await walk(root, '.');
  return out;
}

/** Writes the uncompressed tar of `entries` to `write` (which may return a promise for backpressure). */
export async function writeTar(
  entries: readonly ArchiveEntry[],
  write: (chunk: Buffer) => void | Promise<void>,
): Promise<void> {
  for (const e of entries) {
    await write(goTarHeader(e));
    if (e.type !== 'file') continue;
    let n = 0;
    if (e.size > 0) {
      for await (const chunk of createReadStream(e.source!, { highWaterMark: 32 * 1024 }) as AsyncIterable<Buffer>) {
        n += chunk.length;
        if (n > e.size) break;
        await write(chunk);
      }
    }
    if (n !== e.size)
      throw new BuildError(
        `${e.source} changed while it was being archived (${n} bytes instead of ${e.size})`,
        'run the command again once nothing writes to the directory',
      );
    await write(tarPadding(e.size));
  }
  await write(TAR_TRAILER);
}

export interface BuiltArchive {
  /** sha256 of the gzip (the layer digest). */
  digest: string;
  size: number;
  /** sha256 of the uncompressed tar (the config's diff_id). */
  diffId: string;
  entries: ArchiveEntry[];
}

/** Streams the gzipped archive into `out`, hashing both the tar and the gzip. */
export async function streamArtifact(entries: ArchiveEntry[], out: Writable): Promise<BuiltArchive> {
  const gzHash = createHash('sha256');
  const tarHash = createHash('sha256');
  let size = 0;
  let pending: Buffer[] = [];
  const gz = new GoGzipWriter((c) => pending.push(c));
  const flush = async () => {
    const chunks = pending;
    pending = [];
    for (const c of chunks) {
      gzHash.update(c);
      size += c.length;
      if (!out.write(c)) await once(out, 'drain');
    }
  };
  await writeTar(entries, async (chunk) => {
    tarHash.update(chunk);
    gz.write(chunk);
    if (pending.length) await flush();
  });
  gz.close();
  await flush();
  return { digest: `sha256:${gzHash.digest('hex')}`, size, diffId: `sha256:${tarHash.digest('hex')}`, entries };
}

/**
 * Builds the archive of `sourcePath` into `file` (mode 0640, written to a
 * temporary file next to it and renamed, as flux does).
 */
export async function buildArtifact(
  sourcePath: string,
  file: string,
  opts: CollectOptions = {},
): Promise<BuiltArchive> {
  const entries = await collectEntries(sourcePath, opts);
  const tmp = `${file}.${process.pid}.${Date.now()}.partial`;
  const out = createWriteStream(tmp, { mode: 0o640 });
  try {
    const built = await streamArtifact(entries, out);
    out.end();
    await once(out, 'close');
    await chmod(tmp, 0o640);
    await rename(tmp, file);
    return built;
  } catch (e) {
    out.destroy();
    await rm(tmp, { force: true });
    throw e;
  }
}
