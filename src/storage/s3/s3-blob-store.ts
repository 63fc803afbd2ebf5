import { createHash } from 'node:crypto';
import { PassThrough, Readable, pipeline as streamPipeline } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { RegistryError } from '../../core/errors.js';
import type { Digest } from '../../core/digest.js';
import type { ByteRange } from '../../core/ranges.js';
import type { BlobBody, BlobStore, BodyRequest } from '../blob-store.js';
import { wrongOffset } from '../wrong-offset.js';
import { KeyedMutex } from '../../util/keyed-mutex.js';
import { pool } from '../../util/pool.js';
import { S3Layout } from './layout.js';
import { resumeSha256 } from './resumable-sha256.js';
import { initialState, parseState, type UploadState } from './upload-state.js';

export interface S3BlobStoreOptions {
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Path-style URLs (http://host/bucket/key), as radosgw and MinIO want. */
  pathStyle?: boolean;
  /** Key prefix for everything this store writes ("" or ending in "/"). */
  prefix?: string;
  /** Multipart part size in bytes (default 8 MiB, at least S3's 5 MiB minimum). */
  partSize?: number;
  /** Hand out presigned URLs for blob GETs (default true); false when clients cannot reach the store. */
  redirect?: boolean;
  /** Lifetime of presigned blob URLs, seconds (default 300). */
  presignSeconds?: number;
}

const SILENT = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** S3 refuses parts below this size, except the last one. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;
/** Parts sent at once per upload: S3 latency overlaps, memory is bounded by this + 1 parts. */
const PARTS_IN_FLIGHT = 3;
/** Bytes of a blob read buffered between radosgw's socket and the client's, per read. */
const READ_BUFFER_BYTES = 4 * 1024 * 1024;
/** A declared chunk up to this many part sizes is streamed as one part (appendAsPart); bigger ones are cut. */
const ONE_PART_MAX = 2;
/** S3's limit on parts per multipart upload. */
const MAX_PARTS = 10_000;
/** S3's limit of keys in one DeleteObjects request. */
const DELETE_KEYS_PER_REQUEST = 1000;
/** CopyObject's limit; bigger blobs are copied part by part. */
const MAX_COPY_BYTES = 5 * 1024 * 1024 * 1024;
const COPY_PART_BYTES = 1024 * 1024 * 1024;

/**
 * Blobs in an S3 bucket (`@aws-sdk/client-s3`; tested against Ceph radosgw).
 *
 * Uploads map onto S3 multipart uploads: incoming bytes are cut into parts of
 * `partSize`; what is left at the end of a chunk (less than 5 MiB) is kept as a
 * small tail object and becomes the start of the next part. Memory per upload is
 * bounded by four parts, 32 MiB at the default size (one filling, three being sent). The session's state —
 * including the resumable SHA-256 state (resumable-sha256.ts) — lives in the bucket, so
 * any replica can take the next chunk or the commit. A blob becomes visible only
 * at commit, after its digest was verified, by a copy to its content address.
 */
export class S3BlobStore implements BlobStore {
  readonly client: S3Client;
  private readonly layout: S3Layout;
  private readonly bucket: string;
  private readonly partSize: number;
  private readonly presignSeconds: number;
  private readonly redirect: boolean;
  private readonly locks = new KeyedMutex();

  constructor(options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    this.layout = new S3Layout(options.prefix ?? '');
    this.partSize = Math.max(options.partSize ?? DEFAULT_PART_BYTES, MIN_PART_BYTES);
    this.presignSeconds = options.presignSeconds ?? 300;
    this.redirect = options.redirect ?? true;
    this.client = new S3Client({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.pathStyle ?? false,
      ...(options.accessKeyId && options.secretAccessKey
        ? { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } }
        : {}),
      // radosgw 16 does not understand aws-chunked trailing checksums: without these,
      // streamed PutObject/UploadPart get 411 MissingContentLength.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      // Errors reach the caller anyway; without a logger the SDK prints a failed streamed
      // UploadPart (a client that went away) to the console.
      logger: SILENT,
    });
  }

  /** Resolves when the bucket answers (readiness). */
  async check(): Promise<void> {
    await this.s3(() => this.client.send(new HeadBucketCommand({ Bucket: this.bucket })));
  }

