import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { digestBytes } from '../../src/core/digest.js';
import { MT } from '../../src/core/media-types.js';
import type { ManifestRecord } from '../../src/storage/metadata-store.js';
import { PostgresMetadataStore } from '../../src/storage/postgres/postgres-metadata-store.js';
import { Database } from '../../src/storage/postgres/database.js';
import { PG_MIGRATIONS } from '../../src/storage/postgres/schema.js';
import { RegistryError } from '../../src/core/errors.js';
import { freshPostgres } from '../helpers/services.js';
import { cuttableProxy } from '../helpers/tcp-proxy.js';

// The MetadataStore contract runs in contracts.test.ts; these are PostgreSQL's own rules.

function manifest(content: string): ManifestRecord {
  const bytes = Buffer.from(content);
  return {
    digest: digestBytes(bytes).value,
    mediaType: MT.ociManifest,
    size: bytes.length,
    content: bytes,
    createdAt: Date.now(),
  };
}

const layer = (s: string) => ({ digest: digestBytes(Buffer.from(s)).value, size: Buffer.byteLength(s) });

/** Two stores over one database, as two replicas would have. */
async function twoReplicas() {
  const { options, drop } = await freshPostgres();
  const a = await PostgresMetadataStore.open(options);
  const b = await PostgresMetadataStore.open(options);
  return {
    a,
    b,
    options,
    async done() {
      await a.close();
      await b.close();
      await drop();
    },
  };
}

describe('postgres metadata store: several replicas', () => {
  it('the same tag pushed from two replicas names exactly one of the manifests', async () => {
    const { a, b, done } = await twoReplicas();
    try {
      for (let round = 0; round < 5; round++) {
        const ms = Array.from({ length: 16 }, (_, i) => manifest(`round ${round} manifest ${i}`));
        const results = await Promise.all(ms.map((m, i) => (i % 2 ? a : b).putManifest('app', m, [], 'race')));
        assert.ok(results.every((r) => r.length === 0));
        const winner = await a.resolveTag('app', 'race');
        assert.ok(ms.some((m) => m.digest === winner));
        assert.equal(await b.resolveTag('app', 'race'), winner);
        assert.deepEqual(await b.listTags('app', {}), { items: ['race'] });
      }
    } finally {
      await done();
    }
  });

  it('a manifest PUT racing a delete of the same manifest never leaves a tag naming nothing', async () => {
    const { a, b, done } = await twoReplicas();
    try {
      const m = manifest('raced');
      for (let i = 0; i < 30; i++) {
        await a.putManifest('app', m, [], 'v1');
        await Promise.all([a.putManifest('app', m, [], `t${i}`), b.deleteManifest('app', m.digest)]);
        const tags = (await a.listTags('app', {}))?.items ?? [];
        const stored = await a.getManifest('app', m.digest);
        // Either the delete came last (no manifest, no tags) or the PUT did (manifest and its tag).
        if (stored) assert.ok(tags.includes(`t${i}`), `round ${i}: manifest without its new tag`);
        else assert.deepEqual(tags, [], `round ${i}: tags ${tags} name a deleted manifest`);
        await a.deleteManifest('app', m.digest);
      }
    } finally {
      await done();
    }
  });

  it('a link one replica removes is no longer answered by the other, which had it cached', async () => {
    const { a, b, done } = await twoReplicas();
    try {
      const removals = [
        (digest: string) => a.unlinkBlob('app', digest).then((r) => assert.equal(r, 'removed')),
        (digest: string) =>
          a
            .removeUnusedBlobLinks([{ repository: 'app', digest }], Number.MAX_SAFE_INTEGER)
            .then((r) => assert.equal(r.length, 1)),
      ];
      for (const [i, remove] of removals.entries()) {
        const l = layer(`cached layer ${i}`);
        await a.linkBlob('app', l.digest, l.size);
        // Asked twice: the second answer may come from b's cache.
        assert.deepEqual(await b.blobLink('app', l.digest), { size: l.size });
        assert.deepEqual(await b.blobLink('app', l.digest), { size: l.size });
        await remove(l.digest);
        // The notice reaches b asynchronously, after a's commit: b must forget the link soon.
        let answer = await b.blobLink('app', l.digest);
        for (let tries = 0; answer !== undefined && tries < 500; tries++) {
          await delay(10);
          answer = await b.blobLink('app', l.digest);
        }
        assert.equal(answer, undefined, `removal ${i}: b still answers a removed link`);
        assert.equal(await a.blobLink('app', l.digest), undefined);
      }
    } finally {
      await done();
    }
  });

  it('a manifest PUT racing an unlink of its layer: either the PUT fails or the link stays', async () => {
    const { a, b, done } = await twoReplicas();
    try {
      for (let i = 0; i < 30; i++) {
        const l = layer(`layer ${i}`);
        await a.linkBlob('app', l.digest, l.size);
        const m = manifest(`uses layer ${i}`);
        const [unmet, unlinked] = await Promise.all([
          a.putManifest(
            'app',
            m,
            [
              {
                digest: l.digest,
                size: l.size,
                mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
                role: 'layer',
              },
            ],
            `v${i}`,
          ),
          b.unlinkBlob('app', l.digest),
        ]);
        if (unmet.length === 0) {
          assert.equal(unlinked, 'referenced', `round ${i}: the manifest was stored but its layer was unlinked`);
          assert.ok(await b.blobLink('app', l.digest));
        } else {
          assert.equal(unlinked, 'removed');
          assert.equal(await b.getManifest('app', m.digest), undefined);
        }
      }
    } finally {
      await done();
    }
  });

  it('replicas starting together apply the migrations once, under the advisory lock', async () => {
    const { options, drop } = await freshPostgres();
    try {
      const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresMetadataStore.open(options)));
      const db = new Database(options);
      try {
        const rows = (
          await db.query<{ version: number }>('SELECT version FROM stowage_schema ORDER BY version')
        ).rows.map((r) => r.version);
        assert.deepEqual(
          rows,
          PG_MIGRATIONS.map((_, i) => i + 1),
        );
        assert.deepEqual(await db.pendingMigrations(), []);
      } finally {
        await db.close();
        for (const s of stores) await s.close();
      }
    } finally {
      await drop();
    }
  });

  it('manifests without a kind (stored before the column existed) get it from their bytes at open', async () => {
    const { options, drop } = await freshPostgres();
    try {
      await (await PostgresMetadataStore.open(options)).close();
      const flux = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MT.ociManifest,
          config: {
            mediaType: 'application/vnd.cncf.flux.config.v1+json',
            digest: `sha256:${'2'.repeat(64)}`,
            size: 1,
          },
          layers: [],
        }),
      );
      const digest = digestBytes(flux).value;
      const db = new Database(options);
      try {
        const repo = (
          await db.query<{ id: number }>(
            "INSERT INTO repositories (name, created_at) VALUES ('flux/app', 1) RETURNING id",
          )
        ).rows[0]!.id;
        await db.query(
          'INSERT INTO manifests (repo_id, digest, media_type, size, content, created_at) VALUES ($1, $2, $3, $4, $5, 1)',
          [repo, digest, MT.ociManifest, flux.length, flux],
        );
        await db.query("INSERT INTO tags (repo_id, name, digest, updated_at) VALUES ($1, 'main', $2, 2)", [
          repo,
          digest,
        ]);
      } finally {
        await db.close();
      }
      const store = await PostgresMetadataStore.open(options);
      try {
        const [tag] = await store.tagDetails('flux/app', { order: 'name', limit: 10 });
        assert.equal(tag?.kind, 'flux-artifact');
        assert.deepEqual(await store.searchRepositories({ kind: 'flux-artifact', limit: 10 }), ['flux/app']);
      } finally {
        await store.close();
      }
    } finally {
      await drop();
    }
  });

  it('reports pending migrations of a database that has none applied', async () => {
    const { options, drop } = await freshPostgres();
    const db = new Database(options);
    try {
      await db.query(`CREATE SCHEMA ${options.schema}`);
      assert.deepEqual(
        await db.pendingMigrations(),
        PG_MIGRATIONS.map((_, i) => i + 1),
      );
      assert.deepEqual(
        await db.migrate(),
        PG_MIGRATIONS.map((_, i) => i + 1),
      );
      assert.deepEqual(await db.pendingMigrations(), []);
      assert.deepEqual(await db.migrate(), []);
    } finally {
      await db.close();
      await drop();
    }
  });

  it('background work runs on one replica at a time', async () => {
    const { a, b, done } = await twoReplicas();
    try {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const first = a.db.exclusively('upload-expiry', () => held);
      // Give the first a moment to take the lock, then the second must be refused.
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(await b.db.exclusively('upload-expiry', async () => assert.fail('ran concurrently')), false);
      release();
      assert.equal(await first, true);
      let ran = false;
      assert.equal(await b.db.exclusively('upload-expiry', async () => void (ran = true)), true);
      assert.ok(ran);
    } finally {
      await done();
    }
  });
});

