import type { Registry } from '../registry/registry.js';
import type { MetadataStore } from '../storage/metadata-store.js';
import { describeImmutableRule, immutableRule } from '../registry/immutable-tags.js';
import { planRepository, type RetentionPolicy, type TagDecision } from './retention.js';

/**
 * Online garbage collection (docs/gc.md): never stops the world. Every removal is
 * a compare-and-set in the metadata store, so pushes, pulls and deletes (on any
 * replica) go on while it runs, and a crash at any point leaves work the next run
 * finishes.
 */
export interface CollectOptions {
  /** Nothing linked, released, claimed or created more recently is touched. */
  gracePeriodMs: number;
  /** List what would go, change nothing. */
  dryRun?: boolean;
  /** Retention rules (first matching repository glob applies). */
  retention?: readonly RetentionPolicy[];
  now?: () => number;
  /** Progress of each step, for the log. */
  onProgress?: (step: GcStep, counts: Record<string, number>) => void;
  /** Rows per transaction (small, so the server's writes never wait long). */
  batchSize?: number;
}

export type GcStep = 'uploads' | 'retention' | 'links' | 'blobs' | 'orphans';

export interface RemovedTag {
  repository: string;
  tag: string;
  digest: string;
  rule: string;
}

export interface RemovedManifest {
  repository: string;
  digest: string;
  reason: string;
}

export interface CollectReport {
  dryRun: boolean;
  /** Set when another collector held the lease: nothing was done. */
  skipped?: string;
  uploadsExpired: number;
  /** Every tag's decision in repositories a retention rule matches. */
  decisions: (TagDecision & { repository: string })[];
  tagsRemoved: RemovedTag[];
  manifestsRemoved: RemovedManifest[];
  linksRemoved: number;
  blobsRemoved: number;
  /** Blob bytes deleted from the blob store (manifests live in the database). */
  bytesReclaimed: number;
  durationMs: number;
}

/** The runExclusive job garbage collection and fsck share: one of them at a time, on any replica. */
export const GC_JOB = 'gc';
/**
 * Rows per page: each page is one compare-and-set transaction (one fsync), its blob
 * bytes one deleteBlobs call (parallel unlinks, or one S3 DeleteObjects request).
 * 1,000: on SQLite a page's transaction holds the write lock ~25 ms; at 500 a full-size
 * run took a third longer (twice the fsyncs and WAL pages), at 2,000 pushes waited longer.
 */
const DEFAULT_BATCH = 1000;

export async function collectGarbage(registry: Registry, options: CollectOptions): Promise<CollectReport> {
  return new Collector(registry, options).run();
}

class Collector {
  private readonly meta: MetadataStore;
  private readonly now: () => number;
  private readonly batch: number;
  private readonly dryRun: boolean;
  private readonly report: CollectReport;
  private cutoff = 0;
  private started = 0;

  constructor(
    private readonly registry: Registry,
    private readonly options: CollectOptions,
  ) {
    this.meta = registry.meta;
    this.now = options.now ?? Date.now;
    this.batch = options.batchSize ?? DEFAULT_BATCH;
    this.dryRun = options.dryRun ?? false;
    this.report = {
      dryRun: this.dryRun,
      uploadsExpired: 0,
      decisions: [],
      tagsRemoved: [],
      manifestsRemoved: [],
      linksRemoved: 0,
      blobsRemoved: 0,
      bytesReclaimed: 0,
      durationMs: 0,
    };
  }

  async run(): Promise<CollectReport> {
    const started = (this.started = this.now());
    this.cutoff = started - this.options.gracePeriodMs;
    const steps = async () => {
      await this.expireUploads();
      await this.applyRetention();
      await this.removeUnusedLinks();
      await this.removeUnlinkedBlobs();
      await this.removeOrphanBytes();
    };
    // A dry run writes nothing, so it needs no turn.
    if (this.dryRun) await steps();
    else if (!(await this.meta.runExclusive(GC_JOB, steps)))
      return { ...this.report, skipped: 'another garbage collection (or fsck) is running' };
    this.report.durationMs = this.now() - started;
    return this.report;
  }

  private progress(step: GcStep, counts: Record<string, number>): void {
    this.options.onProgress?.(step, counts);
  }

  private async expireUploads(): Promise<void> {
    this.report.uploadsExpired = this.dryRun
      ? (await this.meta.staleUploads(this.now() - this.registry.uploadTtlMs)).length
      : await this.registry.expireUploads();
    this.progress('uploads', { expired: this.report.uploadsExpired });
  }

  private async applyRetention(): Promise<void> {
    let last: string | undefined;
    let repositories = 0;
    for (;;) {
      const page = await this.meta.listRepositories({ n: this.batch, ...(last !== undefined ? { last } : {}) });
      for (const repository of page.items) {
        repositories++;
        await this.retainRepository(repository);
      }
      this.progress('retention', {
        repositories,
        tags: this.report.tagsRemoved.length,
        manifests: this.report.manifestsRemoved.length,
      });
      if (!page.next) break;
      last = page.next;
    }
  }

