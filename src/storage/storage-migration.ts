/**
 * `stowage storage migrate`: copies a registry from one pair of stores to another
 * (disk + SQLite → S3 + PostgreSQL and back) over the store interfaces alone, so
 * any driver pair works.
 *
 * What moves: every blob a repository links (streamed, its digest verified by the
 * target's upload commit while the bytes go through), the links themselves,
 * manifests (exact bytes, creation times), tags (push times), referrers (manifests
 * with a subject), pull times and personal access tokens. What does not: upload
 * sessions in flight, and bytes or records no repository links (garbage).
 *
 * Every step is idempotent and checks the target first, so a run that was killed
 * is finished by running it again: what is already there (a committed blob of the
 * right size, a manifest with the same bytes, a tag naming the same digest) is
 * skipped, and a half-copied blob's session (its id derives from the digest) is
 * discarded and copied afresh. Order matters for that: blobs, then links, then
 * manifests children first, each with its tags, so the target never holds a
 * manifest whose references it lacks. The source should not take writes meanwhile.
 */
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseDigest } from '../core/digest.js';
import { parseManifest, uniqueReferences, type ManifestReference } from '../core/manifest.js';
import type { Stores } from './open-stores.js';
import type { AccessTokenRecord, ManifestRecord, RepositoryInventory } from './metadata-store.js';

export type MigrationPhase = 'blobs' | 'links' | 'manifests' | 'tokens';
export type Outcome = 'copied' | 'skipped' | 'failed';

export type MigrationEvent =
  /** A phase starts: how many items (and, for blobs, bytes) it will go through. */
  | { type: 'phase'; phase: MigrationPhase; total: number; bytes?: number }
  /** Bytes of a blob went through (progress within a phase). */
  | { type: 'bytes'; digest: string; n: number }
  /** One item finished. For manifests `what` is `repository@digest`, for tags `repository:tag`. */
  | { type: 'item'; phase: MigrationPhase; kind: Kind; what: string; outcome: Outcome; size?: number; reason?: string };

export type Kind = 'blob' | 'link' | 'manifest' | 'tag' | 'token';

export interface Tally {
  copied: number;
  skipped: number;
  failed: number;
}

export interface MigrationReport {
  /** Repositories found in the source (with links or manifests). */
  repositories: number;
  blobs: Tally;
  /** Bytes of blobs copied, and of blobs skipped because the target had them. */
  bytes: { copied: number; skipped: number };
  links: Tally;
  manifests: Tally;
  /** Of the manifests, those with a subject (what the referrers API lists). */
  referrers: number;
  tags: Tally;
  tokens: Tally;
  /** Manifests whose pull time was carried over. */
  pulls: number;
  /** Every failure, with the reason (the run goes on past them). */
  failures: { kind: Kind; what: string; reason: string }[];
}

export interface MigrationOptions {
  /** Blobs copied at once (default 4). */
  jobs?: number;
  /** Re-read and hash blobs the target already has instead of trusting their commit (slower). */
  verifyExisting?: boolean;
  onEvent?: (e: MigrationEvent) => void;
}

const PAGE = 1000;

