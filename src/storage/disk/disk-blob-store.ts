import { createHash, type Hash } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
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
import { pool } from '../../util/pool.js';

/**
 * An upload session this process is writing. The file is the source of truth for
 * the bytes; this only saves work: the open handle (only while the session is among
 * the most recently used, see maxOpenFiles), and the running sha256 (valid while
 * `hash` is set — lost on restart, then the file is re-hashed at commit).
 */
interface OpenSession {
  handle?: FileHandle;
  /** An append or commit is using the handle: it is not closed under it. */
  busy: boolean;
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
  /**
   * Session files kept open at most (default 256); past it the least recently used
   * idle one is closed, and reopened when its session is used again.
   */
  maxOpenFiles?: number;
}

/**
 * Start writing dirty pages back while the upload is still arriving, so the
 * fsync at commit only has the tail left: receiving and disk writing overlap.
 */
const FLUSH_EVERY_BYTES = 32 * 1024 * 1024;
const READ_CHUNK_BYTES = 1024 * 1024;
/** Blob files unlinked at once by deleteBlobs. */
const DELETES_IN_FLIGHT = 16;
/** Sessions idle this long give their file handle back (they stay resumable). */
const IDLE_HANDLE_MS = 2 * 60 * 1000;

/** Blobs as files on a local disk; see layout.ts for the tree. */
export class DiskBlobStore implements BlobStore {
  private readonly layout: DiskLayout;
  private readonly fsync: boolean;
  /** In least-recently-used order (a use moves a session to the end). */
  private readonly sessions = new Map<string, OpenSession>();
  private readonly maxOpenFiles: number;
  private openFiles = 0;
  private readonly locks = new KeyedMutex();
  private readonly idleSweep: NodeJS.Timeout;

