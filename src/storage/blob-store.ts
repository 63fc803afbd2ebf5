import type { Readable } from 'node:stream';
import type { ByteRange } from '../core/ranges.js';
import type { Digest } from '../core/digest.js';

/**
 * How a committed blob's bytes reach a client. A driver answers with what is
 * cheapest for it, and the HTTP layer serves any of the three, so a new driver
 * never touches HTTP.
 */
export type BlobBody = LocalFileBody | StreamBody | RedirectBody;

/**
 * An open local file, for zero-copy responses (sendfile). The descriptor keeps
 * the bytes readable even if the blob is deleted while it is being sent. The
 * receiver reads the range it needs from it and calls close() exactly once.
 */
export interface LocalFileBody {
  kind: 'file';
  fd: number;
  close(): Promise<void>;
}

/** The bytes of the requested range (the whole blob without one). */
export interface StreamBody {
  kind: 'stream';
  stream: Readable;
}

/**
 * Where the client fetches the bytes itself (a short-lived presigned URL of an
 * object store): the server answers 307 with this Location.
 */
export interface RedirectBody {
  kind: 'redirect';
  url: string;
}

export interface BodyRequest {
  /** Already resolved against the blob's size. */
  range?: ByteRange;
  /**
   * The caller can send a local file directly (plain-TCP socket, sendfile loaded,
   * body large enough). Only then may the answer be a `file`.
   */
  localFile?: boolean;
}

/**
 * Content-addressed bytes, and the upload sessions that become them.
 *
 * A blob is written only by committing an upload whose bytes hash to the
 * claimed digest; commit is atomic (no reader ever sees a partial blob) and
 * durable before it returns. Which repositories may see a blob, and its size,
 * is the metadata store's business: HEAD and the headers of GET are answered
 * from the blob link without calling the blob store at all.
 */
export interface BlobStore {
  /** Size of a committed blob, or undefined when absent (consistency checks, not the request path). */
  stat(digest: string): Promise<{ size: number } | undefined>;
  /** Streams a committed blob (or part of it). Rejects with BLOB_UNKNOWN when absent. */
  read(digest: string, range?: ByteRange): Promise<Readable>;
  /**
   * How to serve a committed blob (or part of it) to a client. Rejects with
   * BLOB_UNKNOWN when absent; a redirect may instead be made without a round trip
   * to check, and its URL then answers 404.
   */
  body(digest: string, request?: BodyRequest): Promise<BlobBody>;
  /**
   * Removes committed blobs' bytes (garbage collection only), several at a time (a
   * collector removes thousands); no error for ones already gone.
   */
  deleteBlobs(digests: readonly string[]): Promise<void>;
  /**
   * Every committed blob, in no particular order (garbage collection of orphan bytes,
   * fsck), except those `skip` names: a store that must ask for each blob's size and
   * time (a file's stat) need not ask for those.
   */
  listBlobs(skip?: (digest: string) => boolean): AsyncIterable<{ digest: string; size: number; modifiedAt: number }>;

  /** Starts an empty upload session. */
  createUpload(id: string): Promise<void>;
  /** Bytes received so far, or undefined when the session does not exist. */
  uploadSize(id: string): Promise<number | undefined>;
  /**
   * Appends a stream at `offset`, which must equal the current size (else
   * RANGE_INVALID). Hashes while writing. If the stream fails midway, the session
   * is rolled back to `offset`. Resolves to the new size. `length`, when the request
   * declared it (Content-Length), lets a store stream the chunk straight through; a
   * body that then ends short fails the append.
   */
  appendUpload(id: string, offset: number, data: Readable, length?: number): Promise<number>;
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
