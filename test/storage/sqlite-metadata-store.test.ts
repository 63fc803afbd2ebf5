import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { MAX_PAGE, SqliteMetadataStore } from '../../src/storage/sqlite/sqlite-metadata-store.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/storage/sqlite/schema.js';
import { digestBytes } from '../../src/core/digest.js';
import { MT } from '../../src/core/media-types.js';

// The MetadataStore contract runs in contracts.test.ts; these are SQLite's own rules.
describe('sqlite metadata store specifics', () => {
  async function fresh() {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-sqlite-'));
    return { dir, path: join(dir, 'meta.db'), done: () => rm(dir, { recursive: true, force: true }) };
  }

  it('records its schema version and refuses a database from a newer Stowage', async () => {
    const { path, done } = await fresh();
    try {
      const store = new SqliteMetadataStore(path);
      await store.close();
      const db = new Database(path);
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      db.close();
      assert.throws(() => new SqliteMetadataStore(path), /newer than this Stowage/);
    } finally {
      await done();
    }
  });

  it('upgrades a schema-2 database: open upload sessions survive, without an owner', async () => {
    const { path, done } = await fresh();
    try {
      const db = new Database(path);
      for (const m of MIGRATIONS.slice(0, 2)) db.exec(m);
      db.pragma('user_version = 2');
      db.prepare('INSERT INTO uploads (id, repository, created_at, updated_at) VALUES (?, ?, ?, ?)').run(
        '11111111-2222-4333-8444-555555555555',
        'app',
        1,
        2,
      );
      db.close();
      const store = new SqliteMetadataStore(path);
      try {
        assert.deepEqual(await store.getUpload('11111111-2222-4333-8444-555555555555'), {
          id: '11111111-2222-4333-8444-555555555555',
          repository: 'app',
          createdAt: 1,
          updatedAt: 2,
        });
        assert.equal(await store.countUploads({ repository: 'app' }), 1);
      } finally {
        await store.close();
      }
    } finally {
      await done();
    }
  });

  it('upgrades a schema-7 database: manifests stored before it get their kind from their bytes', async () => {
    const { path, done } = await fresh();
    try {
      const db = new Database(path);
      for (const m of MIGRATIONS.slice(0, 7)) db.exec(m);
      db.pragma('user_version = 7');
      const chart = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          config: {
            mediaType: 'application/vnd.cncf.helm.config.v1+json',
            digest: `sha256:${'1'.repeat(64)}`,
            size: 1,
          },
          layers: [],
        }),
      );
      const digest = digestBytes(chart).value;
      db.prepare('INSERT INTO repositories (id, name, created_at) VALUES (1, ?, 1)').run('charts/app');
      db.prepare(
        'INSERT INTO manifests (repo_id, digest, media_type, size, content, created_at) VALUES (1, ?, ?, ?, ?, 1)',
      ).run(digest, MT.ociManifest, chart.length, chart);
      db.prepare('INSERT INTO tags (repo_id, name, digest, updated_at) VALUES (1, ?, ?, 2)').run('1.0.0', digest);
      db.close();
      const store = new SqliteMetadataStore(path);
      try {
        const [tag] = await store.tagDetails('charts/app', { order: 'name', limit: 10 });
        assert.equal(tag?.kind, 'helm-chart');
        assert.deepEqual(await store.searchRepositories({ kind: 'helm-chart', limit: 10 }), ['charts/app']);
      } finally {
        await store.close();
      }
    } finally {
      await done();
    }
  });

  it('reopening an up-to-date database does not re-run migrations', async () => {
    const { path, done } = await fresh();
    try {
      await new SqliteMetadataStore(path).close();
      const again = new SqliteMetadataStore(path);
      await again.close();
      await again.close(); // closing twice is harmless
    } finally {
      await done();
    }
  });

  it('clamps n to MAX_PAGE and hands out a cursor', async () => {
    const { path, done } = await fresh();
    const store = new SqliteMetadataStore(path, { fsync: false });
    try {
      const bytes = Buffer.from('m');
      const m = { digest: digestBytes(bytes).value, mediaType: MT.ociManifest, size: 1, content: bytes, createdAt: 1 };
      const count = MAX_PAGE + 2;
      await store.putManifest('app', m, []);
      // Insert the tags directly: 10k pushes through the API would be slow for a unit test.
      const db = new Database(path);
      const repoId = (db.prepare('SELECT id FROM repositories WHERE name = ?').get('app') as { id: number }).id;
      const insert = db.prepare('INSERT INTO tags (repo_id, name, digest, updated_at) VALUES (?, ?, ?, 0)');
      db.transaction(() => {
        for (let i = 0; i < count; i++) insert.run(repoId, `t${String(i).padStart(6, '0')}`, m.digest);
      })();
      db.close();
      const page = await store.listTags('app', { n: count });
      assert.equal(page?.items.length, MAX_PAGE);
      assert.equal(page?.next, page?.items[MAX_PAGE - 1]);
      const rest = await store.listTags('app', { n: count, last: page!.next! });
      assert.equal(rest?.items.length, 2);
      assert.equal(rest?.next, undefined);
      const unbounded = await store.listTags('app', {});
      assert.equal(unbounded?.items.length, MAX_PAGE, 'no n means the default page, still with a cursor');
      assert.ok(unbounded?.next);
    } finally {
      await store.close();
      await done();
    }
  });

  it('runExclusive holds a job across every process on the file; a dead holder or an expired lease is taken over', async () => {
    const { path, done } = await fresh();
    const a = new SqliteMetadataStore(path, { fsync: false });
    const b = new SqliteMetadataStore(path, { fsync: false });
    try {
      let release!: () => void;
      const held = a.runExclusive('gc', () => new Promise<void>((r) => (release = r)));
      await new Promise((r) => setImmediate(r));
      assert.equal(await b.runExclusive('gc', async () => undefined), false, 'another opener sees it held');
      release();
      assert.equal(await held, true);
      assert.equal(await b.runExclusive('gc', async () => undefined), true, 'released when the job ends');

      const raw = new Database(path);
      const lease = raw.prepare('INSERT OR REPLACE INTO leases (name, holder, expires_at) VALUES (?, ?, ?)');
      try {
        // A live holder (this very process, another opener) with an unexpired lease blocks.
        lease.run('gc', `${hostname()}:${process.pid}:someone`, Date.now() + 60_000);
        assert.equal(await a.runExclusive('gc', async () => undefined), false);
        // A holder process that no longer exists (kill -9): taken over at once.
        const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
        lease.run('gc', `${hostname()}:${dead.stdout.toString()}:gone`, Date.now() + 60_000);
        assert.equal(await a.runExclusive('gc', async () => undefined), true);
        // Another machine's holder (a copied file) only by expiry.
        lease.run('gc', 'elsewhere:1:x', Date.now() + 60_000);
        assert.equal(await a.runExclusive('gc', async () => undefined), false);
        lease.run('gc', 'elsewhere:1:x', Date.now() - 1);
        assert.equal(await a.runExclusive('gc', async () => undefined), true);
        assert.deepEqual(raw.prepare('SELECT COUNT(*) AS n FROM leases').get(), { n: 0 }, 'released at the end');
      } finally {
        raw.close();
      }
    } finally {
      await a.close();
      await b.close();
      await done();
    }
  });
});
