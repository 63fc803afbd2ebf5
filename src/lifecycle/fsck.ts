import { createHash } from 'node:crypto';
import { RegistryError } from '../core/errors.js';
import { digestBytes, tryParseDigest } from '../core/digest.js';
import { parseManifest, type ManifestReference } from '../core/manifest.js';
import type { Registry } from '../registry/registry.js';
import type { BlobRecord, MetadataStore } from '../storage/metadata-store.js';
import { GC_JOB } from './collector.js';
import { pool } from '../util/pool.js';

/**
 * fsck (docs/gc.md): checks that what the metadata store says and what the blob
 * store holds agree, online, and with `repair` fixes what can be fixed without
 * touching content anything references. It runs as the `gc` job (runExclusive),
 * so no collector removes records or bytes while it looks; pushes and deletes go
 * on, and every check is ordered so that they cause no false alarm (see each step).
 */
export interface FsckOptions {
  /** Fix what is safe to fix: orphans, dangling tags, lost records of intact bytes. */
  repair?: boolean;
  /** Orphans younger than this are reported but left (a push may be mid-commit). */
  gracePeriodMs: number;
  now?: () => number;
  /** Blobs hashed at once. */
  concurrency?: number;
  onProgress?: (step: FsckStep, counts: Record<string, number>) => void;
  /**
   * Repositories of the pull-through cache: their manifests are stored before the blobs
   * they reference, which come when pulled, so a missing reference there is no problem.
   */
  fetchedOnDemand?: (repository: string) => boolean;
}

export type FsckStep = 'links' | 'tags' | 'manifests' | 'blobs' | 'orphans';

export type FsckProblemKind =
  /** A link whose blob has no record. */
  | 'link-without-blob'
  /** A link whose size differs from its blob's record. */
  | 'link-size'
  /** A tag naming no stored manifest of its repository. */
  | 'dangling-tag'
  /** A manifest whose bytes do not hash to its digest, or do not parse. */
  | 'manifest-corrupt'
  /** A manifest reference that is neither a linked blob nor a manifest of the repository. */
  | 'reference-missing'
  /** A manifest reference whose declared size is not the stored one. */
  | 'reference-size'
  /** A blob record whose bytes are gone. */
  | 'blob-missing'
  /** Blob bytes that do not hash to their digest (or have another size than recorded). */
  | 'blob-corrupt'
  /** Blob bytes no record knows. */
  | 'orphan-bytes';

export interface FsckProblem {
  kind: FsckProblemKind;
  digest: string;
  repository?: string;
  tag?: string;
  message: string;
  /** What repair did or would do, or why it leaves it. */
  repair: 'repaired' | 'repairable' | 'left';
}

export interface FsckReport {
  repair: boolean;
  /** Set when a garbage collection (or another fsck) was running: nothing was checked. */
  skipped?: string;
  checked: { links: number; tags: number; manifests: number; blobs: number; bytes: number; orphans: number };
  problems: FsckProblem[];
  durationMs: number;
}

const BATCH = 500;

export async function fsck(registry: Registry, options: FsckOptions): Promise<FsckReport> {
  const check = new Fsck(registry, options);
  const ran = await registry.meta.runExclusive(GC_JOB, () => check.run());
  if (!ran) check.report.skipped = 'a garbage collection (or another fsck) is running; try again when it is done';
  return check.report;
}

