import { paginate, type Page, type PageRequest } from '../../core/pagination.js';
import type { ManifestReference } from '../../core/manifest.js';
import { toSummary, type ManifestRow } from '../manifest-row.js';
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
import { toUpload, type UploadRow } from '../upload-row.js';
import { toStorageStats, type NamespaceUsageRow } from '../usage-row.js';
import { toDelivery, toStoredEvent, type DeliveryRow, type EventRow } from '../event-row.js';
import type { DeliveryRecord, DeliveryState, StoredEvent } from '../event-store.js';
import type { RegistryEvent } from '../../core/events.js';
import { tokenValues, toToken, type TokenRow } from '../token-row.js';
import { Database, type PostgresOptions, type Queryable } from './database.js';
import { BlobLinkCache } from './link-cache.js';
import { RegistryError } from '../../core/errors.js';
import { assertWithinQuota, type QuotaLimits } from '../../core/quota.js';
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

const SUMMARY_COLUMNS = 'm.digest, m.media_type, m.size, m.subject, m.artifact_type, m.annotations, m.created_at';

/** A tag joined with its manifest (PG_TAG_COLUMNS); content only for indexes. */
interface PgTagRow {
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

const PG_TAG_COLUMNS = `t.name, t.digest, t.updated_at, m.media_type, m.artifact_type, m.kind, m.size, m.pulled_at,
  CASE WHEN m.media_type IN ('${MT.ociIndex}', '${MT.dockerList}') THEN m.content END AS content`;

function toPgTagManifestRow(r: PgTagRow): TagManifestRow {
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

/** Manifests stored before the kind column existed get their kind from their bytes (idempotent; replicas may race it). */
async function backfillKinds(db: Database): Promise<void> {
  for (;;) {
    const rows = (
      await db.query<{ repo_id: number; digest: string; media_type: string; content: Buffer }>(
        'SELECT repo_id, digest, media_type, content FROM manifests WHERE kind IS NULL LIMIT 500',
      )
    ).rows;
    if (rows.length === 0) return;
    for (const r of rows)
      await db.query('UPDATE manifests SET kind = $1 WHERE repo_id = $2 AND digest = $3', [
        artifactKind(r.content, r.media_type),
        r.repo_id,
        r.digest,
      ]);
  }
}

/**
 * The metadata store for several replicas: PostgreSQL through `pg`. Every method
 * is one statement or one transaction. Concurrent writers on different replicas
 * are kept apart by row locks, not by process-local mutexes: a manifest PUT holds
 * share locks on the links and manifests it references (so an unlink or delete
 * waits for it, then sees the new references), an unlink takes the link row's
 * lock before it looks for references, and tags move by upsert.
 */
export class PostgresMetadataStore implements MetadataStore {
  private constructor(
    readonly db: Database,
    private readonly links: BlobLinkCache,
  ) {}

  /** Connects and applies pending migrations (under an advisory lock). */
  static async open(options: PostgresOptions): Promise<PostgresMetadataStore> {
    const db = new Database(options);
    try {
      await db.migrate();
      await backfillKinds(db);
    } catch (e) {
      await db.close();
      throw e;
    }
    const links = new BlobLinkCache(() => db.client());
    await links.start();
    return new PostgresMetadataStore(db, links);
  }

  async createUpload(r: UploadRecord): Promise<void> {
    await this.db.query(
      'INSERT INTO uploads (id, repository, owner, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)',
      [r.id, r.repository, r.owner ?? null, r.createdAt, r.updatedAt],
    );
  }

  async getUpload(id: string): Promise<UploadRecord | undefined> {
    const row = (
      await this.db.prepared<UploadRow>(
        'get-upload',
        'SELECT id, repository, owner, created_at, updated_at FROM uploads WHERE id = $1',
        [id],
      )
    ).rows[0];
    return row && toUpload(row);
  }

  async touchUpload(id: string, at: number): Promise<void> {
    await this.db.query('UPDATE uploads SET updated_at = $1 WHERE id = $2', [at, id]);
  }

  async deleteUpload(id: string): Promise<void> {
    await this.db.query('DELETE FROM uploads WHERE id = $1', [id]);
  }

  async staleUploads(before: number): Promise<UploadRecord[]> {
    return (
      await this.db.query<UploadRow>('SELECT * FROM uploads WHERE updated_at < $1 ORDER BY updated_at, id', [before])
    ).rows.map(toUpload);
  }

  async countUploads(which: UploadCount): Promise<number> {
    const [where, params] =
      'repository' in which
        ? ['WHERE repository = $1', [which.repository]]
        : 'owner' in which
          ? ['WHERE owner = $1', [which.owner]]
          : ['', []];
    const row = (await this.db.query<{ n: string }>(`SELECT COUNT(*) AS n FROM uploads ${where}`, params)).rows[0]!;
    return Number(row.n);
  }

  async claimBlob(digest: string, size: number, at: number): Promise<number | undefined> {
    // The conflict path locks the row; a `deleting` row returns nothing (docs/gc.md).
    const r = await this.db.query<{ id: number }>(
      `INSERT INTO blobs (digest, size, claimed_at) VALUES ($1, $2, $3)
       ON CONFLICT (digest) DO UPDATE SET claimed_at = GREATEST(blobs.claimed_at, excluded.claimed_at) WHERE blobs.state = 'live' RETURNING id`,
      [digest, size, at],
    );
    return r.rows[0]?.id;
  }

  linkBlob(repository: string, digest: string, size: number, claim?: number, quota?: QuotaLimits): Promise<boolean> {
    return this.db.tx(async (c) => {
      // The namespace's turn first (before any row lock, so two links never wait on each other crosswise).
      if (quota?.bytes !== undefined) await lockNamespace(c, quota.namespace);
      const now = Date.now();
      // A share lock on the record: a collector marking it waits for our commit, then sees the link.
      let row = (
        await c.query<{ id: number; state: string }>('SELECT id, state FROM blobs WHERE digest = $1 FOR SHARE', [
          digest,
        ])
      ).rows[0];
      if (!row && claim === undefined) {
        await c.query(
          'INSERT INTO blobs (digest, size, claimed_at) VALUES ($1, $2, $3) ON CONFLICT (digest) DO NOTHING',
          [digest, size, now],
        );
        row = (
          await c.query<{ id: number; state: string }>('SELECT id, state FROM blobs WHERE digest = $1 FOR SHARE', [
            digest,
          ])
        ).rows[0];
      }
      if (!row || row.state !== 'live' || (claim !== undefined && row.id !== claim)) return false;
      await assertLinkFits(c, repository, digest, size, quota);
      await insertLink(c, await ensureRepo(c, repository), digest, size, now);
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
    return this.db.tx(async (c) => {
      if (quota?.bytes !== undefined) await lockNamespace(c, quota.namespace);
      // The source link's share lock keeps it (and so, by the fence, the bytes) until we commit.
      const source = (
        await c.query<{ size: number }>(
          'SELECT b.size FROM blob_links b JOIN repositories r ON r.id = b.repo_id WHERE r.name = $1 AND b.digest = $2 FOR SHARE OF b',
          [from, digest],
        )
      ).rows[0];
      if (!source) return undefined;
      await assertLinkFits(c, repository, digest, source.size, quota);
      await insertLink(c, await ensureRepo(c, repository), digest, source.size, Date.now());
      if (events) await appendEvents(c, events(source.size));
      return { size: source.size };
    });
  }

  async blobLink(repository: string, digest: string): Promise<{ size: number } | undefined> {
    const cached = this.links.get(repository, digest);
    if (cached !== undefined) return { size: cached };
    const ticket = this.links.ticket();
    const r = await this.db.prepared<{ size: number }>(
      'blob-link',
      'SELECT b.size FROM blob_links b JOIN repositories r ON r.id = b.repo_id WHERE r.name = $1 AND b.digest = $2',
      [repository, digest],
    );
    const row = r.rows[0];
    if (row) this.links.put(ticket, repository, digest, row.size);
    return row && { size: row.size };
  }

  unlinkBlob(repository: string, digest: string): Promise<'removed' | 'absent' | 'referenced'> {
    return this.db.tx(async (c): Promise<'removed' | 'absent' | 'referenced'> => {
      // The row lock first: a manifest PUT holding a share lock on this link commits
      // before we look, and one starting after us waits and then finds the link gone.
      const link = await c.query(
        'SELECT b.repo_id FROM blob_links b JOIN repositories r ON r.id = b.repo_id WHERE r.name = $1 AND b.digest = $2 FOR UPDATE OF b',
        [repository, digest],
      );
      const repoId = (link.rows[0] as { repo_id: number } | undefined)?.repo_id;
      if (repoId === undefined) return 'absent';
      const used = await c.query('SELECT 1 FROM manifest_refs WHERE repo_id = $1 AND ref_digest = $2 LIMIT 1', [
        repoId,
        digest,
      ]);
      if (used.rowCount) return 'referenced';
      await c.query('DELETE FROM blob_links WHERE repo_id = $1 AND digest = $2', [repoId, digest]);
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
    return this.db.tx(async (c): Promise<UnmetReference[]> => {
      const quota = options.quota;
      if (quota) await lockNamespace(c, quota.namespace);
      let repoId = await repoIdOf(c, repository);
      // A repository exists for clients once it holds a manifest (the catalog's rule).
      const repositoryCreated =
        repoId === undefined ||
        (await c.query('SELECT 1 FROM manifests WHERE repo_id = $1 LIMIT 1', [repoId])).rowCount === 0;
      if (options.keepTag && tag !== undefined && repoId !== undefined) {
        // The tag row's lock: a concurrent first push of the same tag commits before we look.
        const current = (
          await c.query<{ digest: string }>('SELECT digest FROM tags WHERE repo_id = $1 AND name = $2 FOR UPDATE', [
            repoId,
            tag,
          ])
        ).rows[0];
        if (current && current.digest !== m.digest)
          throw new RegistryError('DENIED', 'tag is immutable', { tag, digest: current.digest });
      }
      const unmet = options.unverifiedReferences
        ? []
        : repoId === undefined
          ? references.map((reference) => ({ reference, problem: 'missing' as const }))
          : await checkReferences(c, repoId, references);
      if (unmet.length > 0) return unmet;
      if (quota) await assertManifestFits(c, repository, repoId, m, tag, quota);
      repoId ??= await ensureRepo(c, repository);
      // Insert, or lock the row that is there so a concurrent delete waits for us;
      // if a delete removed it in between, insert again.
      for (let attempt = 0; ; attempt++) {
        const inserted = await c.query(
          `INSERT INTO manifests (repo_id, digest, media_type, size, content, subject, artifact_type, annotations, created_at, kind)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
          [
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
          ],
        );
        if (inserted.rowCount) {
          if (references.length > 0) {
            await c.query(
              'INSERT INTO manifest_refs (repo_id, manifest_digest, ref_digest) SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING',
              [repoId, m.digest, references.map((r) => r.digest)],
            );
          }
          break;
        }
        const held = await c.query('SELECT 1 FROM manifests WHERE repo_id = $1 AND digest = $2 FOR SHARE', [
          repoId,
          m.digest,
        ]);
        if (held.rowCount || attempt >= 3) break;
      }
      let previous: string | undefined;
      if (tag !== undefined && options.events) {
        previous = (
          await c.query<{ digest: string }>('SELECT digest FROM tags WHERE repo_id = $1 AND name = $2 FOR UPDATE', [
            repoId,
            tag,
          ])
        ).rows[0]?.digest;
      }
      if (tag !== undefined) {
        // Immutable: a tag that appeared meanwhile naming another manifest is not moved (the row conflict is the fence).
        const set = await c.query(
          `INSERT INTO tags (repo_id, name, digest, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (repo_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at${options.keepTag ? ' WHERE tags.digest = excluded.digest' : ''}`,
          [repoId, tag, m.digest, options.taggedAt ?? Date.now()],
        );
        if (!set.rowCount) throw new RegistryError('DENIED', 'tag is immutable', { tag });
      }
      if (options.events)
        await appendEvents(
          c,
          options.events({ repositoryCreated, ...(previous !== undefined ? { previousDigest: previous } : {}) }),
        );
      return [];
    });
  }

  async getManifest(repository: string, digest: string): Promise<ManifestRecord | undefined> {
    const r = await this.db.prepared<ManifestRow>(
      'get-manifest',
      // Named columns, not m.*: a prepared statement's result type must survive a replica adding a column.
      `SELECT m.digest, m.media_type, m.size, m.content, m.subject, m.artifact_type, m.annotations, m.created_at
       FROM manifests m JOIN repositories r ON r.id = m.repo_id WHERE r.name = $1 AND m.digest = $2`,
      [repository, digest],
    );
    const row = r.rows[0];
    return row && { ...toSummary(row), content: row.content };
  }

  async resolveTag(repository: string, tag: string): Promise<string | undefined> {
    const r = await this.db.prepared<{ digest: string }>(
      'resolve-tag',
      'SELECT t.digest FROM tags t JOIN repositories r ON r.id = t.repo_id WHERE r.name = $1 AND t.name = $2',
      [repository, tag],
    );
    return r.rows[0]?.digest;
  }

  deleteManifest(repository: string, digest: string, events?: RegistryEvent[]): Promise<boolean> {
    return this.db.tx(async (c) => {
      const repoId = await repoIdOf(c, repository);
      if (repoId === undefined || !(await removeManifest(c, repoId, digest))) return false;
      if (events) await appendEvents(c, events);
      return true;
    });
  }

  deleteTag(repository: string, tag: string, events?: RegistryEvent[]): Promise<boolean> {
    return this.db.tx(async (c) => {
      const r = await c.query(
        'DELETE FROM tags t USING repositories r WHERE r.id = t.repo_id AND r.name = $1 AND t.name = $2',
        [repository, tag],
      );
      if (!r.rowCount) return false;
      if (events) await appendEvents(c, events);
      return true;
    });
  }

  async eventsAfter(after: number, limit: number): Promise<StoredEvent[]> {
    const r = await this.db.query<EventRow>('SELECT seq, body FROM events WHERE seq > $1 ORDER BY seq LIMIT $2', [
      after,
      limit,
    ]);
    return r.rows.map(toStoredEvent);
  }

  async getEvents(seqs: number[]): Promise<StoredEvent[]> {
    const r = await this.db.query<EventRow>('SELECT seq, body FROM events WHERE seq = ANY($1::bigint[]) ORDER BY seq', [
      seqs,
    ]);
    return r.rows.map(toStoredEvent);
  }

  async eventCursor(endpoint: string): Promise<number> {
    const r = await this.db.query<{ seq: string }>('SELECT seq FROM event_cursors WHERE endpoint = $1', [endpoint]);
    return Number(r.rows[0]?.seq ?? 0);
  }

  recordDelivery(d: DeliveryRecord, advance: boolean): Promise<void> {
    return this.db.tx(async (c) => {
      await c.query(
        `INSERT INTO event_deliveries (endpoint, seq, state, attempts, last_error, next_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (endpoint, seq) DO UPDATE SET state = excluded.state, attempts = excluded.attempts,
           last_error = excluded.last_error, next_at = excluded.next_at, updated_at = excluded.updated_at`,
        [d.endpoint, d.seq, d.state, d.attempts, d.lastError ?? null, d.nextAt ?? null, d.updatedAt],
      );
      if (advance) await advanceCursor(c, d.endpoint, d.seq);
    });
  }

  async advanceEventCursor(endpoint: string, seq: number): Promise<void> {
    await advanceCursor(this.db, endpoint, seq);
  }

  async deliveries(query: { endpoint?: string; state?: DeliveryState; limit: number }): Promise<DeliveryRecord[]> {
    const r = await this.db.query<DeliveryRow>(
      'SELECT * FROM event_deliveries WHERE ($1::text IS NULL OR endpoint = $1) AND ($2::text IS NULL OR state = $2) ORDER BY updated_at DESC, seq DESC LIMIT $3',
      [query.endpoint ?? null, query.state ?? null, query.limit],
    );
    return r.rows.map(toDelivery);
  }

  async requeueDeliveries(endpoint: string, seq?: number): Promise<number> {
    const r = await this.db.query(
      "UPDATE event_deliveries SET state = 'requeued', next_at = NULL, updated_at = $1 WHERE endpoint = $2 AND state = 'failed' AND ($3::bigint IS NULL OR seq = $3)",
      [Date.now(), endpoint, seq ?? null],
    );
    return r.rowCount ?? 0;
  }

  async pruneEvents(seq: number, before: number): Promise<number> {
    const r = await this.db.query(
      "DELETE FROM events WHERE seq <= $1 AND created_at < $2 AND seq NOT IN (SELECT seq FROM event_deliveries WHERE state IN ('failed', 'requeued'))",
      [seq, before],
    );
    return r.rowCount ?? 0;
  }

  async listTags(repository: string, page: PageRequest): Promise<Page<string> | undefined> {
    const repoId = await repoIdOf(this.db, repository);
    if (repoId === undefined) return undefined;
    // The primary key (repo_id, name) is the index this walks: no sort, no offset.
    return paginate(page, async (after, limit) =>
      (
        await this.db.query<{ name: string }>(
          'SELECT name FROM tags WHERE repo_id = $1 AND name > $2 ORDER BY name LIMIT $3',
          [repoId, after, limit],
        )
      ).rows.map((r) => r.name),
    );
  }

  async referencedBy(repository: string, digest: string): Promise<string[]> {
    const r = await this.db.query<{ manifest_digest: string }>(
      'SELECT f.manifest_digest FROM manifest_refs f JOIN repositories r ON r.id = f.repo_id WHERE r.name = $1 AND f.ref_digest = $2 ORDER BY f.manifest_digest',
      [repository, digest],
    );
    return r.rows.map((row) => row.manifest_digest);
  }

  async referrers(repository: string, subject: string, artifactType?: string): Promise<ManifestSummary[]> {
    const r = await this.db.query<ManifestRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM manifests m JOIN repositories r ON r.id = m.repo_id
       WHERE r.name = $1 AND m.subject = $2 AND ($3::text IS NULL OR m.artifact_type = $3)
       ORDER BY m.created_at DESC, m.digest`,
      [repository, subject, artifactType ?? null],
    );
    return r.rows.map(toSummary);
  }

  async listRepositories(page: PageRequest): Promise<Page<string>> {
    return paginate(page, async (after, limit) =>
      (
        await this.db.query<{ name: string }>(
          'SELECT r.name FROM repositories r WHERE r.name > $1 AND EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = r.id) ORDER BY r.name LIMIT $2',
          [after, limit],
        )
      ).rows.map((row) => row.name),
    );
  }

  async repositoryExists(repository: string): Promise<boolean> {
    return (await repoIdOf(this.db, repository)) !== undefined;
  }

  async searchRepositories(search: RepositorySearch): Promise<string[]> {
    const r = await this.db.query<{ name: string }>(
      `SELECT r.name FROM repositories r
       WHERE r.name > $1 AND strpos(r.name, $2) > 0 AND EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = r.id)
         AND ($3::text IS NULL OR ${repositoryKindSql('r.id')} = $3)
       ORDER BY r.name LIMIT $4`,
      [search.after ?? '', search.q?.toLowerCase() ?? '', search.kind ?? null, search.limit],
    );
    return r.rows.map((row) => row.name);
  }

  async repositorySummaries(names: readonly string[]): Promise<RepositorySummary[]> {
    if (names.length === 0) return [];
    const r = await this.db.query<{
      name: string;
      kind: ArtifactKind;
      tags: number;
      manifests: number;
      size: number;
      last_push: number | null;
    }>(
      `SELECT r.name, ${repositoryKindSql('r.id')} AS kind,
         (SELECT COUNT(*) FROM tags t WHERE t.repo_id = r.id) AS tags,
         (SELECT COUNT(*) FROM manifests m WHERE m.repo_id = r.id) AS manifests,
         ((SELECT COALESCE(SUM(b.size), 0) FROM blob_links b WHERE b.repo_id = r.id)
           + (SELECT COALESCE(SUM(m.size), 0) FROM manifests m WHERE m.repo_id = r.id))::bigint AS size,
         (SELECT MAX(t.updated_at) FROM tags t WHERE t.repo_id = r.id) AS last_push
       FROM repositories r WHERE r.name = ANY($1::text[]) AND EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = r.id)`,
      [names],
    );
    const byName = new Map(r.rows.map((row) => [row.name, row]));
    return names.flatMap((name) => {
      const row = byName.get(name);
      if (!row) return [];
      const { last_push, ...rest } = row;
      return [{ ...rest, ...(last_push !== null ? { lastPush: last_push } : {}) }];
    });
  }

  async tagDetails(repository: string, query: TagDetailQuery): Promise<TagDetail[]> {
    // One snapshot for the tags, their references and their signatures.
    return this.db.tx(async (c) => {
      await c.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const repoId = await repoIdOf(c, repository);
      if (repoId === undefined) return [];
      const from = `SELECT ${PG_TAG_COLUMNS} FROM tags t JOIN manifests m ON m.repo_id = t.repo_id AND m.digest = t.digest WHERE t.repo_id = $1`;
      let rows: PgTagRow[];
      if ('names' in query) {
        const found = await c.query<PgTagRow>(`${from} AND t.name = ANY($2::text[])`, [repoId, query.names]);
        const byName = new Map(found.rows.map((row) => [row.name, row]));
        rows = query.names.flatMap((n) => byName.get(n) ?? []);
      } else if (query.order === 'name') {
        rows = (
          await c.query<PgTagRow>(`${from} AND t.name > $2 ORDER BY t.name LIMIT $3`, [
            repoId,
            query.after ?? '',
            query.limit,
          ])
        ).rows;
      } else {
        const at = query.after?.pushedAt ?? Number.MAX_SAFE_INTEGER;
        rows = (
          await c.query<PgTagRow>(
            `${from} AND (t.updated_at < $2 OR (t.updated_at = $2 AND t.name > $3)) ORDER BY t.updated_at DESC, t.name LIMIT $4`,
            [repoId, at, query.after?.name ?? '', query.limit],
          )
        ).rows;
      }
      const digests = [...new Set(rows.map((row) => row.digest))];
      const refs: ReferenceRow[] = [];
      const refsOf = async (of: string[]) =>
        (
          await c.query<{ from: string; digest: string; size: number | null; child: boolean }>(
            `SELECT f.manifest_digest AS "from", f.ref_digest AS digest, COALESCE(b.size, k.size) AS size, k.digest IS NOT NULL AS child
             FROM manifest_refs f
             LEFT JOIN blob_links b ON b.repo_id = f.repo_id AND b.digest = f.ref_digest
             LEFT JOIN manifests k ON k.repo_id = f.repo_id AND k.digest = f.ref_digest
             WHERE f.repo_id = $1 AND f.manifest_digest = ANY($2::text[])`,
            [repoId, of],
          )
        ).rows;
      const direct = digests.length > 0 ? await refsOf(digests) : [];
      const children = [...new Set(direct.filter((r) => r.child).map((r) => r.digest))];
      for (const r of [...direct, ...(children.length > 0 ? await refsOf(children) : [])])
        if (r.size !== null) refs.push({ from: r.from, digest: r.digest, size: r.size });
      const signed = new Set<string>();
      if (digests.length > 0) {
        const bySubject = await c.query<{ subject: string }>(
          "SELECT DISTINCT subject FROM manifests WHERE repo_id = $1 AND subject = ANY($2::text[]) AND kind = 'signature'",
          [repoId, digests],
        );
        for (const row of bySubject.rows) signed.add(row.subject);
        const sigTags = new Map(digests.map((d) => [legacySignatureTag(d), d]));
        const byTag = await c.query<{ name: string }>(
          'SELECT name FROM tags WHERE repo_id = $1 AND name = ANY($2::text[])',
          [repoId, [...sigTags.keys()]],
        );
        for (const row of byTag.rows) signed.add(sigTags.get(row.name)!);
      }
      return assembleTagDetails(rows.map(toPgTagManifestRow), refs, signed);
    });
  }

  async createToken(t: AccessTokenRecord): Promise<void> {
    await this.db.query(
      'INSERT INTO access_tokens (id, username, note, scopes, secret_hash, created_at, expires_at, last_used_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      tokenValues(t),
    );
  }

  async getToken(id: string): Promise<AccessTokenRecord | undefined> {
    const row = (await this.db.query<TokenRow>('SELECT * FROM access_tokens WHERE id = $1', [id])).rows[0];
    return row && toToken(row);
  }

  async listTokens(user?: string): Promise<AccessTokenRecord[]> {
    // Byte order of user names, as SQLite sorts them.
    const r =
      user === undefined
        ? await this.db.query<TokenRow>('SELECT * FROM access_tokens ORDER BY username COLLATE "C", created_at, id')
        : await this.db.query<TokenRow>('SELECT * FROM access_tokens WHERE username = $1 ORDER BY created_at, id', [
            user,
          ]);
    return r.rows.map(toToken);
  }

  async revokeToken(id: string, at: number): Promise<boolean> {
    const r = await this.db.query('UPDATE access_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [
      at,
      id,
    ]);
    return (r.rowCount ?? 0) > 0;
  }

  async touchToken(id: string, at: number): Promise<void> {
    await this.db.query('UPDATE access_tokens SET last_used_at = $1 WHERE id = $2', [at, id]);
  }

  // ---- pull-through cache ---------------------------------------------------------

  async upstreamConfirmedAt(repository: string, key: string): Promise<number | undefined> {
    const row = (
      await this.db.query<{ confirmed_at: string }>(
        'SELECT confirmed_at FROM upstream_confirmations WHERE repository = $1 AND key = $2',
        [repository, key],
      )
    ).rows[0];
    return row && Number(row.confirmed_at);
  }

  async confirmUpstream(repository: string, key: string, at: number): Promise<void> {
    await this.db.query(
      `INSERT INTO upstream_confirmations (repository, key, confirmed_at) VALUES ($1, $2, $3)
       ON CONFLICT (repository, key) DO UPDATE SET confirmed_at = GREATEST(upstream_confirmations.confirmed_at, excluded.confirmed_at)`,
      [repository, key, at],
    );
  }

  // ---- lifecycle (docs/gc.md: lock the row, then re-check in a new statement) ----

  async unusedBlobLinks(
    before: number,
    limit: number,
    after?: { repository: string; digest: string },
  ): Promise<BlobLinkRecord[]> {
    const a = after ?? { repository: '', digest: '' };
    const r = await this.db.query<{ repository: string; digest: string; size: number; linked_at: number }>(
      `SELECT r.name AS repository, b.digest, b.size, b.linked_at FROM blob_links b JOIN repositories r ON r.id = b.repo_id
       WHERE b.linked_at < $1 AND (r.name, b.digest) > ($2::text COLLATE "C", $3::text COLLATE "C")
         AND NOT EXISTS (SELECT 1 FROM manifest_refs f WHERE f.repo_id = b.repo_id AND f.ref_digest = b.digest)
       ORDER BY r.name, b.digest LIMIT $4`,
      [before, a.repository, a.digest, limit],
    );
    return r.rows.map((x) => ({ repository: x.repository, digest: x.digest, size: x.size, linkedAt: x.linked_at }));
  }

  async blobLinks(limit: number, after?: { repository: string; digest: string }): Promise<BlobLinkRecord[]> {
    const a = after ?? { repository: '', digest: '' };
    const r = await this.db.query<{ repository: string; digest: string; size: number; linked_at: number }>(
      `SELECT r.name AS repository, b.digest, b.size, b.linked_at FROM blob_links b JOIN repositories r ON r.id = b.repo_id
       WHERE (r.name, b.digest) > ($1::text COLLATE "C", $2::text COLLATE "C")
       ORDER BY r.name, b.digest LIMIT $3`,
      [a.repository, a.digest, limit],
    );
    return r.rows.map((x) => ({ repository: x.repository, digest: x.digest, size: x.size, linkedAt: x.linked_at }));
  }

  async removeUnusedBlobLinks(links: readonly BlobLinkKey[], before: number): Promise<BlobLinkKey[]> {
    if (links.length === 0) return [];
    return this.db.tx(async (c) => {
      // Lock the page first, then re-check in a new statement (docs/gc.md). SKIP LOCKED: a link
      // a manifest PUT holds (FOR SHARE) is in use right now, and waiting for it, a page of
      // locks held, could deadlock with a PUT that locks in another order; the next run sees it.
      const locked = await c.query<{ repo_id: number; digest: string }>(
        `SELECT b.repo_id, b.digest FROM blob_links b JOIN repositories r ON r.id = b.repo_id
           JOIN unnest($1::text[], $2::text[]) AS k(repository, digest) ON r.name = k.repository AND b.digest = k.digest
         WHERE b.linked_at < $3 FOR UPDATE OF b SKIP LOCKED`,
        [links.map((l) => l.repository), links.map((l) => l.digest), before],
      );
      if (locked.rowCount === 0) return [];
      const gone = await c.query<{ repository: string; digest: string }>(
        `WITH d AS (
           DELETE FROM blob_links b USING unnest($1::bigint[], $2::text[]) AS k(repo_id, digest)
           WHERE b.repo_id = k.repo_id AND b.digest = k.digest
             AND NOT EXISTS (SELECT 1 FROM manifest_refs f WHERE f.repo_id = b.repo_id AND f.ref_digest = b.digest)
           RETURNING b.repo_id, b.digest)
         SELECT r.name AS repository, d.digest FROM d JOIN repositories r ON r.id = d.repo_id`,
        [locked.rows.map((l) => l.repo_id), locked.rows.map((l) => l.digest)],
      );
      return gone.rows;
    });
  }

  async unlinkedBlobs(
    claimedBefore: number,
    limit: number,
    after?: string,
  ): Promise<{ digest: string; size: number }[]> {
    const r = await this.db.query<{ digest: string; size: number }>(
      `SELECT digest, size FROM blobs o WHERE state = 'live' AND claimed_at < $1 AND digest > $2
         AND NOT EXISTS (SELECT 1 FROM blob_links b WHERE b.digest = o.digest) ORDER BY digest LIMIT $3`,
      [claimedBefore, after ?? '', limit],
    );
    return r.rows;
  }

  markBlobsForDeletion(
    claimedBefore: number,
    abandonedBefore: number,
    limit: number,
    at: number,
    after?: string,
  ): Promise<{ digest: string; size: number }[]> {
    return this.db.tx(async (c) => {
      const abandoned = await c.query<{ digest: string; size: number }>(
        "SELECT digest, size FROM blobs WHERE state = 'deleting' AND marked_at < $1 ORDER BY digest LIMIT $2 FOR UPDATE SKIP LOCKED",
        [abandonedBefore, limit],
      );
      // Lock first (waiting for links in flight, which hold share locks), then re-check in a new statement.
      const candidates = await c.query<{ digest: string; size: number }>(
        `SELECT digest, size FROM blobs o WHERE state = 'live' AND claimed_at < $1 AND digest > $3
           AND NOT EXISTS (SELECT 1 FROM blob_links b WHERE b.digest = o.digest) ORDER BY digest LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [claimedBefore, limit, after ?? ''],
      );
      const linked = new Set(
        (
          await c.query<{ digest: string }>('SELECT DISTINCT digest FROM blob_links WHERE digest = ANY($1::text[])', [
            candidates.rows.map((x) => x.digest),
          ])
        ).rows.map((x) => x.digest),
      );
      const marked = [...abandoned.rows, ...candidates.rows.filter((x) => !linked.has(x.digest))].slice(0, limit);
      // Re-read claimed_at under the lock: a claim that committed before we locked refreshed it.
      await c.query(
        "UPDATE blobs SET state = 'deleting', marked_at = $1 WHERE digest = ANY($2::text[]) AND (state = 'deleting' OR claimed_at < $3)",
        [at, marked.map((x) => x.digest), claimedBefore],
      );
      const now = await c.query<{ digest: string; size: number }>(
        "SELECT digest, size FROM blobs WHERE digest = ANY($1::text[]) AND state = 'deleting' AND marked_at = $2 ORDER BY digest",
        [marked.map((x) => x.digest), at],
      );
      return now.rows;
    });
  }

  async markOrphanBlob(digest: string, size: number, at: number): Promise<boolean> {
    const r = await this.db.query(
      "INSERT INTO blobs (digest, size, state, claimed_at, marked_at) VALUES ($1, $2, 'deleting', $3, $3) ON CONFLICT (digest) DO NOTHING",
      [digest, size, at],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async forgetBlobs(digests: readonly string[]): Promise<void> {
    if (digests.length === 0) return;
    await this.db.query("DELETE FROM blobs WHERE digest = ANY($1::text[]) AND state = 'deleting'", [digests]);
  }

  async blobRecords(limit: number, after?: string): Promise<BlobRecord[]> {
    return (
      await this.db.query<BlobRecord>(
        'SELECT digest, size, state, claimed_at AS "claimedAt" FROM blobs WHERE digest > $1 ORDER BY digest LIMIT $2',
        [after ?? '', limit],
      )
    ).rows;
  }

  markBlobForDeletion(digest: string, claimedBefore: number, at: number): Promise<boolean> {
    return this.db.tx(async (c) => {
      // Lock first (a link in flight holds a share lock), then re-check in a new statement (docs/gc.md).
      const row = await c.query(
        "SELECT 1 FROM blobs WHERE digest = $1 AND state = 'live' AND claimed_at < $2 FOR UPDATE",
        [digest, claimedBefore],
      );
      if (!row.rowCount) return false;
      const r = await c.query(
        `UPDATE blobs SET state = 'deleting', marked_at = $1 WHERE digest = $2 AND state = 'live' AND claimed_at < $3
           AND NOT EXISTS (SELECT 1 FROM blob_links b WHERE b.digest = blobs.digest)`,
        [at, digest, claimedBefore],
      );
      return (r.rowCount ?? 0) > 0;
    });
  }

  async brokenBlobLinks(limit: number, after?: { repository: string; digest: string }): Promise<BrokenBlobLink[]> {
    const a = after ?? { repository: '', digest: '' };
    const r = await this.db.query<{
      repository: string;
      digest: string;
      size: number;
      linked_at: number;
      record_size: number | null;
    }>(
      `SELECT r.name AS repository, b.digest, b.size, b.linked_at, o.size AS record_size
       FROM blob_links b JOIN repositories r ON r.id = b.repo_id LEFT JOIN blobs o ON o.digest = b.digest
       WHERE (o.digest IS NULL OR o.size <> b.size) AND (r.name, b.digest) > ($1::text COLLATE "C", $2::text COLLATE "C")
       ORDER BY r.name, b.digest LIMIT $3`,
      [a.repository, a.digest, limit],
    );
    return r.rows.map((x) => ({
      repository: x.repository,
      digest: x.digest,
      size: x.size,
      linkedAt: x.linked_at,
      ...(x.record_size !== null ? { recordSize: x.record_size } : {}),
    }));
  }

  async danglingTags(limit: number, after?: { repository: string; tag: string }): Promise<DanglingTag[]> {
    const a = after ?? { repository: '', tag: '' };
    const r = await this.db.query<DanglingTag>(
      `SELECT r.name AS repository, t.name AS tag, t.digest FROM tags t JOIN repositories r ON r.id = t.repo_id
       WHERE NOT EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = t.repo_id AND m.digest = t.digest)
         AND (r.name, t.name) > ($1::text COLLATE "C", $2::text COLLATE "C")
       ORDER BY r.name, t.name LIMIT $3`,
      [a.repository, a.tag, limit],
    );
    return r.rows;
  }

  async deleteDanglingTag(repository: string, tag: string): Promise<boolean> {
    // One statement: a manifest PUT that stores the digest first makes the tag valid again, and it stays.
    const r = await this.db.query(
      `DELETE FROM tags t USING repositories r WHERE r.id = t.repo_id AND r.name = $1 AND t.name = $2
         AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = t.repo_id AND m.digest = t.digest)`,
      [repository, tag],
    );
    return (r.rowCount ?? 0) > 0;
  }

  repositoryInventory(repository: string): Promise<RepositoryInventory> {
    // One transaction at REPEATABLE READ would be one snapshot; READ COMMITTED is enough here,
    // because every removal the plan leads to re-checks under a lock.
    return this.db.tx(async (c) => {
      const repoId = await repoIdOf(c, repository);
      if (repoId === undefined) return { tags: [], manifests: [] };
      const tags = await c.query<{ name: string; digest: string; updated_at: number }>(
        'SELECT name, digest, updated_at FROM tags WHERE repo_id = $1',
        [repoId],
      );
      const ms = await c.query<{
        digest: string;
        media_type: string;
        subject: string | null;
        artifact_type: string | null;
        created_at: number;
        pulled_at: number | null;
      }>('SELECT digest, media_type, subject, artifact_type, created_at, pulled_at FROM manifests WHERE repo_id = $1', [
        repoId,
      ]);
      const refs = new Map<string, string[]>();
      for (const r of (
        await c.query<{ manifest_digest: string; ref_digest: string }>(
          'SELECT manifest_digest, ref_digest FROM manifest_refs WHERE repo_id = $1',
          [repoId],
        )
      ).rows) {
        refs.set(r.manifest_digest, [...(refs.get(r.manifest_digest) ?? []), r.ref_digest]);
      }
      return {
        tags: tags.rows.map((t) => ({ name: t.name, digest: t.digest, pushedAt: t.updated_at })),
        manifests: ms.rows.map((m) => ({
          digest: m.digest,
          mediaType: m.media_type,
          ...(m.subject ? { subject: m.subject } : {}),
          ...(m.artifact_type ? { artifactType: m.artifact_type } : {}),
          createdAt: m.created_at,
          ...(m.pulled_at !== null ? { pulledAt: m.pulled_at } : {}),
          references: refs.get(m.digest) ?? [],
        })),
      };
    });
  }

  deleteTagIf(repository: string, tag: string, digest: string, events?: RegistryEvent[]): Promise<boolean> {
    return this.db.tx(async (c) => {
      const r = await c.query(
        'DELETE FROM tags t USING repositories r WHERE r.id = t.repo_id AND r.name = $1 AND t.name = $2 AND t.digest = $3',
        [repository, tag, digest],
      );
      const deleted = (r.rowCount ?? 0) > 0;
      if (deleted && events) await appendEvents(c, events);
      return deleted;
    });
  }

  deleteManifestIfUnused(
    repository: string,
    digest: string,
    createdBefore: number,
    events?: RegistryEvent[],
  ): Promise<ConditionalDelete> {
    return this.db.tx(async (c): Promise<ConditionalDelete> => {
      const repoId = await repoIdOf(c, repository);
      if (repoId === undefined) return 'absent';
      // The row lock first: an index PUT holding a share lock on it commits before we re-check.
      const m = (
        await c.query<{ created_at: number }>(
          'SELECT created_at FROM manifests WHERE repo_id = $1 AND digest = $2 FOR UPDATE',
          [repoId, digest],
        )
      ).rows[0];
      if (!m) return 'absent';
      if (m.created_at >= createdBefore) return 'recent';
      if ((await c.query('SELECT 1 FROM tags WHERE repo_id = $1 AND digest = $2 LIMIT 1', [repoId, digest])).rowCount)
        return 'tagged';
      if (
        (await c.query('SELECT 1 FROM manifest_refs WHERE repo_id = $1 AND ref_digest = $2 LIMIT 1', [repoId, digest]))
          .rowCount
      )
        return 'referenced';
      await removeManifest(c, repoId, digest);
      if (events) await appendEvents(c, events);
      return 'deleted';
    });
  }

  async recordPulls(
    pulls: { repository: string; digest: string; at: number }[],
    events?: RegistryEvent[],
  ): Promise<void> {
    if (pulls.length === 0 && !events?.length) return;
    await this.db.tx(async (c) => {
      await c.query(
        `UPDATE manifests m SET pulled_at = p.at FROM repositories r, unnest($1::text[], $2::text[], $3::bigint[]) AS p(repository, digest, at)
         WHERE r.name = p.repository AND m.repo_id = r.id AND m.digest = p.digest AND (m.pulled_at IS NULL OR m.pulled_at < p.at)`,
        [pulls.map((p) => p.repository), pulls.map((p) => p.digest), pulls.map((p) => p.at)],
      );
      if (events?.length) await appendEvents(c, events);
    });
  }

  async namespaceUsage(
    namespace: string,
  ): Promise<{ bytes: number; blobs: number; manifests: number; repositories: number }> {
    const inNamespace = `(r.name = $1 OR (r.name >= $2 AND r.name < $3))`;
    const args = [namespace, `${namespace}/`, `${namespace}0`];
    const r = await this.db.query<{
      blob_bytes: number | null;
      blobs: number;
      manifest_bytes: number | null;
      manifests: number;
      repositories: number;
    }>(
      `SELECT
         (SELECT SUM(size) FROM (SELECT b.digest, MAX(b.size) AS size FROM blob_links b JOIN repositories r ON r.id = b.repo_id WHERE ${inNamespace} GROUP BY b.digest) x) AS blob_bytes,
         (SELECT COUNT(DISTINCT b.digest) FROM blob_links b JOIN repositories r ON r.id = b.repo_id WHERE ${inNamespace})::int AS blobs,
         (SELECT SUM(size) FROM (SELECT m.digest, MAX(m.size) AS size FROM manifests m JOIN repositories r ON r.id = m.repo_id WHERE ${inNamespace} GROUP BY m.digest) y) AS manifest_bytes,
         (SELECT COUNT(DISTINCT m.digest) FROM manifests m JOIN repositories r ON r.id = m.repo_id WHERE ${inNamespace})::int AS manifests,
         (SELECT COUNT(*) FROM repositories r WHERE ${inNamespace} AND EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = r.id))::int AS repositories`,
      args,
    );
    const x = r.rows[0]!;
    return {
      bytes: Number(x.blob_bytes ?? 0) + Number(x.manifest_bytes ?? 0),
      blobs: x.blobs,
      manifests: x.manifests,
      repositories: x.repositories,
    };
  }

  async namespaceLinks(namespace: string, digest: string): Promise<boolean> {
    const r = await this.db.query(
      'SELECT 1 FROM blob_links b JOIN repositories r ON r.id = b.repo_id WHERE (r.name = $1 OR (r.name >= $2 AND r.name < $3)) AND b.digest = $4 LIMIT 1',
      [namespace, `${namespace}/`, `${namespace}0`, digest],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async storageStats(): Promise<StorageStats> {
    const rows = await this.db.query<NamespaceUsageRow>('SELECT * FROM namespace_usage ORDER BY namespace');
    const totals = await this.db.query<{ blobs: string; bytes: string }>(
      'SELECT COALESCE(SUM(blobs), 0) AS blobs, COALESCE(SUM(bytes), 0) AS bytes FROM blob_totals',
    );
    return toStorageStats(rows.rows, totals.rows[0]!);
  }

  async repositoryCounts(repository: string): Promise<{ tags: number; manifests: number }> {
    const r = await this.db.query<{ tags: number; manifests: number }>(
      `SELECT (SELECT COUNT(*) FROM tags t WHERE t.repo_id = r.id)::int AS tags, (SELECT COUNT(*) FROM manifests m WHERE m.repo_id = r.id)::int AS manifests
       FROM repositories r WHERE r.name = $1`,
      [repository],
    );
    return r.rows[0] ?? { tags: 0, manifests: 0 };
  }

  check(): Promise<void> {
    return this.db.ping();
  }

  /** Under a PostgreSQL advisory lock: one replica at a time. */
  runExclusive(job: string, fn: () => Promise<void>): Promise<boolean> {
    return this.db.exclusively(job, fn);
  }

  holdUpload<T>(id: string, fn: () => Promise<T>): Promise<Held<T>> {
    return this.db.hold(`upload:${id}`, fn);
  }

  async close(): Promise<void> {
    await this.links.close();
    await this.db.close();
  }
}

/**
 * Inside a transaction: waits for the namespace's turn (held to commit), so quota
 * checks and the writes they allow take turns across replicas, and each sees what
 * the one before committed (READ COMMITTED reads afresh per statement).
 */
async function lockNamespace(c: Queryable, namespace: string): Promise<void> {
  await c.query("SELECT pg_advisory_xact_lock(hashtext('stowage:quota:' || $1))", [namespace]);
}

const IN_NAMESPACE = '(r.name = $1 OR (r.name >= $2 AND r.name < $3))';

function namespaceArgs(namespace: string): string[] {
  return [namespace, `${namespace}/`, `${namespace}0`];
}

/** Distinct blob and manifest bytes of the namespace (each digest once). */
async function namespaceBytes(c: Queryable, namespace: string): Promise<number> {
  const r = await c.query<{ bytes: string | null }>(
    `SELECT
       COALESCE((SELECT SUM(size) FROM (SELECT b.digest, MAX(b.size) AS size FROM blob_links b JOIN repositories r ON r.id = b.repo_id WHERE ${IN_NAMESPACE} GROUP BY b.digest) x), 0)
     + COALESCE((SELECT SUM(size) FROM (SELECT m.digest, MAX(m.size) AS size FROM manifests m JOIN repositories r ON r.id = m.repo_id WHERE ${IN_NAMESPACE} GROUP BY m.digest) y), 0) AS bytes`,
    namespaceArgs(namespace),
  );
  return Number(r.rows[0]!.bytes ?? 0);
}

/** Under lockNamespace: DENIED when linking the blob adds bytes the namespace's quota has no room for. */
async function assertLinkFits(
  c: Queryable,
  repository: string,
  digest: string,
  size: number,
  quota: QuotaLimits | undefined,
): Promise<void> {
  if (quota?.bytes === undefined) return;
  const linked = await c.query(
    `SELECT 1 FROM blob_links b JOIN repositories r ON r.id = b.repo_id WHERE ${IN_NAMESPACE} AND b.digest = $4 LIMIT 1`,
    [...namespaceArgs(quota.namespace), digest],
  );
  if (linked.rowCount) return;
  const used = await namespaceBytes(c, quota.namespace);
  assertWithinQuota(
    quota,
    repository,
    { bytes: size, manifest: false, tag: false },
    { namespaceBytes: () => used, manifests: () => 0, tags: () => 0 },
  );
}

/** Under lockNamespace: DENIED when the manifest (or its tag) is new and over a limit of the rule. */
async function assertManifestFits(
  c: Queryable,
  repository: string,
  repoId: number | undefined,
  m: ManifestRecord,
  tag: string | undefined,
  quota: QuotaLimits,
): Promise<void> {
  const r = await c.query<{ in_ns: boolean; in_repo: boolean; tagged: boolean; manifests: number; tags: number }>(
    `SELECT
       EXISTS (SELECT 1 FROM manifests m JOIN repositories r ON r.id = m.repo_id WHERE ${IN_NAMESPACE} AND m.digest = $4) AS in_ns,
       EXISTS (SELECT 1 FROM manifests WHERE repo_id = $5 AND digest = $4) AS in_repo,
       EXISTS (SELECT 1 FROM tags WHERE repo_id = $5 AND name = $6) AS tagged,
       (SELECT COUNT(*) FROM manifests WHERE repo_id = $5)::int AS manifests,
       (SELECT COUNT(*) FROM tags WHERE repo_id = $5)::int AS tags`,
    [...namespaceArgs(quota.namespace), m.digest, repoId ?? -1, tag ?? ''],
  );
  const x = r.rows[0]!;
  const addsBytes = !x.in_ns && quota.bytes !== undefined;
  const used = addsBytes ? await namespaceBytes(c, quota.namespace) : 0;
  assertWithinQuota(
    quota,
    repository,
    { bytes: x.in_ns ? 0 : m.size, manifest: !x.in_repo, tag: tag !== undefined && !x.tagged },
    { namespaceBytes: () => used, manifests: () => x.manifests, tags: () => x.tags },
  );
}

/** Inserts or refreshes a link, and the blob record's claim time with it. */
async function insertLink(c: Queryable, repoId: number, digest: string, size: number, at: number): Promise<void> {
  await c.query(
    'INSERT INTO blob_links (repo_id, digest, size, linked_at) VALUES ($1, $2, $3, $4) ON CONFLICT (repo_id, digest) DO UPDATE SET linked_at = excluded.linked_at',
    [repoId, digest, size, at],
  );
  await c.query("UPDATE blobs SET claimed_at = GREATEST(claimed_at, $1) WHERE digest = $2 AND state = 'live'", [
    at,
    digest,
  ]);
}

/** The manifest, its references and tags; the links it used start their grace period now. */
/**
 * Inside a transaction: the outbox rows of the change. The transaction lock makes
 * seq order commit order, so a reader never sees seq n+1 committed before n.
 */
async function appendEvents(c: Queryable, events: RegistryEvent[]): Promise<void> {
  if (events.length === 0) return;
  await c.query("SELECT pg_advisory_xact_lock(hashtext('stowage:events'))");
  await c.query('INSERT INTO events (body, created_at) SELECT unnest($1::text[]), unnest($2::bigint[])', [
    events.map((e) => JSON.stringify(e)),
    events.map((e) => e.at),
  ]);
}

async function advanceCursor(c: Queryable, endpoint: string, seq: number): Promise<void> {
  await c.query(
    'INSERT INTO event_cursors (endpoint, seq) VALUES ($1, $2) ON CONFLICT (endpoint) DO UPDATE SET seq = GREATEST(event_cursors.seq, excluded.seq)',
    [endpoint, seq],
  );
}

async function removeManifest(c: Queryable, repoId: number, digest: string): Promise<boolean> {
  const removed = await c.query('DELETE FROM manifests WHERE repo_id = $1 AND digest = $2', [repoId, digest]);
  if (!removed.rowCount) return false;
  await c.query(
    'UPDATE blob_links SET linked_at = $1 WHERE repo_id = $2 AND digest IN (SELECT ref_digest FROM manifest_refs WHERE repo_id = $2 AND manifest_digest = $3)',
    [Date.now(), repoId, digest],
  );
  await c.query('DELETE FROM manifest_refs WHERE repo_id = $1 AND manifest_digest = $2', [repoId, digest]);
  await c.query('DELETE FROM tags WHERE repo_id = $1 AND digest = $2', [repoId, digest]);
  return true;
}

async function repoIdOf(c: Queryable, name: string): Promise<number | undefined> {
  const r = await c.query<{ id: number }>('SELECT id FROM repositories WHERE name = $1', [name]);
  return r.rows[0]?.id;
}

async function ensureRepo(c: Queryable, name: string): Promise<number> {
  const inserted = await c.query<{ id: number }>(
    'INSERT INTO repositories (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id',
    [name, Date.now()],
  );
  return inserted.rows[0]?.id ?? (await repoIdOf(c, name))!;
}

/**
 * Finds each reference among the repository's manifests and blob links (child
 * manifests as manifests first, everything else as blobs first), taking share
 * locks on what it finds so nothing it relies on disappears before the commit.
 */
async function checkReferences(
  c: Queryable,
  repoId: number,
  references: ManifestReference[],
): Promise<UnmetReference[]> {
  if (references.length === 0) return [];
  const digests = [...new Set(references.map((r) => r.digest))].sort();
  const blobs = await c.query<{ digest: string; size: number }>(
    'SELECT digest, size FROM blob_links WHERE repo_id = $1 AND digest = ANY($2::text[]) ORDER BY digest FOR SHARE',
    [repoId, digests],
  );
  const manifests = await c.query<{ digest: string; size: number }>(
    'SELECT digest, size FROM manifests WHERE repo_id = $1 AND digest = ANY($2::text[]) ORDER BY digest FOR SHARE',
    [repoId, digests],
  );
  const blobSize = new Map(blobs.rows.map((r) => [r.digest, r.size]));
  const manifestSize = new Map(manifests.rows.map((r) => [r.digest, r.size]));
  const unmet: UnmetReference[] = [];
  for (const reference of references) {
    const size =
      reference.role === 'manifest'
        ? (manifestSize.get(reference.digest) ?? blobSize.get(reference.digest))
        : (blobSize.get(reference.digest) ?? manifestSize.get(reference.digest));
    if (size === undefined) unmet.push({ reference, problem: 'missing' });
    else if (size !== reference.size) unmet.push({ reference, problem: 'size-mismatch', actualSize: size });
  }
  return unmet;
}
