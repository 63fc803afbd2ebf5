import { RegistryError } from '../../core/errors.js';
import type { ManifestReference } from '../../core/manifest.js';
import { paginate, type Page, type PageRequest } from '../../core/pagination.js';
import { LocalJobs } from '../local-jobs.js';
import { artifactKind, type ArtifactKind } from '../../core/artifact-kind.js';
import { isIndexType } from '../../core/media-types.js';
import {
  assembleTagDetails,
  legacySignatureTag,
  repositoryKindOrder,
  type KindCandidate,
  type ReferenceRow,
  type RepositorySearch,
  type RepositorySummary,
  type TagDetail,
  type TagDetailQuery,
  type TagManifestRow,
} from '../browse.js';
import { assertWithinQuota, type QuotaLimits } from '../../core/quota.js';
import type { DeliveryRecord, DeliveryState, StoredEvent } from '../event-store.js';
import type { RegistryEvent } from '../../core/events.js';
import type {
  Held,
  AccessTokenRecord,
  BlobLinkKey,
  BlobLinkRecord,
  ConditionalDelete,
  ManifestRecord,
  ManifestSummary,
  MetadataStore,
  PutManifestOptions,
  RepositoryInventory,
  UnmetReference,
  UploadCount,
  StorageStats,
  UploadRecord,
  BlobRecord as BlobRecordRow,
  BrokenBlobLink,
  DanglingTag,
} from '../metadata-store.js';

/** A blob whose bytes may exist (the `blobs` table of the SQL drivers): the garbage collection fence, docs/gc.md. */
interface BlobRecord {
  /** The claim an upload commit must still hold when it links; never reused. */
  id: number;
  size: number;
  state: 'live' | 'deleting';
  claimedAt: number;
  markedAt?: number;
}

interface Link {
  size: number;
  /** Last linked, or last released by a manifest delete. */
  linkedAt: number;
}

interface StoredManifest {
  record: ManifestRecord;
  /** Digests this manifest references (blobs, child manifests). */
  refs: Set<string>;
  pulledAt?: number;
  kind: ArtifactKind;
}

interface Repository {
  links: Map<string, Link>;
  manifests: Map<string, StoredManifest>;
  tags: Map<string, { digest: string; updatedAt: number }>;
}

type Usage = { bytes: number; blobs: number; manifests: number; repositories: number };

/**
 * Every name in process memory, like Distribution's `inmemory` driver: for tests
 * and throwaway registries, where it proves the MetadataStore contract with a
 * second implementation. Each method runs to completion without awaiting, so each
 * is atomic as a SQL transaction is. Records are copied in and out: callers never
 * share the store's objects. Orders are byte orders of UTF-8, as SQL's C collation.
 */
export class MemoryMetadataStore implements MetadataStore {
  private readonly repos = new Map<string, Repository>();
  private readonly uploads = new Map<string, UploadRecord>();
  private readonly tokens = new Map<string, AccessTokenRecord>();
  /** `repository\nkey` → when upstream last confirmed it (the pull-through cache). */
  private readonly confirmations = new Map<string, number>();
  private readonly blobs = new Map<string, BlobRecord>();
  private readonly jobs = new LocalJobs();
  private lastClaim = 0;
  private readonly events = new Map<number, string>();
  private lastSeq = 0;
  private readonly cursors = new Map<string, number>();
  private readonly deliveryRows = new Map<string, DeliveryRecord>();
  private closed = false;

  /** Like a closed database connection: nothing answers after close(). */
  private open(): void {
    if (this.closed) throw new RegistryError('UNAVAILABLE', 'metadata store is closed');
  }

  private repo(name: string): Repository {
    let r = this.repos.get(name);
    if (!r) {
      r = { links: new Map(), manifests: new Map(), tags: new Map() };
      this.repos.set(name, r);
    }
    return r;
  }

  // ---- upload sessions --------------------------------------------------------

  async createUpload(record: UploadRecord): Promise<void> {
    this.open();
    if (this.uploads.has(record.id)) throw new Error(`upload ${record.id} exists`);
    // No repository yet: an upload that never completes must not create one.
    this.uploads.set(record.id, { ...record });
  }

  async getUpload(id: string): Promise<UploadRecord | undefined> {
    this.open();
    const u = this.uploads.get(id);
    return u && { ...u };
  }

  async touchUpload(id: string, at: number): Promise<void> {
    this.open();
    const u = this.uploads.get(id);
    if (u) u.updatedAt = at;
  }

  async deleteUpload(id: string): Promise<void> {
    this.open();
    this.uploads.delete(id);
  }

