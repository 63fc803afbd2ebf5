import { randomUUID } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { RegistryError, RegistryErrors } from '../core/errors.js';
import { digestBytes, parseDigest, type Digest } from '../core/digest.js';
import { assertRepositoryName, assertTag, isValidTag } from '../core/names.js';
import { parseManifest, uniqueReferences } from '../core/manifest.js';
import { acceptsManifest } from '../core/negotiation.js';
import { MT } from '../core/media-types.js';
import { parseContentRange, type ByteRange } from '../core/ranges.js';
import type { Page, PageRequest } from '../core/pagination.js';
import type { BlobBody, BlobStore, BodyRequest } from '../storage/blob-store.js';
import type {
  ManifestRecord,
  ManifestSummary,
  MetadataStore,
  UploadCount,
  UploadRecord,
} from '../storage/metadata-store.js';
import type { PullCheck } from './signature-policy.js';
import { KeyedMutex } from '../util/keyed-mutex.js';
import { manifestPushEvents, type EventActor, type ManifestWriteFacts, type RegistryEvent } from '../core/events.js';
import { PullRecorder } from './pull-recorder.js';
import type { UpstreamSource } from './upstream.js';
import { describeImmutableRule, immutableRule, type ImmutableTagRule } from './immutable-tags.js';
import { namespaceOf, quotaFor, type QuotaRule } from './quotas.js';
import { bytesQuotaExceeded, type QuotaLimits } from '../core/quota.js';

export interface RegistryOptions {
  /** Largest manifest accepted, in bytes (default 4 MiB, the interoperable cap). */
  maxManifestBytes?: number;
  /** Upload sessions idle longer than this are removed (ms; default 24 h). */
  uploadTtlMs?: number;
  /** Clock, for tests. */
  now?: () => number;
  /** Decides whether a manifest's content may be served (signature requirements: signature-policy.ts). */
  pullCheck?: PullCheck;
  /** Tags that cannot be moved or deleted once pushed (src/registry/immutable-tags.ts). */
  immutableTags?: readonly ImmutableTagRule[];
  /** Storage quotas and per-repository limits (src/registry/quotas.ts). */
  quotas?: readonly QuotaRule[];
  /** Open upload sessions at most: in all, per repository, per owner (over → 429 TOOMANYREQUESTS). */
  maxUploads?: number;
  maxUploadsPerRepository?: number;
  maxUploadsPerUser?: number;
  /** Record outbox events with each change (on when webhook endpoints are configured). */
  events?: boolean;
  /** Record manifest.pulled events for manifest GETs (the hot path: `events.pulls`, off by default). */
  pullEvents?: boolean;
  /** Report the digest a pushed tag named before (for the audit trail's tag.move). */
  tagMoves?: boolean;
}

/** A blob the repository may see: one linked there, or one of its manifests read as a blob. */
export interface VisibleBlob {
  digest: string;
  size: number;
  /** Set when the digest names a manifest of the repository rather than a linked blob. */
  manifest?: ManifestRecord;
  /** Set when the blob is not cached yet in a proxied repository: its bytes come from upstream. */
  upstream?: true;
}

/** What the client said about a blob before sending it (quotas refuse it before its bytes arrive). */
export interface DeclaredBlob {
  digest?: string;
  size?: number;
}

export interface UploadState {
  id: string;
  repository: string;
  size: number;
}

export interface StoredManifest {
  digest: string;
  mediaType: string;
  size: number;
  content: Buffer;
  /** A proxied tag served from the cache because its upstream could not be asked. */
  stale?: true;
}

export interface PutManifestResult {
  digest: string;
  subject?: string;
  /** With `tagMoves`: the manifest the tag named before this push, when another. */
  previousDigest?: string;
}

/** A page of referrers, as descriptors ready for an OCI index. */
export interface ReferrerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** Who is asking, where a rule treats callers differently (immutable tag overrides). */
export interface CallerOptions {
  admin?: boolean;
  /** Who and which request, for the events the change records. */
  actor?: EventActor;
}

export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const DEFAULT_UPLOAD_TTL_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_MAX_UPLOADS = 10_000;
export const DEFAULT_MAX_UPLOADS_PER_REPOSITORY = 1_000;
export const DEFAULT_MAX_UPLOADS_PER_USER = 1_000;
const TOUCH_INTERVAL_MS = 30_000;
/** A collector deletes one digest in milliseconds; a commit waits up to ~5 s for it. */
const CLAIM_ATTEMPTS = 100;
const CLAIM_RETRY_MS = 50;
/** Largest catalog page, and how many names each scan of the store reads. */
const CATALOG_MAX_PAGE = 10_000;
const CATALOG_SCAN_BATCH = 1_000;

/**
 * The registry's operations, independent of HTTP: every request handler is a
 * thin mapping onto one of these methods, and tests can call them directly.
 */
