import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RegistryError } from '../../core/errors.js';
import type { Digest } from '../../core/digest.js';
import type { ByteRange } from '../../core/ranges.js';
import type { BlobStore } from '../blob-store.js';
import { DiskLayout } from './layout.js';
import { KeyedMutex } from '../../util/keyed-mutex.js';

/** The running sha256 of a session, valid while `size` equals the file size. */
interface LiveHash {
  hash: Hash;
  size: number;
}

export interface DiskBlobStoreOptions {
  /** fsync files and directories before acknowledging (default true). */
  fsync?: boolean;
}

/** Blobs as files on a local disk; see layout.ts for the tree. */
export class DiskBlobStore implements BlobStore {
  private readonly layout: DiskLayout;
  private readonly fsync: boolean;
  private readonly live = new Map<string, LiveHash>();
  private readonly locks = new KeyedMutex();

  private constructor(root: string, options: DiskBlobStoreOptions) {
    this.layout = new DiskLayout(root);
    this.fsync = options.fsync ?? true;
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

  async read(digest: string, range?: ByteRange): Promise<Readable> {
    const path = this.layout.blobPath(digest);
    // Open first so a missing blob is an error here, not on the response stream.
    const handle = await open(path, 'r').catch((e: unknown) => {
      if (isNotFound(e)) throw new RegistryError('BLOB_UNKNOWN', undefined, { digest });
      throw e;
    });
    return handle.createReadStream({
      start: range?.start,
      end: range?.end,
      highWaterMark: 1024 * 1024,
    });
  }

  async delete(digest: string): Promise<void> {
    await rm(this.layout.blobPath(digest), { force: true });
  }

  async createUpload(id: string): Promise<void> {
    const handle = await open(this.layout.uploadPath(id), 'wx');
    await handle.close();
    this.live.set(id, { hash: createHash('sha256'), size: 0 });
  }

  async uploadSize(id: string): Promise<number | undefined> {
    try {
      return (await stat(this.layout.uploadPath(id))).size;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  appendUpload(id: string, offset: number, data: Readable): Promise<number> {
    return this.locks.run(id, async () => {
      const path = this.layout.uploadPath(id);
      const size = await this.uploadSize(id);
      if (size === undefined) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { id });
      if (offset !== size) {
        data.resume(); // drain so the connection can answer
        throw new RegistryError('RANGE_INVALID', `chunk starts at ${offset}, upload has ${size} bytes`, { size }, { Range: `0-${Math.max(0, size - 1)}` });
      }
      const live = this.live.get(id);
      const hashing = live && live.size === size ? live.hash : undefined;
      const before = hashing?.copy();
      const handle = await open(path, 'r+');
      let written = 0;
      try {
        await pipeline(data, new Writable({
          highWaterMark: 1024 * 1024,
          writev(chunks, cb) {
            const bufs = chunks.map((c) => c.chunk as Buffer);
            for (const b of bufs) hashing?.update(b);
            handle.writev(bufs, size + written).then((r) => {
              written += r.bytesWritten;
              cb();
            }, cb);
          },
        }));
      } catch (e) {
        // A failed append leaves the session as it was before it.
        await handle.truncate(size).catch(() => undefined);
        if (live && before) this.live.set(id, { hash: before, size });
        throw e;
      } finally {
        await handle.close();
      }
      if (hashing) this.live.set(id, { hash: hashing, size: size + written });
      else this.live.delete(id);
      return size + written;
    });
  }

  commitUpload(id: string, digest: Digest): Promise<{ size: number }> {
    return this.locks.run(id, async () => {
      const path = this.layout.uploadPath(id);
      const size = await this.uploadSize(id);
      if (size === undefined) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { id });
      const actual = await this.sessionDigest(id, path, size, digest.algorithm);
      if (actual !== digest.hex) {
        await this.deleteUploadNow(id);
        throw new RegistryError('DIGEST_INVALID', 'provided digest did not match uploaded content', {
          digest: digest.value,
          actual: `${digest.algorithm}:${actual}`,
        });
      }
      const target = this.layout.blobPath(digest.value);
      if (this.fsync) {
        const handle = await open(path, 'r+');
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
      }
      await mkdir(dirname(target), { recursive: true });
      // rename over an existing identical blob is atomic and harmless (concurrent pushes).
      await rename(path, target);
      if (this.fsync) await syncDir(dirname(target));
      this.live.delete(id);
      return { size };
    });
  }

  private async sessionDigest(id: string, path: string, size: number, algorithm: Digest['algorithm']): Promise<string> {
    const live = this.live.get(id);
    // copy(): the running hash stays usable if the commit fails after this and is retried.
    if (algorithm === 'sha256' && live && live.size === size) return live.hash.copy().digest('hex');
    // After a restart (or for sha512) the running hash is gone: hash the stored bytes.
    const hash = createHash(algorithm);
    await pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), hash);
    return hash.digest('hex');
  }

  deleteUpload(id: string): Promise<void> {
    return this.locks.run(id, () => this.deleteUploadNow(id));
  }

  private async deleteUploadNow(id: string): Promise<void> {
    this.live.delete(id);
    await rm(this.layout.uploadPath(id), { force: true });
  }

  async listUploads(): Promise<string[]> {
    return (await readdir(this.layout.uploadsDir)).filter((n) => /^[0-9a-f-]{36}$/.test(n));
  }

  async close(): Promise<void> {
    this.live.clear();
  }
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
