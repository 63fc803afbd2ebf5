import type { Page, PageRequest } from '../core/pagination.js';
import type { ManifestReference } from '../core/manifest.js';
import type { ManifestWriteFacts, RegistryEvent } from '../core/events.js';
import type { EventStore } from './event-store.js';
import type { QuotaLimits } from '../core/quota.js';
import type { RepositorySearch, RepositorySummary, TagDetail, TagDetailQuery } from './browse.js';

export interface UploadRecord {
  id: string;
  repository: string;
  /** Who opened the session (a user name); absent for anonymous sessions. Only the owner may use it. */
  owner?: string;
  createdAt: number;
  updatedAt: number;
}

/** What a hold resolves to: the function's value, or that another holder had it. */
export type Held<T> = { held: true; value: T } | { held: false };

/** Which open sessions countUploads counts: all, one repository's, or one owner's. */
export type UploadCount = { all: true } | { repository: string } | { owner: string };

export interface ManifestRecord {
  digest: string;
  mediaType: string;
  size: number;
  /** The exact bytes that were pushed. */
  content: Buffer;
  subject?: string;
  artifactType?: string;
  annotations?: Record<string, string>;
  createdAt: number;
}

export type ManifestSummary = Omit<ManifestRecord, 'content'>;

/** A repository's link to a blob (garbage collection, usage). */
/** Which link: the repository and the blob's digest. */
export type BlobLinkKey = Pick<BlobLinkRecord, 'repository' | 'digest'>;

export interface BlobLinkRecord {
  repository: string;
  digest: string;
  size: number;
  /** Last linked, or last released by a manifest delete (epoch ms). */
  linkedAt: number;
}

/** Everything retention needs to know about one repository (docs/gc.md). */
export interface RepositoryInventory {
  tags: { name: string; digest: string; pushedAt: number }[];
  manifests: {
    digest: string;
    mediaType: string;
    subject?: string;
    artifactType?: string;
    createdAt: number;
    pulledAt?: number;
    /** Digests of the child manifests (and blobs) it references. */
    references: string[];
  }[];
}

/** A blob's record (docs/gc.md): its size, state and when it was last claimed or linked (epoch ms). */
export interface BlobRecord {
  digest: string;
  size: number;
  state: 'live' | 'deleting';
  claimedAt: number;
}

/** A link with no blob record behind it (`recordSize` absent), or one whose record says another size. */
export interface BrokenBlobLink extends BlobLinkRecord {
  recordSize?: number;
}

export interface DanglingTag {
  repository: string;
  tag: string;
  digest: string;
}

/** Totals the stores keep as they change (never a scan): what the metrics export. */
export interface StorageStats {
  /** Per namespace (a repository's first path component): a blob linked in two of its repositories counts twice. */
  namespaces: { namespace: string; blobLinks: number; blobBytes: number; manifests: number; manifestBytes: number }[];
  /** Blob records (live or being deleted) and their bytes, each digest once. */
  blobs: number;
  blobBytes: number;
}

export type ConditionalDelete = 'deleted' | 'absent' | 'tagged' | 'referenced' | 'recent';

export interface PutManifestOptions {
  keepTag?: boolean;
  taggedAt?: number;
  events?: (facts: ManifestWriteFacts) => RegistryEvent[];
  quota?: QuotaLimits;
  /**
   * Store without checking that the references exist (they are still recorded, so GC
   * keeps what arrives later): a pull-through cache stores an upstream's manifest
   * before its blobs, which are fetched when a client asks for them.
   */
  unverifiedReferences?: boolean;
}

/** A reference a manifest PUT could not satisfy: missing, or present with another size. */
export interface UnmetReference {
  reference: ManifestReference;
  problem: 'missing' | 'size-mismatch';
  actualSize?: number;
}

/** One repository glob of a personal access token and the actions it allows (auth's Grant, as stored). */
export interface TokenScope {
  glob: string;
  actions: string[];
}

/** A personal access token as stored: never the secret, only its SHA-256. */
export interface AccessTokenRecord {
  id: string;
  user: string;
  note: string;
  scopes: TokenScope[];
  secretHash: Buffer;
  /** Unix ms, like every time below. */
  createdAt: number;
  expiresAt?: number;
  lastUsedAt?: number;
  revokedAt?: number;
}

