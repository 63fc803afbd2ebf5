import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { ByteRange } from '../core/ranges.js';
import type { Digest } from '../core/digest.js';

/**
 * Content-addressed bytes, and the upload sessions that become them.
 *
 * A blob is written only by committing an upload whose bytes hash to the
 * claimed digest; commit is atomic (no reader ever sees a partial blob) and
 * durable before it returns. Which repositories may see a blob is not the blob
 * store's business: that is the metadata store's.
 */
export interface BlobStore {
  /** Size of a committed blob, or undefined when absent. */
  stat(digest: string): Promise<{ size: number } | undefined>;
  /** Streams a committed blob (or part of it). Rejects with BLOB_UNKNOWN when absent. */
  read(digest: string, range?: ByteRange): Promise<Readable>;
  /**
   * Opens a committed blob as a local file, so the HTTP layer can hand it to the
   * kernel (sendfile). Only drivers that keep blobs in local files have it; the
   * caller closes the handle. Rejects with BLOB_UNKNOWN when absent.
   */
  openFile?(digest: string): Promise<FileHandle>;
  /**
   * A short-lived URL clients can fetch the committed blob from themselves (an
   * object store's presigned GET), or undefined when this store serves bytes only
   * through `read`. Only drivers whose storage clients can reach have it.
   */
  readUrl?(digest: string): Promise<string | undefined>;
  /** Removes a committed blob's bytes (garbage collection only); no error when already gone. */
  delete(digest: string): Promise<void>;
  /** Every committed blob, in no particular order (garbage collection of orphan bytes, fsck). */
  listBlobs(): AsyncIterable<{ digest: string; size: number; modifiedAt: number }>;

  /** Starts an empty upload session. */
  createUpload(id: string): Promise<void>;
  /** Bytes received so far, or undefined when the session does not exist. */
  uploadSize(id: string): Promise<number | undefined>;
  /**
   * Appends a stream at `offset`, which must equal the current size (else
   * RANGE_INVALID). Hashes while writing. If the stream fails midway, the session
   * is rolled back to `offset`. Resolves to the new size.
   */
  appendUpload(id: string, offset: number, data: Readable): Promise<number>;
  /**
   * Verifies the session's bytes against `digest` (DIGEST_INVALID on mismatch,
   * which also discards the session), then makes them the blob. Idempotent
   * when the blob already exists.
   */
  commitUpload(id: string, digest: Digest): Promise<{ size: number }>;
  /** Discards a session's bytes; no error when already gone. */
  deleteUpload(id: string): Promise<void>;
  /** Session ids whose bytes exist, for clean-up of orphans. */
  listUploads(): Promise<string[]>;
  /** Resolves when the storage answers; rejects (UNAVAILABLE) when it does not (readiness). */
  check(): Promise<void>;
  close(): Promise<void>;
}