  async staleUploads(before: number): Promise<UploadRecord[]> {
    this.open();
    return [...this.uploads.values()]
      .filter((u) => u.updatedAt < before)
      .sort((a, b) => a.updatedAt - b.updatedAt)
      .map((u) => ({ ...u }));
  }

  async countUploads(which: UploadCount): Promise<number> {
    this.open();
    if ('all' in which) return this.uploads.size;
    let n = 0;
    for (const u of this.uploads.values()) {
      if ('repository' in which ? u.repository === which.repository : u.owner === which.owner) n++;
    }
    return n;
  }

  // ---- blobs and links ----------------------------------------------------------

  private newBlobRecord(digest: string, size: number, at: number): BlobRecord {
    const record: BlobRecord = { id: ++this.lastClaim, size, state: 'live', claimedAt: at };
    this.blobs.set(digest, record);
    return record;
  }

  private touchBlobRecord(digest: string, at: number): void {
    const b = this.blobs.get(digest);
    if (b?.state === 'live') b.claimedAt = Math.max(b.claimedAt, at);
  }

  /** Links (or relinks, keeping the first size) and refreshes the blob's claim time. */
  private link(repository: string, digest: string, size: number, at: number): void {
    const links = this.repo(repository).links;
    const existing = links.get(digest);
    if (existing) existing.linkedAt = at;
    else links.set(digest, { size, linkedAt: at });
    this.touchBlobRecord(digest, at);
  }

  async claimBlob(digest: string, size: number, at: number): Promise<number | undefined> {
    this.open();
    const b = this.blobs.get(digest);
    if (b?.state === 'deleting') return undefined;
    if (b) {
      this.touchBlobRecord(digest, at);
      return b.id;
    }
    return this.newBlobRecord(digest, size, at).id;
  }

  async linkBlob(
    repository: string,
    digest: string,
    size: number,
    claim?: number,
    quota?: QuotaLimits,
  ): Promise<boolean> {
    this.open();
    const now = Date.now();
    const b = this.blobs.get(digest);
    if (claim !== undefined || b) {
      if (!b || b.state !== 'live' || (claim !== undefined && b.id !== claim)) return false;
    }
    this.assertLinkFits(repository, digest, size, quota);
    if (!b) this.newBlobRecord(digest, size, now);
    this.link(repository, digest, size, now);
    return true;
  }

  async mountBlob(
    repository: string,
    from: string,
    digest: string,
    quota?: QuotaLimits,
    events?: (size: number) => RegistryEvent[],
  ): Promise<{ size: number } | undefined> {
    this.open();
    const source = this.repos.get(from)?.links.get(digest);
    // A link exists only while the blob's record is live (docs/gc.md, I1).
    if (!source) return undefined;
    this.assertLinkFits(repository, digest, source.size, quota);
    this.link(repository, digest, source.size, Date.now());
    if (events) this.appendEvents(events(source.size));
    return { size: source.size };
  }

  /** DENIED when linking the blob adds bytes the namespace's quota has no room for (synchronous: atomic). */
  private assertLinkFits(repository: string, digest: string, size: number, quota: QuotaLimits | undefined): void {
    if (quota?.bytes === undefined) return;
    let linked = false;
    for (const [name, r] of this.repos) if (inNamespace(name, quota.namespace) && r.links.has(digest)) linked = true;
    assertWithinQuota(
      quota,
      repository,
      { bytes: linked ? 0 : size, manifest: false, tag: false },
      { namespaceBytes: () => this.usageOf(quota.namespace).bytes, manifests: () => 0, tags: () => 0 },
    );
  }

  async blobLink(repository: string, digest: string): Promise<{ size: number } | undefined> {
    this.open();
    const l = this.repos.get(repository)?.links.get(digest);
    return l && { size: l.size };
  }

  async unlinkBlob(repository: string, digest: string): Promise<'removed' | 'absent' | 'referenced'> {
    this.open();
    const r = this.repos.get(repository);
    if (!r?.links.has(digest)) return 'absent';
    if (isReferenced(r, digest)) return 'referenced';
    r.links.delete(digest);
    return 'removed';
  }

  // ---- manifests and tags -------------------------------------------------------

