import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RegistryError } from '../../core/errors.js';
import type { Digest } from '../../core/digest.js';
import type { ByteRange } from '../../core/ranges.js';
import type { BlobBody, BlobStore, BodyRequest } from '../blob-store.js';
import { wrongOffset } from '../wrong-offset.js';
import { DiskLayout } from './layout.js';
import { KeyedMutex } from '../../util/keyed-mutex.js';

/**
 * An upload session this process is writing. The file is the source of truth for
 * the bytes; this only saves work: the open handle, and the running sha256 (valid
 * while `hash` is set — lost on restart, then the file is re-hashed at commit).
 */
interface OpenSession {
  handle: FileHandle;
  size: number;
  hash?: Hash;
  /** Bytes written since the last background flush was started. */
  unflushed: number;
  /** A background fdatasync in progress. */
  flushing?: Promise<void>;
  lastUsed: number;
}

export interface DiskBlobStoreOptions {
  /** fsync files and directories before acknowledging (default true). */
  fsync?: boolean;
}

/**
 * Start writing dirty pages back while the upload is still arriving, so the
 * fsync at commit only has the tail left: receiving and disk writing overlap.
 */
const FLUSH_EVERY_BYTES = 32 * 1024 * 1024;
const READ_CHUNK_BYTES = 1024 * 1024;
/** Sessions idle this long give their file handle back (they stay resumable). */
const IDLE_HANDLE_MS = 2 * 60 * 1000;

/** Blobs as files on a local disk; see layout.ts for the tree. */
export class DiskBlobStore implements BlobStore {
  private readonly layout: DiskLayout;
  private readonly fsync: boolean;
  private readonly sessions = new Map<string, OpenSession>();
  private readonly locks = new KeyedMutex();
  private readonly idleSweep: NodeJS.Timeout;

  private constructor(root: string, options: DiskBlobStoreOptions) {
    this.layout = new DiskLayout(root);
    this.fsync = options.fsync ?? true;
    this.idleSweep = setInterval(() => void this.closeIdleSessions(), IDLE_HANDLE_MS / 2);
    this.idleSweep.unref();
  }

  static async open(root: string, options: DiskBlobStoreOptions = {}): Promise<DiskBlobStore> {
    const store = new DiskBlobStore(root, options);
    await mkdir(store.layout.blobsDir, { recursive: true });
    await mkdir(store.layout.uploadsDir, { recursive: true });
    return store;
  }

