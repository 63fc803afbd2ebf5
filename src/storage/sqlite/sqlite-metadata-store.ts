import Database from 'better-sqlite3';
import { paginate, type Page, type PageRequest } from '../../core/pagination.js';
import type { ManifestReference } from '../../core/manifest.js';
import type {
  Held,
  AccessTokenRecord,
  BlobLinkKey,
  BlobLinkRecord,
  BlobRecord,
  BrokenBlobLink,
  ConditionalDelete,
  DanglingTag,
  ManifestRecord,
  ManifestSummary,
  MetadataStore,
  PutManifestOptions,
  RepositoryInventory,
  StorageStats,
  UnmetReference,
  UploadCount,
  UploadRecord,
} from '../metadata-store.js';
import { toSummary, type ManifestRow } from '../manifest-row.js';
import { tokenValues, toToken, type TokenRow } from '../token-row.js';
import { toUpload, type UploadRow } from '../upload-row.js';
import { toStorageStats, type NamespaceUsageRow } from '../usage-row.js';
import { toDelivery, toStoredEvent, type DeliveryRow, type EventRow } from '../event-row.js';
import type { DeliveryRecord, DeliveryState, StoredEvent } from '../event-store.js';
import type { RegistryEvent } from '../../core/events.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import { RegistryError } from '../../core/errors.js';
import { assertWithinQuota, type QuotaLimits } from '../../core/quota.js';
import { GroupCommit } from './group-commit.js';
import { LeaseJobs } from './lease-jobs.js';
import { artifactKind, type ArtifactKind } from '../../core/artifact-kind.js';
import { MT } from '../../core/media-types.js';
import {
  assembleTagDetails,
  legacySignatureTag,
  repositoryKindSql,
  type ReferenceRow,
  type RepositorySearch,
  type RepositorySummary,
  type TagDetail,
  type TagDetailQuery,
  type TagManifestRow,
} from '../browse.js';

export { MAX_PAGE } from '../../core/pagination.js';

/** A tag joined with its manifest (TAG_COLUMNS); content only for indexes. */
interface SqlTagRow {
  name: string;
  digest: string;
  updated_at: number;
  media_type: string;
  artifact_type: string | null;
  kind: ArtifactKind;
  size: number;
  pulled_at: number | null;
  content: Buffer | null;
}

const INDEX_TYPES = `('${MT.ociIndex}', '${MT.dockerList}')`;
const TAG_COLUMNS = `t.name, t.digest, t.updated_at, m.media_type, m.artifact_type, m.kind, m.size, m.pulled_at,
  CASE WHEN m.media_type IN ${INDEX_TYPES} THEN m.content END AS content`;

function toTagManifestRow(r: SqlTagRow): TagManifestRow {
  return {
    name: r.name,
    digest: r.digest,
    mediaType: r.media_type,
    ...(r.artifact_type !== null ? { artifactType: r.artifact_type } : {}),
    kind: r.kind,
    manifestSize: r.size,
    pushedAt: r.updated_at,
    ...(r.pulled_at !== null ? { pulledAt: r.pulled_at } : {}),
    ...(r.content !== null ? { content: r.content } : {}),
  };
}

export interface SqliteMetadataStoreOptions {
  /** fsync the WAL on every commit (default true). */
  fsync?: boolean;
}

/**
 * The embedded metadata store: SQLite in WAL mode through better-sqlite3.
 * Calls are synchronous underneath (fast, in-process); the interface is async so
 * a networked driver (PostgreSQL) fits the same shape.
 */
export class SqliteMetadataStore implements MetadataStore {
  private readonly db: Database.Database;
  private readonly q;
  private readonly commits: GroupCommit;
  private readonly jobs: LeaseJobs;