/**
 * What authentication persists: personal access tokens (src/auth/pat-store.ts
 * gives them meaning: secrets, expiry, scopes). Shared by the server and the
 * `stowage token` commands, so a revocation takes effect at once.
 */
export interface TokenStore {
  /** Fails when the id exists (ids are random: a retry makes a new one). */
  createToken(record: AccessTokenRecord): Promise<void>;
  getToken(id: string): Promise<AccessTokenRecord | undefined>;
  /** Every token, or one user's, ordered by user, then creation time. */
  listTokens(user?: string): Promise<AccessTokenRecord[]>;
  /** Marks a token revoked at `at`; false when it is unknown or already revoked. */
  revokeToken(id: string, at: number): Promise<boolean>;
  /** Records when a token was last used (informational); no error when unknown. */
  touchToken(id: string, at: number): Promise<void>;
}

/**
 * Every name the registry keeps: repositories, which blobs each may see,
 * manifests, tags, referrers, upload sessions, and what authentication persists.
 * One source of truth for each; no cache to rebuild at start. Each method is atomic.
 */
export interface MetadataStore extends TokenStore, EventStore {
  createUpload(record: UploadRecord): Promise<void>;
  getUpload(id: string): Promise<UploadRecord | undefined>;
  touchUpload(id: string, at: number): Promise<void>;
  deleteUpload(id: string): Promise<void>;
  /** Sessions not touched since `before` (epoch ms). */
  staleUploads(before: number): Promise<UploadRecord[]>;
  /**
   * The append fence of an upload session: runs `fn` (an append or the commit) only
   * if no other one holds this session right now, in this process or on any replica
   * sharing the store, and holds it while `fn` runs; `{held: false}` at once
   * otherwise. The blob store compares the offset with the session's size under the
   * hold, so of two PATCHes at one offset exactly one writes. A holder that dies
   * releases it (PostgreSQL: an advisory lock of its connection).
   */
  holdUpload<T>(id: string, fn: () => Promise<T>): Promise<Held<T>>;
  /** How many sessions are open (for the caps on sessions in all, per repository, per owner). */
  countUploads(which: UploadCount): Promise<number>;

  /**
   * The fence of docs/gc.md, taken by an upload commit before its bytes are put in
   * place: creates the blob's record (or refreshes its claim time) and returns its
   * claim id; undefined while a collector is deleting the digest.
   */
  claimBlob(digest: string, size: number, at: number): Promise<number | undefined>;
  /**
   * Makes a committed blob visible in a repository (creating the repository), if
   * the blob's record still carries `claim` and is live; false otherwise (nothing
   * written). Without `claim` (callers that know the bytes are durable and no
   * collector can be sweeping them, e.g. tests and imports) it claims and links in
   * one transaction, refused only while the digest is being deleted. With `quota`,
   * a link that would put bytes new to the namespace over `quota.bytes` throws
   * DENIED and writes nothing: checked in the same transaction, so concurrent
   * links into one namespace take turns and cannot overshoot it together.
   */
  linkBlob(repository: string, digest: string, size: number, claim?: number, quota?: QuotaLimits): Promise<boolean>;
  /**
   * Links a blob `from` may see into `repository`, in one transaction (with `events`,
   * appended to the outbox in it); its size, or undefined when `from` has no link.
   * `quota` as for linkBlob; `events` is called with the size, since the event
   * describes the mounted blob.
   */
  mountBlob(
    repository: string,
    from: string,
    digest: string,
    quota?: QuotaLimits,
    events?: (size: number) => RegistryEvent[],
  ): Promise<{ size: number } | undefined>;
  /** The blob's size if the repository may see it. */
  blobLink(repository: string, digest: string): Promise<{ size: number } | undefined>;
  /** Removes a blob from a repository; 'referenced' when a manifest there still uses it. */
  unlinkBlob(repository: string, digest: string): Promise<'removed' | 'absent' | 'referenced'>;