export class Registry {
  readonly maxManifestBytes: number;
  readonly uploadTtlMs: number;
  private readonly now: () => number;
  private readonly pullCheck: PullCheck | undefined;
  private readonly uploadCaps: { all: number; repository: number; user: number };
  /** Counting and creating a session happen as one step, so concurrent POSTs cannot overshoot a cap. */
  private readonly admission = new KeyedMutex();
  private readonly admitted = new Map<string, number>();
  /** Pull times for retention's `pulled_within`, batched off the hot path. */
  readonly pulls: PullRecorder;
  readonly immutableTags: readonly ImmutableTagRule[];
  readonly quotas: readonly QuotaRule[];
  private readonly events: boolean;
  private readonly pullEvents: boolean;
  private readonly tagMoves: boolean;
  /** The pull-through cache, for repositories under a proxied prefix (set by useUpstream). */
  private upstream: UpstreamSource | undefined;

  constructor(
    readonly blobs: BlobStore,
    readonly meta: MetadataStore,
    options: RegistryOptions = {},
  ) {
    this.maxManifestBytes = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
    this.uploadTtlMs = options.uploadTtlMs ?? DEFAULT_UPLOAD_TTL_MS;
    this.now = options.now ?? Date.now;
    this.pullCheck = options.pullCheck;
    this.uploadCaps = {
      all: options.maxUploads ?? DEFAULT_MAX_UPLOADS,
      repository: options.maxUploadsPerRepository ?? DEFAULT_MAX_UPLOADS_PER_REPOSITORY,
      user: options.maxUploadsPerUser ?? DEFAULT_MAX_UPLOADS_PER_USER,
    };
    this.pulls = new PullRecorder(meta, this.now);
    this.immutableTags = options.immutableTags ?? [];
    this.quotas = options.quotas ?? [];
    this.events = options.events ?? false;
    this.pullEvents = this.events && (options.pullEvents ?? false);
    this.tagMoves = options.tagMoves ?? false;
  }

  /** Repositories under the source's prefixes get what they miss from upstream (src/proxy/). */
  useUpstream(source: UpstreamSource): void {
    this.upstream = source;
  }

  /** False under a read-only proxied prefix: its content is upstream's. */
  writable(repository: string): boolean {
    return !this.upstream?.covers(repository)?.readOnly;
  }

  /** DENIED for writes under a read-only proxied prefix. */
  private assertWritable(repository: string): void {
    if (!this.writable(repository))
      throw new RegistryError(
        'DENIED',
        `${repository} is under a read-only proxied prefix: its content comes from upstream; push to a local repository`,
        { name: repository },
      );
  }

  /** The events recording what GC or retention removed (undefined when no endpoint listens). */
  removalEvents(
    repository: string,
    removed: { removed: 'tag' | 'manifest'; digest: string; tag?: string; reason: string },
  ): RegistryEvent[] | undefined {
    return this.events ? [{ ...this.eventBase(repository, {}), kind: 'gc.removed', ...removed }] : undefined;
  }

  private eventBase(repository: string, caller: CallerOptions) {
    const actor = caller.actor ?? {};
    return {
      id: randomUUID(),
      at: this.now(),
      repository,
      ...(actor.user !== undefined ? { user: actor.user } : {}),
      ...(actor.request ? { request: actor.request } : {}),
    };
  }

  // ---- blobs ----------------------------------------------------------------

  /**
   * A blob visible in the repository (manifests count, as in distribution), from the
   * metadata store alone: HEAD never waits on the blob store. A GET hands the answer
   * to blobBody, so the repository's link is looked up once.
   */
  async statBlob(repository: string, digestText: string): Promise<VisibleBlob> {
    assertRepositoryName(repository);
    const digest = parseDigest(digestText).value;
    const link = await this.meta.blobLink(repository, digest);
    if (link) {
      if (this.upstream?.covers(repository)) this.upstream.blobHit?.();
      return { digest, size: link.size };
    }
    const manifest = await this.meta.getManifest(repository, digest);
    if (manifest) return { digest, size: manifest.size, manifest };
    if (this.upstream?.covers(repository))
      return { digest, size: await this.upstream.blobSize(repository, digest), upstream: true };
    throw new RegistryError('BLOB_UNKNOWN', undefined, { digest });
  }

  /** Opens a blob for reading; `range` must already be resolved against its size. */
  async readBlob(repository: string, digest: string, range?: ByteRange): Promise<Readable> {
    const blob = await this.statBlob(repository, digest);
    if (blob.upstream) {
      const body = await this.blobBody(repository, blob, range ? { range } : {});
      if (body.kind === 'stream') return body.stream;
      // Only a stream comes back without localFile; anything else means the blob was cached meanwhile.
      return this.readBlob(repository, digest, range);
    }
    return blob.manifest ? this.manifestAsBlob(repository, blob.manifest, range) : this.blobs.read(blob.digest, range);
  }

