import type { Page, PageRequest } from '../core/pagination.js';
import type { ManifestReference } from '../core/manifest.js';

export interface UploadRecord {
  id: string;
  repository: string;
  createdAt: number;
  updatedAt: number;
}

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
export interface MetadataStore extends TokenStore {
  createUpload(record: UploadRecord): Promise<void>;
  getUpload(id: string): Promise<UploadRecord | undefined>;
  touchUpload(id: string, at: number): Promise<void>;
  deleteUpload(id: string): Promise<void>;
  /** Sessions not touched since `before` (epoch ms). */
  staleUploads(before: number): Promise<UploadRecord[]>;

  /** Makes a committed blob visible in a repository (creating the repository). */
  linkBlob(repository: string, digest: string, size: number): Promise<void>;
  /** The blob's size if the repository may see it. */
  blobLink(repository: string, digest: string): Promise<{ size: number } | undefined>;
  /** Removes a blob from a repository; 'referenced' when a manifest there still uses it. */
  unlinkBlob(repository: string, digest: string): Promise<'removed' | 'absent' | 'referenced'>;

  /**
   * Stores a manifest and (optionally) points a tag at it, in one transaction,
   * after checking that every reference exists in the repository with the
   * declared size. When any does not, nothing is written and the unmet ones
   * are returned.
   */
  putManifest(repository: string, manifest: ManifestRecord, references: ManifestReference[], tag?: string): Promise<UnmetReference[]>;
  getManifest(repository: string, digest: string): Promise<ManifestRecord | undefined>;
  resolveTag(repository: string, tag: string): Promise<string | undefined>;
  /** Deletes a manifest and every tag pointing at it. */
  deleteManifest(repository: string, digest: string): Promise<boolean>;
  deleteTag(repository: string, tag: string): Promise<boolean>;
  /** Undefined when the repository does not exist. */
  listTags(repository: string, page: PageRequest): Promise<Page<string> | undefined>;
  /** Digests of the manifests in the repository that reference `digest` (an index's children, a manifest's blobs), in byte order. */
  referencedBy(repository: string, digest: string): Promise<string[]>;
  /** Manifests in the repository whose subject is `subject`, newest first. */
  referrers(repository: string, subject: string, artifactType?: string): Promise<ManifestSummary[]>;
  /** Repositories that hold at least one manifest, in byte order. */
  listRepositories(page: PageRequest): Promise<Page<string>>;
  repositoryExists(repository: string): Promise<boolean>;
  /** Resolves when the database answers; rejects (UNAVAILABLE) when it does not (readiness). */
  check(): Promise<void>;
  /**
   * Runs `fn` unless another holder of the named job is running it right now (in
   * this process or, for a shared database, on another replica); resolves to
   * whether it ran. Background work (upload expiry) runs through this, so one
   * replica at a time does it.
   */
  runExclusive(job: string, fn: () => Promise<void>): Promise<boolean>;
  close(): Promise<void>;
}
