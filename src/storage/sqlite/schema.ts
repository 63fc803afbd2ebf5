/**
 * The embedded database's schema, described in one place. Bump SCHEMA_VERSION
 * and append a migration when it changes.
 *
 * repositories   one row per repository name
 * blobs          one row per blob whose bytes may exist: size, state (live | deleting),
 *                claimed_at, and its id, the claim an upload commit must still hold
 *                when it links (the garbage collection fence, docs/gc.md)
 * blob_links     blob digests a repository may see (pushed or mounted there), with size
 *                and linked_at (last linked, or last released by a manifest delete)
 * manifests      manifest bytes as pushed, plus what the referrers API needs,
 *                pulled_at (batched, for retention) and kind (core/artifact-kind.ts, for
 *                browsing; filled in by the store from the bytes, backfilled after migration 8)
 * manifest_refs  which blobs/child manifests each manifest references (existence
 *                checks, delete protection, garbage collection)
 * tags           tag → manifest digest
 * uploads        open upload sessions (their bytes live in the blob store) and who
 *                opened them (owner; NULL for anonymous sessions)
 * leases         who runs a background job (runExclusive: holder host:pid:id, expiry; lease-jobs.ts)
 * access_tokens  personal access tokens (meaning in src/auth/pat-store.ts): owner, scopes,
 *                SHA-256 of the secret (never the secret), expiry, revocation
 * namespace_usage  per namespace (first path component): blob links and their bytes, manifests
 *                and their bytes; kept by triggers so metrics read it without scanning
 * blob_totals    blob records and their bytes (one row), kept by triggers likewise
 * events         the outbox: one JSON event per change, written with the change
 * event_cursors  per webhook endpoint, the last event seq it is done with
 * event_deliveries  per endpoint and event: attempts, state, last error, next try
 * upstream_confirmations  pull-through cache: when upstream last confirmed a cached tag (or a
 *                subject's referrers), per repository name and key (the tag TTL, src/proxy)
 */
export const SCHEMA_VERSION = 9;