  /**
   * How to serve the bytes of a blob statBlob found (a local file, a stream or a
   * redirect: whatever the blob store answers; see BlobBody). A manifest read as a
   * blob is a stream of its bytes. `request.range` must already be resolved against
   * the size.
   */
  async blobBody(repository: string, blob: VisibleBlob, request: BodyRequest = {}): Promise<BlobBody> {
    if (blob.upstream) return this.upstream!.blobBody(repository, blob.digest, blob.size, request);
    if (!blob.manifest) return this.blobs.body(blob.digest, request);
    return { kind: 'stream', stream: await this.manifestAsBlob(repository, blob.manifest, request.range) };
  }

  private async manifestAsBlob(repository: string, manifest: ManifestRecord, range?: ByteRange): Promise<Readable> {
    await this.assertPullable(repository, manifest);
    const bytes = range ? manifest.content.subarray(range.start, range.end + 1) : manifest.content;
    return Readable.from([bytes]);
  }

  async deleteBlob(repository: string, digestText: string): Promise<void> {
    assertRepositoryName(repository);
    this.assertWritable(repository);
    const digest = parseDigest(digestText).value;
    const result = await this.meta.unlinkBlob(repository, digest);
    if (result === 'absent') throw new RegistryError('BLOB_UNKNOWN', undefined, { digest });
    if (result === 'referenced') {
      throw new RegistryError(
        'BLOB_REFERENCED',
        'blob is referenced by a manifest in this repository; delete the manifest first',
        { digest },
      );
    }
  }

  // ---- uploads --------------------------------------------------------------

  /**
   * Opens a session owned by `owner` (the authenticated user; undefined for
   * anonymous callers): only the same principal may use it afterwards. A size the
   * client `declared` (a monolithic POST's Content-Length) that cannot fit the
   * namespace's quota is refused here, before a session or a byte exists.
   */
  async startUpload(repository: string, owner: string | undefined, declared: DeclaredBlob = {}): Promise<UploadState> {
    assertRepositoryName(repository);
    this.assertWritable(repository);
    return this.openUpload(repository, owner, declared);
  }

  /**
   * Stores a blob from upstream in a proxied repository, through an upload session like
   * any push: hashed while streaming, visible only once the digest is verified and the
   * bytes durable, within the namespace's quota. If `data` fails, nothing is linked.
   */
  async cacheBlob(repository: string, digest: string, data: Readable): Promise<{ digest: string; size: number }> {
    let upload: UploadState;
    try {
      upload = await this.openUpload(repository, undefined, {});
    } catch (e) {
      data.destroy();
      throw e;
    }
    try {
      await this.appendUpload(repository, upload.id, undefined, data);
      return await this.completeUpload(repository, upload.id, undefined, digest);
    } catch (e) {
      await this.cancelUpload(repository, upload.id, undefined).catch(() => undefined);
      throw e;
    }
  }

  private async openUpload(
    repository: string,
    owner: string | undefined,
    declared: DeclaredBlob,
  ): Promise<UploadState> {
    if (declared.size !== undefined) await this.assertBytesFit(repository, declared.digest, declared.size);
    const id = randomUUID();
    const at = this.now();
    const keys = ['all', `repository:${repository}`, ...(owner === undefined ? [] : [`owner:${owner}`])];
    await this.admission.run('uploads', () => this.assertUploadRoom(repository, owner));
    // Admitted but not yet recorded: counted by the next admissions until the row exists.
    for (const k of keys) this.admitted.set(k, (this.admitted.get(k) ?? 0) + 1);
    try {
      // Record first: the orphan sweep deletes session files that have no record.
      await this.meta.createUpload({
        id,
        repository,
        ...(owner === undefined ? {} : { owner }),
        createdAt: at,
        updatedAt: at,
      });
    } finally {
      for (const k of keys) {
        const left = this.admitted.get(k)! - 1;
        if (left === 0) this.admitted.delete(k);
        else this.admitted.set(k, left);
      }
    }
    try {
      await this.blobs.createUpload(id);
    } catch (e) {
      // No session row without its file (a full disk or descriptor table says so here).
      await this.meta.deleteUpload(id);
      throw e;
    }
    return { id, repository, size: 0 };
  }

  private async assertUploadRoom(repository: string, owner: string | undefined): Promise<void> {
    const full = (what: string, limit: number) =>
      new RegistryError(
        'TOOMANYREQUESTS',
        `too many open upload sessions ${what} (at most ${limit}); finish or cancel some first`,
        { limit },
        { 'Retry-After': '60' },
      );
    const open = async (which: UploadCount, key: string) =>
      (await this.meta.countUploads(which)) + (this.admitted.get(key) ?? 0);
    if ((await open({ repository }, `repository:${repository}`)) >= this.uploadCaps.repository)
      throw full('in this repository', this.uploadCaps.repository);
    if (owner !== undefined && (await open({ owner }, `owner:${owner}`)) >= this.uploadCaps.user)
      throw full('for this user', this.uploadCaps.user);
    if ((await open({ all: true }, 'all')) >= this.uploadCaps.all) throw full('on this registry', this.uploadCaps.all);
  }

