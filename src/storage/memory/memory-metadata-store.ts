import { paginate, type Page, type PageRequest } from '../../core/pagination.js';
import type { ManifestReference } from '../../core/manifest.js';
import { LocalJobs } from '../local-jobs.js';
import type { AccessTokenRecord, ManifestRecord, ManifestSummary, MetadataStore, UnmetReference, UploadRecord } from '../metadata-store.js';

interface StoredManifest {
  record: ManifestRecord;
  /** Digests this manifest references (blobs, child manifests). */
  refs: Set<string>;
}

interface Repository {
  blobs: Map<string, number>;
  manifests: Map<string, StoredManifest>;
  tags: Map<string, string>;
}

/**
 * Every name in process memory, like Distribution's `inmemory` driver: for tests
 * and throwaway registries, where it proves the MetadataStore contract with a
 * second implementation. Each method runs without awaiting, so each is atomic.
 * Records are copied in and out: callers never share the store's objects.
 */
export class MemoryMetadataStore implements MetadataStore {
  private readonly repos = new Map<string, Repository>();
  private readonly uploads = new Map<string, UploadRecord>();
  private readonly tokens = new Map<string, AccessTokenRecord>();
  private readonly jobs = new LocalJobs();

  private repo(name: string): Repository {
    let r = this.repos.get(name);
    if (!r) {
      r = { blobs: new Map(), manifests: new Map(), tags: new Map() };
      this.repos.set(name, r);
    }
    return r;
  }

  // ---- upload sessions ----

  async createUpload(record: UploadRecord): Promise<void> {
    if (this.uploads.has(record.id)) throw new Error(`upload ${record.id} exists`);
    // No repository yet: an upload that never completes must not create one.
    this.uploads.set(record.id, { ...record });
  }

  async getUpload(id: string): Promise<UploadRecord | undefined> {
    const u = this.uploads.get(id);
    return u && { ...u };
  }

  async touchUpload(id: string, at: number): Promise<void> {
    const u = this.uploads.get(id);
    if (u) u.updatedAt = at;
  }

  async deleteUpload(id: string): Promise<void> {
    this.uploads.delete(id);
  }

  async staleUploads(before: number): Promise<UploadRecord[]> {
    return [...this.uploads.values()]
      .filter((u) => u.updatedAt < before)
      .sort((a, b) => a.updatedAt - b.updatedAt)
      .map((u) => ({ ...u }));
  }

  // ---- blob links ----

  async linkBlob(repository: string, digest: string, size: number): Promise<void> {
    const blobs = this.repo(repository).blobs;
    if (!blobs.has(digest)) blobs.set(digest, size);
  }

  async blobLink(repository: string, digest: string): Promise<{ size: number } | undefined> {
    const size = this.repos.get(repository)?.blobs.get(digest);
    return size === undefined ? undefined : { size };
  }

  async unlinkBlob(repository: string, digest: string): Promise<'removed' | 'absent' | 'referenced'> {
    const r = this.repos.get(repository);
    if (!r?.blobs.has(digest)) return 'absent';
    for (const m of r.manifests.values()) if (m.refs.has(digest)) return 'referenced';
    r.blobs.delete(digest);
    return 'removed';
  }

  // ---- manifests and tags ----

  async putManifest(repository: string, m: ManifestRecord, references: ManifestReference[], tag?: string): Promise<UnmetReference[]> {
    const existing = this.repos.get(repository);
    const unmet: UnmetReference[] = [];
    for (const ref of references) {
      const found = existing && lookupReference(existing, ref);
      if (found === undefined) unmet.push({ reference: ref, problem: 'missing' });
      else if (found !== ref.size) unmet.push({ reference: ref, problem: 'size-mismatch', actualSize: found });
    }
    if (unmet.length > 0) return unmet;
    const r = this.repo(repository);
    // A manifest pushed again keeps its first record (same bytes, same digest).
    if (!r.manifests.has(m.digest)) r.manifests.set(m.digest, { record: copyManifest(m), refs: new Set(references.map((x) => x.digest)) });
    if (tag !== undefined) r.tags.set(tag, m.digest);
    return [];
  }

  async getManifest(repository: string, digest: string): Promise<ManifestRecord | undefined> {
    const m = this.repos.get(repository)?.manifests.get(digest);
    return m && copyManifest(m.record);
  }

  async resolveTag(repository: string, tag: string): Promise<string | undefined> {
    return this.repos.get(repository)?.tags.get(tag);
  }