  async putManifest(
    repository: string,
    m: ManifestRecord,
    references: ManifestReference[],
    tag?: string,
    options: PutManifestOptions = {},
  ): Promise<UnmetReference[]> {
    this.open();
    const existing = this.repos.get(repository);
    if (options.keepTag && tag !== undefined) {
      const current = existing?.tags.get(tag);
      if (current && current.digest !== m.digest)
        throw new RegistryError('DENIED', 'tag is immutable', { tag, digest: current.digest });
    }
    const unmet: UnmetReference[] = [];
    for (const ref of options.unverifiedReferences ? [] : references) {
      const found = existing && lookupReference(existing, ref);
      if (found === undefined) unmet.push({ reference: ref, problem: 'missing' });
      else if (found !== ref.size) unmet.push({ reference: ref, problem: 'size-mismatch', actualSize: found });
    }
    if (unmet.length > 0) return unmet;
    const quota = options.quota;
    if (quota) {
      let inNs = false;
      for (const [name, r] of this.repos)
        if (inNamespace(name, quota.namespace) && r.manifests.has(m.digest)) inNs = true;
      assertWithinQuota(
        quota,
        repository,
        {
          bytes: inNs ? 0 : m.size,
          manifest: !existing?.manifests.has(m.digest),
          tag: tag !== undefined && !existing?.tags.has(tag),
        },
        {
          namespaceBytes: () => this.usageOf(quota.namespace).bytes,
          manifests: () => existing?.manifests.size ?? 0,
          tags: () => existing?.tags.size ?? 0,
        },
      );
    }
    // A repository exists for clients once it holds a manifest (the catalog's rule).
    const firstManifest = !existing || existing.manifests.size === 0;
    const r = this.repo(repository);
    // A manifest pushed again keeps its first record and references (same bytes, same digest).
    if (!r.manifests.has(m.digest))
      r.manifests.set(m.digest, {
        record: copyManifest(m),
        refs: new Set(references.map((x) => x.digest)),
        kind: artifactKind(m.content, m.mediaType),
      });
    const previous = tag !== undefined ? r.tags.get(tag)?.digest : undefined;
    if (tag !== undefined) r.tags.set(tag, { digest: m.digest, updatedAt: options.taggedAt ?? Date.now() });
    if (options.events)
      this.appendEvents(
        options.events({
          repositoryCreated: firstManifest,
          ...(previous !== undefined ? { previousDigest: previous } : {}),
        }),
      );
    return [];
  }

  async getManifest(repository: string, digest: string): Promise<ManifestRecord | undefined> {
    this.open();
    const m = this.repos.get(repository)?.manifests.get(digest);
    return m && { ...summary(m.record), content: Buffer.from(m.record.content) };
  }

  async resolveTag(repository: string, tag: string): Promise<string | undefined> {
    this.open();
    return this.repos.get(repository)?.tags.get(tag)?.digest;
  }

  async deleteManifest(repository: string, digest: string, events?: RegistryEvent[]): Promise<boolean> {
    this.open();
    const r = this.repos.get(repository);
    if (!r || !removeManifest(r, digest)) return false;
    if (events) this.appendEvents(events);
    return true;
  }

  async deleteTag(repository: string, tag: string, events?: RegistryEvent[]): Promise<boolean> {
    this.open();
    if (!this.repos.get(repository)?.tags.delete(tag)) return false;
    if (events) this.appendEvents(events);
    return true;
  }

  // ---- the outbox ---------------------------------------------------------------

  private appendEvents(events: RegistryEvent[]): void {
    for (const e of events) this.events.set(++this.lastSeq, JSON.stringify(e));
  }

  async eventsAfter(after: number, limit: number): Promise<StoredEvent[]> {
    this.open();
    const out: StoredEvent[] = [];
    for (const [seq, body] of this.events) {
      if (out.length >= limit) break;
      if (seq > after) out.push({ seq, event: JSON.parse(body) as RegistryEvent });
    }
    return out;
  }

  async getEvents(seqs: number[]): Promise<StoredEvent[]> {
    this.open();
    return seqs.flatMap((seq) => {
      const body = this.events.get(seq);
      return body === undefined ? [] : [{ seq, event: JSON.parse(body) as RegistryEvent }];
    });
  }

  async eventCursor(endpoint: string): Promise<number> {
    this.open();
    return this.cursors.get(endpoint) ?? 0;
  }

  async recordDelivery(d: DeliveryRecord, advance: boolean): Promise<void> {
    this.open();
    this.deliveryRows.set(`${d.endpoint}\n${d.seq}`, { ...d });
    if (advance) this.cursors.set(d.endpoint, Math.max(this.cursors.get(d.endpoint) ?? 0, d.seq));
  }

  async advanceEventCursor(endpoint: string, seq: number): Promise<void> {
    this.open();
    this.cursors.set(endpoint, Math.max(this.cursors.get(endpoint) ?? 0, seq));
  }