  private async retainRepository(repository: string): Promise<void> {
    const inventory = await this.meta.repositoryInventory(repository);
    const plan = planRepository(
      repository,
      inventory,
      this.options.retention ?? [],
      { now: this.now(), gracePeriodMs: this.options.gracePeriodMs },
      (tag) => {
        const rule = immutableRule(this.registry.immutableTags, repository, tag);
        return rule && describeImmutableRule(rule);
      },
    );
    for (const d of plan.decisions) this.report.decisions.push({ repository, ...d });
    for (const t of plan.dropTags) {
      const events = this.registry.removalEvents(repository, {
        removed: 'tag',
        tag: t.tag,
        digest: t.digest,
        reason: t.rule,
      });
      if (this.dryRun || (await this.meta.deleteTagIf(repository, t.tag, t.digest, events)))
        this.report.tagsRemoved.push({ repository, ...t });
    }
    // Parents before children: an index (or referrer) goes before what it references.
    for (const m of plan.deleteManifests) {
      if (this.dryRun) {
        this.report.manifestsRemoved.push({ repository, ...m });
        continue;
      }
      const events = this.registry.removalEvents(repository, {
        removed: 'manifest',
        digest: m.digest,
        reason: m.reason,
      });
      const outcome = await this.meta.deleteManifestIfUnused(repository, m.digest, this.cutoff, events);
      if (outcome === 'deleted') this.report.manifestsRemoved.push({ repository, ...m });
    }
  }

  private async removeUnusedLinks(): Promise<void> {
    let after: { repository: string; digest: string } | undefined;
    for (;;) {
      const links = await this.meta.unusedBlobLinks(this.cutoff, this.batch, after);
      this.report.linksRemoved += this.dryRun
        ? links.length
        : (await this.meta.removeUnusedBlobLinks(links, this.cutoff)).length;
      this.progress('links', { removed: this.report.linksRemoved });
      if (links.length < this.batch) break;
      after = links[links.length - 1]!;
    }
  }

  private async removeUnlinkedBlobs(): Promise<void> {
    if (this.dryRun) {
      let after: string | undefined;
      for (;;) {
        const rows = await this.meta.unlinkedBlobs(this.cutoff, this.batch, after);
        for (const r of rows) this.count(r.size);
        if (rows.length < this.batch) break;
        after = rows[rows.length - 1]!.digest;
      }
      this.progress('blobs', { removed: this.report.blobsRemoved, bytes: this.report.bytesReclaimed });
      return;
    }
    // A cursor, so each batch scans on from the last instead of over every linked blob
    // again; it may pass unlinked blobs (the last of a batch can be a taken-over mark), so
    // the run ends only with a batch that was not full on a scan from the start.
    let after: string | undefined;
    // One page's bytes are deleted while the next is marked: the unlinks (or S3 requests)
    // overlap the database's work, and the previous page's forget shares a commit with the mark.
    let deleting: Promise<void> = Promise.resolve();
    try {
      for (;;) {
        // One collector at a time (runExclusive), and each deletes what it marked before it ends:
        // a mark older than this run was left by one that died (kill -9), and is taken over.
        const marked = await this.meta.markBlobsForDeletion(this.cutoff, this.started, this.batch, this.now(), after);
        await deleting;
        deleting = this.deleteMarked(marked);
        this.progress('blobs', { removed: this.report.blobsRemoved, bytes: this.report.bytesReclaimed });
        if (marked.length === this.batch) after = marked[marked.length - 1]!.digest;
        else if (after !== undefined) after = undefined;
        else break;
      }
    } finally {
      // A failed mark must not leave the page before it half done (or its rejection unheard).
      await deleting;
    }
    this.progress('blobs', { removed: this.report.blobsRemoved, bytes: this.report.bytesReclaimed });
  }

  /** Bytes first, then the records: a crash between leaves `deleting` rows the next run finishes. */
  private async deleteMarked(marked: { digest: string; size: number }[]): Promise<void> {
    if (marked.length === 0) return;
    const digests = marked.map((b) => b.digest);
    await this.registry.blobs.deleteBlobs(digests);
    await this.meta.forgetBlobs(digests);
    for (const b of marked) this.count(b.size);
  }

  private count(size: number): void {
    this.report.blobsRemoved++;
    this.report.bytesReclaimed += size;
  }

  /** Bytes with no record at all (an older Stowage's crash, files copied in), past the grace period. */
  private async removeOrphanBytes(): Promise<void> {
    let orphans = 0;
    const known = new Set<string>();
    let after: string | undefined;
    for (;;) {
      const rows = await this.meta.blobRecords(10_000, after);
      for (const r of rows) known.add(r.digest);
      if (rows.length < 10_000) break;
      after = rows[rows.length - 1]!.digest;
    }
    // Only bytes no record knows are looked at (on disk: stat only those, not every file).
    for await (const b of this.registry.blobs.listBlobs((d) => known.has(d))) {
      if (b.modifiedAt >= this.cutoff) continue;
      if (this.dryRun) {
        orphans++;
        this.count(b.size);
      } else if (await this.meta.markOrphanBlob(b.digest, b.size, this.now())) {
        orphans++;
        await this.deleteMarked([b]);
      }
    }
    this.progress('orphans', { removed: orphans });
  }
}