  /**
   * Stores a manifest and (optionally) points a tag at it, in one transaction,
   * after checking that every reference exists in the repository with the
   * declared size. When any does not, nothing is written and the unmet ones
   * are returned. With `keepTag`, a tag that already names another manifest is
   * not moved: DENIED, and nothing is written (immutable tags). `taggedAt` is the
   * tag's push time (default now; `storage migrate` carries the original). `events`,
   * given what the transaction found, names the outbox events it records with the change.
   * With `quota`, a manifest new to the repository past `manifestsPerRepository`, a
   * tag new to it past `tagsPerRepository`, or manifest bytes new to the namespace
   * past `bytes` throw DENIED and write nothing, checked in the same transaction.
   * With `unverifiedReferences`, references are recorded without that check.
   */
  putManifest(
    repository: string,
    manifest: ManifestRecord,
    references: ManifestReference[],
    tag?: string,
    options?: PutManifestOptions,
  ): Promise<UnmetReference[]>;
  getManifest(repository: string, digest: string): Promise<ManifestRecord | undefined>;
  resolveTag(repository: string, tag: string): Promise<string | undefined>;
  /** Deletes a manifest and every tag pointing at it; `events` are recorded with the delete (not when nothing was deleted). */
  deleteManifest(repository: string, digest: string, events?: RegistryEvent[]): Promise<boolean>;
  deleteTag(repository: string, tag: string, events?: RegistryEvent[]): Promise<boolean>;
  /**
   * The pull-through cache's tag TTL bookkeeping (src/proxy): when upstream last confirmed
   * what `key` (a cached tag, or `referrers:<digest>`) names in `repository`. Kept here, not
   * in a process, so replicas and restarts agree; a later time wins over an earlier one.
   */
  upstreamConfirmedAt(repository: string, key: string): Promise<number | undefined>;
  confirmUpstream(repository: string, key: string, at: number): Promise<void>;
  /** Undefined when the repository does not exist. */
  listTags(repository: string, page: PageRequest): Promise<Page<string> | undefined>;
  /** Digests of the manifests in the repository that reference `digest` (an index's children, a manifest's blobs), in byte order. */
  referencedBy(repository: string, digest: string): Promise<string[]>;
  /** Manifests in the repository whose subject is `subject`, newest first. */
  referrers(repository: string, subject: string, artifactType?: string): Promise<ManifestSummary[]>;
  /** Repositories that hold at least one manifest, in byte order. */
  listRepositories(page: PageRequest): Promise<Page<string>>;
  repositoryExists(repository: string): Promise<boolean>;

  // ---- browsing (the web UI's API; rules in ./browse.ts) ----------------------

  /** Names of repositories holding a manifest, in byte order after `after`, containing `q`, of kind `kind`. */
  searchRepositories(search: RepositorySearch): Promise<string[]>;
  /** Summaries of these repositories, in the order given (unknown names left out). */
  repositorySummaries(names: readonly string[]): Promise<RepositorySummary[]>;
  /** A page of the repository's tags with what each names (empty when the repository does not exist). */
  tagDetails(repository: string, query: TagDetailQuery): Promise<TagDetail[]>;

  // ---- lifecycle: garbage collection, retention, quotas (docs/gc.md) ----------

