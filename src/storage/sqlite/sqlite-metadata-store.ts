import Database from 'better-sqlite3';
import { paginate, type Page, type PageRequest } from '../../core/pagination.js';
import type { ManifestReference } from '../../core/manifest.js';
import { toSummary, type ManifestRow } from '../manifest-row.js';
import type { AccessTokenRecord, ManifestRecord, ManifestSummary, MetadataStore, UnmetReference, UploadRecord } from '../metadata-store.js';
import { tokenValues, toToken, type TokenRow } from '../token-row.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import { GroupCommit } from './group-commit.js';
import { LocalJobs } from '../local-jobs.js';

export { MAX_PAGE } from '../../core/pagination.js';

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
  private readonly jobs = new LocalJobs();

  constructor(path: string, options: SqliteMetadataStoreOptions = {}) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // FULL: a manifest or tag is on disk before the client hears 201.
    this.db.pragma(`synchronous = ${options.fsync === false ? 'OFF' : 'FULL'}`);
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.commits = new GroupCommit(this.db);
    const db = this.db;
    this.q = {
      repoId: db.prepare<[string], { id: number }>('SELECT id FROM repositories WHERE name = ?'),
      insertRepo: db.prepare<[string, number]>('INSERT OR IGNORE INTO repositories (name, created_at) VALUES (?, ?)'),
      insertUpload: db.prepare<[string, string, number, number]>('INSERT INTO uploads (id, repository, created_at, updated_at) VALUES (?, ?, ?, ?)'),
      getUpload: db.prepare<[string], { id: string; repository: string; created_at: number; updated_at: number }>('SELECT * FROM uploads WHERE id = ?'),
      touchUpload: db.prepare<[number, string]>('UPDATE uploads SET updated_at = ? WHERE id = ?'),
      deleteUpload: db.prepare<[string]>('DELETE FROM uploads WHERE id = ?'),
      staleUploads: db.prepare<[number], { id: string; repository: string; created_at: number; updated_at: number }>('SELECT * FROM uploads WHERE updated_at < ? ORDER BY updated_at'),
      linkBlob: db.prepare<[number, string, number, number]>('INSERT OR IGNORE INTO blob_links (repo_id, digest, size, created_at) VALUES (?, ?, ?, ?)'),
      blobLink: db.prepare<[string, string], { size: number }>('SELECT b.size FROM blob_links b JOIN repositories r ON r.id = b.repo_id WHERE r.name = ? AND b.digest = ?'),
      blobLinkById: db.prepare<[number, string], { size: number }>('SELECT size FROM blob_links WHERE repo_id = ? AND digest = ?'),
      unlinkBlob: db.prepare<[number, string]>('DELETE FROM blob_links WHERE repo_id = ? AND digest = ?'),
      referencedBy: db
        .prepare<[string, string], string>('SELECT f.manifest_digest FROM manifest_refs f JOIN repositories r ON r.id = f.repo_id WHERE r.name = ? AND f.ref_digest = ? ORDER BY f.manifest_digest')
        .pluck(),
      isReferenced: db.prepare<[number, string], { one: number }>('SELECT 1 AS one FROM manifest_refs WHERE repo_id = ? AND ref_digest = ? LIMIT 1'),
      manifestSize: db.prepare<[number, string], { size: number }>('SELECT size FROM manifests WHERE repo_id = ? AND digest = ?'),
      insertManifest: db.prepare<[number, string, string, number, Buffer, string | null, string | null, string | null, number]>(
        'INSERT OR IGNORE INTO manifests (repo_id, digest, media_type, size, content, subject, artifact_type, annotations, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      insertRef: db.prepare<[number, string, string]>('INSERT OR IGNORE INTO manifest_refs (repo_id, manifest_digest, ref_digest) VALUES (?, ?, ?)'),
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
      deleteTag: db.prepare<[number, string]>('DELETE FROM tags WHERE repo_id = ? AND name = ?'),
      // pluck(): plain strings, not one object per row (tag lists are the hot path).
      listTags: db.prepare<[number, string, number], string>('SELECT name FROM tags WHERE repo_id = ? AND name > ? ORDER BY name LIMIT ?').pluck(),
      referrers: db.prepare<[string, string], ManifestRow>(
        'SELECT m.digest, m.media_type, m.size, m.subject, m.artifact_type, m.annotations, m.created_at FROM manifests m JOIN repositories r ON r.id = m.repo_id WHERE r.name = ? AND m.subject = ? ORDER BY m.created_at DESC, m.digest',
      ),
      listRepos: db
        .prepare<[string, number], string>(
          'SELECT r.name FROM repositories r WHERE r.name > ? AND EXISTS (SELECT 1 FROM manifests m WHERE m.repo_id = r.id) ORDER BY r.name LIMIT ?',
        )
        .pluck(),
      insertToken: db.prepare<[string, string, string, string, Buffer, number, number | null, number | null, number | null]>(
        'INSERT INTO access_tokens (id, username, note, scopes, secret_hash, created_at, expires_at, last_used_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      getToken: db.prepare<[string], TokenRow>('SELECT * FROM access_tokens WHERE id = ?'),
      allTokens: db.prepare<[], TokenRow>('SELECT * FROM access_tokens ORDER BY username, created_at'),
      userTokens: db.prepare<[string], TokenRow>('SELECT * FROM access_tokens WHERE username = ? ORDER BY created_at'),
      revokeToken: db.prepare<[number, string]>('UPDATE access_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      touchToken: db.prepare<[number, string]>('UPDATE access_tokens SET last_used_at = ? WHERE id = ?'),
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
      })
      .immediate();
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
      this.q.insertUpload.run(r.id, r.repository, r.createdAt, r.updatedAt);
    });
  }

  async getUpload(id: string): Promise<UploadRecord | undefined> {
    const row = this.q.getUpload.get(id);
    return row && { id: row.id, repository: row.repository, createdAt: row.created_at, updatedAt: row.updated_at };
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
    return this.q.staleUploads.all(before).map((row) => ({ id: row.id, repository: row.repository, createdAt: row.created_at, updatedAt: row.updated_at }));
  }

  linkBlob(repository: string, digest: string, size: number): Promise<void> {
    return this.commits.write(() => {
      this.q.linkBlob.run(this.ensureRepo(repository), digest, size, Date.now());
    });
  }

  async blobLink(repository: string, digest: string): Promise<{ size: number } | undefined> {
    return this.q.blobLink.get(repository, digest);
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

  putManifest(repository: string, m: ManifestRecord, references: ManifestReference[], tag?: string): Promise<UnmetReference[]> {
    return this.commits.write((): UnmetReference[] => {
      const repo = this.q.repoId.get(repository);
      const unmet: UnmetReference[] = [];
      for (const ref of references) {
        const found = repo ? this.lookupReference(repo.id, ref) : undefined;
        if (!found) unmet.push({ reference: ref, problem: 'missing' });
        else if (found.size !== ref.size) unmet.push({ reference: ref, problem: 'size-mismatch', actualSize: found.size });
      }
      if (unmet.length > 0) return unmet;
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
      );
      if (inserted.changes > 0) {
        for (const ref of references) this.q.insertRef.run(repoId, m.digest, ref.digest);
      }
      if (tag !== undefined) this.q.setTag.run(repoId, tag, m.digest, Date.now());
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

  deleteManifest(repository: string, digest: string): Promise<boolean> {
    return this.commits.write((): boolean => {
      const repo = this.q.repoId.get(repository);
      if (!repo) return false;
      const removed = this.q.deleteManifest.run(repo.id, digest).changes > 0;
      if (removed) {
        this.q.deleteRefs.run(repo.id, digest);
        this.q.deleteTagsOf.run(repo.id, digest);
      }
      return removed;
    });
  }

  deleteTag(repository: string, tag: string): Promise<boolean> {
    return this.commits.write(() => {
      const repo = this.q.repoId.get(repository);
      return repo ? this.q.deleteTag.run(repo.id, tag).changes > 0 : false;
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

  async check(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  runExclusive(job: string, fn: () => Promise<void>): Promise<boolean> {
    return this.jobs.runExclusive(job, fn);
  }

  async close(): Promise<void> {
    await this.commits.drain();
    if (this.db.open) this.db.close();
  }
}
