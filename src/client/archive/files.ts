/**
 * Random access to the files of an image archive, whatever its container: a
 * directory (an OCI layout), a tar file (read in place through its header index),
 * or a compressed tar (gzip, zstd, xz, bzip2: decompressed once to a temporary tar,
 * streaming, then read in place). Nothing is extracted and no member is held in
 * memory unless asked for with `read`.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { readAll } from '../content.js';
import { clientError } from '../errors.js';
import { TarError, looksLikeTar } from '../../gocompat/tar/reader.js';
import { indexTar, normalizeMemberPath, resolveMember, type TarMemberInfo } from './tar-index.js';

export interface ArchiveFiles {
  /** The path the user gave. */
  readonly label: string;
  readonly kind: 'directory' | 'tar';
  size(name: string): Promise<number | undefined>;
  open(name: string, start?: number): Readable;
  read(name: string, limit?: number): Promise<Buffer>;
  /** Every regular file's normalised path. */
  list(): Promise<string[]>;
  close(): Promise<void>;
}

type Compression = 'gzip' | 'zstd' | 'xz' | 'bzip2' | 'none';

export function sniffCompression(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  return 'none';
}

/**
 * A decompressing transform for `kind`: zlib for gzip (and zstd where this Node has
 * it), else the `zstd`/`xz`/`bzip2` program when installed.
 */
export function decompressor(kind: Exclude<Compression, 'none'>, label: string): NodeJS.ReadWriteStream {
  if (kind === 'gzip') return zlib.createGunzip();
  const z = zlib as unknown as { createZstdDecompress?: () => NodeJS.ReadWriteStream };
  if (kind === 'zstd' && z.createZstdDecompress) return z.createZstdDecompress();
  const child = spawn(kind, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // Writes go to the program, reads come from it.
  const d = Duplex.from({ writable: child.stdin, readable: child.stdout });
  child.on('error', (e: NodeJS.ErrnoException) => {
    d.destroy(
      e.code === 'ENOENT'
        ? clientError('ARCHIVE_INVALID', {
            path: label,
            detail: `it is ${kind}-compressed and the \`${kind}\` program is not installed: install it or decompress the file first`,
          })
        : e,
    );
  });
  child.on('close', (code) => {
    if (code !== 0 && code !== null)
      d.destroy(
        clientError('ARCHIVE_INVALID', {
          path: label,
          detail: `${kind} -dc failed: ${stderr.trim() || `exit ${code}`}`,
        }),
      );
  });
  return d as unknown as NodeJS.ReadWriteStream;
}

class DirFiles implements ArchiveFiles {
  readonly kind = 'directory' as const;
  constructor(
    readonly label: string,
    private readonly dir: string,
  ) {}

  private resolve(name: string): string | undefined {
    const n = normalizeMemberPath(name);
    return n === undefined ? undefined : path.join(this.dir, n);
  }

  async size(name: string): Promise<number | undefined> {
    const p = this.resolve(name);
    if (!p) return undefined;
    try {
      const s = await stat(p);
      return s.isFile() ? s.size : undefined;
    } catch {
      return undefined;
    }
  }

  open(name: string, start = 0): Readable {
    const p = this.resolve(name);
    if (!p) throw clientError('ARCHIVE_INVALID', { path: this.label, detail: `${name} points outside the layout` });
    return createReadStream(p, { start, highWaterMark: 1 << 20 });
  }

  async read(name: string, limit = 64 * 1024 * 1024): Promise<Buffer> {
    return readAll(this.open(name), limit, `${this.label}: ${name}`);
  }

  async list(): Promise<string[]> {
    const entries = await readdir(this.dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile())
      .map((e) =>
        path
          .relative(this.dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
          .split(path.sep)
          .join('/'),
      );
  }

  async close(): Promise<void> {}
}

class TarFiles implements ArchiveFiles {
  readonly kind = 'tar' as const;
  constructor(
    readonly label: string,
    private readonly file: string,
    private readonly members: Map<string, TarMemberInfo>,
    private readonly cleanup: () => Promise<void>,
  ) {}

  private member(name: string): TarMemberInfo | undefined {
    return resolveMember(this.members, name);
  }

  async size(name: string): Promise<number | undefined> {
    return this.member(name)?.size;
  }

  open(name: string, start = 0): Readable {
    const m = this.member(name);
    if (!m) throw clientError('ARCHIVE_INVALID', { path: this.label, detail: `it has no file ${name}` });
    if (start >= m.size) return Readable.from([]);
    return createReadStream(this.file, { start: m.offset + start, end: m.offset + m.size - 1, highWaterMark: 1 << 20 });
  }

  async read(name: string, limit = 64 * 1024 * 1024): Promise<Buffer> {
    return readAll(this.open(name), limit, `${this.label}: ${name}`);
  }

  async list(): Promise<string[]> {
    return [...this.members.values()]
      .filter((m) => m.type === 'file' || m.type === 'symlink' || m.type === 'hardlink')
      .map((m) => m.path);
  }

  async close(): Promise<void> {
    await this.cleanup();
  }
}

/** Opens a directory or a (possibly compressed) tar file for reading. */
export async function openArchiveFiles(file: string): Promise<ArchiveFiles> {
  let info;
  try {
    info = await stat(file);
  } catch (e) {
    throw clientError('ARCHIVE_INVALID', {
      path: file,
      detail: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message,
    });
  }
  if (info.isDirectory()) return new DirFiles(file, file);

  const head = Buffer.alloc(512);
  const fh = await open(file, 'r');
  let n: number;
  try {
    ({ bytesRead: n } = await fh.read(head, 0, 512, 0));
  } finally {
    await fh.close();
  }
  const compression = n >= 6 ? sniffCompression(head) : 'none';
  let tarFile = file;
  let tmp: string | undefined;
  const cleanup = async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  };
  try {
    if (compression !== 'none') {
      tmp = await mkdtemp(path.join(tmpdir(), 'stowage-archive-'));
      tarFile = path.join(tmp, 'archive.tar');
      await pipeline(
        createReadStream(file, { highWaterMark: 1 << 20 }),
        decompressor(compression, file),
        createWriteStream(tarFile),
      );
    } else if (!looksLikeTar(head.subarray(0, n))) {
      throw clientError('ARCHIVE_INVALID', { path: file, detail: 'it is neither a tar archive nor a directory' });
    }
    const members = await indexTar(tarFile);
    return new TarFiles(file, tarFile, members, cleanup);
  } catch (e) {
    await cleanup();
    if (e instanceof TarError) throw clientError('ARCHIVE_INVALID', { path: file, detail: e.message });
    if ((e as { code?: string }).code === 'Z_DATA_ERROR' || (e as { code?: string }).code === 'Z_BUF_ERROR') {
      throw clientError('ARCHIVE_INVALID', {
        path: file,
        detail: `corrupt ${compression} data (${(e as Error).message})`,
      });
    }
    throw e;
  }
}
