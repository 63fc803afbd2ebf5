import { createHash, type Hash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RegistryError } from '../../core/errors.js';
import type { Digest } from '../../core/digest.js';
import type { ByteRange } from '../../core/ranges.js';
import type { BlobBody, BlobStore, BodyRequest } from '../blob-store.js';
import { wrongOffset } from '../wrong-offset.js';
import { KeyedMutex } from '../../util/keyed-mutex.js';

interface Session {
  chunks: Buffer[];
  size: number;
  /** Running sha256 of `chunks`. */
  hash: Hash;
}

/** Bodies are handed out in pieces of this size, as a file would be read. */
const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * Blobs in process memory, like Distribution's `inmemory` driver: for tests and
 * throwaway registries, where it proves the BlobStore contract with a second
 * implementation. Nothing survives the process, and every byte pushed stays in
 * memory, so it is not for real workloads.
 */
export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, Buffer>();
  /** When each blob was committed (epoch ms), for listBlobs. */
  private readonly committedAt = new Map<string, number>();
  private readonly sessions = new Map<string, Session>();
  private readonly locks = new KeyedMutex();

  async stat(digest: string): Promise<{ size: number } | undefined> {
    const bytes = this.blobs.get(digest);
    return bytes && { size: bytes.length };
  }

  async read(digest: string, range?: ByteRange): Promise<Readable> {
    const bytes = this.blobs.get(digest);
    if (!bytes) throw new RegistryError('BLOB_UNKNOWN', undefined, { digest });
    // The buffer is never changed once committed: a delete meanwhile cannot cut a read short.
    return Readable.from(pieces(range ? bytes.subarray(range.start, range.end + 1) : bytes));
  }

  async body(digest: string, request: BodyRequest = {}): Promise<BlobBody> {
    return { kind: 'stream', stream: await this.read(digest, request.range) };
  }

  async deleteBlobs(digests: readonly string[]): Promise<void> {
    for (const d of digests) {
      this.blobs.delete(d);
      this.committedAt.delete(d);
    }
  }

  async *listBlobs(
    skip?: (digest: string) => boolean,
  ): AsyncIterable<{ digest: string; size: number; modifiedAt: number }> {
    for (const [digest, bytes] of [...this.blobs])
      if (!skip?.(digest)) yield { digest, size: bytes.length, modifiedAt: this.committedAt.get(digest) ?? 0 };
  }

  async createUpload(id: string): Promise<void> {
    if (this.sessions.has(id)) throw new Error(`upload ${id} exists`);
    this.sessions.set(id, { chunks: [], size: 0, hash: createHash('sha256') });
  }

  async uploadSize(id: string): Promise<number | undefined> {
    return this.sessions.get(id)?.size;
  }

  appendUpload(id: string, offset: number, data: Readable): Promise<number> {
    return this.locks.run(id, async () => {
      const s = this.sessions.get(id);
      if (!s) {
        data.resume();
        throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { id });
      }
      if (offset !== s.size) {
        throw wrongOffset(data, offset, s.size);
      }
      // Received into the side, so a body that fails midway leaves the session as it was.
      const received: Buffer[] = [];
      const hash = s.hash.copy();
      await pipeline(
        data,
        new Writable({
          write(chunk: Buffer, _encoding, cb) {
            // Copied: the stream may reuse its buffers.
            const own = Buffer.from(chunk);
            received.push(own);
            hash.update(own);
            cb();
          },
        }),
      );
      // The session may have been deleted while the body arrived.
      if (this.sessions.get(id) !== s) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { id });
      for (const b of received) s.chunks.push(b);
      s.size += received.reduce((n, b) => n + b.length, 0);
      s.hash = hash;
      return s.size;
    });
  }

  commitUpload(id: string, digest: Digest): Promise<{ size: number }> {
    return this.locks.run(id, async () => {
      const s = this.sessions.get(id);
      if (!s) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { id });
      const actual =
        digest.algorithm === 'sha256' ? s.hash.copy().digest('hex') : hashChunks(digest.algorithm, s.chunks);
      this.sessions.delete(id);
      if (actual !== digest.hex) {
        throw new RegistryError('DIGEST_INVALID', 'provided digest did not match uploaded content', {
          digest: digest.value,
          actual: `${digest.algorithm}:${actual}`,
        });
      }
      if (!this.blobs.has(digest.value)) this.blobs.set(digest.value, Buffer.concat(s.chunks, s.size));
      this.committedAt.set(digest.value, Date.now());
      return { size: s.size };
    });
  }

  deleteUpload(id: string): Promise<void> {
    return this.locks.run(id, async () => {
      this.sessions.delete(id);
    });
  }

  async listUploads(): Promise<string[]> {
    return [...this.sessions.keys()];
  }

  /** Memory always answers. */
  async check(): Promise<void> {}

  async close(): Promise<void> {
    this.sessions.clear();
  }
}

function* pieces(bytes: Buffer): Generator<Buffer> {
  for (let i = 0; i < bytes.length; i += READ_CHUNK_BYTES) yield bytes.subarray(i, i + READ_CHUNK_BYTES);
}

function hashChunks(algorithm: string, chunks: Buffer[]): string {
  const hash = createHash(algorithm);
  for (const c of chunks) hash.update(c);
  return hash.digest('hex');
}
