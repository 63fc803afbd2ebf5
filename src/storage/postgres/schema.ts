/**
 * The PostgreSQL schema, described in one place: the same facts as the embedded
 * database (src/storage/sqlite/schema.ts), in PostgreSQL's types. Append a
 * migration to change it; `stowage_schema` records which ones ran. Names are
 * COLLATE "C" so listings come out in byte order, as the API requires, whatever
 * the database's default collation.
 *
 * stowage_schema  version of each applied migration
 * repositories    one row per repository name
 * blobs           one row per blob whose bytes may exist: size, state (live | deleting),
 *                 claimed_at, and its id (the claim; the garbage collection fence, docs/gc.md)
 * blob_links      blob digests a repository may see (pushed or mounted there), with size
 *                 and linked_at (last linked, or last released by a manifest delete)
 * manifests       manifest bytes as pushed, plus what the referrers API needs, pulled_at, and
 *                 kind (core/artifact-kind.ts, for browsing; set by the store from the bytes,
 *                 backfilled by PostgresMetadataStore.open after the migration adding it)
 * manifest_refs   which blobs/child manifests each manifest references
 * tags            tag → manifest digest
 * uploads         open upload sessions (their bytes and hash state live in the blob store)
 *                 and who opened them (owner; NULL for anonymous sessions)
 * access_tokens   personal access tokens: owner, scopes, SHA-256 of the secret, expiry, revocation
 * namespace_usage per namespace (first path component): blob links and their bytes, manifests
 *                 and their bytes; kept by triggers so metrics read it without scanning
 * blob_totals     blob records and their bytes in 16 shards (no one hot row), kept by triggers
 * events          the outbox: one JSON event per change, written with the change (under a
 *                 transaction lock, so seq order is commit order)
 * event_cursors   per webhook endpoint, the last event seq it is done with
 * event_deliveries per endpoint and event: attempts, state, last error, next try
 * upstream_confirmations pull-through cache: when upstream last confirmed a cached tag (or a
 *                 subject's referrers), per repository name and key (the tag TTL, src/proxy)
 */