  /**
   * Links a blob that `from` can see into `repository`. Returns false when it
   * cannot (unknown blob or repository), so the caller starts an upload instead.
   * Without `from`, any repository's copy may be used only if `mayRead` allows it.
   */
  async mountBlob(
    repository: string,
    digestText: string,
    from: string | undefined,
    mayRead: (repo: string) => Promise<boolean>,
    caller: CallerOptions = {},
  ): Promise<{ digest: string; size: number } | undefined> {
    assertRepositoryName(repository);
    this.assertWritable(repository);
    const digest = parseDigest(digestText).value;
    if (from === undefined) return undefined;
    assertRepositoryName(from);
    if (!(await mayRead(from))) return undefined;
    // Defence in depth (fsck finds how bytes could vanish): the fence below is what makes it exact.
    if (!(await this.blobs.stat(digest))) return undefined;
    // One transaction: a link exists only while the blob's bytes do (docs/gc.md), and only within the quota.
    const events = this.events
      ? (size: number): RegistryEvent[] => [
          { ...this.eventBase(repository, caller), kind: 'blob.mounted', digest, size, fromRepository: from },
        ]
      : undefined;
    const mounted = await this.meta.mountBlob(repository, from, digest, this.quotaLimits(repository), events);
    return mounted && { digest, size: mounted.size };
  }