  async deleteManifest(repository: string, digest: string): Promise<boolean> {
    const r = this.repos.get(repository);
    if (!r?.manifests.delete(digest)) return false;
    for (const [tag, target] of r.tags) if (target === digest) r.tags.delete(tag);
    return true;
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    return this.repos.get(repository)?.tags.delete(tag) ?? false;
  }

  // ---- listings ----

  async listTags(repository: string, page: PageRequest): Promise<Page<string> | undefined> {
    const r = this.repos.get(repository);
    return r && paginate(page, (after, limit) => afterInByteOrder(r.tags.keys(), after, limit));
  }

  async referencedBy(repository: string, digest: string): Promise<string[]> {
    const r = this.repos.get(repository);
    if (!r) return [];
    return [...r.manifests.values()].filter((m) => m.refs.has(digest)).map((m) => m.record.digest).sort(byteOrder);
  }

  async referrers(repository: string, subject: string, artifactType?: string): Promise<ManifestSummary[]> {
    const r = this.repos.get(repository);
    if (!r) return [];
    return [...r.manifests.values()]
      .map((m) => m.record)
      .filter((m) => m.subject === subject && (artifactType === undefined || m.artifactType === artifactType))
      .sort((a, b) => b.createdAt - a.createdAt || byteOrder(a.digest, b.digest))
      .map(({ content: _content, ...summary }) => ({ ...summary, ...(summary.annotations ? { annotations: { ...summary.annotations } } : {}) }));
  }

  async listRepositories(page: PageRequest): Promise<Page<string>> {
    const withManifests = [...this.repos].filter(([, r]) => r.manifests.size > 0).map(([name]) => name);
    return paginate(page, (after, limit) => afterInByteOrder(withManifests, after, limit));
  }

  async repositoryExists(repository: string): Promise<boolean> {
    return this.repos.has(repository);
  }

  // ---- access tokens ----

  async createToken(record: AccessTokenRecord): Promise<void> {
    if (this.tokens.has(record.id)) throw new Error(`access token ${record.id} exists`);
    this.tokens.set(record.id, copyToken(record));
  }

  async getToken(id: string): Promise<AccessTokenRecord | undefined> {
    const t = this.tokens.get(id);
    return t && copyToken(t);
  }

  async listTokens(user?: string): Promise<AccessTokenRecord[]> {
    return [...this.tokens.values()]
      .filter((t) => user === undefined || t.user === user)
      .sort((a, b) => byteOrder(a.user, b.user) || a.createdAt - b.createdAt)
      .map(copyToken);
  }

  async revokeToken(id: string, at: number): Promise<boolean> {
    const t = this.tokens.get(id);
    if (!t || t.revokedAt !== undefined) return false;
    t.revokedAt = at;
    return true;
  }

  async touchToken(id: string, at: number): Promise<void> {
    const t = this.tokens.get(id);
    if (t) t.lastUsedAt = at;
  }

  /** Memory always answers. */
  async check(): Promise<void> {}

  /** One process holds the store, so a job is exclusive within it. */
  runExclusive(job: string, fn: () => Promise<void>): Promise<boolean> {
    return this.jobs.runExclusive(job, fn);
  }

  async close(): Promise<void> {}
}

/** Child manifests are looked up as manifests, everything else as blobs (either way as a fallback). */
function lookupReference(r: Repository, ref: ManifestReference): number | undefined {
  const asManifest = r.manifests.get(ref.digest)?.record.size;
  const asBlob = r.blobs.get(ref.digest);
  return ref.role === 'manifest' ? (asManifest ?? asBlob) : (asBlob ?? asManifest);
}

/** Byte order of the UTF-8 encodings (SQLite's and PostgreSQL's C collation), not UTF-16 order. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function afterInByteOrder(names: Iterable<string>, after: string, limit: number): string[] {
  return [...names].filter((n) => byteOrder(n, after) > 0).sort(byteOrder).slice(0, limit);
}

function copyManifest(m: ManifestRecord): ManifestRecord {
  return { ...m, content: Buffer.from(m.content), ...(m.annotations ? { annotations: { ...m.annotations } } : {}) };
}

function copyToken(t: AccessTokenRecord): AccessTokenRecord {
  return { ...t, scopes: t.scopes.map((s) => ({ glob: s.glob, actions: [...s.actions] })), secretHash: Buffer.from(t.secretHash) };
}