  async deliveries(query: { endpoint?: string; state?: DeliveryState; limit: number }): Promise<DeliveryRecord[]> {
    this.open();
    return [...this.deliveryRows.values()]
      .filter(
        (d) =>
          (query.endpoint === undefined || d.endpoint === query.endpoint) &&
          (query.state === undefined || d.state === query.state),
      )
      .sort((a, b) => b.updatedAt - a.updatedAt || b.seq - a.seq)
      .slice(0, query.limit)
      .map((d) => ({ ...d }));
  }

  async requeueDeliveries(endpoint: string, seq?: number): Promise<number> {
    this.open();
    let n = 0;
    for (const d of this.deliveryRows.values()) {
      if (d.endpoint !== endpoint || d.state !== 'failed' || (seq !== undefined && d.seq !== seq)) continue;
      d.state = 'requeued';
      delete d.nextAt;
      d.updatedAt = Date.now();
      n++;
    }
    return n;
  }

  async pruneEvents(seq: number, before: number): Promise<number> {
    this.open();
    const kept = new Set(
      [...this.deliveryRows.values()].filter((d) => d.state === 'failed' || d.state === 'requeued').map((d) => d.seq),
    );
    let n = 0;
    for (const [s, body] of this.events) {
      if (s <= seq && !kept.has(s) && (JSON.parse(body) as RegistryEvent).at < before) {
        this.events.delete(s);
        n++;
      }
    }
    return n;
  }

  // ---- listings -----------------------------------------------------------------

  async listTags(repository: string, page: PageRequest): Promise<Page<string> | undefined> {
    this.open();
    const r = this.repos.get(repository);
    return r && paginate(page, (after, limit) => afterInByteOrder(r.tags.keys(), after, limit));
  }

  async referencedBy(repository: string, digest: string): Promise<string[]> {
    this.open();
    const r = this.repos.get(repository);
    if (!r) return [];
    return [...r.manifests.values()]
      .filter((m) => m.refs.has(digest))
      .map((m) => m.record.digest)
      .sort(byteOrder);
  }

  async referrers(repository: string, subject: string, artifactType?: string): Promise<ManifestSummary[]> {
    this.open();
    const r = this.repos.get(repository);
    if (!r) return [];
    return [...r.manifests.values()]
      .map((m) => m.record)
      .filter((m) => m.subject === subject && (artifactType === undefined || m.artifactType === artifactType))
      .sort((a, b) => b.createdAt - a.createdAt || byteOrder(a.digest, b.digest))
      .map(summary);
  }

  async listRepositories(page: PageRequest): Promise<Page<string>> {
    this.open();
    const withManifests = [...this.repos].filter(([, r]) => r.manifests.size > 0).map(([name]) => name);
    return paginate(page, (after, limit) => afterInByteOrder(withManifests, after, limit));
  }

  async repositoryExists(repository: string): Promise<boolean> {
    this.open();
    return this.repos.has(repository);
  }

  // ---- browsing -----------------------------------------------------------------

  async searchRepositories(search: RepositorySearch): Promise<string[]> {
    this.open();
    const q = search.q?.toLowerCase() ?? '';
    const out: string[] = [];
    for (const name of [...this.repos.keys()].sort(byteOrder)) {
      if (out.length >= search.limit) break;
      const r = this.repos.get(name)!;
      if (r.manifests.size === 0 || (search.after !== undefined && byteOrder(name, search.after) <= 0)) continue;
      if (!name.includes(q)) continue;
      if (search.kind !== undefined && repositoryKind(r) !== search.kind) continue;
      out.push(name);
    }
    return out;
  }

  async repositorySummaries(names: readonly string[]): Promise<RepositorySummary[]> {
    this.open();
    const out: RepositorySummary[] = [];
    for (const name of names) {
      const r = this.repos.get(name);
      if (!r || r.manifests.size === 0) continue;
      let size = 0;
      for (const l of r.links.values()) size += l.size;
      for (const m of r.manifests.values()) size += m.record.size;
      let lastPush: number | undefined;
      for (const t of r.tags.values()) lastPush = Math.max(lastPush ?? t.updatedAt, t.updatedAt);
      out.push({
        name,
        kind: repositoryKind(r),
        tags: r.tags.size,
        manifests: r.manifests.size,
        size,
        ...(lastPush !== undefined ? { lastPush } : {}),
      });
    }
    return out;
  }

