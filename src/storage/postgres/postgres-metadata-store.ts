import { paginate, type Page, type PageRequest } from '../../core/pagination.js';
import type { ManifestReference } from '../../core/manifest.js';
import { toSummary, type ManifestRow } from '../manifest-row.js';
import type { AccessTokenRecord, ManifestRecord, ManifestSummary, MetadataStore, UnmetReference, UploadRecord } from '../metadata-store.js';
import { tokenValues, toToken, type TokenRow } from '../token-row.js';
import { Database, type PostgresOptions, type Queryable } from './database.js';


interface UploadRow {
  id: string;
  repository: string;
  created_at: number;
  updated_at: number;
}

const SUMMARY_COLUMNS = 'm.digest, m.media_type, m.size, m.subject, m.artifact_type, m.annotations, m.created_at';

/**
 * The metadata store for several replicas: PostgreSQL through `pg`. Every method
 * is one statement or one transaction. Concurrent writers on different replicas
 * are kept apart by row locks, not by process-local mutexes: a manifest PUT holds
 * share locks on the links and manifests it references (so an unlink or delete
 * waits for it, then sees the new references), an unlink takes the link row's
 * lock before it looks for references, and tags move by upsert.
 */
export class PostgresMetadataStore implements MetadataStore {
  private constructor(readonly db: Database) {}

  /** Connects and applies pending migrations (under an advisory lock). */
  static async open(options: PostgresOptions): Promise<PostgresMetadataStore> {
    const db = new Database(options);
    try {
      await db.migrate();
    } catch (e) {
      await db.close();
      throw e;
    }
    return new PostgresMetadataStore(db);
  }

  async createUpload(r: UploadRecord): Promise<void> {
    await this.db.query('INSERT INTO uploads (id, repository, created_at, updated_at) VALUES ($1, $2, $3, $4)', [r.id, r.repository, r.createdAt, r.updatedAt]);
  }

  async getUpload(id: string): Promise<UploadRecord | undefined> {
    const row = (await this.db.query<UploadRow>('SELECT * FROM uploads WHERE id = $1', [id])).rows[0];
    return row && toUpload(row);
  }

  async touchUpload(id: string, at: number): Promise<void> {
    await this.db.query('UPDATE uploads SET updated_at = $1 WHERE id = $2', [at, id]);
  }

  async deleteUpload(id: string): Promise<void> {
    await this.db.query('DELETE FROM uploads WHERE id = $1', [id]);
  }

  async staleUploads(before: number): Promise<UploadRecord[]> {
    return (await this.db.query<UploadRow>('SELECT * FROM uploads WHERE updated_at < $1 ORDER BY updated_at, id', [before])).rows.map(toUpload);
  }