describe('postgres metadata store: when the database goes away', () => {
  it('fails fast with UNAVAILABLE and a Retry-After, and recovers without a restart', async () => {
    const { options, drop } = await freshPostgres();
    const proxy = await cuttableProxy(new URL(options.url));
    const store = await PostgresMetadataStore.open({ ...options, url: proxy.url, connectTimeoutMs: 1000 });
    try {
      const m = manifest('before the outage');
      assert.deepEqual(await store.putManifest('app', m, [], 'v1'), []);
      await proxy.cut();
      for (const op of [
        () => store.resolveTag('app', 'v1'),
        () => store.putManifest('app', manifest('during'), [], 'v2'),
        () => store.createUpload({ id: randomUUID(), repository: 'app', createdAt: 1, updatedAt: 1 }),
      ]) {
        await assert.rejects(op(), (e: unknown) => {
          assert.ok(e instanceof RegistryError, String(e));
          assert.equal(e.code, 'UNAVAILABLE');
          assert.equal(e.status, 503);
          assert.ok(Number(e.headers['Retry-After']) > 0);
          return true;
        });
      }
      await proxy.restore();
      assert.equal(await store.resolveTag('app', 'v1'), m.digest);
      assert.equal(await store.resolveTag('app', 'v2'), undefined, 'nothing from the outage was half-written');
      assert.deepEqual(await store.putManifest('app', manifest('after'), [], 'v3'), []);
    } finally {
      await store.close();
      await proxy.close();
      await drop();
    }
  });
});