  async tagDetails(repository: string, query: TagDetailQuery): Promise<TagDetail[]> {
    this.open();
    const r = this.repos.get(repository);
    if (!r) return [];
    let names: string[];
    if ('names' in query) names = query.names.filter((n) => r.tags.has(n));
    else if (query.order === 'name') {
      names = [...r.tags.keys()]
        .filter((n) => query.after === undefined || byteOrder(n, query.after) > 0)
        .sort(byteOrder)
        .slice(0, query.limit);
    } else {
      const after = query.after;
      names = [...r.tags]
        .filter(
          ([n, t]) =>
            after === undefined ||
            t.updatedAt < after.pushedAt ||
            (t.updatedAt === after.pushedAt && byteOrder(n, after.name) > 0),
        )
        .sort(([na, a], [nb, b]) => b.updatedAt - a.updatedAt || byteOrder(na, nb))
        .slice(0, query.limit)
        .map(([n]) => n);
    }
    const rows: TagManifestRow[] = [];
    const refs: ReferenceRow[] = [];
    const signed = new Set<string>();
    const sizeOf = (digest: string) => r.links.get(digest)?.size ?? r.manifests.get(digest)?.record.size;
    const addRefs = (digest: string) => {
      for (const d of r.manifests.get(digest)?.refs ?? []) {
        const size = sizeOf(d);
        if (size !== undefined) refs.push({ from: digest, digest: d, size });
      }
    };
    for (const name of names) {
      const t = r.tags.get(name)!;
      const m = r.manifests.get(t.digest);
      if (!m) continue;
      rows.push({
        name,
        digest: t.digest,
        mediaType: m.record.mediaType,
        ...(m.record.artifactType !== undefined ? { artifactType: m.record.artifactType } : {}),
        kind: m.kind,
        manifestSize: m.record.size,
        pushedAt: t.updatedAt,
        ...(m.pulledAt !== undefined ? { pulledAt: m.pulledAt } : {}),
        ...(isIndexType(m.record.mediaType) ? { content: Buffer.from(m.record.content) } : {}),
      });
      addRefs(t.digest);
      for (const child of m.refs) if (r.manifests.has(child)) addRefs(child);
      const hasReferrer = [...r.manifests.values()].some(
        (x) => x.record.subject === t.digest && x.kind === 'signature',
      );
      if (hasReferrer || r.tags.has(legacySignatureTag(t.digest))) signed.add(t.digest);
    }
    return assembleTagDetails(rows, refs, signed);
  }

  // ---- access tokens ------------------------------------------------------------

  async createToken(record: AccessTokenRecord): Promise<void> {
    this.open();
    if (this.tokens.has(record.id)) throw new Error(`access token ${record.id} exists`);
    this.tokens.set(record.id, copyToken(record));
  }

  async getToken(id: string): Promise<AccessTokenRecord | undefined> {
    this.open();
    const t = this.tokens.get(id);
    return t && copyToken(t);
  }

  async listTokens(user?: string): Promise<AccessTokenRecord[]> {
    this.open();
    return [...this.tokens.values()]
      .filter((t) => user === undefined || t.user === user)
      .sort((a, b) => byteOrder(a.user, b.user) || a.createdAt - b.createdAt)
      .map(copyToken);
  }

  async revokeToken(id: string, at: number): Promise<boolean> {
    this.open();
    const t = this.tokens.get(id);
    if (!t || t.revokedAt !== undefined) return false;
    t.revokedAt = at;
    return true;
  }

  async touchToken(id: string, at: number): Promise<void> {
    this.open();
    const t = this.tokens.get(id);
    if (t) t.lastUsedAt = at;
  }

  // ---- pull-through cache ---------------------------------------------------------

  async upstreamConfirmedAt(repository: string, key: string): Promise<number | undefined> {
    this.open();
    return this.confirmations.get(`${repository}\n${key}`);
  }

  async confirmUpstream(repository: string, key: string, at: number): Promise<void> {
    this.open();
    const k = `${repository}\n${key}`;
    this.confirmations.set(k, Math.max(at, this.confirmations.get(k) ?? at));
  }

  // ---- lifecycle ----------------------------------------------------------------

  async unusedBlobLinks(
    before: number,
    limit: number,
    after?: { repository: string; digest: string },
  ): Promise<BlobLinkRecord[]> {
    return this.linksInOrder(limit, after, (r, digest, l) => l.linkedAt < before && !isReferenced(r, digest));
  }

  async blobLinks(limit: number, after?: { repository: string; digest: string }): Promise<BlobLinkRecord[]> {
    return this.linksInOrder(limit, after, () => true);
  }