  async linkBlob(repository: string, digest: string, size: number): Promise<void> {
    await this.db.tx(async (c) => {
      const repoId = await ensureRepo(c, repository);
      await c.query('INSERT INTO blob_links (repo_id, digest, size, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [repoId, digest, size, Date.now()]);
    });
  }

  async blobLink(repository: string, digest: string): Promise<{ size: number } | undefined> {
    const r = await this.db.query<{ size: number }>('SELECT b.size FROM blob_links b JOIN repositories r ON r.id = b.repo_id WHERE r.name = $1 AND b.digest = $2', [repository, digest]);
    return r.rows[0] && { size: r.rows[0].size };
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
      const used = await c.query('SELECT 1 FROM manifest_refs WHERE repo_id = $1 AND ref_digest = $2 LIMIT 1', [repoId, digest]);
      if (used.rowCount) return 'referenced';
      await c.query('DELETE FROM blob_links WHERE repo_id = $1 AND digest = $2', [repoId, digest]);
      return 'removed';
    });
  }

  putManifest(repository: string, m: ManifestRecord, references: ManifestReference[], tag?: string): Promise<UnmetReference[]> {
    return this.db.tx(async (c): Promise<UnmetReference[]> => {
      let repoId = await repoIdOf(c, repository);
      const unmet = repoId === undefined ? references.map((reference) => ({ reference, problem: 'missing' as const })) : await checkReferences(c, repoId, references);
      if (unmet.length > 0) return unmet;
      repoId ??= await ensureRepo(c, repository);
      // Insert, or lock the row that is there so a concurrent delete waits for us;
      // if a delete removed it in between, insert again.
      for (let attempt = 0; ; attempt++) {
        const inserted = await c.query(
          `INSERT INTO manifests (repo_id, digest, media_type, size, content, subject, artifact_type, annotations, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
          [repoId, m.digest, m.mediaType, m.size, m.content, m.subject ?? null, m.artifactType ?? null, m.annotations ? JSON.stringify(m.annotations) : null, m.createdAt],
        );
        if (inserted.rowCount) {
          if (references.length > 0) {
            await c.query('INSERT INTO manifest_refs (repo_id, manifest_digest, ref_digest) SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING', [
              repoId,
              m.digest,
              references.map((r) => r.digest),
            ]);
          }
          break;
        }
        const held = await c.query('SELECT 1 FROM manifests WHERE repo_id = $1 AND digest = $2 FOR SHARE', [repoId, m.digest]);
        if (held.rowCount || attempt >= 3) break;
      }
      if (tag !== undefined) {
        await c.query(
          'INSERT INTO tags (repo_id, name, digest, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (repo_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at',
          [repoId, tag, m.digest, Date.now()],
        );
      }
      return [];
    });
  }

  async getManifest(repository: string, digest: string): Promise<ManifestRecord | undefined> {
    const r = await this.db.query<ManifestRow>('SELECT m.* FROM manifests m JOIN repositories r ON r.id = m.repo_id WHERE r.name = $1 AND m.digest = $2', [repository, digest]);
    const row = r.rows[0];
    return row && { ...toSummary(row), content: row.content };
  }

  async resolveTag(repository: string, tag: string): Promise<string | undefined> {
    const r = await this.db.query<{ digest: string }>('SELECT t.digest FROM tags t JOIN repositories r ON r.id = t.repo_id WHERE r.name = $1 AND t.name = $2', [repository, tag]);
    return r.rows[0]?.digest;
  }

  deleteManifest(repository: string, digest: string): Promise<boolean> {
    return this.db.tx(async (c) => {
      const repoId = await repoIdOf(c, repository);
      if (repoId === undefined) return false;
      const removed = await c.query('DELETE FROM manifests WHERE repo_id = $1 AND digest = $2', [repoId, digest]);
      if (!removed.rowCount) return false;
      await c.query('DELETE FROM manifest_refs WHERE repo_id = $1 AND manifest_digest = $2', [repoId, digest]);
      await c.query('DELETE FROM tags WHERE repo_id = $1 AND digest = $2', [repoId, digest]);
      return true;
    });
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    const r = await this.db.query('DELETE FROM tags t USING repositories r WHERE r.id = t.repo_id AND r.name = $1 AND t.name = $2', [repository, tag]);
    return (r.rowCount ?? 0) > 0;
  }

  async listTags(repository: string, page: PageRequest): Promise<Page<string> | undefined> {
    const repoId = await repoIdOf(this.db, repository);
    if (repoId === undefined) return undefined;
    // The primary key (repo_id, name) is the index this walks: no sort, no offset.
    return paginate(page, async (after, limit) =>
      (await this.db.query<{ name: string }>('SELECT name FROM tags WHERE repo_id = $1 AND name > $2 ORDER BY name LIMIT $3', [repoId, after, limit])).rows.map((r) => r.name),
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
        : await this.db.query<TokenRow>('SELECT * FROM access_tokens WHERE username = $1 ORDER BY created_at, id', [user]);
    return r.rows.map(toToken);
  }

  async revokeToken(id: string, at: number): Promise<boolean> {
    const r = await this.db.query('UPDATE access_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id]);
    return (r.rowCount ?? 0) > 0;
  }

  async touchToken(id: string, at: number): Promise<void> {
    await this.db.query('UPDATE access_tokens SET last_used_at = $1 WHERE id = $2', [at, id]);
  }

  check(): Promise<void> {
    return this.db.ping();
  }

  /** Under a PostgreSQL advisory lock: one replica at a time. */
  runExclusive(job: string, fn: () => Promise<void>): Promise<boolean> {
    return this.db.exclusively(job, fn);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

async function repoIdOf(c: Queryable, name: string): Promise<number | undefined> {
  const r = await c.query<{ id: number }>('SELECT id FROM repositories WHERE name = $1', [name]);
  return r.rows[0]?.id;
}

async function ensureRepo(c: Queryable, name: string): Promise<number> {
  const inserted = await c.query<{ id: number }>('INSERT INTO repositories (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id', [name, Date.now()]);
  return inserted.rows[0]?.id ?? (await repoIdOf(c, name))!;
}

/**
 * Finds each reference among the repository's manifests and blob links (child
 * manifests as manifests first, everything else as blobs first), taking share
 * locks on what it finds so nothing it relies on disappears before the commit.
 */
async function checkReferences(c: Queryable, repoId: number, references: ManifestReference[]): Promise<UnmetReference[]> {
  if (references.length === 0) return [];
  const digests = [...new Set(references.map((r) => r.digest))].sort();
  const blobs = await c.query<{ digest: string; size: number }>('SELECT digest, size FROM blob_links WHERE repo_id = $1 AND digest = ANY($2::text[]) ORDER BY digest FOR SHARE', [repoId, digests]);
  const manifests = await c.query<{ digest: string; size: number }>('SELECT digest, size FROM manifests WHERE repo_id = $1 AND digest = ANY($2::text[]) ORDER BY digest FOR SHARE', [repoId, digests]);
  const blobSize = new Map(blobs.rows.map((r) => [r.digest, r.size]));
  const manifestSize = new Map(manifests.rows.map((r) => [r.digest, r.size]));
  const unmet: UnmetReference[] = [];
  for (const reference of references) {
    const size =
      reference.role === 'manifest' ? (manifestSize.get(reference.digest) ?? blobSize.get(reference.digest)) : (blobSize.get(reference.digest) ?? manifestSize.get(reference.digest));
    if (size === undefined) unmet.push({ reference, problem: 'missing' });
    else if (size !== reference.size) unmet.push({ reference, problem: 'size-mismatch', actualSize: size });
  }
  return unmet;
}

function toUpload(row: UploadRow): UploadRecord {
  return { id: row.id, repository: row.repository, createdAt: row.created_at, updatedAt: row.updated_at };
}