  constructor(path: string, options: SqliteMetadataStoreOptions = {}) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // FULL: a manifest or tag is on disk before the client hears 201.
    this.db.pragma(`synchronous = ${options.fsync === false ? 'OFF' : 'FULL'}`);
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    // The collector and fsck walk the whole database: 32 MiB of pages instead of 2 (the default).
    this.db.pragma('cache_size = -32768');
    this.migrate();
    this.commits = new GroupCommit(this.db);
    this.jobs = new LeaseJobs(this.db);
    const db = this.db;
    this.q = {
      repoId: db.prepare<[string], { id: number }>('SELECT id FROM repositories WHERE name = ?'),
      blobTotals: db.prepare<[], { blobs: number; bytes: number }>('SELECT blobs, bytes FROM blob_totals WHERE id = 1'),
      insertEvent: db.prepare<[string, number]>('INSERT INTO events (body, created_at) VALUES (?, ?)'),
      eventsAfter: db.prepare<[number, number], EventRow>(
        'SELECT seq, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
      ),
      getEvent: db.prepare<[number], EventRow>('SELECT seq, body FROM events WHERE seq = ?'),
      eventCursor: db.prepare<[string], { seq: number }>('SELECT seq FROM event_cursors WHERE endpoint = ?'),
      advanceCursor: db.prepare<[string, number]>(
        'INSERT INTO event_cursors (endpoint, seq) VALUES (?, ?) ON CONFLICT (endpoint) DO UPDATE SET seq = MAX(seq, excluded.seq)',
      ),
      upsertDelivery: db.prepare<[string, number, string, number, string | null, number | null, number]>(
        `INSERT INTO event_deliveries (endpoint, seq, state, attempts, last_error, next_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (endpoint, seq) DO UPDATE SET state = excluded.state, attempts = excluded.attempts,
           last_error = excluded.last_error, next_at = excluded.next_at, updated_at = excluded.updated_at`,
      ),
      deliveries: db.prepare<[string | null, string | null, string | null, string | null, number], DeliveryRow>(
        'SELECT * FROM event_deliveries WHERE (? IS NULL OR endpoint = ?) AND (? IS NULL OR state = ?) ORDER BY updated_at DESC, seq DESC LIMIT ?',
      ),
      requeue: db.prepare<[number, string, number | null, number | null]>(
        "UPDATE event_deliveries SET state = 'requeued', next_at = NULL, updated_at = ? WHERE endpoint = ? AND state = 'failed' AND (? IS NULL OR seq = ?)",
      ),
      pruneEvents: db.prepare<[number, number]>(
        "DELETE FROM events WHERE seq <= ? AND created_at < ? AND seq NOT IN (SELECT seq FROM event_deliveries WHERE state IN ('failed', 'requeued'))",
      ),
      namespaceUsageRows: db.prepare<[], NamespaceUsageRow>('SELECT * FROM namespace_usage ORDER BY namespace'),
      insertRepo: db.prepare<[string, number]>('INSERT OR IGNORE INTO repositories (name, created_at) VALUES (?, ?)'),
      insertUpload: db.prepare<[string, string, string | null, number, number]>(
        'INSERT INTO uploads (id, repository, owner, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
      ),
      getUpload: db.prepare<[string], UploadRow>('SELECT * FROM uploads WHERE id = ?'),
      touchUpload: db.prepare<[number, string]>('UPDATE uploads SET updated_at = ? WHERE id = ?'),
      deleteUpload: db.prepare<[string]>('DELETE FROM uploads WHERE id = ?'),
      staleUploads: db.prepare<[number], UploadRow>('SELECT * FROM uploads WHERE updated_at < ? ORDER BY updated_at'),
      countUploads: db.prepare<[], number>('SELECT COUNT(*) FROM uploads').pluck(),
      countUploadsIn: db.prepare<[string], number>('SELECT COUNT(*) FROM uploads WHERE repository = ?').pluck(),
      countUploadsOf: db.prepare<[string], number>('SELECT COUNT(*) FROM uploads WHERE owner = ?').pluck(),
      linkBlob: db.prepare<[number, string, number, number]>(
        'INSERT INTO blob_links (repo_id, digest, size, linked_at) VALUES (?, ?, ?, ?) ON CONFLICT (repo_id, digest) DO UPDATE SET linked_at = excluded.linked_at',
      ),
      blobRecord: db.prepare<[string], { id: number; state: string }>('SELECT id, state FROM blobs WHERE digest = ?'),
      insertBlobRecord: db.prepare<[string, number, number], { id: number }>(
        'INSERT INTO blobs (digest, size, claimed_at) VALUES (?, ?, ?) RETURNING id',
      ),
      touchBlobRecord: db.prepare<[number, string]>(
        "UPDATE blobs SET claimed_at = MAX(claimed_at, ?) WHERE digest = ? AND state = 'live'",
      ),
      releaseLinks: db.prepare<[number, number, string]>(
        'UPDATE blob_links SET linked_at = ? WHERE repo_id = ? AND digest IN (SELECT ref_digest FROM manifest_refs WHERE repo_id = blob_links.repo_id AND manifest_digest = ?)',
      ),
      unusedLinks: db.prepare<
        [number, string, string, string, number],
        { repository: string; digest: string; size: number; linked_at: number }
      >(
        `SELECT r.name AS repository, b.digest, b.size, b.linked_at FROM blob_links b JOIN repositories r ON r.id = b.repo_id
         WHERE b.linked_at < ? AND (r.name > ? OR (r.name = ? AND b.digest > ?))
           AND NOT EXISTS (SELECT 1 FROM manifest_refs f WHERE f.repo_id = b.repo_id AND f.ref_digest = b.digest)
         ORDER BY r.name, b.digest LIMIT ?`,
      ),
      blobLinks: db.prepare<
        [string, string, string, number],
        { repository: string; digest: string; size: number; linked_at: number }
      >(
        `SELECT r.name AS repository, b.digest, b.size, b.linked_at FROM blob_links b JOIN repositories r ON r.id = b.repo_id
         WHERE r.name > ? OR (r.name = ? AND b.digest > ?)
         ORDER BY r.name, b.digest LIMIT ?`,
      ),
      unusedLinkById: db.prepare<[number, string, number], { one: number }>(
        'SELECT 1 AS one FROM blob_links b WHERE b.repo_id = ? AND b.digest = ? AND b.linked_at < ? AND NOT EXISTS (SELECT 1 FROM manifest_refs f WHERE f.repo_id = b.repo_id AND f.ref_digest = b.digest)',
      ),
      // Walks the digest index from `after` (the unary + keeps the planner off the state index:
      // that one would read every old live blob and sort them, for each page, quadratic in a run).
      unlinkedBlobs: db.prepare<[number, string, number], { digest: string; size: number }>(
        "SELECT digest, size FROM blobs o WHERE +state = 'live' AND +claimed_at < ? AND digest > ? AND NOT EXISTS (SELECT 1 FROM blob_links b WHERE b.digest = o.digest) ORDER BY digest LIMIT ?",
      ),
      abandonedBlobs: db.prepare<[number, number], { digest: string; size: number }>(
        "SELECT digest, size FROM blobs WHERE state = 'deleting' AND marked_at < ? ORDER BY digest LIMIT ?",
      ),
      markDeleting: db.prepare<[number, string]>("UPDATE blobs SET state = 'deleting', marked_at = ? WHERE digest = ?"),
      insertOrphan: db.prepare<[string, number, number, number]>(
        "INSERT OR IGNORE INTO blobs (digest, size, state, claimed_at, marked_at) VALUES (?, ?, 'deleting', ?, ?)",
      ),
      forgetBlob: db.prepare<[string]>("DELETE FROM blobs WHERE digest = ? AND state = 'deleting'"),
      blobRecords: db.prepare<
        [string, number],
        { digest: string; size: number; state: 'live' | 'deleting'; claimed_at: number }
      >('SELECT digest, size, state, claimed_at FROM blobs WHERE digest > ? ORDER BY digest LIMIT ?'),
      markOneDeleting: db.prepare<[number, string, number]>(
        "UPDATE blobs SET state = 'deleting', marked_at = ? WHERE digest = ? AND state = 'live' AND claimed_at < ? AND NOT EXISTS (SELECT 1 FROM blob_links b WHERE b.digest = blobs.digest)",
      ),
      brokenLinks: db.prepare<
        [string, string, string, number],
        { repository: string; digest: string; size: number; linked_at: number; record_size: number | null }
      >(
        `SELECT r.name AS repository, b.digest, b.size, b.linked_at, o.size AS record_size
         FROM blob_links b JOIN repositories r ON r.id = b.repo_id LEFT JOIN blobs o ON o.digest = b.digest
         WHERE (o.digest IS NULL OR o.size != b.size) AND (r.name > ? OR (r.name = ? AND b.digest > ?))
         ORDER BY r.name, b.digest LIMIT ?`,
      ),
      danglingTags: db.prepare<[string, string, string, number], { repository: string; tag: string; digest: string }>(
        `SELECT r.name AS repository, t.name AS tag, t.digest FROM tags t JOIN repositories r ON r.id = t.repo_id
         WHERE NOT EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = t.repo_id AND m.digest = t.digest)
           AND (r.name > ? OR (r.name = ? AND t.name > ?))
         ORDER BY r.name, t.name LIMIT ?`,
      ),
      deleteDanglingTag: db.prepare<[number, string]>(
        'DELETE FROM tags WHERE repo_id = ? AND name = ? AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = tags.repo_id AND m.digest = tags.digest)',
      ),
      inventoryTags: db.prepare<[number], { name: string; digest: string; updated_at: number }>(
        'SELECT name, digest, updated_at FROM tags WHERE repo_id = ?',
      ),
      inventoryManifests: db.prepare<
        [number],
        {
          digest: string;
          media_type: string;
          subject: string | null;
          artifact_type: string | null;
          created_at: number;
          pulled_at: number | null;
        }
      >('SELECT digest, media_type, subject, artifact_type, created_at, pulled_at FROM manifests WHERE repo_id = ?'),
      inventoryRefs: db.prepare<[number], { manifest_digest: string; ref_digest: string }>(
        'SELECT manifest_digest, ref_digest FROM manifest_refs WHERE repo_id = ?',
      ),
      deleteTagIf: db.prepare<[number, string, string]>(
        'DELETE FROM tags WHERE repo_id = ? AND name = ? AND digest = ?',
      ),
      manifestCreated: db.prepare<[number, string], { created_at: number }>(
        'SELECT created_at FROM manifests WHERE repo_id = ? AND digest = ?',
      ),
      isTagged: db.prepare<[number, string], { one: number }>(
        'SELECT 1 AS one FROM tags WHERE repo_id = ? AND digest = ? LIMIT 1',
      ),
      recordPull: db.prepare<[number, string, string, number]>(
        'UPDATE manifests SET pulled_at = ? WHERE repo_id = (SELECT id FROM repositories WHERE name = ?) AND digest = ? AND (pulled_at IS NULL OR pulled_at < ?)',
      ),
      // Names under a namespace: [ns + '/', ns + '0') is every name starting with 'ns/' ('0' follows '/').
      namespaceBlobs: db.prepare<[string, string, string], { bytes: number | null; blobs: number }>(
        `SELECT SUM(size) AS bytes, COUNT(*) AS blobs FROM (SELECT b.digest, MAX(b.size) AS size FROM blob_links b JOIN repositories r ON r.id = b.repo_id
         WHERE r.name = ? OR (r.name >= ? AND r.name < ?) GROUP BY b.digest)`,
      ),
      namespaceManifests: db.prepare<[string, string, string], { bytes: number | null; manifests: number }>(
        `SELECT SUM(size) AS bytes, COUNT(*) AS manifests FROM (SELECT m.digest, MAX(m.size) AS size FROM manifests m JOIN repositories r ON r.id = m.repo_id
         WHERE r.name = ? OR (r.name >= ? AND r.name < ?) GROUP BY m.digest)`,
      ),
      namespaceRepos: db.prepare<[string, string, string], { n: number }>(
        'SELECT COUNT(*) AS n FROM repositories r WHERE (r.name = ? OR (r.name >= ? AND r.name < ?)) AND EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = r.id)',
      ),
      namespaceLinks: db.prepare<[string, string, string, string], { one: number }>(
        'SELECT 1 AS one FROM blob_links b JOIN repositories r ON r.id = b.repo_id WHERE (r.name = ? OR (r.name >= ? AND r.name < ?)) AND b.digest = ? LIMIT 1',
      ),
      namespaceHasManifest: db.prepare<[string, string, string, string], { one: number }>(
        'SELECT 1 AS one FROM manifests m JOIN repositories r ON r.id = m.repo_id WHERE (r.name = ? OR (r.name >= ? AND r.name < ?)) AND m.digest = ? LIMIT 1',
      ),
      countTags: db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM tags WHERE repo_id = ?'),
      countManifests: db.prepare<[number], { n: number }>('SELECT COUNT(*) AS n FROM manifests WHERE repo_id = ?'),
      blobLink: db.prepare<[string, string], { size: number }>(
        'SELECT b.size FROM blob_links b JOIN repositories r ON r.id = b.repo_id WHERE r.name = ? AND b.digest = ?',
      ),
      blobLinkById: db.prepare<[number, string], { size: number }>(
        'SELECT size FROM blob_links WHERE repo_id = ? AND digest = ?',
      ),
      unlinkBlob: db.prepare<[number, string]>('DELETE FROM blob_links WHERE repo_id = ? AND digest = ?'),
      referencedBy: db
        .prepare<[string, string], string>(
          'SELECT f.manifest_digest FROM manifest_refs f JOIN repositories r ON r.id = f.repo_id WHERE r.name = ? AND f.ref_digest = ? ORDER BY f.manifest_digest',
        )
        .pluck(),
      isReferenced: db.prepare<[number, string], { one: number }>(
        'SELECT 1 AS one FROM manifest_refs WHERE repo_id = ? AND ref_digest = ? LIMIT 1',
      ),
      manifestSize: db.prepare<[number, string], { size: number }>(
        'SELECT size FROM manifests WHERE repo_id = ? AND digest = ?',
      ),
      insertManifest: db.prepare<
        [number, string, string, number, Buffer, string | null, string | null, string | null, number, string]
      >(
        'INSERT OR IGNORE INTO manifests (repo_id, digest, media_type, size, content, subject, artifact_type, annotations, created_at, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      searchRepos: db
        .prepare<[string, string, string | null, string | null, number], string>(
          `SELECT r.name FROM repositories r
           WHERE r.name > ? AND instr(r.name, ?) > 0 AND EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = r.id)
             AND (? IS NULL OR ${repositoryKindSql('r.id')} = ?)
           ORDER BY r.name LIMIT ?`,
        )
        .pluck(),
      repoSummary: db.prepare<
        [string],
        { name: string; kind: ArtifactKind; tags: number; manifests: number; size: number; last_push: number | null }
      >(
        `SELECT r.name, ${repositoryKindSql('r.id')} AS kind,
           (SELECT COUNT(*) FROM tags t WHERE t.repo_id = r.id) AS tags,
           (SELECT COUNT(*) FROM manifests m WHERE m.repo_id = r.id) AS manifests,
           (SELECT COALESCE(SUM(b.size), 0) FROM blob_links b WHERE b.repo_id = r.id)
             + (SELECT COALESCE(SUM(m.size), 0) FROM manifests m WHERE m.repo_id = r.id) AS size,
           (SELECT MAX(t.updated_at) FROM tags t WHERE t.repo_id = r.id) AS last_push
         FROM repositories r WHERE r.name = ? AND EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = r.id)`,
      ),
      tagsByPush: db.prepare<[number, number, number, string, number], SqlTagRow>(
        `SELECT ${TAG_COLUMNS} FROM tags t JOIN manifests m ON m.repo_id = t.repo_id AND m.digest = t.digest
         WHERE t.repo_id = ? AND (t.updated_at < ? OR (t.updated_at = ? AND t.name > ?))
         ORDER BY t.updated_at DESC, t.name LIMIT ?`,
      ),
      tagsByName: db.prepare<[number, string, number], SqlTagRow>(
        `SELECT ${TAG_COLUMNS} FROM tags t JOIN manifests m ON m.repo_id = t.repo_id AND m.digest = t.digest
         WHERE t.repo_id = ? AND t.name > ? ORDER BY t.name LIMIT ?`,
      ),
      tagNamed: db.prepare<[number, string], SqlTagRow>(
        `SELECT ${TAG_COLUMNS} FROM tags t JOIN manifests m ON m.repo_id = t.repo_id AND m.digest = t.digest
         WHERE t.repo_id = ? AND t.name = ?`,
      ),
      refsWithSizes: db.prepare<[number, string], { digest: string; size: number | null; child: number }>(
        `SELECT f.ref_digest AS digest, COALESCE(b.size, c.size) AS size, c.digest IS NOT NULL AS child
         FROM manifest_refs f
         LEFT JOIN blob_links b ON b.repo_id = f.repo_id AND b.digest = f.ref_digest
         LEFT JOIN manifests c ON c.repo_id = f.repo_id AND c.digest = f.ref_digest
         WHERE f.repo_id = ? AND f.manifest_digest = ?`,
      ),
      hasSignature: db.prepare<[number, string, number, string], { one: number }>(
        `SELECT 1 AS one WHERE EXISTS (SELECT 1 FROM manifests WHERE repo_id = ? AND subject = ? AND kind = 'signature')
           OR EXISTS (SELECT 1 FROM tags WHERE repo_id = ? AND name = ?)`,
      ),
      insertRef: db.prepare<[number, string, string]>(
        'INSERT OR IGNORE INTO manifest_refs (repo_id, manifest_digest, ref_digest) VALUES (?, ?, ?)',
      ),
      setTag: db.prepare<[number, string, string, number]>(
        'INSERT INTO tags (repo_id, name, digest, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (repo_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at',
      ),
      getManifest: db.prepare<[string, string], ManifestRow>(
        'SELECT m.* FROM manifests m JOIN repositories r ON r.id = m.repo_id WHERE r.name = ? AND m.digest = ?',
      ),
      resolveTag: db.prepare<[string, string], { digest: string }>(
        'SELECT t.digest FROM tags t JOIN repositories r ON r.id = t.repo_id WHERE r.name = ? AND t.name = ?',
      ),
      deleteManifest: db.prepare<[number, string]>('DELETE FROM manifests WHERE repo_id = ? AND digest = ?'),
      deleteRefs: db.prepare<[number, string]>('DELETE FROM manifest_refs WHERE repo_id = ? AND manifest_digest = ?'),
      deleteTagsOf: db.prepare<[number, string]>('DELETE FROM tags WHERE repo_id = ? AND digest = ?'),
      resolveTagById: db.prepare<[number, string], { digest: string }>(
        'SELECT digest FROM tags WHERE repo_id = ? AND name = ?',
      ),
      deleteTag: db.prepare<[number, string]>('DELETE FROM tags WHERE repo_id = ? AND name = ?'),
      // pluck(): plain strings, not one object per row (tag lists are the hot path).
      listTags: db
        .prepare<[number, string, number], string>(
          'SELECT name FROM tags WHERE repo_id = ? AND name > ? ORDER BY name LIMIT ?',
        )
        .pluck(),
      referrers: db.prepare<[string, string], ManifestRow>(
        'SELECT m.digest, m.media_type, m.size, m.subject, m.artifact_type, m.annotations, m.created_at FROM manifests m JOIN repositories r ON r.id = m.repo_id WHERE r.name = ? AND m.subject = ? ORDER BY m.created_at DESC, m.digest',
      ),
      listRepos: db
        .prepare<[string, number], string>(
          'SELECT r.name FROM repositories r WHERE r.name > ? AND EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = r.id) ORDER BY r.name LIMIT ?',
        )
        .pluck(),
      insertToken: db.prepare<
        [string, string, string, string, Buffer, number, number | null, number | null, number | null]
      >(
        'INSERT INTO access_tokens (id, username, note, scopes, secret_hash, created_at, expires_at, last_used_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      getToken: db.prepare<[string], TokenRow>('SELECT * FROM access_tokens WHERE id = ?'),
      allTokens: db.prepare<[], TokenRow>('SELECT * FROM access_tokens ORDER BY username, created_at'),
      userTokens: db.prepare<[string], TokenRow>('SELECT * FROM access_tokens WHERE username = ? ORDER BY created_at'),
      revokeToken: db.prepare<[number, string]>(
        'UPDATE access_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
      ),
      touchToken: db.prepare<[number, string]>('UPDATE access_tokens SET last_used_at = ? WHERE id = ?'),
      upstreamConfirmedAt: db.prepare<[string, string], { confirmed_at: number }>(
        'SELECT confirmed_at FROM upstream_confirmations WHERE repository = ? AND key = ?',
      ),
      confirmUpstream: db.prepare<[string, string, number]>(
        `INSERT INTO upstream_confirmations (repository, key, confirmed_at) VALUES (?, ?, ?)
         ON CONFLICT (repository, key) DO UPDATE SET confirmed_at = max(confirmed_at, excluded.confirmed_at)`,
      ),
    };
  }

  /**
   * Brings the database up to SCHEMA_VERSION. The server and the `stowage token`
   * commands open the same file; the IMMEDIATE transaction makes two processes
   * starting together take turns instead of both running a migration.
   */
  private migrate(): void {
    this.db
      .transaction(() => {
        const current = this.db.pragma('user_version', { simple: true }) as number;
        if (current > SCHEMA_VERSION) {
          throw new Error(`database schema ${current} is newer than this Stowage (${SCHEMA_VERSION})`);
        }
        for (let v = current; v < SCHEMA_VERSION; v++) this.db.exec(MIGRATIONS[v]!);
        if (current < SCHEMA_VERSION) this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
        if (current < 8) this.backfillKinds();
      })
      .immediate();
  }

  /** Manifests stored before migration 8 get their kind, from their bytes (once, in the migration's transaction). */
  private backfillKinds(): void {
    const pending = this.db.prepare<[], { rowid: number; media_type: string; content: Buffer }>(
      'SELECT rowid, media_type, content FROM manifests WHERE kind IS NULL LIMIT 500',
    );
    const set = this.db.prepare<[string, number]>('UPDATE manifests SET kind = ? WHERE rowid = ?');
    for (let rows = pending.all(); rows.length > 0; rows = pending.all())
      for (const r of rows) set.run(artifactKind(r.content, r.media_type), r.rowid);
  }

  private ensureRepo(name: string): number {
    const existing = this.q.repoId.get(name);
    if (existing) return existing.id;
    this.q.insertRepo.run(name, Date.now());
    return this.q.repoId.get(name)!.id;
  }

  createUpload(r: UploadRecord): Promise<void> {
    // No repository row yet: an upload that never completes must not create one.
    return this.commits.write(() => {
      this.q.insertUpload.run(r.id, r.repository, r.owner ?? null, r.createdAt, r.updatedAt);
    });
  }

  async getUpload(id: string): Promise<UploadRecord | undefined> {
    const row = this.q.getUpload.get(id);
    return row && toUpload(row);
  }

  touchUpload(id: string, at: number): Promise<void> {
    return this.commits.write(() => {
      this.q.touchUpload.run(at, id);
    });
  }

  deleteUpload(id: string): Promise<void> {
    return this.commits.write(() => {
      this.q.deleteUpload.run(id);
    });
  }

  async staleUploads(before: number): Promise<UploadRecord[]> {
    return this.q.staleUploads.all(before).map(toUpload);
  }

  async countUploads(which: UploadCount): Promise<number> {
    if ('repository' in which) return this.q.countUploadsIn.get(which.repository)!;
    if ('owner' in which) return this.q.countUploadsOf.get(which.owner)!;
    return this.q.countUploads.get()!;
  }

  claimBlob(digest: string, size: number, at: number): Promise<number | undefined> {
    return this.commits.write((): number | undefined => {
      const row = this.q.blobRecord.get(digest);
      if (row?.state === 'deleting') return undefined;
      if (row) {
        this.q.touchBlobRecord.run(at, digest);
        return row.id;
      }
      return this.q.insertBlobRecord.get(digest, size, at)!.id;
    });
  }

  linkBlob(repository: string, digest: string, size: number, claim?: number, quota?: QuotaLimits): Promise<boolean> {
    return this.commits.write((): boolean => {
      const now = Date.now();
      const row = this.q.blobRecord.get(digest);
      if (claim === undefined && !row) {
        this.assertLinkFits(repository, digest, size, quota);
        this.q.insertBlobRecord.get(digest, size, now);
      } else if (!row || row.state !== 'live' || (claim !== undefined && row.id !== claim)) return false;
      else this.assertLinkFits(repository, digest, size, quota);
      this.q.linkBlob.run(this.ensureRepo(repository), digest, size, now);
      this.q.touchBlobRecord.run(now, digest);
      return true;
    });
  }

  mountBlob(
    repository: string,
    from: string,
    digest: string,
    quota?: QuotaLimits,
    events?: (size: number) => RegistryEvent[],
  ): Promise<{ size: number } | undefined> {
    return this.commits.write((): { size: number } | undefined => {
      const source = this.q.blobLink.get(from, digest);
      // A link exists only while the blob's record is live (docs/gc.md, I1).
      if (!source) return undefined;
      this.assertLinkFits(repository, digest, source.size, quota);
      const now = Date.now();
      this.q.linkBlob.run(this.ensureRepo(repository), digest, source.size, now);
      this.q.touchBlobRecord.run(now, digest);
      if (events) this.appendEvents(events(source.size));
      return { size: source.size };
    });
  }

  async blobLink(repository: string, digest: string): Promise<{ size: number } | undefined> {
    return this.q.blobLink.get(repository, digest);
  }

  /** Inside a write: DENIED when linking the blob adds bytes the namespace's quota has no room for. */
  private assertLinkFits(repository: string, digest: string, size: number, quota: QuotaLimits | undefined): void {
    if (quota?.bytes === undefined) return;
    const ns = namespaceRange(quota.namespace);
    const added = this.q.namespaceLinks.get(...ns, digest) ? 0 : size;
    assertWithinQuota(
      quota,
      repository,
      { bytes: added, manifest: false, tag: false },
      { namespaceBytes: () => this.namespaceBytes(quota.namespace), manifests: () => 0, tags: () => 0 },
    );
  }

  /** Distinct blob and manifest bytes of the namespace (each digest once). */
  private namespaceBytes(namespace: string): number {
    const ns = namespaceRange(namespace);
    return (this.q.namespaceBlobs.get(...ns)!.bytes ?? 0) + (this.q.namespaceManifests.get(...ns)!.bytes ?? 0);
  }

  unlinkBlob(repository: string, digest: string): Promise<'removed' | 'absent' | 'referenced'> {
    return this.commits.write((): 'removed' | 'absent' | 'referenced' => {
      const repo = this.q.repoId.get(repository);
      if (!repo || !this.q.blobLinkById.get(repo.id, digest)) return 'absent';
      if (this.q.isReferenced.get(repo.id, digest)) return 'referenced';
      this.q.unlinkBlob.run(repo.id, digest);
      return 'removed';
    });
  }

  putManifest(
    repository: string,
    m: ManifestRecord,
    references: ManifestReference[],
    tag?: string,
    options: PutManifestOptions = {},
  ): Promise<UnmetReference[]> {
    return this.commits.write((): UnmetReference[] => {
      const repo = this.q.repoId.get(repository);
      if (options.keepTag && tag !== undefined && repo) {
        const current = this.q.resolveTagById.get(repo.id, tag);
        if (current && current.digest !== m.digest)
          throw new RegistryError('DENIED', 'tag is immutable', { tag, digest: current.digest });
      }
      const unmet: UnmetReference[] = [];
      for (const ref of options.unverifiedReferences ? [] : references) {
        const found = repo ? this.lookupReference(repo.id, ref) : undefined;
        if (!found) unmet.push({ reference: ref, problem: 'missing' });
        else if (found.size !== ref.size)
          unmet.push({ reference: ref, problem: 'size-mismatch', actualSize: found.size });
      }
      if (unmet.length > 0) return unmet;
      const quota = options.quota;
      if (quota) {
        assertWithinQuota(
          quota,
          repository,
          {
            bytes: this.q.namespaceHasManifest.get(...namespaceRange(quota.namespace), m.digest) ? 0 : m.size,
            manifest: !repo || !this.q.manifestSize.get(repo.id, m.digest),
            tag: tag !== undefined && (!repo || !this.q.resolveTagById.get(repo.id, tag)),
          },
          {
            namespaceBytes: () => this.namespaceBytes(quota.namespace),
            manifests: () => (repo ? this.q.countManifests.get(repo.id)!.n : 0),
            tags: () => (repo ? this.q.countTags.get(repo.id)!.n : 0),
          },
        );
      }
      // A repository exists for clients once it holds a manifest (the catalog's rule).
      const firstManifest = !repo || this.q.countManifests.get(repo.id)!.n === 0;
      const repoId = repo?.id ?? this.ensureRepo(repository);
      const inserted = this.q.insertManifest.run(
        repoId,
        m.digest,
        m.mediaType,
        m.size,
        m.content,
        m.subject ?? null,
        m.artifactType ?? null,
        m.annotations ? JSON.stringify(m.annotations) : null,
        m.createdAt,
        artifactKind(m.content, m.mediaType),
      );
      if (inserted.changes > 0) {
        for (const ref of references) this.q.insertRef.run(repoId, m.digest, ref.digest);
      }
      const previous = tag !== undefined ? this.q.resolveTagById.get(repoId, tag)?.digest : undefined;
      if (tag !== undefined) this.q.setTag.run(repoId, tag, m.digest, options.taggedAt ?? Date.now());
      if (options.events)
        this.appendEvents(
          options.events({
            repositoryCreated: firstManifest,
            ...(previous !== undefined ? { previousDigest: previous } : {}),
          }),
        );
      return [];
    });
  }

  /** Child manifests are looked up as manifests, everything else as blobs (either way as a fallback). */
  private lookupReference(repoId: number, ref: ManifestReference): { size: number } | undefined {
    if (ref.role === 'manifest') {
      return this.q.manifestSize.get(repoId, ref.digest) ?? this.q.blobLinkById.get(repoId, ref.digest);
    }
    return this.q.blobLinkById.get(repoId, ref.digest) ?? this.q.manifestSize.get(repoId, ref.digest);
  }

  async getManifest(repository: string, digest: string): Promise<ManifestRecord | undefined> {
    const row = this.q.getManifest.get(repository, digest);
    return row && { ...toSummary(row), content: row.content };
  }

  async resolveTag(repository: string, tag: string): Promise<string | undefined> {
    return this.q.resolveTag.get(repository, tag)?.digest;
  }

  deleteManifest(repository: string, digest: string, events?: RegistryEvent[]): Promise<boolean> {
    return this.commits.write((): boolean => {
      const repo = this.q.repoId.get(repository);
      if (!repo || !this.removeManifest(repo.id, digest)) return false;
      if (events) this.appendEvents(events);
      return true;
    });
  }

  /** Inside a write: the outbox rows of the change. */
  private appendEvents(events: RegistryEvent[]): void {
    for (const e of events) this.q.insertEvent.run(JSON.stringify(e), e.at);
  }

  async eventsAfter(after: number, limit: number): Promise<StoredEvent[]> {
    return this.q.eventsAfter.all(after, limit).map(toStoredEvent);
  }

  async getEvents(seqs: number[]): Promise<StoredEvent[]> {
    return seqs.flatMap((seq) => {
      const row = this.q.getEvent.get(seq);
      return row ? [toStoredEvent(row)] : [];
    });
  }

  async eventCursor(endpoint: string): Promise<number> {
    return this.q.eventCursor.get(endpoint)?.seq ?? 0;
  }

  recordDelivery(d: DeliveryRecord, advance: boolean): Promise<void> {
    return this.commits.write(() => {
      this.q.upsertDelivery.run(
        d.endpoint,
        d.seq,
        d.state,
        d.attempts,
        d.lastError ?? null,
        d.nextAt ?? null,
        d.updatedAt,
      );
      if (advance) this.q.advanceCursor.run(d.endpoint, d.seq);
    });
  }

  advanceEventCursor(endpoint: string, seq: number): Promise<void> {
    return this.commits.write(() => {
      this.q.advanceCursor.run(endpoint, seq);
    });
  }

  async deliveries(query: { endpoint?: string; state?: DeliveryState; limit: number }): Promise<DeliveryRecord[]> {
    const e = query.endpoint ?? null;
    const st = query.state ?? null;
    return this.q.deliveries.all(e, e, st, st, query.limit).map(toDelivery);
  }

  requeueDeliveries(endpoint: string, seq?: number): Promise<number> {
    return this.commits.write(() => this.q.requeue.run(Date.now(), endpoint, seq ?? null, seq ?? null).changes);
  }

  pruneEvents(seq: number, before: number): Promise<number> {
    return this.commits.write(() => this.q.pruneEvents.run(seq, before).changes);
  }

  /** Inside a write: the manifest, its tags and references; the links it used start their grace period now. */
  private removeManifest(repoId: number, digest: string): boolean {
    const removed = this.q.deleteManifest.run(repoId, digest).changes > 0;
    if (removed) {
      this.q.releaseLinks.run(Date.now(), repoId, digest);
      this.q.deleteRefs.run(repoId, digest);
      this.q.deleteTagsOf.run(repoId, digest);
    }
    return removed;
  }

  deleteTag(repository: string, tag: string, events?: RegistryEvent[]): Promise<boolean> {
    return this.commits.write(() => {
      const repo = this.q.repoId.get(repository);
      if (!repo || this.q.deleteTag.run(repo.id, tag).changes === 0) return false;
      if (events) this.appendEvents(events);
      return true;
    });
  }

  async listTags(repository: string, page: PageRequest): Promise<Page<string> | undefined> {
    const repo = this.q.repoId.get(repository);
    if (!repo) return undefined;
    return paginate(page, (after, limit) => this.q.listTags.all(repo.id, after, limit));
  }

  async referencedBy(repository: string, digest: string): Promise<string[]> {
    return this.q.referencedBy.all(repository, digest);
  }

  async referrers(repository: string, subject: string, artifactType?: string): Promise<ManifestSummary[]> {
    const all = this.q.referrers.all(repository, subject).map(toSummary);
    return artifactType === undefined ? all : all.filter((m) => m.artifactType === artifactType);
  }

  async listRepositories(page: PageRequest): Promise<Page<string>> {
    return paginate(page, (after, limit) => this.q.listRepos.all(after, limit));
  }

  async repositoryExists(repository: string): Promise<boolean> {
    return this.q.repoId.get(repository) !== undefined;
  }

  async searchRepositories(search: RepositorySearch): Promise<string[]> {
    const kind = search.kind ?? null;
    return this.q.searchRepos.all(search.after ?? '', search.q?.toLowerCase() ?? '', kind, kind, search.limit);
  }

  async repositorySummaries(names: readonly string[]): Promise<RepositorySummary[]> {
    const out: RepositorySummary[] = [];
    for (const name of names) {
      const row = this.q.repoSummary.get(name);
      if (!row) continue;
      const { last_push, ...rest } = row;
      out.push({ ...rest, ...(last_push !== null ? { lastPush: last_push } : {}) });
    }
    return out;
  }

  async tagDetails(repository: string, query: TagDetailQuery): Promise<TagDetail[]> {
    const repo = this.q.repoId.get(repository);
    if (!repo) return [];
    return this.db.transaction(() => {
      let rows: SqlTagRow[];
      if ('names' in query) rows = query.names.flatMap((n) => this.q.tagNamed.all(repo.id, n));
      else if (query.order === 'name') rows = this.q.tagsByName.all(repo.id, query.after ?? '', query.limit);
      else {
        const at = query.after?.pushedAt ?? Number.MAX_SAFE_INTEGER;
        rows = this.q.tagsByPush.all(repo.id, at, at, query.after?.name ?? '', query.limit);
      }
      const refs: ReferenceRow[] = [];
      const signed = new Set<string>();
      const seen = new Set<string>();
      const addRefs = (from: string, depth: number) => {
        if (seen.has(from)) return;
        seen.add(from);
        for (const r of this.q.refsWithSizes.all(repo.id, from)) {
          if (r.size !== null) refs.push({ from, digest: r.digest, size: r.size });
          if (r.child && depth === 0) addRefs(r.digest, 1);
        }
      };
      for (const row of rows) {
        addRefs(row.digest, 0);
        if (this.q.hasSignature.get(repo.id, row.digest, repo.id, legacySignatureTag(row.digest)))
          signed.add(row.digest);
      }
      return assembleTagDetails(rows.map(toTagManifestRow), refs, signed);
    })();
  }

  createToken(t: AccessTokenRecord): Promise<void> {
    return this.commits.write(() => {
      this.q.insertToken.run(...tokenValues(t));
    });
  }

  async getToken(id: string): Promise<AccessTokenRecord | undefined> {
    const row = this.q.getToken.get(id);
    return row && toToken(row);
  }

  async listTokens(user?: string): Promise<AccessTokenRecord[]> {
    return (user === undefined ? this.q.allTokens.all() : this.q.userTokens.all(user)).map(toToken);
  }

  revokeToken(id: string, at: number): Promise<boolean> {
    return this.commits.write(() => this.q.revokeToken.run(at, id).changes > 0);
  }

  touchToken(id: string, at: number): Promise<void> {
    return this.commits.write(() => {
      this.q.touchToken.run(at, id);
    });
  }

  // ---- pull-through cache ----------------------------------------------------

  async upstreamConfirmedAt(repository: string, key: string): Promise<number | undefined> {
    return this.q.upstreamConfirmedAt.get(repository, key)?.confirmed_at;
  }

  confirmUpstream(repository: string, key: string, at: number): Promise<void> {
    return this.commits.write(() => {
      this.q.confirmUpstream.run(repository, key, at);
    });
  }

  // ---- lifecycle ------------------------------------------------------------

  async unusedBlobLinks(
    before: number,
    limit: number,
    after?: { repository: string; digest: string },
  ): Promise<BlobLinkRecord[]> {
    const a = after ?? { repository: '', digest: '' };
    return this.q.unusedLinks
      .all(before, a.repository, a.repository, a.digest, limit)
      .map((r) => ({ repository: r.repository, digest: r.digest, size: r.size, linkedAt: r.linked_at }));
  }

  async blobLinks(limit: number, after?: { repository: string; digest: string }): Promise<BlobLinkRecord[]> {
    const a = after ?? { repository: '', digest: '' };
    return this.q.blobLinks
      .all(a.repository, a.repository, a.digest, limit)
      .map((r) => ({ repository: r.repository, digest: r.digest, size: r.size, linkedAt: r.linked_at }));
  }

  removeUnusedBlobLinks(links: readonly BlobLinkKey[], before: number): Promise<BlobLinkKey[]> {
    // One write: the checks and deletes of the page share a transaction (and an fsync).
    return this.commits.write(() => {
      const ids = new Map<string, number | undefined>();
      const removed: BlobLinkKey[] = [];
      for (const l of links) {
        if (!ids.has(l.repository)) ids.set(l.repository, this.q.repoId.get(l.repository)?.id);
        const repo = ids.get(l.repository);
        if (repo === undefined || !this.q.unusedLinkById.get(repo, l.digest, before)) continue;
        if (this.q.unlinkBlob.run(repo, l.digest).changes > 0)
          removed.push({ repository: l.repository, digest: l.digest });
      }
      return removed;
    });
  }

  async unlinkedBlobs(
    claimedBefore: number,
    limit: number,
    after?: string,
  ): Promise<{ digest: string; size: number }[]> {
    return this.q.unlinkedBlobs.all(claimedBefore, after ?? '', limit);
  }

  markBlobsForDeletion(
    claimedBefore: number,
    abandonedBefore: number,
    limit: number,
    at: number,
    after?: string,
  ): Promise<{ digest: string; size: number }[]> {
    return this.commits.write(() => {
      const rows = [...this.q.abandonedBlobs.all(abandonedBefore, limit)];
      if (rows.length < limit) rows.push(...this.q.unlinkedBlobs.all(claimedBefore, after ?? '', limit - rows.length));
      for (const r of rows) this.q.markDeleting.run(at, r.digest);
      return rows;
    });
  }

  markOrphanBlob(digest: string, size: number, at: number): Promise<boolean> {
    return this.commits.write(() => this.q.insertOrphan.run(digest, size, at, at).changes > 0);
  }

  forgetBlobs(digests: readonly string[]): Promise<void> {
    return this.commits.write(() => {
      for (const d of digests) this.q.forgetBlob.run(d);
    });
  }

  async blobRecords(limit: number, after?: string): Promise<BlobRecord[]> {
    return this.q.blobRecords
      .all(after ?? '', limit)
      .map((r) => ({ digest: r.digest, size: r.size, state: r.state, claimedAt: r.claimed_at }));
  }

  markBlobForDeletion(digest: string, claimedBefore: number, at: number): Promise<boolean> {
    return this.commits.write(() => this.q.markOneDeleting.run(at, digest, claimedBefore).changes > 0);
  }

  async brokenBlobLinks(limit: number, after?: { repository: string; digest: string }): Promise<BrokenBlobLink[]> {
    const a = after ?? { repository: '', digest: '' };
    return this.q.brokenLinks.all(a.repository, a.repository, a.digest, limit).map((r) => ({
      repository: r.repository,
      digest: r.digest,
      size: r.size,
      linkedAt: r.linked_at,
      ...(r.record_size !== null ? { recordSize: r.record_size } : {}),
    }));
  }

  async danglingTags(limit: number, after?: { repository: string; tag: string }): Promise<DanglingTag[]> {
    const a = after ?? { repository: '', tag: '' };
    return this.q.danglingTags.all(a.repository, a.repository, a.tag, limit);
  }

  deleteDanglingTag(repository: string, tag: string): Promise<boolean> {
    return this.commits.write(() => {
      const repo = this.q.repoId.get(repository);
      return repo ? this.q.deleteDanglingTag.run(repo.id, tag).changes > 0 : false;
    });
  }

  async repositoryInventory(repository: string): Promise<RepositoryInventory> {
    const repo = this.q.repoId.get(repository);
    if (!repo) return { tags: [], manifests: [] };
    // One read transaction: tags, manifests and references from the same snapshot.
    return this.db.transaction(() => {
      const refs = new Map<string, string[]>();
      for (const r of this.q.inventoryRefs.all(repo.id)) {
        const list = refs.get(r.manifest_digest);
        if (list) list.push(r.ref_digest);
        else refs.set(r.manifest_digest, [r.ref_digest]);
      }
      return {
        tags: this.q.inventoryTags
          .all(repo.id)
          .map((t) => ({ name: t.name, digest: t.digest, pushedAt: t.updated_at })),
        manifests: this.q.inventoryManifests.all(repo.id).map((m) => ({
          digest: m.digest,
          mediaType: m.media_type,
          ...(m.subject ? { subject: m.subject } : {}),
          ...(m.artifact_type ? { artifactType: m.artifact_type } : {}),
          createdAt: m.created_at,
          ...(m.pulled_at !== null ? { pulledAt: m.pulled_at } : {}),
          references: refs.get(m.digest) ?? [],
        })),
      };
    })();
  }

  deleteTagIf(repository: string, tag: string, digest: string, events?: RegistryEvent[]): Promise<boolean> {
    return this.commits.write(() => {
      const repo = this.q.repoId.get(repository);
      const deleted = repo ? this.q.deleteTagIf.run(repo.id, tag, digest).changes > 0 : false;
      if (deleted && events) this.appendEvents(events);
      return deleted;
    });
  }

  deleteManifestIfUnused(
    repository: string,
    digest: string,
    createdBefore: number,
    events?: RegistryEvent[],
  ): Promise<ConditionalDelete> {
    return this.commits.write((): ConditionalDelete => {
      const repo = this.q.repoId.get(repository);
      const created = repo && this.q.manifestCreated.get(repo.id, digest);
      if (!repo || !created) return 'absent';
      if (created.created_at >= createdBefore) return 'recent';
      if (this.q.isTagged.get(repo.id, digest)) return 'tagged';
      if (this.q.isReferenced.get(repo.id, digest)) return 'referenced';
      this.removeManifest(repo.id, digest);
      if (events) this.appendEvents(events);
      return 'deleted';
    });
  }

  recordPulls(pulls: { repository: string; digest: string; at: number }[], events?: RegistryEvent[]): Promise<void> {
    return this.commits.write(() => {
      for (const p of pulls) this.q.recordPull.run(p.at, p.repository, p.digest, p.at);
      if (events) this.appendEvents(events);
    });
  }

  async namespaceUsage(
    namespace: string,
  ): Promise<{ bytes: number; blobs: number; manifests: number; repositories: number }> {
    const args = namespaceRange(namespace);
    return this.db.transaction(() => {
      const b = this.q.namespaceBlobs.get(...args)!;
      const m = this.q.namespaceManifests.get(...args)!;
      return {
        bytes: (b.bytes ?? 0) + (m.bytes ?? 0),
        blobs: b.blobs,
        manifests: m.manifests,
        repositories: this.q.namespaceRepos.get(...args)!.n,
      };
    })();
  }

  async namespaceLinks(namespace: string, digest: string): Promise<boolean> {
    return this.q.namespaceLinks.get(...namespaceRange(namespace), digest) !== undefined;
  }

  async storageStats(): Promise<StorageStats> {
    return this.db.transaction(() => {
      return toStorageStats(this.q.namespaceUsageRows.all(), this.q.blobTotals.get()!);
    })();
  }

  async repositoryCounts(repository: string): Promise<{ tags: number; manifests: number }> {
    const repo = this.q.repoId.get(repository);
    if (!repo) return { tags: 0, manifests: 0 };
    return { tags: this.q.countTags.get(repo.id)!.n, manifests: this.q.countManifests.get(repo.id)!.n };
  }

  async check(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  /** Across every process that opens the file (src/storage/sqlite/lease-jobs.ts). */
  runExclusive(job: string, fn: () => Promise<void>): Promise<boolean> {
    return this.jobs.runExclusive(job, fn);
  }

  holdUpload<T>(id: string, fn: () => Promise<T>): Promise<Held<T>> {
    return this.jobs.hold(`upload:${id}`, fn);
  }

  async close(): Promise<void> {
    await this.commits.drain();
    if (this.db.open) this.db.close();
  }
}

/** The names of a namespace as query arguments: itself, and [ns + '/', ns + '0') ('0' follows '/'). */
function namespaceRange(namespace: string): [string, string, string] {
  return [namespace, `${namespace}/`, `${namespace}0`];
}