class Fsck {
  readonly report: FsckReport;
  private readonly meta: MetadataStore;
  private readonly now: () => number;
  private readonly repair: boolean;
  private cutoff = 0;
  /** Digests links name that have no record: their bytes are not orphans, whatever else they are. */
  private readonly linkedWithoutRecord = new Set<string>();
  /** Live records no repository links (what a collection would take), read once when first needed. */
  private unlinked: Promise<Set<string>> | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly options: FsckOptions,
  ) {
    this.meta = registry.meta;
    this.now = options.now ?? Date.now;
    this.repair = options.repair ?? false;
    this.report = {
      repair: this.repair,
      checked: { links: 0, tags: 0, manifests: 0, blobs: 0, bytes: 0, orphans: 0 },
      problems: [],
      durationMs: 0,
    };
  }

  async run(): Promise<void> {
    const started = this.now();
    this.cutoff = started - this.options.gracePeriodMs;
    // Links before records: a link exists only while its record does (docs/gc.md, I1), and
    // no collector runs, so a record read after a link cannot be missing by a race.
    await this.checkLinks();
    await this.checkTags();
    await this.checkManifests();
    const known = await this.checkBlobs();
    await this.checkOrphans(known);
    this.report.durationMs = this.now() - started;
  }

  private problem(p: Omit<FsckProblem, 'repair'>, repair: FsckProblem['repair']): void {
    this.report.problems.push({ ...p, repair });
  }

  private progress(step: FsckStep, counts: Record<string, number>): void {
    this.options.onProgress?.(step, counts);
  }

  /** Links without a record, or with a record of another size. */
  private async checkLinks(): Promise<void> {
    let after: { repository: string; digest: string } | undefined;
    for (;;) {
      const broken = await this.meta.brokenBlobLinks(BATCH, after);
      for (const l of broken) {
        const where = { digest: l.digest, repository: l.repository };
        if (l.recordSize !== undefined) {
          this.problem(
            {
              kind: 'link-size',
              ...where,
              message: `linked with size ${l.size}, its blob record says ${l.recordSize}`,
            },
            'left',
          );
          continue;
        }
        this.linkedWithoutRecord.add(l.digest);
        // The record is lost. Intact bytes: recreate it (a claim makes a live record). Otherwise
        // the link can go only if nothing references it, after the grace period.
        const intact = await this.hash(l.digest);
        if (intact.ok && intact.size === l.size) {
          const message = 'the blob has no record; its bytes are intact';
          if (!this.repair) this.problem({ kind: 'link-without-blob', ...where, message }, 'repairable');
          else {
            const claimed = await this.meta.claimBlob(l.digest, l.size, this.now());
            this.problem(
              { kind: 'link-without-blob', ...where, message: `${message}; record recreated` },
              claimed !== undefined ? 'repaired' : 'left',
            );
          }
          continue;
        }
        const users = await this.meta.referencedBy(l.repository, l.digest);
        const message = `the blob has no record and its bytes are ${intact.ok ? 'of another size' : 'missing or damaged'}`;
        if (users.length > 0) {
          this.problem(
            {
              kind: 'link-without-blob',
              ...where,
              message: `${message}; referenced by ${users.join(', ')}: restore the bytes from a backup, or delete those`,
            },
            'left',
          );
        } else if (!this.repair) {
          this.problem(
            { kind: 'link-without-blob', ...where, message: `${message}; no manifest uses it` },
            'repairable',
          );
        } else {
          const removed = (await this.meta.removeUnusedBlobLinks([l], this.cutoff)).length > 0;
          this.problem(
            {
              kind: 'link-without-blob',
              ...where,
              message: `${message}; ${removed ? 'link removed' : 'link linked too recently to remove'}`,
            },
            removed ? 'repaired' : 'left',
          );
        }
      }
      this.report.checked.links += broken.length;
      this.progress('links', { broken: this.report.checked.links });
      if (broken.length < BATCH) break;
      after = broken[broken.length - 1]!;
    }
  }

  /** Tags naming nothing: a manifest PUT stores manifest and tag in one transaction, so no race makes one. */
  private async checkTags(): Promise<void> {
    let after: { repository: string; tag: string } | undefined;
    for (;;) {
      const dangling = await this.meta.danglingTags(BATCH, after);
      for (const t of dangling) {
        const p = {
          kind: 'dangling-tag' as const,
          digest: t.digest,
          repository: t.repository,
          tag: t.tag,
          message: `tag ${t.tag} names ${t.digest}, which is not stored`,
        };
        if (!this.repair) this.problem(p, 'repairable');
        else {
          const removed = await this.meta.deleteDanglingTag(t.repository, t.tag);
          this.problem({ ...p, message: `${p.message}; tag removed` }, removed ? 'repaired' : 'left');
        }
      }
      this.report.checked.tags += dangling.length;
      if (dangling.length < BATCH) break;
      after = dangling[dangling.length - 1]!;
    }
  }

  /** Every manifest's bytes hash to its digest, and every reference exists with the declared size. */
  private async checkManifests(): Promise<void> {
    let last: string | undefined;
    for (;;) {
      const page = await this.meta.listRepositories({ n: BATCH, ...(last !== undefined ? { last } : {}) });
      for (const repository of page.items) {
        const inventory = await this.meta.repositoryInventory(repository);
        this.report.checked.tags += inventory.tags.length;
        for (const m of inventory.manifests) await this.checkManifest(repository, m.digest);
      }
      this.progress('manifests', { checked: this.report.checked.manifests });
      if (!page.next) break;
      last = page.next;
    }
  }

  private async checkManifest(repository: string, digest: string): Promise<void> {
    const m = await this.meta.getManifest(repository, digest);
    if (!m) return; // deleted meanwhile
    this.report.checked.manifests++;
    const where = { digest, repository };
    const algorithm = tryParseDigest(digest)?.algorithm;
    if (!algorithm || digestBytes(m.content, algorithm).value !== digest) {
      this.problem({ kind: 'manifest-corrupt', ...where, message: 'its bytes do not hash to its digest' }, 'left');
      return;
    }
    let references: ManifestReference[];
    try {
      references = parseManifest(m.content, m.mediaType).references;
    } catch (e) {
      this.problem(
        { kind: 'manifest-corrupt', ...where, message: `it does not parse: ${(e as Error).message}` },
        'left',
      );
      return;
    }
    for (const r of references) {
      const size = await this.storedSize(repository, r);
      if (size === r.size) continue;
      // A delete of the manifest since we read it releases its references: not a problem.
      if (!(await this.meta.getManifest(repository, digest))) return;
      if (size === undefined && this.options.fetchedOnDemand?.(repository)) continue;
      if (size === undefined)
        this.problem(
          { kind: 'reference-missing', ...where, message: `its ${r.role} ${r.digest} is not in the repository` },
          'left',
        );
      else
        this.problem(
          {
            kind: 'reference-size',
            ...where,
            message: `its ${r.role} ${r.digest} is declared ${r.size} bytes, stored ${size}`,
          },
          'left',
        );
    }
  }

  /** As a manifest PUT checks: child manifests as manifests first, everything else as blobs first. */
  private async storedSize(repository: string, r: ManifestReference): Promise<number | undefined> {
    const asBlob = async () => (await this.meta.blobLink(repository, r.digest))?.size;
    const asManifest = async () => (await this.meta.getManifest(repository, r.digest))?.size;
    return r.role === 'manifest'
      ? ((await asManifest()) ?? (await asBlob()))
      : ((await asBlob()) ?? (await asManifest()));
  }

  /** Every live record's bytes exist and hash to its digest (streamed). Returns the digests with a record. */
  private async checkBlobs(): Promise<Set<string>> {
    const known = new Set<string>();
    let after: string | undefined;
    for (;;) {
      const rows = await this.meta.blobRecords(BATCH, after);
      for (const r of rows) known.add(r.digest);
      await pool(
        rows.filter((r) => r.state === 'live'),
        this.options.concurrency ?? 4,
        (r) => this.checkBlob(r),
      );
      this.progress('blobs', { checked: this.report.checked.blobs, bytes: this.report.checked.bytes });
      if (rows.length < BATCH) break;
      after = rows[rows.length - 1]!.digest;
    }
    return known;
  }

  private async checkBlob(r: BlobRecord): Promise<void> {
    // An upload commit claims before it renames its bytes into place: a fresh claim may have none yet.
    const settled = r.claimedAt < this.cutoff;
    const h = await this.hash(r.digest);
    this.report.checked.blobs++;
    if (h.ok && h.size === r.size) {
      this.report.checked.bytes += h.size;
      return;
    }
    if (!h.ok && h.missing && !settled) return;
    const kind = !h.ok && h.missing ? 'blob-missing' : 'blob-corrupt';
    const what = !h.ok
      ? h.missing
        ? 'its bytes are gone'
        : 'its bytes do not hash to its digest'
      : `its bytes are ${h.size} long, its record says ${r.size}`;
    // Nothing links it: the record (and bad bytes) can go, through the fence like a collection.
    if (!settled) {
      this.problem({ kind, digest: r.digest, message: `${what}; claimed too recently to repair` }, 'left');
      return;
    }
    if (!this.repair) {
      const free = (await this.unlinkedRecords()).has(r.digest);
      this.problem(
        {
          kind,
          digest: r.digest,
          message: free
            ? `${what}; no repository links it`
            : `${what}; a repository links it: restore the bytes from a backup, or delete what uses it`,
        },
        free ? 'repairable' : 'left',
      );
      return;
    }
    if (await this.meta.markBlobForDeletion(r.digest, this.cutoff, this.now())) {
      await this.registry.blobs.deleteBlobs([r.digest]);
      await this.meta.forgetBlobs([r.digest]);
      this.problem({ kind, digest: r.digest, message: `${what}; no repository linked it: removed` }, 'repaired');
      return;
    }
    this.problem(
      {
        kind,
        digest: r.digest,
        message: `${what}; a repository links it, so it is left: restore the bytes from a backup, or delete what uses it`,
      },
      'left',
    );
  }

  /** Bytes no record knows. A commit claims before it renames, so a record listed after the bytes were seen settles it. */
  private async checkOrphans(known: Set<string>): Promise<void> {
    const candidates: { digest: string; size: number; modifiedAt: number }[] = [];
    for await (const b of this.registry.blobs.listBlobs()) {
      this.report.checked.orphans++;
      if (!known.has(b.digest)) candidates.push(b);
    }
    if (candidates.length === 0) return;
    const recorded = new Set<string>();
    let after: string | undefined;
    for (;;) {
      const rows = await this.meta.blobRecords(10_000, after);
      for (const r of rows) recorded.add(r.digest);
      if (rows.length < 10_000) break;
      after = rows[rows.length - 1]!.digest;
    }
    for (const b of candidates) {
      if (recorded.has(b.digest) || this.linkedWithoutRecord.has(b.digest)) continue;
      const message = `${b.size} bytes that no blob record knows`;
      if (b.modifiedAt >= this.cutoff) {
        this.problem({ kind: 'orphan-bytes', digest: b.digest, message: `${message}; too recent to remove` }, 'left');
      } else if (!this.repair) {
        this.problem({ kind: 'orphan-bytes', digest: b.digest, message }, 'repairable');
      } else if (await this.meta.markOrphanBlob(b.digest, b.size, this.now())) {
        // As the collector does: a `deleting` record first, so a push of the digest waits for us.
        await this.registry.blobs.deleteBlobs([b.digest]);
        await this.meta.forgetBlobs([b.digest]);
        this.problem({ kind: 'orphan-bytes', digest: b.digest, message: `${message}; removed` }, 'repaired');
      }
    }
    this.progress('orphans', { found: candidates.length });
  }

  private unlinkedRecords(): Promise<Set<string>> {
    this.unlinked ??= (async () => {
      const out = new Set<string>();
      let after: string | undefined;
      for (;;) {
        const rows = await this.meta.unlinkedBlobs(this.cutoff, 10_000, after);
        for (const r of rows) out.add(r.digest);
        if (rows.length < 10_000) return out;
        after = rows[rows.length - 1]!.digest;
      }
    })();
    return this.unlinked;
  }

  /** Streams the blob through its digest's hash. */
  private async hash(digest: string): Promise<{ ok: true; size: number } | { ok: false; missing: boolean }> {
    const parsed = tryParseDigest(digest);
    if (!parsed) return { ok: false, missing: false };
    let stream;
    try {
      stream = await this.registry.blobs.read(digest);
    } catch (e) {
      if (e instanceof RegistryError && e.code === 'BLOB_UNKNOWN') return { ok: false, missing: true };
      throw e;
    }
    const h = createHash(parsed.algorithm);
    let size = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      h.update(chunk);
      size += chunk.length;
    }
    return h.digest('hex') === parsed.hex ? { ok: true, size } : { ok: false, missing: false };
  }
}