export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE repositories (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE blob_links (
    repo_id    INTEGER NOT NULL REFERENCES repositories(id),
    digest     TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (repo_id, digest)
  ) WITHOUT ROWID;
  CREATE INDEX blob_links_by_digest ON blob_links(digest);
  CREATE TABLE manifests (
    repo_id       INTEGER NOT NULL REFERENCES repositories(id),
    digest        TEXT    NOT NULL,
    media_type    TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    content       BLOB    NOT NULL,
    subject       TEXT,
    artifact_type TEXT,
    annotations   TEXT,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (repo_id, digest)
  );
  CREATE INDEX manifests_by_subject ON manifests(repo_id, subject) WHERE subject IS NOT NULL;
  CREATE TABLE manifest_refs (
    repo_id         INTEGER NOT NULL,
    manifest_digest TEXT    NOT NULL,
    ref_digest      TEXT    NOT NULL,
    PRIMARY KEY (repo_id, manifest_digest, ref_digest)
  ) WITHOUT ROWID;
  CREATE INDEX manifest_refs_by_ref ON manifest_refs(repo_id, ref_digest);
  CREATE TABLE tags (
    repo_id    INTEGER NOT NULL REFERENCES repositories(id),
    name       TEXT    NOT NULL,
    digest     TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (repo_id, name)
  ) WITHOUT ROWID;
  CREATE INDEX tags_by_digest ON tags(repo_id, digest);
  CREATE TABLE uploads (
    id         TEXT    PRIMARY KEY,
    repository TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX uploads_by_updated ON uploads(updated_at);
  `,
  `
  CREATE TABLE access_tokens (
    id           TEXT    PRIMARY KEY,
    username     TEXT    NOT NULL,
    note         TEXT    NOT NULL DEFAULT '',
    scopes       TEXT    NOT NULL,
    secret_hash  BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
  );
  CREATE INDEX access_tokens_by_user ON access_tokens(username);
  `,
  `
  CREATE TABLE blobs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    digest     TEXT    NOT NULL UNIQUE,
    size       INTEGER NOT NULL,
    state      TEXT    NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'deleting')),
    claimed_at INTEGER NOT NULL,
    marked_at  INTEGER
  );
  CREATE INDEX blobs_by_state ON blobs(state, claimed_at);
  INSERT INTO blobs (digest, size, claimed_at) SELECT digest, MAX(size), MAX(created_at) FROM blob_links GROUP BY digest;
  ALTER TABLE blob_links RENAME COLUMN created_at TO linked_at;
  ALTER TABLE manifests ADD COLUMN pulled_at INTEGER;
  CREATE TABLE leases (
    name       TEXT    PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
  );
  `,
  `
  ALTER TABLE uploads ADD COLUMN owner TEXT;
  CREATE INDEX uploads_by_repository ON uploads(repository);
  CREATE INDEX uploads_by_owner ON uploads(owner) WHERE owner IS NOT NULL;
  `,
  `
  CREATE TABLE namespace_usage (
    namespace      TEXT    PRIMARY KEY,
    blob_links     INTEGER NOT NULL DEFAULT 0,
    blob_bytes     INTEGER NOT NULL DEFAULT 0,
    manifests      INTEGER NOT NULL DEFAULT 0,
    manifest_bytes INTEGER NOT NULL DEFAULT 0
  );
  CREATE TRIGGER blob_links_usage_in AFTER INSERT ON blob_links BEGIN
    INSERT INTO namespace_usage (namespace, blob_links, blob_bytes)
    SELECT CASE WHEN instr(r.name, '/') > 0 THEN substr(r.name, 1, instr(r.name, '/') - 1) ELSE r.name END, 1, NEW.size FROM repositories r WHERE r.id = NEW.repo_id
    ON CONFLICT (namespace) DO UPDATE SET blob_links = blob_links + excluded.blob_links, blob_bytes = blob_bytes + excluded.blob_bytes;
  END;
  CREATE TRIGGER blob_links_usage_out AFTER DELETE ON blob_links BEGIN
    INSERT INTO namespace_usage (namespace, blob_links, blob_bytes)
    SELECT CASE WHEN instr(r.name, '/') > 0 THEN substr(r.name, 1, instr(r.name, '/') - 1) ELSE r.name END, -1, -OLD.size FROM repositories r WHERE r.id = OLD.repo_id
    ON CONFLICT (namespace) DO UPDATE SET blob_links = blob_links + excluded.blob_links, blob_bytes = blob_bytes + excluded.blob_bytes;
  END;
  CREATE TRIGGER manifests_usage_in AFTER INSERT ON manifests BEGIN
    INSERT INTO namespace_usage (namespace, manifests, manifest_bytes)
    SELECT CASE WHEN instr(r.name, '/') > 0 THEN substr(r.name, 1, instr(r.name, '/') - 1) ELSE r.name END, 1, NEW.size FROM repositories r WHERE r.id = NEW.repo_id
    ON CONFLICT (namespace) DO UPDATE SET manifests = manifests + excluded.manifests, manifest_bytes = manifest_bytes + excluded.manifest_bytes;
  END;
  CREATE TRIGGER manifests_usage_out AFTER DELETE ON manifests BEGIN
    INSERT INTO namespace_usage (namespace, manifests, manifest_bytes)
    SELECT CASE WHEN instr(r.name, '/') > 0 THEN substr(r.name, 1, instr(r.name, '/') - 1) ELSE r.name END, -1, -OLD.size FROM repositories r WHERE r.id = OLD.repo_id
    ON CONFLICT (namespace) DO UPDATE SET manifests = manifests + excluded.manifests, manifest_bytes = manifest_bytes + excluded.manifest_bytes;
  END;
  INSERT INTO namespace_usage (namespace, blob_links, blob_bytes)
    SELECT CASE WHEN instr(r.name, '/') > 0 THEN substr(r.name, 1, instr(r.name, '/') - 1) ELSE r.name END, COUNT(*), SUM(b.size) FROM blob_links b JOIN repositories r ON r.id = b.repo_id GROUP BY 1
    ON CONFLICT (namespace) DO UPDATE SET blob_links = excluded.blob_links, blob_bytes = excluded.blob_bytes;
  INSERT INTO namespace_usage (namespace, manifests, manifest_bytes)
    SELECT CASE WHEN instr(r.name, '/') > 0 THEN substr(r.name, 1, instr(r.name, '/') - 1) ELSE r.name END, COUNT(*), SUM(m.size) FROM manifests m JOIN repositories r ON r.id = m.repo_id GROUP BY 1
    ON CONFLICT (namespace) DO UPDATE SET manifests = excluded.manifests, manifest_bytes = excluded.manifest_bytes;
  CREATE TABLE blob_totals (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    blobs INTEGER NOT NULL,
    bytes INTEGER NOT NULL
  );
  INSERT INTO blob_totals (id, blobs, bytes) SELECT 1, COUNT(*), COALESCE(SUM(size), 0) FROM blobs;
  CREATE TRIGGER blobs_totals_in AFTER INSERT ON blobs BEGIN
    UPDATE blob_totals SET blobs = blobs + 1, bytes = bytes + NEW.size WHERE id = 1;
  END;
  CREATE TRIGGER blobs_totals_out AFTER DELETE ON blobs BEGIN
    UPDATE blob_totals SET blobs = blobs - 1, bytes = bytes - OLD.size WHERE id = 1;
  END;
  `,
  `
  CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE event_cursors (
    endpoint TEXT    PRIMARY KEY,
    seq      INTEGER NOT NULL
  );
  CREATE TABLE event_deliveries (
    endpoint   TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    state      TEXT    NOT NULL,
    attempts   INTEGER NOT NULL,
    last_error TEXT,
    next_at    INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (endpoint, seq)
  );
  CREATE INDEX event_deliveries_by_state ON event_deliveries(endpoint, state, seq);
  `,
  // runExclusive now keeps every background job's lease here (holder host:pid:id, 30 s, renewed):
  // a collector lease of the old format (10 min, anonymous holder) is dropped so it blocks nothing.
  `
  DELETE FROM leases;
  `,
  // Browsing (src/storage/browse.ts): each manifest's kind, and tags by push time.
  `
  ALTER TABLE manifests ADD COLUMN kind TEXT;
  CREATE INDEX tags_by_time ON tags(repo_id, updated_at DESC, name);
  `,
  // The pull-through cache's tag TTLs, shared by replicas and kept over restarts.
  `
  CREATE TABLE upstream_confirmations (
    repository   TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    confirmed_at INTEGER NOT NULL,
    PRIMARY KEY (repository, key)
  ) WITHOUT ROWID;
  `,
];