  /** Links in (repository, digest) byte order after `after` that `keep` accepts. */
  private linksInOrder(
    limit: number,
    after: { repository: string; digest: string } | undefined,
    keep: (r: Repository, digest: string, l: Link) => boolean,
  ): BlobLinkRecord[] {
    this.open();
    const found: BlobLinkRecord[] = [];
    for (const name of [...this.repos.keys()].sort(byteOrder)) {
      if (after && byteOrder(name, after.repository) < 0) continue;
      const r = this.repos.get(name)!;
      for (const digest of [...r.links.keys()].sort(byteOrder)) {
        if (after && name === after.repository && byteOrder(digest, after.digest) <= 0) continue;
        const l = r.links.get(digest)!;
        if (!keep(r, digest, l)) continue;
        found.push({ repository: name, digest, size: l.size, linkedAt: l.linkedAt });
        if (found.length >= limit) return found;
      }
    }
    return found;
  }

  async removeUnusedBlobLinks(links: readonly BlobLinkKey[], before: number): Promise<BlobLinkKey[]> {
    this.open();
    return links
      .filter(({ repository, digest }) => {
        const r = this.repos.get(repository);
        const l = r?.links.get(digest);
        if (!r || !l || l.linkedAt >= before || isReferenced(r, digest)) return false;
        return r.links.delete(digest);
      })
      .map(({ repository, digest }) => ({ repository, digest }));
  }

  async unlinkedBlobs(
    claimedBefore: number,
    limit: number,
    after?: string,
  ): Promise<{ digest: string; size: number }[]> {
    this.open();
    return this.findUnlinked(claimedBefore, limit, after ?? '');
  }

  private findUnlinked(claimedBefore: number, limit: number, after: string): { digest: string; size: number }[] {
    const linked = new Set<string>();
    for (const r of this.repos.values()) for (const d of r.links.keys()) linked.add(d);
    return this.blobsInOrder(after)
      .filter(([d, b]) => b.state === 'live' && b.claimedAt < claimedBefore && !linked.has(d))
      .slice(0, limit)
      .map(([digest, b]) => ({ digest, size: b.size }));
  }

  private blobsInOrder(after: string): [string, BlobRecord][] {
    return [...this.blobs].filter(([d]) => byteOrder(d, after) > 0).sort(([a], [b]) => byteOrder(a, b));
  }

  async markBlobsForDeletion(
    claimedBefore: number,
    abandonedBefore: number,
    limit: number,
    at: number,
    after?: string,
  ): Promise<{ digest: string; size: number }[]> {
    this.open();
    const rows = this.blobsInOrder('')
      .filter(([, b]) => b.state === 'deleting' && b.markedAt! < abandonedBefore)
      .slice(0, limit)
      .map(([digest, b]) => ({ digest, size: b.size }));
    if (rows.length < limit) rows.push(...this.findUnlinked(claimedBefore, limit - rows.length, after ?? ''));
    for (const r of rows) Object.assign(this.blobs.get(r.digest)!, { state: 'deleting', markedAt: at });
    return rows;
  }

  async markOrphanBlob(digest: string, size: number, at: number): Promise<boolean> {
    this.open();
    if (this.blobs.has(digest)) return false;
    this.blobs.set(digest, { id: ++this.lastClaim, size, state: 'deleting', claimedAt: at, markedAt: at });
    return true;
  }

  async forgetBlobs(digests: readonly string[]): Promise<void> {
    this.open();
    for (const d of digests) if (this.blobs.get(d)?.state === 'deleting') this.blobs.delete(d);
  }

  async blobRecords(limit: number, after?: string): Promise<BlobRecordRow[]> {
    this.open();
    return this.blobsInOrder(after ?? '')
      .slice(0, limit)
      .map(([digest, b]) => ({ digest, size: b.size, state: b.state, claimedAt: b.claimedAt }));
  }

  async markBlobForDeletion(digest: string, claimedBefore: number, at: number): Promise<boolean> {
    this.open();
    const b = this.blobs.get(digest);
    if (!b || b.state !== 'live' || b.claimedAt >= claimedBefore) return false;
    for (const r of this.repos.values()) if (r.links.has(digest)) return false;
    Object.assign(b, { state: 'deleting', markedAt: at });
    return true;
  }

  async brokenBlobLinks(limit: number, after?: { repository: string; digest: string }): Promise<BrokenBlobLink[]> {
    this.open();
    const found: BrokenBlobLink[] = [];
    for (const name of [...this.repos.keys()].sort(byteOrder)) {
      if (after && byteOrder(name, after.repository) < 0) continue;
      const r = this.repos.get(name)!;
      for (const digest of [...r.links.keys()].sort(byteOrder)) {
        if (after && name === after.repository && byteOrder(digest, after.digest) <= 0) continue;
        const l = r.links.get(digest)!;
        const record = this.blobs.get(digest);
        if (record && record.size === l.size) continue;
        found.push({
          repository: name,
          digest,
          size: l.size,
          linkedAt: l.linkedAt,
          ...(record ? { recordSize: record.size } : {}),
        });
        if (found.length >= limit) return found;
      }
    }
    return found;
  }