export async function migrateStorage(
  from: Stores,
  to: Stores,
  options: MigrationOptions = {},
): Promise<MigrationReport> {
  const emit = options.onEvent ?? (() => {});
  const report: MigrationReport = {
    repositories: 0,
    blobs: tally(),
    bytes: { copied: 0, skipped: 0 },
    links: tally(),
    manifests: tally(),
    referrers: 0,
    tags: tally(),
    tokens: tally(),
    pulls: 0,
    failures: [],
  };
  const done = (
    phase: MigrationPhase,
    kind: Kind,
    what: string,
    outcome: Outcome,
    extra: { size?: number; reason?: string } = {},
  ) => {
    const t =
      kind === 'blob'
        ? report.blobs
        : kind === 'link'
          ? report.links
          : kind === 'manifest'
            ? report.manifests
            : kind === 'tag'
              ? report.tags
              : report.tokens;
    t[outcome]++;
    if (outcome === 'failed') report.failures.push({ kind, what, reason: extra.reason ?? 'failed' });
    emit({ type: 'item', phase, kind, what, outcome, ...extra });
  };

  // What the source holds: distinct linked blobs, and every repository.
  const blobs = new Map<string, number>();
  const repositories = new Set<string>();
  let links = 0;
  for await (const l of allLinks(from)) {
    blobs.set(l.digest, l.size);
    repositories.add(l.repository);
    links++;
  }
  for (let last: string | undefined; ;) {
    const page = await from.meta.listRepositories(last === undefined ? { n: PAGE } : { n: PAGE, last });
    for (const r of page.items) repositories.add(r);
    if (page.next === undefined) break;
    last = page.next;
  }
  report.repositories = repositories.size;

  // Blobs, a few at a time.
  let bytes = 0;
  for (const size of blobs.values()) bytes += size;
  emit({ type: 'phase', phase: 'blobs', total: blobs.size, bytes });
  const failedBlobs = new Set<string>();
  const queue = [...blobs];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [digest, size] = next;
      const outcome = await copyBlob(from, to, digest, size, options.verifyExisting === true, (n) =>
        emit({ type: 'bytes', digest, n }),
      ).catch((e: unknown) => ({ outcome: 'failed' as const, reason: (e as Error).message }));
      if (outcome.outcome === 'failed') failedBlobs.add(digest);
      else report.bytes[outcome.outcome] += size;
      done('blobs', 'blob', digest, outcome.outcome, {
        size,
        ...('reason' in outcome ? { reason: outcome.reason } : {}),
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.jobs ?? 4) }, worker));

  // Links: which repository may see which blob.
  emit({ type: 'phase', phase: 'links', total: links });
  for await (const l of allLinks(from)) {
    const what = `${l.repository}@${l.digest}`;
    if (failedBlobs.has(l.digest)) done('links', 'link', what, 'failed', { reason: 'its blob was not copied' });
    else if (await to.meta.blobLink(l.repository, l.digest)) done('links', 'link', what, 'skipped');
    else if (await to.meta.linkBlob(l.repository, l.digest, l.size)) done('links', 'link', what, 'copied');
    else done('links', 'link', what, 'failed', { reason: 'the target is deleting this blob (garbage collection)' });
  }

  // Manifests, children before the indexes that list them, each followed by its tags.
  const names = [...repositories].sort();
  let manifests = 0;
  for (const repository of names) manifests += (await from.meta.repositoryCounts(repository)).manifests;
  emit({ type: 'phase', phase: 'manifests', total: manifests });
  for (const repository of names) await copyRepository(from, to, repository, report, done);

  // Personal access tokens.
  const tokens = await from.meta.listTokens();
  emit({ type: 'phase', phase: 'tokens', total: tokens.length });
  for (const t of tokens) {
    const outcome = await copyToken(to, t).catch((e: unknown) => ({
      outcome: 'failed' as const,
      reason: (e as Error).message,
    }));
    done(
      'tokens',
      'token',
      `${t.user}/${t.id}`,
      outcome.outcome,
      'reason' in outcome ? { reason: outcome.reason } : {},
    );
  }
  return report;
}

function tally(): Tally {
  return { copied: 0, skipped: 0, failed: 0 };
}

async function* allLinks(stores: Stores) {
  for (let after: { repository: string; digest: string } | undefined; ;) {
    const page = await stores.meta.blobLinks(PAGE, after);
    yield* page;
    if (page.length < PAGE) return;
    after = page[page.length - 1];
  }
}

type Result = { outcome: 'copied' | 'skipped' } | { outcome: 'failed'; reason: string };

/** The session a copy of `digest` uses: the same on every run, so a killed run's leftovers are found and dropped. */
export function migrationUploadId(digest: string): string {
  const h = createHash('sha256').update(`stowage storage migrate ${digest}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

async function copyBlob(
  from: Stores,
  to: Stores,
  digest: string,
  size: number,
  verifyExisting: boolean,
  progress: (n: number) => void,
): Promise<Result> {
  const parsed = parseDigest(digest);
  const there = await to.blobs.stat(digest);
  if (there) {
    if (there.size !== size)
      return { outcome: 'failed', reason: `the target has it with ${there.size} bytes, not ${size}` };
    if (!verifyExisting) return { outcome: 'skipped' };
    const actual = await hashOf(await to.blobs.read(digest), parsed.algorithm);
    return actual === parsed.hex
      ? { outcome: 'skipped' }
      : { outcome: 'failed', reason: `the target's bytes hash to ${parsed.algorithm}:${actual}` };
  }
  const source = await from.blobs.stat(digest);
  if (!source) return { outcome: 'failed', reason: 'the source has no bytes for it' };
  if (source.size !== size)
    return { outcome: 'failed', reason: `the source has ${source.size} bytes, its record says ${size}` };
  const id = migrationUploadId(digest);
  await to.blobs.deleteUpload(id);
  await to.blobs.createUpload(id);
  try {
    const counted = (await from.blobs.read(digest)).pipe(counter(progress));
    const written = await to.blobs.appendUpload(id, 0, counted);
    if (written !== size) return { outcome: 'failed', reason: `read ${written} bytes, expected ${size}` };
    // The commit hashes what was streamed and refuses a mismatch (DIGEST_INVALID).
    await to.blobs.commitUpload(id, parsed);
    return { outcome: 'copied' };
  } finally {
    await to.blobs.deleteUpload(id);
  }
}