  private constructor(root: string, options: DiskBlobStoreOptions) {
    this.layout = new DiskLayout(root);
    this.fsync = options.fsync ?? true;
    this.maxOpenFiles = options.maxOpenFiles ?? 256;
    this.idleSweep = setInterval(() => this.closeIdleSessions(), IDLE_HANDLE_MS / 2);
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

  async deleteBlobs(digests: readonly string[]): Promise<void> {
    // Unlinks in flight at once (libuv's threads run them): no stat first, as rm would.
    // Not fsynced: a removal a crash undoes leaves bytes with no record, which the next
    // collection removes as orphans.
    await pool(digests, DELETES_IN_FLIGHT, (d) =>
      unlink(this.layout.blobPath(d)).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      }),
    );
  }

  async *listBlobs(
    skip?: (digest: string) => boolean,
  ): AsyncIterable<{ digest: string; size: number; modifiedAt: number }> {
    for (const alg of await readdirOrEmpty(this.layout.blobsDir)) {
      for (const prefix of await readdirOrEmpty(join(this.layout.blobsDir, alg))) {
        for (const hex of await readdirOrEmpty(join(this.layout.blobsDir, alg, prefix))) {
          const digest = `${alg}:${hex}`;
          if (skip?.(digest)) continue;
          const s = await stat(this.layout.blobPath(digest)).catch(() => undefined);
          // Gone meanwhile (deleted by a collector), or not a file we wrote.
          if (s?.isFile()) yield { digest, size: s.size, modifiedAt: s.mtimeMs };
        }
      }
    }
  }

  async createUpload(id: string): Promise<void> {
    // Created and closed: a session holds a descriptor only while it receives bytes.
    await this.closeFile(await this.openFile(this.layout.uploadPath(id), 'wx'));
    this.sessions.set(id, { busy: false, size: 0, hash: createHash('sha256'), unflushed: 0, lastUsed: Date.now() });
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

  /**
   * The session with its file open, for the caller (under the session's lock) to
   * use until `release`: reopens it after a restart or a close, and moves it to the
   * most recently used end.
   */
  private async session(id: string): Promise<OpenSession & { handle: FileHandle }> {
    let s = this.sessions.get(id);
    if (!s?.handle) {
      const handle = await this.openFile(this.layout.uploadPath(id), 'r+').catch((e: unknown) => {
        if (isNotFound(e)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { id });
        throw e;
      });
      if (s) s.handle = handle;
      else {
        const size = await handle.stat().then(
          (st) => st.size,
          async (e: unknown) => {
            await this.closeFile(handle);
            throw e;
          },
        );
        s = { handle, busy: false, size, unflushed: 0, lastUsed: Date.now() };
      }
    }
    this.sessions.delete(id);
    this.sessions.set(id, s);
    s.lastUsed = Date.now();
    s.busy = true;
    this.closeLeastRecentlyUsed();
    return s as OpenSession & { handle: FileHandle };
  }

  private release(s: OpenSession): void {
    s.busy = false;
    this.closeLeastRecentlyUsed();
  }

  /** Opens a file counted against maxOpenFiles; out of descriptors, it gives an idle session's back and tries once more. */
  private async openFile(path: string, flags: string): Promise<FileHandle> {
    let handle: FileHandle;
    try {
      handle = await open(path, flags);
    } catch (e) {
      const closing = isOutOfDescriptors(e) ? this.closeIdleHandle() : undefined;
      if (!closing) throw e;
      await closing;
      handle = await open(path, flags);
    }
    this.openFiles++;
    return handle;
  }

  /** Counted as closed at once; the descriptor itself is closed once `after` (a flush on it) settles. */
  private closeFile(handle: FileHandle, after: Promise<void> = Promise.resolve()): Promise<void> {
    this.openFiles--;
    return after.then(() => handle.close()).catch(() => undefined);
  }

  /** Closes idle session files, least recently used first, until at most maxOpenFiles are open. */
  private closeLeastRecentlyUsed(): void {
    while (this.openFiles > this.maxOpenFiles && this.closeIdleHandle() !== undefined);
  }

  /** Closes the least recently used idle session's file (it stays resumable); undefined when none is idle. */
  private closeIdleHandle(): Promise<void> | undefined {
    for (const s of this.sessions.values()) {
      if (!s.handle || s.busy) continue;
      const handle = s.handle;
      s.handle = undefined;
      // A background flush on it finishes first; its errors surface at commit's fsync.
      return this.closeFile(handle, s.flushing);
    }
    return undefined;
  }

  appendUpload(id: string, offset: number, data: Readable): Promise<number> {
    return this.locks.run(id, async () => {
      const s = await this.session(id);
      try {
        if (offset !== s.size) {
          throw wrongOffset(data, offset, s.size);
        }
        await this.append(s, s.handle, data);
        s.lastUsed = Date.now();
        return s.size;
      } finally {
        this.release(s);
      }
    });
  }

  private async append(s: OpenSession, handle: FileHandle, data: Readable): Promise<void> {
    const start = s.size;
    const before = s.hash?.copy();
    const flush = () => this.flushInBackground(s, handle);
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
            inflight = handle.writev(bufs, s.size).then((r) => {
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
      await handle.truncate(start).catch(() => undefined);
      s.size = start;
      s.hash = before;
      throw e;
    }
  }

  private flushInBackground(s: OpenSession, handle: FileHandle): void {
    if (!this.fsync || s.flushing || s.unflushed < FLUSH_EVERY_BYTES) return;
    s.unflushed = 0;
    // Errors surface at commit, whose fsync is awaited.
    s.flushing = handle.datasync().then(
      () => void (s.flushing = undefined),
      () => void (s.flushing = undefined),
    );
  }

  commitUpload(id: string, digest: Digest): Promise<{ size: number }> {
    return this.locks.run(id, async () => {
      const s = await this.session(id);
      let committed = false;
      try {
        const actual = await this.sessionDigest(s, digest.algorithm);
        if (actual !== digest.hex) {
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
        committed = true;
        this.sessions.delete(id);
        await this.closeFile(s.handle);
        if (this.fsync) await syncDir(dirname(target));
        return { size: s.size };
      } catch (e) {
        if (!committed) this.release(s);
        if (e instanceof RegistryError && e.code === 'DIGEST_INVALID') await this.discard(id);
        throw e;
      }
    });
  }

  private async sessionDigest(
    s: OpenSession & { handle: FileHandle },
    algorithm: Digest['algorithm'],
  ): Promise<string> {
    // copy(): the running hash stays usable if the commit fails after this and is retried.
    if (algorithm === 'sha256' && s.hash) return s.hash.copy().digest('hex');
    // After a restart (or for sha512) the running hash is gone: hash the stored bytes (through the open handle).
    const hash = createHash(algorithm);
    await pipeline(s.handle.createReadStream({ start: 0, autoClose: false, highWaterMark: READ_CHUNK_BYTES }), hash);
    return hash.digest('hex');
  }

  deleteUpload(id: string): Promise<void> {
    return this.locks.run(id, () => this.discard(id));
  }

  private async discard(id: string): Promise<void> {
    const s = this.sessions.get(id);
    this.sessions.delete(id);
    if (s?.handle) await this.closeFile(s.handle, s.flushing);
    await rm(this.layout.uploadPath(id), { force: true });
  }

  /** Idle sessions give their file back (they keep their size and running hash). */
  private closeIdleSessions(): void {
    const cutoff = Date.now() - IDLE_HANDLE_MS;
    for (const s of this.sessions.values()) {
      if (!s.handle || s.busy || s.lastUsed >= cutoff) continue;
      void this.closeFile(s.handle, s.flushing);
      s.handle = undefined;
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
      if (s.handle) await this.closeFile(s.handle, s.flushing);
    }
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  return readdir(dir).catch((e: unknown) => {
    if (isNotFound(e)) return [];
    throw e;
  });
}

function isOutOfDescriptors(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
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
