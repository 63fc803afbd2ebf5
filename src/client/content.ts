/**
 * Content by descriptor: where bytes come from when the client pushes or copies
 * (a registry repository, an archive, files, memory), and how they are checked.
 * Every byte that leaves or enters the client is hashed while it streams; only
 * manifests and configs (small, bounded) are ever held in memory.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ALGORITHMS, digestBytes, type Algorithm } from '../core/digest.js';
import type { Descriptor } from '../core/manifest.js';
import { clientError } from './errors.js';

export type { Descriptor };

/** The largest manifest or config the client reads into memory (what registries accept). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** A source of content-addressed bytes. */
export interface ContentSource {
  /** Set when the content lives in a registry repository (cross-repository mounts). */
  readonly origin?: { registry: string; repository: string };
  /** The raw bytes of `desc` from `offset` on; consumers verify the digest. */
  open(desc: Descriptor, offset?: number): Promise<Readable>;
  /** A small document (manifest, config), read whole and verified. */
  read(desc: Descriptor, limit?: number): Promise<Buffer>;
}

/** What an upload reads from: a size and a way to (re)open the bytes at an offset. */
export interface BlobSource {
  size: number;
  open(offset: number): Promise<Readable>;
}

export function blobSource(source: ContentSource, desc: Descriptor): BlobSource {
  return { size: desc.size, open: (offset) => source.open(desc, offset) };
}

function algorithmOf(digest: string): Algorithm | undefined {
  const alg = digest.slice(0, digest.indexOf(':'));
  return alg in ALGORITHMS ? (alg as Algorithm) : undefined;
}

/**
 * Hashes bytes given with their position, once each and in order, so a transfer
 * that resumes (and re-sends bytes it already sent) still yields the whole digest.
 */
export class Digester {
  private readonly hash: Hash | undefined;
  private readonly algorithm: Algorithm | undefined;
  private upTo = 0;
  private broken = false;

  constructor(expected: string) {
    this.algorithm = algorithmOf(expected);
    this.hash = this.algorithm ? createHash(this.algorithm) : undefined;
  }

  /** Bytes hashed so far. */
  get hashed(): number {
    return this.upTo;
  }

  update(position: number, chunk: Uint8Array): void {
    if (!this.hash) return;
    const end = position + chunk.length;
    if (end <= this.upTo) return;
    if (position > this.upTo) {
      this.broken = true; // a gap: cannot verify locally (the registry still does)
      return;
    }
    this.hash.update(chunk.subarray(this.upTo - position));
    this.upTo = end;
  }

  /** The digest of everything hashed, or undefined when it cannot be computed. */
  digest(): string | undefined {
    if (!this.hash || this.broken) return undefined;
    return `${this.algorithm}:${this.hash.digest('hex')}`;
  }
}

/** Throws DIGEST_MISMATCH / SIZE_MISMATCH unless `bytes` are what `desc` describes. */
export function verifyBytes(bytes: Buffer, desc: Descriptor, what: string): Buffer {
  if (bytes.length !== desc.size)
    throw clientError('SIZE_MISMATCH', { what, expected: desc.size, actual: bytes.length });
  const alg = algorithmOf(desc.digest);
  if (alg) {
    const actual = digestBytes(bytes, alg).value;
    if (actual !== desc.digest) throw clientError('DIGEST_MISMATCH', { what, expected: desc.digest, actual });
  }
  return bytes;
}

/** Reads a stream into memory, refusing more than `limit` bytes. */
export async function readAll(stream: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      stream.destroy();
      throw clientError('SIZE_MISMATCH', { what, expected: limit, actual: size });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A descriptor for bytes in memory. */
export function describeBytes(bytes: Uint8Array, mediaType: string, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType, digest: digestBytes(bytes).value, size: bytes.length, ...extra };
}

/** A descriptor for a file, hashed by streaming it. */
export async function describeFile(
  path: string,
  mediaType: string,
  extra: Partial<Descriptor> = {},
): Promise<Descriptor> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), hash);
  const { size } = await stat(path);
  return { mediaType, digest: `sha256:${hash.digest('hex')}`, size, ...extra };
}

/** Content held in memory or in local files, by digest (artifacts, converted archives). */
export class LocalContent implements ContentSource {
  private readonly bytes = new Map<string, Buffer>();
  private readonly files = new Map<string, string>();

  /** Adds bytes; returns their descriptor. */
  addBytes(bytes: Buffer, mediaType: string, extra: Partial<Descriptor> = {}): Descriptor {
    const desc = describeBytes(bytes, mediaType, extra);
    this.bytes.set(desc.digest, bytes);
    return desc;
  }

  /** Adds a file whose digest is already known (e.g. computed while it was written). */
  addFile(digest: string, path: string): void {
    this.files.set(digest, path);
  }

  has(digest: string): boolean {
    return this.bytes.has(digest) || this.files.has(digest);
  }

  async open(desc: Descriptor, offset = 0): Promise<Readable> {
    const b = this.bytes.get(desc.digest);
    if (b) return Readable.from([b.subarray(offset)]);
    const f = this.files.get(desc.digest);
    if (f) return createReadStream(f, { start: offset, highWaterMark: 1 << 20 });
    throw clientError('BLOB_NOT_FOUND', { repository: 'local content', digest: desc.digest });
  }

  async read(desc: Descriptor, limit = MAX_MANIFEST_BYTES): Promise<Buffer> {
    const b = this.bytes.get(desc.digest);
    if (b) return verifyBytes(b, desc, desc.digest);
    return verifyBytes(await readAll(await this.open(desc), limit, desc.digest), desc, desc.digest);
  }
}