  async stat(digest: string): Promise<{ size: number } | undefined> {
    try {
      const s = await stat(this.layout.blobPath(digest));
      return { size: s.size };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private openBlob(digest: string): Promise<FileHandle> {
    return open(this.layout.blobPath(digest), 'r').catch((e: unknown) => {
      if (isNotFound(e)) throw new RegistryError('BLOB_UNKNOWN', undefined, { digest });
      throw e;
    });
  }

  async read(digest: string, range?: ByteRange): Promise<Readable> {
    // Open first so a missing blob is an error here, not on the response stream.
    const handle = await this.openBlob(digest);
    const start = range?.start ?? 0;
    const end = range?.end ?? (await handle.stat()).size - 1;
    if (end < start) {
      await handle.close();
      return Readable.from([]);
    }
    // Large reads mean fewer turns of the event loop per layer; sized to the blob so
    // a small one does not allocate a whole read buffer.
    return handle.createReadStream({
      start,
      end,
      highWaterMark: Math.max(1, Math.min(READ_CHUNK_BYTES, end - start + 1)),
    });
  }

  async body(digest: string, request: BodyRequest = {}): Promise<BlobBody> {
    if (!request.localFile) return { kind: 'stream', stream: await this.read(digest, request.range) };
    const handle = await this.openBlob(digest);
    return { kind: 'file', fd: handle.fd, close: () => handle.close() };
  }

  async delete(digest: string): Promise<void> {
    await rm(this.layout.blobPath(digest), { force: true });
  }

  async *listBlobs(): AsyncIterable<{ digest: string; size: number; modifiedAt: number }> {
    for (const alg of await readdirOrEmpty(this.layout.blobsDir)) {
      for (const prefix of await readdirOrEmpty(join(this.layout.blobsDir, alg))) {
        for (const hex of await readdirOrEmpty(join(this.layout.blobsDir, alg, prefix))) {
          const digest = `${alg}:${hex}`;
          const s = await stat(this.layout.blobPath(digest)).catch(() => undefined);
          // Gone meanwhile (deleted by a collector), or not a file we wrote.
          if (s?.isFile()) yield { digest, size: s.size, modifiedAt: s.mtimeMs };
        }
      }
    }
  }

  async createUpload(id: string): Promise<void> {
    const handle = await open(this.layout.uploadPath(id), 'wx+');
    this.sessions.set(id, { handle, size: 0, hash: createHash('sha256'), unflushed: 0, lastUsed: Date.now() });
  }

  async uploadSize(id: string): Promise<number | undefined> {
    const open = this.sessions.get(id);
    if (open) return open.size;
    try {
      return (await stat(this.layout.uploadPath(id))).size;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** The session's open state, reopening its file after a restart or an idle close. */
  private async session(id: string): Promise<OpenSession> {
    const existing = this.sessions.get(id);
    if (existing) {
      existing.lastUsed = Date.now();
      return existing;
    }
    const handle = await open(this.layout.uploadPath(id), 'r+').catch((e: unknown) => {
      if (isNotFound(e)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { id });
      throw e;
    });
    const { size } = await handle.stat();
    const s: OpenSession = { handle, size, unflushed: 0, lastUsed: Date.now() };
    this.sessions.set(id, s);
    return s;
  }

  appendUpload(id: string, offset: number, data: Readable): Promise<number> {
    return this.locks.run(id, async () => {
      const s = await this.session(id);
      if (offset !== s.size) {
        throw wrongOffset(data, offset, s.size);
      }
      const start = s.size;
      const before = s.hash?.copy();
      const flush = () => this.flushInBackground(s);
      // The write in flight when the body fails must land before the rollback truncates.
      let inflight: Promise<unknown> = Promise.resolve();
      try {
        await pipeline(
          data,
          new Writable({
            highWaterMark: 1024 * 1024,
            writev(chunks, cb) {
              const bufs = chunks.map((c) => c.chunk as Buffer);
              for (const b of bufs) s.hash?.update(b);
              inflight = s.handle.writev(bufs, s.size).then((r) => {
                s.size += r.bytesWritten;
                s.unflushed += r.bytesWritten;
                flush();
                cb();
              }, cb);
            },
          }),
        );
      } catch (e) {
        // A failed append leaves the session as it was before it.
        await inflight.catch(() => undefined);
        await s.flushing;
        await s.handle.truncate(start).catch(() => undefined);
        s.size = start;
        s.hash = before;
        throw e;
      }
      s.lastUsed = Date.now();
      return s.size;
    });
  }

  private flushInBackground(s: OpenSession): void {
    if (!this.fsync || s.flushing || s.unflushed < FLUSH_EVERY_BYTES) return;
    s.unflushed = 0;
    // Errors surface at commit, whose fsync is awaited.
    s.flushing = s.handle.datasync().then(
      () => void (s.flushing = undefined),
      () => void (s.flushing = undefined),
    );
  }

  commitUpload(id: string, digest: Digest): Promise<{ size: number }> {
    return this.locks.run(id, async () => {
      const s = await this.session(id);
      const actual = await this.sessionDigest(id, s, digest.algorithm);
      if (actual !== digest.hex) {
        await this.discard(id);
        throw new RegistryError('DIGEST_INVALID', 'provided digest did not match uploaded content', {
          digest: digest.value,
          actual: `${digest.algorithm}:${actual}`,
        });
      }
      if (this.fsync) {
        await s.flushing;
        await s.handle.sync();
      }
      const target = this.layout.blobPath(digest.value);
      await mkdir(dirname(target), { recursive: true });
      // rename over an existing identical blob is atomic and harmless (concurrent pushes).
      await rename(this.layout.uploadPath(id), target);
      this.sessions.delete(id);
      await s.handle.close();
      if (this.fsync) await syncDir(dirname(target));
      return { size: s.size };
    });
  }

  private async sessionDigest(id: string, s: OpenSession, algorithm: Digest['algorithm']): Promise<string> {
    // copy(): the running hash stays usable if the commit fails after this and is retried.
    if (algorithm === 'sha256' && s.hash) return s.hash.copy().digest('hex');
    // After a restart (or for sha512) the running hash is gone: hash the stored bytes.
    const hash = createHash(algorithm);
    await pipeline(createReadStream(this.layout.uploadPath(id), { highWaterMark: 1024 * 1024 }), hash);
    return hash.digest('hex');
  }

  deleteUpload(id: string): Promise<void> {
    return this.locks.run(id, () => this.discard(id));
  }

  private async discard(id: string): Promise<void> {
    const s = this.sessions.get(id);
    this.sessions.delete(id);
    if (s) {
      await s.flushing;
      await s.handle.close().catch(() => undefined);
    }
    await rm(this.layout.uploadPath(id), { force: true });
  }

  private async closeIdleSessions(): Promise<void> {
    const cutoff = Date.now() - IDLE_HANDLE_MS;
    for (const [id, s] of this.sessions) {
      if (s.lastUsed >= cutoff) continue;
      await this.locks.run(id, async () => {
        if (this.sessions.get(id) !== s || s.lastUsed >= cutoff) return;
        this.sessions.delete(id);
        await s.flushing;
        await s.handle.close().catch(() => undefined);
      });
    }
  }

  async listUploads(): Promise<string[]> {
    return (await readdir(this.layout.uploadsDir)).filter((n) => /^[0-9a-f-]{36}$/.test(n));
  }

  async check(): Promise<void> {
    await stat(this.layout.blobsDir);
    await stat(this.layout.uploadsDir);
  }

  async close(): Promise<void> {
    clearInterval(this.idleSweep);
    for (const [id, s] of this.sessions) {
      this.sessions.delete(id);
      await s.flushing;
      await s.handle.close().catch(() => undefined);
    }
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  return readdir(dir).catch((e: unknown) => {
    if (isNotFound(e)) return [];
    throw e;
  });
}

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'ENOENT';
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