  /** Links no manifest of their repository references, last linked before `before`, in (repository, digest) order after `after`. */
  unusedBlobLinks(
    before: number,
    limit: number,
    after?: { repository: string; digest: string },
  ): Promise<BlobLinkRecord[]>;
  /** Every blob link of every repository, in (repository, digest) byte order after `after` (storage migrate). */
  blobLinks(limit: number, after?: { repository: string; digest: string }): Promise<BlobLinkRecord[]>;
  /**
   * Removes those of `links` that, in the same transaction, are still unreferenced
   * and last linked before `before` (a page at a time: one transaction, not one per
   * row); returns the ones removed. A link an API transaction is using right now
   * may be left for the next run.
   */
  removeUnusedBlobLinks(links: readonly BlobLinkKey[], before: number): Promise<BlobLinkKey[]>;
  /** Live blobs no repository links, claimed before `claimedBefore`, in digest order after `after` (dry runs list what marking would take). */
  unlinkedBlobs(claimedBefore: number, limit: number, after?: string): Promise<{ digest: string; size: number }[]>;
  /**
   * Marks up to `limit` blobs `deleting`: live ones no repository links, claimed
   * before `claimedBefore` (in digest order after `after`, so a collector going
   * through many need not rescan the linked ones it passed); and takes over ones
   * left `deleting` before `abandonedBefore` (a collector that died), first.
   * Returns them: the taken-over ones, then the newly marked, each in digest order.
   */
  markBlobsForDeletion(
    claimedBefore: number,
    abandonedBefore: number,
    limit: number,
    at: number,
    after?: string,
  ): Promise<{ digest: string; size: number }[]>;
  /** Bytes found with no record at all: records them as `deleting`; false when a record exists. */
  markOrphanBlob(digest: string, size: number, at: number): Promise<boolean>;
  /** Drops the records of those of these blobs that are `deleting` (their bytes are gone), in one transaction. */
  forgetBlobs(digests: readonly string[]): Promise<void>;
  /** Every blob record (fsck, usage), in digest order after `after`. */
  blobRecords(limit: number, after?: string): Promise<BlobRecord[]>;
  /**
   * Marks one blob `deleting` if, in the same transaction, it is live, no repository
   * links it and it was claimed before `claimedBefore` (fsck's repair of one digest).
   */
  markBlobForDeletion(digest: string, claimedBefore: number, at: number): Promise<boolean>;
  /** Links whose blob has no record, or a record of another size (fsck), in (repository, digest) order after `after`. */
  brokenBlobLinks(limit: number, after?: { repository: string; digest: string }): Promise<BrokenBlobLink[]>;
  /** Tags naming no manifest of their repository (fsck), in (repository, tag) order after `after`. */
  danglingTags(limit: number, after?: { repository: string; tag: string }): Promise<DanglingTag[]>;
  /** Deletes the tag if, in the same transaction, it still names no manifest of its repository. */
  deleteDanglingTag(repository: string, tag: string): Promise<boolean>;
  /** The repository's tags and manifests, for retention. */
  repositoryInventory(repository: string): Promise<RepositoryInventory>;
  /** Deletes the tag only if it still names `digest` (and then appends `events` in the same transaction). */
  deleteTagIf(repository: string, tag: string, digest: string, events?: RegistryEvent[]): Promise<boolean>;
  /**
   * Deletes the manifest only if, in the same transaction, no tag names it, no other
   * manifest references it and it was created before `createdBefore` (and then
   * appends `events` in that transaction).
   */
  deleteManifestIfUnused(
    repository: string,
    digest: string,
    createdBefore: number,
    events?: RegistryEvent[],
  ): Promise<ConditionalDelete>;
  /** Records manifest pulls (a batch; later times win), and `events` (pull events) in the same transaction. */
  recordPulls(pulls: { repository: string; digest: string; at: number }[], events?: RegistryEvent[]): Promise<void>;
  /** Bytes of the distinct blobs (and manifests) linked in repositories named `namespace` or under `namespace/`. */
  namespaceUsage(namespace: string): Promise<{ bytes: number; blobs: number; manifests: number; repositories: number }>;
  /** Does any repository of the namespace link the blob? (it is counted once) */
  namespaceLinks(namespace: string, digest: string): Promise<boolean>;
  /** Maintained totals by namespace and for all blobs (metrics). */
  storageStats(): Promise<StorageStats>;
  /** Counts for per-repository limits. */
  repositoryCounts(repository: string): Promise<{ tags: number; manifests: number }>;
  /** Resolves when the database answers; rejects (UNAVAILABLE) when it does not (readiness). */
  check(): Promise<void>;
  /**
   * Runs `fn` unless another holder of the named job is running it right now (in
   * this process, another process on the same database, or another replica);
   * resolves to whether it ran. The one lock of background work: upload expiry,
   * garbage collection and fsck (job `gc`) run through it. A holder that dies
   * releases it (with its connection, or when its lease expires). Correctness
   * never depends on it: it only avoids duplicate work.
   */
  runExclusive(job: string, fn: () => Promise<void>): Promise<boolean>;
  close(): Promise<void>;
}