  async danglingTags(limit: number, after?: { repository: string; tag: string }): Promise<DanglingTag[]> {
    this.open();
    const found: DanglingTag[] = [];
    for (const name of [...this.repos.keys()].sort(byteOrder)) {
      if (after && byteOrder(name, after.repository) < 0) continue;
      const r = this.repos.get(name)!;
      for (const tag of [...r.tags.keys()].sort(byteOrder)) {
        if (after && name === after.repository && byteOrder(tag, after.tag) <= 0) continue;
        const digest = r.tags.get(tag)!.digest;
        if (r.manifests.has(digest)) continue;
        found.push({ repository: name, tag, digest });
        if (found.length >= limit) return found;
      }
    }
    return found;
  }

  async deleteDanglingTag(repository: string, tag: string): Promise<boolean> {
    this.open();
    const r = this.repos.get(repository);
    const t = r?.tags.get(tag);
    if (!r || !t || r.manifests.has(t.digest)) return false;
    return r.tags.delete(tag);
  }

  async repositoryInventory(repository: string): Promise<RepositoryInventory> {
    this.open();
    const r = this.repos.get(repository);
    if (!r) return { tags: [], manifests: [] };
    return {
      tags: [...r.tags].map(([name, t]) => ({ name, digest: t.digest, pushedAt: t.updatedAt })),
      manifests: [...r.manifests.values()].map(({ record: m, refs, pulledAt }) => ({
        digest: m.digest,
        mediaType: m.mediaType,
        ...(m.subject ? { subject: m.subject } : {}),
        ...(m.artifactType ? { artifactType: m.artifactType } : {}),
        createdAt: m.createdAt,
        ...(pulledAt !== undefined ? { pulledAt } : {}),
        references: [...refs].sort(byteOrder),
      })),
    };
  }

  async deleteTagIf(repository: string, tag: string, digest: string, events?: RegistryEvent[]): Promise<boolean> {
    this.open();
    const r = this.repos.get(repository);
    if (r?.tags.get(tag)?.digest !== digest) return false;
    r.tags.delete(tag);
    if (events) this.appendEvents(events);
    return true;
  }

  async deleteManifestIfUnused(
    repository: string,
    digest: string,
    createdBefore: number,
    events?: RegistryEvent[],
  ): Promise<ConditionalDelete> {
    this.open();
    const r = this.repos.get(repository);
    const m = r?.manifests.get(digest);
    if (!r || !m) return 'absent';
    if (m.record.createdAt >= createdBefore) return 'recent';
    for (const t of r.tags.values()) if (t.digest === digest) return 'tagged';
    if (isReferenced(r, digest)) return 'referenced';
    removeManifest(r, digest);
    if (events) this.appendEvents(events);
    return 'deleted';
  }

  async recordPulls(
    pulls: { repository: string; digest: string; at: number }[],
    events?: RegistryEvent[],
  ): Promise<void> {
    this.open();
    for (const p of pulls) {
      const m = this.repos.get(p.repository)?.manifests.get(p.digest);
      if (m && (m.pulledAt === undefined || m.pulledAt < p.at)) m.pulledAt = p.at;
    }
    if (events) this.appendEvents(events);
  }

  async namespaceUsage(namespace: string): Promise<Usage> {
    this.open();
    return this.usageOf(namespace);
  }

  private usageOf(namespace: string): Usage {
    const blobs = new Map<string, number>();
    const manifests = new Map<string, number>();
    let repositories = 0;
    for (const [name, r] of this.repos) {
      if (!inNamespace(name, namespace)) continue;
      for (const [d, l] of r.links) blobs.set(d, Math.max(blobs.get(d) ?? 0, l.size));
      for (const [d, m] of r.manifests) manifests.set(d, Math.max(manifests.get(d) ?? 0, m.record.size));
      if (r.manifests.size > 0) repositories++;
    }
    let bytes = 0;
    for (const size of [...blobs.values(), ...manifests.values()]) bytes += size;
    return { bytes, blobs: blobs.size, manifests: manifests.size, repositories };
  }

  async namespaceLinks(namespace: string, digest: string): Promise<boolean> {
    this.open();
    for (const [name, r] of this.repos) if (inNamespace(name, namespace) && r.links.has(digest)) return true;
    return false;
  }