export const PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE repositories (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE blob_links (
    repo_id    BIGINT NOT NULL REFERENCES repositories(id),
    digest     TEXT COLLATE "C" NOT NULL,
    size       BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (repo_id, digest)
  );
  CREATE INDEX blob_links_by_digest ON blob_links(digest);
  CREATE TABLE manifests (
    repo_id       BIGINT NOT NULL REFERENCES repositories(id),
    digest        TEXT COLLATE "C" NOT NULL,
    media_type    TEXT NOT NULL,
    size          BIGINT NOT NULL,
    content       BYTEA NOT NULL,
    subject       TEXT COLLATE "C",
    artifact_type TEXT,
    annotations   JSONB,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (repo_id, digest)
  );
  CREATE INDEX manifests_by_subject ON manifests(repo_id, subject) WHERE subject IS NOT NULL;
  CREATE TABLE manifest_refs (
    repo_id         BIGINT NOT NULL,
    manifest_digest TEXT COLLATE "C" NOT NULL,
    ref_digest      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (repo_id, manifest_digest, ref_digest)
  );
  CREATE INDEX manifest_refs_by_ref ON manifest_refs(repo_id, ref_digest);
  CREATE TABLE tags (
    repo_id    BIGINT NOT NULL REFERENCES repositories(id),
    name       TEXT COLLATE "C" NOT NULL,
    digest     TEXT COLLATE "C" NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (repo_id, name)
  );
  CREATE INDEX tags_by_digest ON tags(repo_id, digest);
  CREATE TABLE uploads (
    id         TEXT PRIMARY KEY,
    repository TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE INDEX uploads_by_updated ON uploads(updated_at);
  CREATE TABLE access_tokens (
    id           TEXT PRIMARY KEY,
    username     TEXT NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    scopes       TEXT NOT NULL,
    secret_hash  BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    revoked_at   BIGINT
  );
  CREATE INDEX access_tokens_by_user ON access_tokens(username);
  `,
  `
  CREATE TABLE blobs (
    id         BIGSERIAL PRIMARY KEY,
    digest     TEXT COLLATE "C" NOT NULL UNIQUE,
    size       BIGINT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'deleting')),
    claimed_at BIGINT NOT NULL,
    marked_at  BIGINT
  );
  CREATE INDEX blobs_by_state ON blobs(state, claimed_at);
  INSERT INTO blobs (digest, size, claimed_at) SELECT digest, MAX(size), MAX(created_at) FROM blob_links GROUP BY digest;
  ALTER TABLE blob_links RENAME COLUMN created_at TO linked_at;
  ALTER TABLE manifests ADD COLUMN pulled_at BIGINT;
  CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
  );
  `,
  `
  ALTER TABLE uploads ADD COLUMN owner TEXT;
  CREATE INDEX uploads_by_repository ON uploads(repository);
  CREATE INDEX uploads_by_owner ON uploads(owner) WHERE owner IS NOT NULL;
  `,
  `
  CREATE TABLE namespace_usage (
    namespace      TEXT COLLATE "C" PRIMARY KEY,
    blob_links     BIGINT NOT NULL DEFAULT 0,
    blob_bytes     BIGINT NOT NULL DEFAULT 0,
    manifests      BIGINT NOT NULL DEFAULT 0,
    manifest_bytes BIGINT NOT NULL DEFAULT 0
  );
  CREATE FUNCTION stowage_usage_change(repo BIGINT, links BIGINT, link_bytes BIGINT, mans BIGINT, man_bytes BIGINT)
  RETURNS void LANGUAGE sql AS $$
    INSERT INTO namespace_usage (namespace, blob_links, blob_bytes, manifests, manifest_bytes)
    SELECT split_part(r.name, '/', 1), links, link_bytes, mans, man_bytes FROM repositories r WHERE r.id = repo
    ON CONFLICT (namespace) DO UPDATE SET
      blob_links = namespace_usage.blob_links + excluded.blob_links,
      blob_bytes = namespace_usage.blob_bytes + excluded.blob_bytes,
      manifests = namespace_usage.manifests + excluded.manifests,
      manifest_bytes = namespace_usage.manifest_bytes + excluded.manifest_bytes
  $$;
  CREATE FUNCTION stowage_blob_links_usage() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'INSERT' THEN PERFORM stowage_usage_change(NEW.repo_id, 1, NEW.size, 0, 0);
    ELSE PERFORM stowage_usage_change(OLD.repo_id, -1, -OLD.size, 0, 0);
    END IF;
    RETURN NULL;
  END $$;
  CREATE FUNCTION stowage_manifests_usage() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'INSERT' THEN PERFORM stowage_usage_change(NEW.repo_id, 0, 0, 1, NEW.size);
    ELSE PERFORM stowage_usage_change(OLD.repo_id, 0, 0, -1, -OLD.size);
    END IF;
    RETURN NULL;
  END $$;
  CREATE TRIGGER blob_links_usage AFTER INSERT OR DELETE ON blob_links
    FOR EACH ROW EXECUTE FUNCTION stowage_blob_links_usage();
  CREATE TRIGGER manifests_usage AFTER INSERT OR DELETE ON manifests
    FOR EACH ROW EXECUTE FUNCTION stowage_manifests_usage();
  INSERT INTO namespace_usage (namespace, blob_links, blob_bytes)
    SELECT split_part(r.name, '/', 1), COUNT(*), SUM(b.size) FROM blob_links b JOIN repositories r ON r.id = b.repo_id GROUP BY 1
    ON CONFLICT (namespace) DO UPDATE SET blob_links = excluded.blob_links, blob_bytes = excluded.blob_bytes;
  INSERT INTO namespace_usage (namespace, manifests, manifest_bytes)
    SELECT split_part(r.name, '/', 1), COUNT(*), SUM(m.size) FROM manifests m JOIN repositories r ON r.id = m.repo_id GROUP BY 1
    ON CONFLICT (namespace) DO UPDATE SET manifests = excluded.manifests, manifest_bytes = excluded.manifest_bytes;
  CREATE TABLE blob_totals (
    shard SMALLINT PRIMARY KEY,
    blobs BIGINT NOT NULL DEFAULT 0,
    bytes BIGINT NOT NULL DEFAULT 0
  );
  INSERT INTO blob_totals (shard) SELECT generate_series(0, 15);
  UPDATE blob_totals t SET blobs = x.n, bytes = x.b
    FROM (SELECT abs(hashtext(digest)) % 16 AS shard, COUNT(*) AS n, SUM(size) AS b FROM blobs GROUP BY 1) x
    WHERE t.shard = x.shard;
  CREATE FUNCTION stowage_blob_totals() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'INSERT' THEN
      UPDATE blob_totals SET blobs = blobs + 1, bytes = bytes + NEW.size WHERE shard = abs(hashtext(NEW.digest)) % 16;
    ELSE
      UPDATE blob_totals SET blobs = blobs - 1, bytes = bytes - OLD.size WHERE shard = abs(hashtext(OLD.digest)) % 16;
    END IF;
    RETURN NULL;
  END $$;
  CREATE TRIGGER blobs_totals AFTER INSERT OR DELETE ON blobs
    FOR EACH ROW EXECUTE FUNCTION stowage_blob_totals();
  `,
  `
  CREATE TABLE events (
    seq        BIGSERIAL PRIMARY KEY,
    body       TEXT   NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE event_cursors (
    endpoint TEXT   PRIMARY KEY,
    seq      BIGINT NOT NULL
  );
  CREATE TABLE event_deliveries (
    endpoint   TEXT    NOT NULL,
    seq        BIGINT  NOT NULL,
    state      TEXT    NOT NULL,
    attempts   INTEGER NOT NULL,
    last_error TEXT,
    next_at    BIGINT,
    updated_at BIGINT  NOT NULL,
    PRIMARY KEY (endpoint, seq)
  );
  CREATE INDEX event_deliveries_by_state ON event_deliveries(endpoint, state, seq);
  `,
  // Background jobs are exclusive through advisory locks (runExclusive) alone, which die with
  // their connection; the collector's old lease table goes. An older replica still running
  // during a rolling upgrade fails its collection cleanly (correctness never needed the lease).
  `
  DROP TABLE IF EXISTS leases;
  `,
  // Browsing (src/storage/browse.ts): each manifest's kind, and tags by push time.
  `
  ALTER TABLE manifests ADD COLUMN kind TEXT;
  CREATE INDEX tags_by_time ON tags(repo_id, updated_at DESC, name);
  `,
  // The pull-through cache's tag TTLs, shared by replicas and kept over restarts.
  `
  CREATE TABLE upstream_confirmations (
    repository   TEXT   COLLATE "C" NOT NULL,
    key          TEXT   COLLATE "C" NOT NULL,
    confirmed_at BIGINT NOT NULL,
    PRIMARY KEY (repository, key)
  );
  `,
];
