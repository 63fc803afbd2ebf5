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
 * manifests      manifest bytes as pushed, plus what the referrers API needs, and
 *                pulled_at (batched, for retention)
 * manifest_refs  which blobs/child manifests each manifest references (existence
 *                checks, delete protection, garbage collection)
 * tags           tag → manifest digest
 * uploads        open upload sessions (their bytes live in the blob store) and who
 *                opened them (owner; NULL for anonymous sessions)
 * leases         named leases (the collector's: one collection at a time)
 * access_tokens  personal access tokens (meaning in src/auth/pat-store.ts): owner, scopes,
 *                SHA-256 of the secret (never the secret), expiry, revocation
 */
export const SCHEMA_VERSION = 4;

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
];