  // Summed from the maps at each call: the SQL drivers keep these totals by triggers,
  // here a scrape walks process memory, which costs what a trigger would per write.
  async storageStats(): Promise<StorageStats> {
    this.open();
    const namespaces = new Map<string, StorageStats['namespaces'][number]>();
    for (const [name, r] of this.repos) {
      const ns = name.split('/', 1)[0]!;
      let n = namespaces.get(ns);
      if (!n) namespaces.set(ns, (n = { namespace: ns, blobLinks: 0, blobBytes: 0, manifests: 0, manifestBytes: 0 }));
      for (const l of r.links.values()) {
        n.blobLinks++;
        n.blobBytes += l.size;
      }
      for (const m of r.manifests.values()) {
        n.manifests++;
        n.manifestBytes += m.record.size;
      }
    }
    let blobBytes = 0;
    for (const b of this.blobs.values()) blobBytes += b.size;
    return {
      namespaces: [...namespaces.values()].sort((a, b) => byteOrder(a.namespace, b.namespace)),
      blobs: this.blobs.size,
      blobBytes,
    };
  }

  async repositoryCounts(repository: string): Promise<{ tags: number; manifests: number }> {
    this.open();
    const r = this.repos.get(repository);
    return { tags: r?.tags.size ?? 0, manifests: r?.manifests.size ?? 0 };
  }

  async check(): Promise<void> {
    this.open();
  }

  async runExclusive(job: string, fn: () => Promise<void>): Promise<boolean> {
    this.open();
    return this.jobs.runExclusive(job, fn);
  }

  async holdUpload<T>(id: string, fn: () => Promise<T>): Promise<Held<T>> {
    this.open();
    return this.jobs.hold(`upload:${id}`, fn);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Does a manifest of the repository reference the digest (a blob or a child manifest)? */
function isReferenced(r: Repository, digest: string): boolean {
  for (const m of r.manifests.values()) if (m.refs.has(digest)) return true;
  return false;
}

/** The manifest, its tags and references; the links it used start their grace period now. */
function removeManifest(r: Repository, digest: string): boolean {
  const m = r.manifests.get(digest);
  if (!m) return false;
  r.manifests.delete(digest);
  const now = Date.now();
  for (const d of m.refs) {
    const l = r.links.get(d);
    if (l) l.linkedAt = now;
  }
  for (const [tag, t] of r.tags) if (t.digest === digest) r.tags.delete(tag);
  return true;
}

/** Child manifests are looked up as manifests, everything else as blobs (either way as a fallback). */
function lookupReference(r: Repository, ref: ManifestReference): number | undefined {
  const asManifest = r.manifests.get(ref.digest)?.record.size;
  const asBlob = r.links.get(ref.digest)?.size;
  return ref.role === 'manifest' ? (asManifest ?? asBlob) : (asBlob ?? asManifest);
}

/** The repository is the namespace or under `namespace/`. */
function inNamespace(name: string, namespace: string): boolean {
  return name === namespace || name.startsWith(`${namespace}/`);
}

/** Byte order of the UTF-8 encodings (SQLite's and PostgreSQL's C collation), not UTF-16 order. */
/** The repository-kind rule of ../browse.ts over one repository. */
function repositoryKind(r: Repository): ArtifactKind {
  const taggedAt = new Map<string, number>();
  for (const t of r.tags.values()) taggedAt.set(t.digest, Math.max(taggedAt.get(t.digest) ?? 0, t.updatedAt));
  const candidates: KindCandidate[] = [...r.manifests].map(([digest, m]) => ({
    kind: m.kind,
    createdAt: m.record.createdAt,
    digest,
    ...(taggedAt.has(digest) ? { taggedAt: taggedAt.get(digest)! } : {}),
  }));
  return candidates.sort(repositoryKindOrder)[0]?.kind ?? 'artifact';
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function afterInByteOrder(names: Iterable<string>, after: string, limit: number): string[] {
  return [...names]
    .filter((n) => byteOrder(n, after) > 0)
    .sort(byteOrder)
    .slice(0, limit);
}

/** What the SQL drivers read back (toSummary): optional fields present as undefined, annotations copied. */
function summary(m: ManifestRecord): ManifestSummary {
  return {
    digest: m.digest,
    mediaType: m.mediaType,
    size: m.size,
    subject: m.subject,
    artifactType: m.artifactType,
    annotations: m.annotations && { ...m.annotations },
    createdAt: m.createdAt,
  };
}

function copyManifest(m: ManifestRecord): ManifestRecord {
  return { ...summary(m), content: Buffer.from(m.content) };
}

function copyToken(t: AccessTokenRecord): AccessTokenRecord {
  return {
    ...t,
    scopes: t.scopes.map((s) => ({ glob: s.glob, actions: [...s.actions] })),
    secretHash: Buffer.from(t.secretHash),
  };
}