  async stat(digest: string): Promise<{ size: number } | undefined> {
    try {
      const head = await this.s3(() =>
        this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.layout.blobKey(digest) })),
      );
      return { size: head.ContentLength ?? 0 };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async read(digest: string, range?: ByteRange): Promise<Readable> {
    if (range && range.end < range.start) {
      if (!(await this.stat(digest))) throw new RegistryError('BLOB_UNKNOWN', undefined, { digest });
      return Readable.from([]);
    }
    try {
      const got = await this.s3(() =>
        this.client.send(
          new GetObjectCommand({
            Bucket: this.bucket,
            Key: this.layout.blobKey(digest),
            ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
          }),
        ),
      );
      // Piped straight into a response, radosgw's socket is paused whenever the client's
      // refuses a write (16 KiB marks): a stop and restart per 64 KiB read. A deeper buffer
      // between the two keeps both sockets flowing (BENCHMARKS.md, "Pulls on S3").
      const buffered = new PassThrough({ highWaterMark: READ_BUFFER_BYTES });
      streamPipeline(got.Body as Readable, buffered, () => undefined);
      return buffered;
    } catch (e) {
      // An empty object answers a Range with 416.
      if (isNotFound(e)) throw new RegistryError('BLOB_UNKNOWN', undefined, { digest });
      if (range && status(e) === 416) return Readable.from([]);
      throw e;
    }
  }

  /**
   * With `redirect`, a short-lived presigned GET the client fetches itself, made
   * locally without asking S3 whether the blob is there: the metadata store vouches
   * for it, and the URL of a missing one answers 404. Without, a stream.
   */
  async body(digest: string, request: BodyRequest = {}): Promise<BlobBody> {
    if (!this.redirect) return { kind: 'stream', stream: await this.read(digest, request.range) };
    const url = await getSignedUrl(
      this.client,
      new GetObjectCommand({ Bucket: this.bucket, Key: this.layout.blobKey(digest) }),
      { expiresIn: this.presignSeconds },
    );
    return { kind: 'redirect', url };
  }

  async deleteBlobs(digests: readonly string[]): Promise<void> {
    // DeleteObjects takes up to 1,000 keys: one round trip each, a few in flight.
    const chunks: string[][] = [];
    for (let i = 0; i < digests.length; i += DELETE_KEYS_PER_REQUEST)
      chunks.push(digests.slice(i, i + DELETE_KEYS_PER_REQUEST).map((d) => this.layout.blobKey(d)));
    await pool(chunks, 4, (keys) => this.deleteKeys(keys));
  }

  // ---- upload sessions ------------------------------------------------------

  async createUpload(id: string): Promise<void> {
    await this.putState(id, await initialState());
  }

  async uploadSize(id: string): Promise<number | undefined> {
    return (await this.loadState(id))?.size;
  }

  appendUpload(id: string, offset: number, data: Readable, length?: number): Promise<number> {
    return this.locks.run(id, async () => {
      const state = await this.loadState(id);
      if (!state) {
        data.resume();
        throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { id });
      }
      if (offset !== state.size) {
        throw wrongOffset(data, offset, state.size);
      }
      const whole = length === undefined ? undefined : state.tailSize + length;
      if (whole !== undefined && whole >= MIN_PART_BYTES && whole <= ONE_PART_MAX * this.partSize)
        return (await this.appendAsPart(id, state, data, length!)).size;
      return (await this.append(id, state, data)).size;
    });
  }

  /**
   * A chunk of declared length that, with the tail, makes one part S3 accepts: streamed
   * into UploadPart as it arrives, so receiving, hashing and storing overlap, and the
   * chunk is acknowledged as soon as its part is stored (one PATCH, one part). The
   * chunk's buffers are kept until then (at most ONE_PART_MAX parts, within the bound
   * above): a body that ends early (cut for stalling) is stored as far as it came.
   */
  private async appendAsPart(id: string, state: UploadState, data: Readable, length: number): Promise<UploadState> {
    const whole = state.tailSize + length;
    const [hash, tail, multipartId] = await Promise.all([
      resumeSha256(state.sha256),
      state.tailSize > 0 ? this.getBytes(state.tailKey!) : undefined,
      state.multipartId ?? this.createMultipart(id),
    ]);
    const n = (state.parts[state.parts.length - 1]?.n ?? 0) + 1;
    let received = 0;
    const kept: Buffer[] = [];
    const short = new Error('the chunk ended before its declared length');
    async function* bytes(): AsyncGenerator<Buffer> {
      if (tail) yield tail;
      for await (const chunk of data as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received > length) throw new RegistryError('SIZE_INVALID', 'the chunk is longer than declared');
        hash.update(chunk);
        kept.push(chunk);
        yield chunk;
      }
      if (received !== length) throw short;
    }
    const body = Readable.from(bytes(), { objectMode: false });
    // The SDK pipes the body into its request, and a failed source would leave that
    // request waiting for the rest: abort it instead (and report the body's error).
    const abort = new AbortController();
    let failure: Error | undefined;
    body.once('error', (e) => {
      failure = e;
      abort.abort(e);
    });
    const next: UploadState = {
      ...state,
      multipartId,
      parts: [...state.parts],
      size: state.size + length,
      tailSize: 0,
    };
    delete next.tailKey;
    try {
      const sent = await this.s3(() =>
        this.client.send(
          new UploadPartCommand({
            Bucket: this.bucket,
            Key: this.layout.dataKey(id),
            UploadId: multipartId,
            PartNumber: n,
            Body: body,
            ContentLength: whole,
          }),
          { abortSignal: abort.signal },
        ),
      );
      if (failure !== undefined) throw failure;
      next.parts.push({ n, etag: sent.ETag!, size: whole });
      next.sha256 = hash.save();
      await this.putState(id, next);
    } catch (e) {
      // The stored state still describes the session as it was before this append.
      body.destroy();
      if (state.multipartId === undefined) await this.abortMultipart(id, multipartId).catch(() => undefined);
      if (failure === short) return this.append(id, state, Readable.from(kept));
      throw failure ?? e;
    }
    if (state.tailKey) await this.deleteKeys([state.tailKey]).catch(() => undefined);
    return next;
  }

  /** Streams `data` into parts; the new state is written only once every byte is stored. */
  private async append(id: string, state: UploadState, data: Readable): Promise<UploadState> {
    const hash = await resumeSha256(state.sha256);
    const next: UploadState = { ...state, parts: [...state.parts] };
    const createdMultipart = state.multipartId === undefined;
    let buffered: Buffer[] = state.tailSize > 0 ? [await this.getBytes(state.tailKey!)] : [];
    let bufferedBytes = state.tailSize;
    const sending: Promise<void>[] = [];
    const allSent = () => Promise.all(sending.splice(0));
    let newTail: string | undefined;
    const sendPart = async (bytes: Buffer) => {
      // Parts in flight while the next one fills: memory stays at PARTS_IN_FLIGHT + 1 parts.
      if (sending.length >= PARTS_IN_FLIGHT) await sending.shift();
      if (next.parts.length >= MAX_PARTS)
        throw new RegistryError('BLOB_UPLOAD_INVALID', `upload exceeds ${MAX_PARTS} parts of ${this.partSize} bytes`);
      next.multipartId ??= await this.createMultipart(id);
      const n = (next.parts[next.parts.length - 1]?.n ?? 0) + 1;
      next.parts.push({ n, etag: '', size: bytes.length });
      const part = next.parts[next.parts.length - 1]!;
      const sent = this.uploadPart(id, next.multipartId, n, bytes).then((etag) => void (part.etag = etag));
      // Surface a failed send at the next await, not as an unhandled rejection.
      sent.catch(() => undefined);
      sending.push(sent);
    };
    try {
      for await (const chunk of data as AsyncIterable<Buffer>) {
        hash.update(chunk);
        next.size += chunk.length;
        buffered.push(chunk);
        bufferedBytes += chunk.length;
        while (bufferedBytes >= this.partSize) {
          const all = Buffer.concat(buffered, bufferedBytes);
          await sendPart(all.subarray(0, this.partSize));
          buffered = [all.subarray(this.partSize)];
          bufferedBytes -= this.partSize;
        }
      }
      const rest = Buffer.concat(buffered, bufferedBytes);
      if (rest.length >= MIN_PART_BYTES) {
        await sendPart(rest);
        next.tailSize = 0;
        delete next.tailKey;
      } else {
        next.tailSize = rest.length;
        next.tailKey = rest.length > 0 ? this.layout.tailKey(id, next.size) : undefined;
        if (next.tailKey) {
          newTail = next.tailKey;
          await this.s3(() =>
            this.client.send(
              new PutObjectCommand({ Bucket: this.bucket, Key: newTail, Body: rest, ContentLength: rest.length }),
            ),
          );
        }
      }
      await allSent();
      next.sha256 = hash.save();
      if (next.tailKey === undefined) delete next.tailKey;
      await this.putState(id, next);
    } catch (e) {
      // The stored state still describes the session as it was before this append.
      await Promise.allSettled(sending.splice(0));
      if (newTail && newTail !== state.tailKey) await this.deleteKeys([newTail]).catch(() => undefined);
      if (createdMultipart && next.multipartId) await this.abortMultipart(id, next.multipartId).catch(() => undefined);
      throw e;
    }
    if (state.tailKey && state.tailKey !== next.tailKey) await this.deleteKeys([state.tailKey]).catch(() => undefined);
    return next;
  }

  commitUpload(id: string, digest: Digest): Promise<{ size: number }> {
    return this.locks.run(id, async () => {
      const state = await this.loadState(id);
      if (!state) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { id });
      const mismatch = async (actual: string) => {
        await this.discard(id, state);
        return new RegistryError('DIGEST_INVALID', 'provided digest did not match uploaded content', {
          digest: digest.value,
          actual: `${digest.algorithm}:${actual}`,
        });
      };
      if (digest.algorithm === 'sha256') {
        const actual = (await resumeSha256(state.sha256)).hex();
        if (actual !== digest.hex) throw await mismatch(actual);
      }
      if (await this.stat(digest.value)) {
        // Already there (a parallel push of the same bytes): one object per digest.
        await this.discard(id, state);
        return { size: state.size };
      }
      const target = this.layout.blobKey(digest.value);
      if (state.parts.length === 0 && digest.algorithm === 'sha256') {
        // Small blob: the tail is the whole blob, written straight to its address.
        const bytes = state.tailSize > 0 ? await this.getBytes(state.tailKey!) : Buffer.alloc(0);
        await this.s3(() =>
          this.client.send(
            new PutObjectCommand({ Bucket: this.bucket, Key: target, Body: bytes, ContentLength: bytes.length }),
          ),
        );
      } else {
        const data = await this.assemble(id, state);
        if (digest.algorithm !== 'sha256') {
          // Only SHA-256 state is kept while uploading; other algorithms hash the assembled bytes.
          const h = createHash(digest.algorithm);
          await pipeline(await this.getStream(data), h);
          const actual = h.digest('hex');
          if (actual !== digest.hex) throw await mismatch(actual);
        }
        await this.copy(data, target, state.size);
      }
      await this.discard(id, state);
      return { size: state.size };
    });
  }

  deleteUpload(id: string): Promise<void> {
    return this.locks.run(id, async () => this.discard(id, await this.loadState(id)));
  }

  async *listBlobs(
    skip?: (digest: string) => boolean,
  ): AsyncIterable<{ digest: string; size: number; modifiedAt: number }> {
    for await (const o of this.listObjects(this.layout.blobsPrefix)) {
      const digest = o.Key && this.layout.digestOfBlobKey(o.Key);
      if (digest && !skip?.(digest)) yield { digest, size: o.Size ?? 0, modifiedAt: o.LastModified?.getTime() ?? 0 };
    }
  }

  async listUploads(): Promise<string[]> {
    const ids: string[] = [];
    for await (const o of this.listObjects(this.layout.uploadsPrefix)) {
      const id = o.Key && this.layout.sessionOfStateKey(o.Key);
      if (id) ids.push(id);
    }
    return ids;
  }

  /** Every object under `prefix`, page by page. */
  private async *listObjects(prefix: string): AsyncIterable<{ Key?: string; Size?: number; LastModified?: Date }> {
    let token: string | undefined;
    do {
      const page = await this.s3(() =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        ),
      );
      yield* page.Contents ?? [];
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  // ---- helpers --------------------------------------------------------------

  private async loadState(id: string): Promise<UploadState | undefined> {
    try {
      return parseState((await this.getBytes(this.layout.stateKey(id))).toString('utf8'));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private async putState(id: string, state: UploadState): Promise<void> {
    const body = Buffer.from(JSON.stringify(state));
    await this.s3(() =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.layout.stateKey(id),
          Body: body,
          ContentLength: body.length,
          ContentType: 'application/json',
        }),
      ),
    );
  }

  private async getStream(key: string): Promise<Readable> {
    const got = await this.s3(() => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })));
    return got.Body as Readable;
  }

  private async getBytes(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await this.getStream(key)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  private async createMultipart(id: string): Promise<string> {
    const r = await this.s3(() =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.layout.dataKey(id) })),
    );
    return r.UploadId!;
  }

  private async uploadPart(id: string, multipartId: string, n: number, bytes: Buffer): Promise<string> {
    const r = await this.s3(() =>
      this.client.send(
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: this.layout.dataKey(id),
          UploadId: multipartId,
          PartNumber: n,
          Body: bytes,
          ContentLength: bytes.length,
        }),
      ),
    );
    return r.ETag!;
  }

  private async abortMultipart(id: string, multipartId: string): Promise<void> {
    await this.s3(() =>
      this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.layout.dataKey(id), UploadId: multipartId }),
      ),
    );
  }

  /** Puts every byte of the session into its data object; returns that key. */
  private async assemble(id: string, state: UploadState): Promise<string> {
    const key = this.layout.dataKey(id);
    const tail = state.tailSize > 0 ? await this.getBytes(state.tailKey!) : undefined;
    if (state.multipartId === undefined) {
      const body = tail ?? Buffer.alloc(0);
      await this.s3(() =>
        this.client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: body.length }),
        ),
      );
      return key;
    }
    const parts = state.parts.map((p) => ({ PartNumber: p.n, ETag: p.etag }));
    if (tail) {
      // The last part may be smaller than 5 MiB.
      const n = (state.parts[state.parts.length - 1]?.n ?? 0) + 1;
      parts.push({ PartNumber: n, ETag: await this.uploadPart(id, state.multipartId, n, tail) });
    }
    const multipartId = state.multipartId;
    await this.s3(() =>
      this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: multipartId,
          MultipartUpload: { Parts: parts },
        }),
      ),
    );
    return key;
  }

  /** Server-side copy; part by part above CopyObject's 5 GiB limit. */
  private async copy(from: string, to: string, size: number): Promise<void> {
    const source = `${this.bucket}/${from.split('/').map(encodeURIComponent).join('/')}`;
    if (size <= MAX_COPY_BYTES) {
      await this.s3(() =>
        this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: to, CopySource: source })),
      );
      return;
    }
    const { UploadId } = await this.s3(() =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: to })),
    );
    try {
      const parts: Array<{ PartNumber: number; ETag: string }> = [];
      for (let start = 0, n = 1; start < size; start += COPY_PART_BYTES, n++) {
        const end = Math.min(size, start + COPY_PART_BYTES) - 1;
        const r = await this.s3(() =>
          this.client.send(
            new UploadPartCopyCommand({
              Bucket: this.bucket,
              Key: to,
              UploadId,
              PartNumber: n,
              CopySource: source,
              CopySourceRange: `bytes=${start}-${end}`,
            }),
          ),
        );
        parts.push({ PartNumber: n, ETag: r.CopyPartResult!.ETag! });
      }
      await this.s3(() =>
        this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key: to,
            UploadId,
            MultipartUpload: { Parts: parts },
          }),
        ),
      );
    } catch (e) {
      await this.s3(() =>
        this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: to, UploadId })),
      ).catch(() => undefined);
      throw e;
    }
  }

  /** Removes everything a session wrote: its multipart uploads and its objects (state last). */
  private async discard(id: string, state: UploadState | undefined): Promise<void> {
    const prefix = this.layout.uploadPrefix(id);
    const multipart = await this.s3(() =>
      this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix })),
    );
    const ids = new Set((multipart.Uploads ?? []).map((u) => u.UploadId!));
    if (state?.multipartId) ids.add(state.multipartId);
    for (const m of ids)
      await this.abortMultipart(id, m).catch((e: unknown) => (isNotFound(e) ? undefined : Promise.reject(e)));
    const listed = await this.s3(() =>
      this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix })),
    );
    const keys = (listed.Contents ?? []).map((o) => o.Key!).filter((k) => k !== this.layout.stateKey(id));
    await this.deleteKeys(keys);
    await this.deleteKeys([this.layout.stateKey(id)]);
  }

  private async deleteKeys(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    if (keys.length === 1) {
      await this.s3(() => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: keys[0] })));
      return;
    }
    const out = await this.s3(() =>
      this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
        }),
      ),
    );
    // Quiet: only failures are listed (an absent key is no failure).
    const failed = out.Errors?.[0];
    if (failed) throw new Error(`S3 DeleteObjects: ${failed.Key}: ${failed.Code} ${failed.Message ?? ''}`.trim());
  }

  /** S3 unreachable is a state to wait out: 503 UNAVAILABLE with a Retry-After. */
  private async s3<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      if (isUnreachable(e))
        throw new RegistryError('UNAVAILABLE', 'the blob store is unavailable; retry later', undefined, {
          'Retry-After': '5',
        });
      throw e;
    }
  }
}

function status(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function isNotFound(e: unknown): boolean {
  const name = (e as { name?: string })?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchUpload' || status(e) === 404;
}

function isUnreachable(e: unknown): boolean {
  const code = (e as { code?: string })?.code ?? '';
  return /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN)$/.test(code) || status(e) === 503;
}