  /** The session, if it is `owner`'s in `repository`; anyone else is told it does not exist. */
  private async session(repository: string, id: string, owner: string | undefined): Promise<UploadRecord> {
    assertRepositoryName(repository);
    const record = /^[0-9a-f-]{36}$/.test(id) ? await this.meta.getUpload(id) : undefined;
    if (!record || record.repository !== repository || record.owner !== owner) {
      throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { id: id.slice(0, 64) });
    }
    return record;
  }

  async uploadStatus(repository: string, id: string, owner: string | undefined): Promise<UploadState> {
    await this.session(repository, id, owner);
    const size = await this.blobs.uploadSize(id);
    if (size === undefined) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { id });
    return { id, repository, size };
  }

  /**
   * Appends a chunk. With `contentRange` the chunk must start where the upload
   * ends (416 otherwise); `contentLength`, when given, must match the range. A chunk
   * that would take the upload past the namespace's quota is refused (DENIED) before
   * it is read when its length is declared, or as soon as it passes the room left,
   * and the session goes with it: the push cannot finish.
   */
  async appendUpload(
    repository: string,
    id: string,
    owner: string | undefined,
    data: Readable,
    contentRange?: string,
    contentLength?: number,
  ): Promise<UploadState> {
    const record = await this.session(repository, id, owner);
    const size = await this.fenced(id, data, () =>
      this.writeChunk(repository, undefined, id, data, contentRange, contentLength),
    );
    // Activity only matters at TTL scale: skip the durable write for back-to-back chunks.
    const now = this.now();
    if (now - record.updatedAt >= Math.min(TOUCH_INTERVAL_MS, this.uploadTtlMs / 10))
      await this.meta.touchUpload(id, now);
    return { id, repository, size };
  }

  /** Appends a chunk of a blob (`digest` when known); the caller holds the session's fence. */
  private async writeChunk(
    repository: string,
    digest: string | undefined,
    id: string,
    data: Readable,
    contentRange: string | undefined,
    contentLength: number | undefined,
  ): Promise<number> {
    const current = await this.blobs.uploadSize(id);
    if (current === undefined) {
      data.resume();
      throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { id });
    }
    let offset = current;
    let length = contentLength;
    if (contentRange !== undefined) {
      const range = parseContentRange(contentRange);
      if (contentLength !== undefined && contentLength !== range.end - range.start + 1) {
        throw new RegistryError('SIZE_INVALID', 'Content-Length does not match Content-Range', {
          contentRange,
          contentLength,
        });
      }
      offset = range.start;
      length = range.end - range.start + 1;
    }
    const room = await this.quotaRoom(repository, digest);
    if (room === undefined) return this.blobs.appendUpload(id, offset, data);
    const refuse = async (size: number) => {
      await this.dropSession(id);
      return bytesQuotaExceeded(room.namespace, room.usage, room.limit, size);
    };
    // Declared: refused before a byte of it is read (the unread body closes the connection).
    if (length !== undefined && offset + length > room.free) throw await refuse(offset + length);
    // Streamed without a length: cut off as soon as it passes the room left (the chunk is rolled back).
    let seen = offset;
    let over = false;
    const limited = data.pipe(
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          seen += chunk.length;
          if (seen > room.free) {
            over = true;
            done(new Error('over quota'));
          } else done(null, chunk);
        },
      }),
    );
    data.once('error', (e) => limited.destroy(e));
    // The refusal may come before the store reads from `limited`; the store sees it destroyed.
    limited.on('error', () => undefined);
    try {
      return await this.blobs.appendUpload(id, offset, limited);
    } catch (e) {
      if (over) {
        data.unpipe();
        throw await refuse(seen);
      }
      throw e;
    }
  }

  /** Removes a session and its bytes (a refused push leaves nothing half-stored). */
  private async dropSession(id: string): Promise<void> {
    await this.blobs.deleteUpload(id);
    await this.meta.deleteUpload(id);
  }

  /**
   * Runs `fn` under the session's append fence (MetadataStore.holdUpload). While
   * another append or commit of the session runs, here or on another replica, the
   * request gets 416 with the Range acknowledged so far, and its body is drained.
   */
  private async fenced<T>(id: string, data: Readable | undefined, fn: () => Promise<T>): Promise<T> {
    const r = await this.meta.holdUpload(id, fn);
    if (r.held) return r.value;
    data?.resume();
    const size = (await this.blobs.uploadSize(id)) ?? 0;
    throw new RegistryError(
      'RANGE_INVALID',
      'another request is writing this upload; resume from the Range given',
      { size },
      { Range: `0-${Math.max(0, size - 1)}` },
    );
  }

  /** Finishes an upload (with an optional last chunk) and links the blob. */
  async completeUpload(
    repository: string,
    id: string,
    owner: string | undefined,
    digestText: string | undefined,
    lastChunk?: Readable,
    contentRange?: string,
    contentLength?: number,
  ): Promise<{ digest: string; size: number }> {
    await this.session(repository, id, owner);
    let digest: Digest;
    try {
      if (!digestText) throw new RegistryError('DIGEST_INVALID', 'the digest parameter is required');
      digest = parseDigest(digestText);
    } catch (e) {
      lastChunk?.resume();
      await this.cancelUpload(repository, id, owner).catch(() => undefined);
      throw e;
    }
    return this.fenced(id, lastChunk, async () => {
      if (lastChunk) await this.writeChunk(repository, digest.value, id, lastChunk, contentRange, contentLength);
      return this.commit(repository, id, digest);
    });
  }

  /** Verifies and links a finished session's bytes; the caller holds the session's fence. */
  private async commit(repository: string, id: string, digest: Digest): Promise<{ digest: string; size: number }> {
    const pending = await this.blobs.uploadSize(id);
    if (pending === undefined) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { id });
    // Nothing half-stored: the session goes with a refusal.
    await this.assertBytesFit(repository, digest.value, pending).catch(async (e: unknown) => {
      await this.dropSession(id);
      throw e;
    });
    // The fence (docs/gc.md): claim the digest before its bytes are put in place.
    const claim = await this.claimBlob(digest.value, pending);
    const { size } = await this.blobs.commitUpload(id, digest).catch(async (e: unknown) => {
      await this.meta.deleteUpload(id);
      throw e;
    });
    // The check above raced with other pushes; the link checks again, atomically. If it
    // refuses, the committed bytes are linked nowhere and the next GC takes them.
    const linked = await this.meta
      .linkBlob(repository, digest.value, size, claim, this.quotaLimits(repository))
      .catch(async (e: unknown) => {
        await this.meta.deleteUpload(id);
        throw e;
      });
    if (!linked) {
      // Only after a stall longer than the grace period: a collector swept the digest.
      await this.meta.deleteUpload(id);
      throw new RegistryError(
        'BLOB_UPLOAD_INVALID',
        'the blob was garbage-collected while this upload committed; push it again',
        { digest: digest.value },
      );
    }
    await this.meta.deleteUpload(id);
    return { digest: digest.value, size };
  }

  /** The limits of the repository's quota rule, as the metadata store enforces them atomically. */
  private quotaLimits(repository: string): QuotaLimits | undefined {
    const rule = quotaFor(this.quotas, repository);
    if (!rule) return undefined;
    return {
      namespace: namespaceOf(repository),
      bytes: rule.bytes,
      manifestsPerRepository: rule.manifestsPerRepository,
      tagsPerRepository: rule.tagsPerRepository,
    };
  }

  /**
   * The room left in the repository's namespace for a blob (`digest` when known:
   * one the namespace links already needs none); undefined without a bytes quota.
   */
  private async quotaRoom(
    repository: string,
    digest: string | undefined,
  ): Promise<{ namespace: string; usage: number; limit: number; free: number } | undefined> {
    const limit = quotaFor(this.quotas, repository)?.bytes;
    const namespace = namespaceOf(repository);
    if (limit === undefined || (digest !== undefined && (await this.meta.namespaceLinks(namespace, digest))))
      return undefined;
    const usage = (await this.meta.namespaceUsage(namespace)).bytes;
    return { namespace, usage, limit, free: limit - usage };
  }

  /**
   * DENIED when `size` more bytes would put the repository's namespace over its quota
   * (a blob it links already counts). An early answer, before bytes move; the metadata
   * store checks again atomically when it links them.
   */
  private async assertBytesFit(repository: string, digest: string | undefined, size: number): Promise<void> {
    const room = await this.quotaRoom(repository, digest);
    if (room && size > room.free) throw bytesQuotaExceeded(room.namespace, room.usage, room.limit, size);
  }

  /** Claims a digest, waiting (briefly) while a collector finishes deleting it. */
  private async claimBlob(digest: string, size: number): Promise<number> {
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const claim = await this.meta.claimBlob(digest, size, this.now());
      if (claim !== undefined) return claim;
      await new Promise((r) => setTimeout(r, CLAIM_RETRY_MS));
    }
    throw new RegistryError('UNAVAILABLE', 'the blob is being garbage-collected; retry the commit', { digest });
  }

  async cancelUpload(repository: string, id: string, owner: string | undefined): Promise<void> {
    await this.session(repository, id, owner);
    await this.blobs.deleteUpload(id);
    await this.meta.deleteUpload(id);
  }

  /** Removes sessions idle past the TTL, and session files no record owns. */
  async expireUploads(): Promise<number> {
    const stale = await this.meta.staleUploads(this.now() - this.uploadTtlMs);
    for (const u of stale) {
      await this.blobs.deleteUpload(u.id);
      await this.meta.deleteUpload(u.id);
    }
    let orphans = 0;
    for (const id of await this.blobs.listUploads()) {
      if (!(await this.meta.getUpload(id))) {
        await this.blobs.deleteUpload(id);
        orphans++;
      }
    }
    return stale.length + orphans;
  }

  // ---- manifests ------------------------------------------------------------

  /** The immutable-tag rule that binds `tag` for this caller (admins may override where the rule allows). */
  immutableRuleFor(repository: string, tag: string, caller: CallerOptions = {}): ImmutableTagRule | undefined {
    const rule = immutableRule(this.immutableTags, repository, tag);
    return rule && !(rule.adminOverride && caller.admin) ? rule : undefined;
  }

  async putManifest(
    repository: string,
    reference: string,
    contentType: string | undefined,
    body: Buffer,
    caller: CallerOptions = {},
  ): Promise<PutManifestResult> {
    assertRepositoryName(repository);
    this.assertWritable(repository);
    return this.storeManifest(repository, reference, contentType, body, caller, false);
  }

  /**
   * Stores an upstream's manifest in a proxied repository (under `reference`: a tag, or
   * its digest), before the blobs it references: those are fetched when asked for.
   */
  cacheManifest(
    repository: string,
    reference: string,
    contentType: string | undefined,
    body: Buffer,
  ): Promise<PutManifestResult> {
    assertRepositoryName(repository);
    return this.storeManifest(repository, reference, contentType, body, {}, true);
  }

  private async storeManifest(
    repository: string,
    reference: string,
    contentType: string | undefined,
    body: Buffer,
    caller: CallerOptions,
    unverifiedReferences: boolean,
  ): Promise<PutManifestResult> {
    if (body.length > this.maxManifestBytes) {
      throw new RegistryError('MANIFEST_TOO_LARGE', `manifest exceeds ${this.maxManifestBytes} bytes`, {
        limit: this.maxManifestBytes,
      });
    }
    const byDigest = reference.includes(':');
    const claimed = byDigest ? parseDigest(reference) : undefined;
    if (!byDigest) assertTag(reference);
    const parsed = parseManifest(body, contentType);
    const digest = digestBytes(body, claimed?.algorithm ?? 'sha256').value;
    if (claimed && claimed.value !== digest) {
      throw new RegistryError('DIGEST_INVALID', 'manifest digest does not match the reference', { reference, digest });
    }
    const record: ManifestRecord = {
      digest,
      mediaType: parsed.mediaType,
      size: body.length,
      content: body,
      subject: parsed.subject?.digest,
      artifactType: parsed.artifactType,
      annotations: parsed.annotations,
      createdAt: this.now(),
    };
    const immutable = byDigest ? undefined : this.immutableRuleFor(repository, reference, caller);
    let previousDigest: string | undefined;
    const unmet = await this.meta
      .putManifest(repository, record, uniqueReferences(parsed.references), byDigest ? undefined : reference, {
        keepTag: immutable !== undefined,
        quota: this.quotaLimits(repository),
        ...(unverifiedReferences ? { unverifiedReferences } : {}),
        ...(this.events || (this.tagMoves && !byDigest)
          ? {
              events: (facts: ManifestWriteFacts) => {
                previousDigest = facts.previousDigest;
                if (!this.events) return [];
                return manifestPushEvents(
                  {
                    repository,
                    digest,
                    mediaType: parsed.mediaType,
                    size: body.length,
                    ...(parsed.artifactType !== undefined ? { artifactType: parsed.artifactType } : {}),
                    ...(parsed.subject ? { subject: parsed.subject.digest } : {}),
                    ...(byDigest ? {} : { tag: reference }),
                  },
                  facts,
                  caller.actor ?? {},
                  record.createdAt,
                  randomUUID,
                );
              },
            }
          : {}),
      })
      .catch((e: unknown) => {
        if (immutable && e instanceof RegistryError && e.code === 'DENIED') {
          throw new RegistryError(
            'DENIED',
            `tag ${reference} is immutable and names another manifest (${describeImmutableRule(immutable)})`,
            { tag: reference, rule: immutable.repositories },
          );
        }
        throw e;
      });
    if (unmet.length > 0) {
      throw new RegistryErrors(
        unmet.map((u) =>
          u.problem === 'missing'
            ? new RegistryError(
                'MANIFEST_BLOB_UNKNOWN',
                `${u.reference.role} ${u.reference.digest} is not in this repository`,
                u.reference.digest,
              )
            : new RegistryError(
                'MANIFEST_INVALID',
                `${u.reference.role} ${u.reference.digest} has size ${u.actualSize}, manifest says ${u.reference.size}`,
                { digest: u.reference.digest },
              ),
        ),
      );
    }
    return {
      digest,
      subject: parsed.subject?.digest,
      ...(previousDigest !== undefined && previousDigest !== digest ? { previousDigest } : {}),
    };
  }

  /** Resolves a tag or digest to the manifest, checking the client accepts its type. */
  /** The stored manifest; with `pull` (a GET, not a HEAD), a pull is recorded for retention and events. */
  async getManifest(
    repository: string,
    reference: string,
    accepted: Set<string>,
    pull?: CallerOptions,
  ): Promise<StoredManifest> {
    assertRepositoryName(repository);
    const proxied = this.upstream?.covers(repository)
      ? await this.upstream!.manifest(repository, reference)
      : undefined;
    const digest = proxied?.digest ?? (await this.resolve(repository, reference));
    const m = await this.meta.getManifest(repository, digest);
    if (!m) throw new RegistryError('MANIFEST_UNKNOWN', undefined, { reference });
    if (!acceptsManifest(accepted, m.mediaType)) {
      throw new RegistryError(
        'MANIFEST_UNKNOWN',
        `manifest is ${m.mediaType}, which the Accept header does not allow`,
        { reference, mediaType: m.mediaType },
      );
    }
    const event: RegistryEvent | undefined =
      this.pullEvents && pull
        ? {
            ...this.eventBase(repository, pull),
            kind: 'manifest.pulled',
            digest: m.digest,
            mediaType: m.mediaType,
            size: m.size,
            ...(reference.includes(':') ? {} : { tag: reference }),
          }
        : undefined;
    this.pulls.record(repository, m.digest, event);
    return {
      digest: m.digest,
      mediaType: m.mediaType,
      size: m.size,
      content: m.content,
      ...(proxied?.stale ? { stale: true as const } : {}),
    };
  }

  /**
   * Throws DENIED when the pull check refuses to serve this manifest's content (GET,
   * not HEAD: a digest and a size are no content). Without a check, everything passes.
   */
  async assertPullable(
    repository: string,
    manifest: { digest: string; mediaType: string; content: Buffer },
  ): Promise<void> {
    await this.pullCheck?.checkPull(this, repository, manifest);
  }

  private async resolve(repository: string, reference: string): Promise<string> {
    if (reference.includes(':')) return parseDigest(reference).value;
    // Neither a tag nor a digest names nothing: 404 as distribution and zot answer
    // (the conformance suite asks for `.INVALID_MANIFEST_NAME`); PUT still says TAG_INVALID.
    if (!isValidTag(reference))
      throw new RegistryError('MANIFEST_UNKNOWN', 'not a valid tag or digest', { reference: reference.slice(0, 200) });
    const digest = await this.meta.resolveTag(repository, reference);
    if (!digest) {
      if (!(await this.meta.repositoryExists(repository)))
        throw new RegistryError('NAME_UNKNOWN', undefined, { name: repository });
      throw new RegistryError('MANIFEST_UNKNOWN', undefined, { tag: reference });
    }
    return digest;
  }

  /** By digest: the manifest and all its tags. By tag: only the tag. */
  async deleteManifest(repository: string, reference: string, caller: CallerOptions = {}): Promise<void> {
    assertRepositoryName(repository);
    this.assertWritable(repository);
    if (reference.includes(':')) {
      const digest = parseDigest(reference).value;
      if (this.immutableTags.length > 0) {
        // Deleting the manifest would delete its tags: refused while one of them is immutable.
        const { tags } = await this.meta.repositoryInventory(repository);
        for (const t of tags) {
          const rule = t.digest === digest ? this.immutableRuleFor(repository, t.name, caller) : undefined;
          if (rule)
            throw new RegistryError(
              'DENIED',
              `manifest is tagged ${t.name}, which is immutable (${describeImmutableRule(rule)})`,
              { tag: t.name, rule: rule.repositories },
            );
        }
      }
      const events: RegistryEvent[] | undefined = this.events
        ? [{ ...this.eventBase(repository, caller), kind: 'manifest.deleted', digest }]
        : undefined;
      if (!(await this.meta.deleteManifest(repository, digest, events)))
        throw new RegistryError('MANIFEST_UNKNOWN', undefined, { digest });
      return;
    }
    if (!isValidTag(reference)) throw new RegistryError('TAG_INVALID', undefined, { tag: reference.slice(0, 200) });
    const rule = this.immutableRuleFor(repository, reference, caller);
    if (rule && (await this.meta.resolveTag(repository, reference))) {
      throw new RegistryError('DENIED', `tag ${reference} is immutable (${describeImmutableRule(rule)})`, {
        tag: reference,
        rule: rule.repositories,
      });
    }
    const events: RegistryEvent[] | undefined = this.events
      ? [{ ...this.eventBase(repository, caller), kind: 'tag.deleted', tag: reference }]
      : undefined;
    if (!(await this.meta.deleteTag(repository, reference, events)))
      throw new RegistryError('MANIFEST_UNKNOWN', undefined, { tag: reference });
  }

  // ---- discovery ------------------------------------------------------------

  async listTags(repository: string, page: PageRequest): Promise<Page<string>> {
    assertRepositoryName(repository);
    const tags = await this.meta.listTags(repository, page);
    if (!tags) throw new RegistryError('NAME_UNKNOWN', undefined, { name: repository });
    return tags;
  }

  async referrers(repository: string, subjectText: string, artifactType?: string): Promise<ReferrerDescriptor[]> {
    assertRepositoryName(repository);
    const subject = parseDigest(subjectText).value;
    if (this.upstream?.covers(repository)) await this.upstream.referrers(repository, subject);
    const found = await this.meta.referrers(repository, subject, artifactType);
    return found.map(toReferrerDescriptor);
  }

  /**
   * A page of the repositories `visible` lets the caller see. Paging runs over the
   * visible names only: the cursor is the last name shown, so neither the page nor
   * its Link reveals a name the caller may not pull.
   */
  async catalog(
    page: PageRequest,
    visible: (repository: string) => Promise<boolean> = async () => true,
  ): Promise<Page<string>> {
    const n = Math.min(page.n ?? CATALOG_MAX_PAGE, CATALOG_MAX_PAGE);
    const items: string[] = [];
    let last = page.last;
    // One visible name past the page tells whether there is a next page.
    while (items.length <= n) {
      const batch = await this.meta.listRepositories({
        n: CATALOG_SCAN_BATCH,
        ...(last === undefined ? {} : { last }),
      });
      for (const name of batch.items) {
        if (items.length > n) break;
        if (await visible(name)) items.push(name);
      }
      if (batch.next === undefined) break;
      last = batch.next;
    }
    if (items.length <= n) return { items };
    const shown = items.slice(0, n);
    return n === 0 ? { items: shown } : { items: shown, next: shown[n - 1]! };
  }

  /** Whether each store answers (readiness): 'ok' or why not, within a few seconds. */
  async checkStorage(): Promise<{ blobs: string; metadata: string }> {
    const probe = async (check: () => Promise<void>): Promise<string> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<string>(
        (resolve) => (timer = setTimeout(() => resolve('no answer within 3 s'), 3000)),
      );
      try {
        return await Promise.race([check().then(() => 'ok'), timeout]);
      } catch (e) {
        return (e as Error).message || String(e);
      } finally {
        clearTimeout(timer);
      }
    };
    const [blobs, metadata] = await Promise.all([probe(() => this.blobs.check()), probe(() => this.meta.check())]);
    return { blobs, metadata };
  }

  async close(): Promise<void> {
    await this.pulls.close();
    await this.meta.close();
    await this.blobs.close();
  }
}

function toReferrerDescriptor(m: ManifestSummary): ReferrerDescriptor {
  const d: ReferrerDescriptor = { mediaType: m.mediaType, digest: m.digest, size: m.size };
  if (m.artifactType) d.artifactType = m.artifactType;
  if (m.annotations && Object.keys(m.annotations).length > 0) d.annotations = m.annotations;
  return d;
}

export const REFERRERS_INDEX_TYPE = MT.ociIndex;