function counter(progress: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      progress(chunk.length);
      cb(null, chunk);
    },
  });
}

async function hashOf(stream: Readable, algorithm: string): Promise<string> {
  const hash = createHash(algorithm);
  await pipeline(stream, hash);
  return hash.digest('hex');
}

type Done = (
  phase: MigrationPhase,
  kind: Kind,
  what: string,
  outcome: Outcome,
  extra?: { size?: number; reason?: string },
) => void;

async function copyRepository(from: Stores, to: Stores, repository: string, report: MigrationReport, done: Done) {
  const inv = await from.meta.repositoryInventory(repository);
  const byDigest = new Map(inv.manifests.map((m) => [m.digest, m]));
  const tagsOf = new Map<string, RepositoryInventory['tags']>();
  for (const t of inv.tags) {
    const list = tagsOf.get(t.digest);
    if (list) list.push(t);
    else tagsOf.set(t.digest, [t]);
  }
  const failed = new Set<string>();
  const visited = new Set<string>();
  const pulls: { repository: string; digest: string; at: number }[] = [];

  const visit = async (digest: string): Promise<void> => {
    if (visited.has(digest)) return;
    visited.add(digest);
    const m = byDigest.get(digest)!;
    for (const child of m.references) if (byDigest.has(child)) await visit(child);
    const what = `${repository}@${digest}`;
    const tags = tagsOf.get(digest) ?? [];
    const failAll = (reason: string) => {
      failed.add(digest);
      done('manifests', 'manifest', what, 'failed', { reason });
      for (const t of tags)
        done('manifests', 'tag', `${repository}:${t.name}`, 'failed', { reason: 'its manifest was not copied' });
    };
    const brokenChild = m.references.find((r) => failed.has(r));
    if (brokenChild) return failAll(`its child ${brokenChild} was not copied`);
    const record = await from.meta.getManifest(repository, digest);
    if (!record) return failAll('it disappeared from the source');
    let references: ManifestReference[];
    try {
      references = uniqueReferences(parseManifest(record.content, record.mediaType).references);
    } catch (e) {
      return failAll(`the source's bytes do not parse: ${(e as Error).message}`);
    }
    const existing = await to.meta.getManifest(repository, digest);
    if (existing && !existing.content.equals(record.content))
      return failAll('the target holds other bytes under this digest');
    if (!existing) {
      const unmet = await put(to, repository, record, references);
      if (unmet) return failAll(unmet);
    }
    done('manifests', 'manifest', what, existing ? 'skipped' : 'copied', { size: record.size });
    if (record.subject) report.referrers++;
    for (const t of tags) {
      const tagWhat = `${repository}:${t.name}`;
      if ((await to.meta.resolveTag(repository, t.name)) === digest) {
        done('manifests', 'tag', tagWhat, 'skipped');
        continue;
      }
      const unmet = await put(to, repository, record, references, t.name, t.pushedAt);
      done('manifests', 'tag', tagWhat, unmet ? 'failed' : 'copied', unmet ? { reason: unmet } : {});
    }
    if (m.pulledAt !== undefined) pulls.push({ repository, digest, at: m.pulledAt });
  };
  for (const m of inv.manifests) await visit(m.digest);
  if (pulls.length > 0) {
    await to.meta.recordPulls(pulls);
    report.pulls += pulls.length;
  }
}

/** Stores the manifest (and a tag); the reason when the target lacks what it references. */
async function put(
  to: Stores,
  repository: string,
  record: ManifestRecord,
  references: ManifestReference[],
  tag?: string,
  taggedAt?: number,
): Promise<string | undefined> {
  const unmet = await to.meta.putManifest(
    repository,
    record,
    references,
    tag,
    taggedAt === undefined ? {} : { taggedAt },
  );
  if (unmet.length === 0) return undefined;
  return unmet.map((u) => `${u.reference.role} ${u.reference.digest} ${u.problem}`).join(', ');
}

async function copyToken(to: Stores, t: AccessTokenRecord): Promise<Result> {
  const existing = await to.meta.getToken(t.id);
  if (!existing) {
    await to.meta.createToken(t);
    return { outcome: 'copied' };
  }
  if (existing.user !== t.user || !existing.secretHash.equals(t.secretHash))
    return { outcome: 'failed', reason: 'the target has another token with this id' };
  // Carry a revocation or a later use that happened since the first run.
  if (t.revokedAt !== undefined && existing.revokedAt === undefined) await to.meta.revokeToken(t.id, t.revokedAt);
  if (t.lastUsedAt !== undefined && (existing.lastUsedAt ?? 0) < t.lastUsedAt)
    await to.meta.touchToken(t.id, t.lastUsedAt);
  return { outcome: 'skipped' };
}
