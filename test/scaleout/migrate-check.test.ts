import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PG_MIGRATIONS } from '../../src/storage/postgres/schema.js';
import { SCHEMA_VERSION } from '../../src/storage/sqlite/schema.js';
import { stowage } from '../client/helpers.js';
import { freshDatabase } from '../helpers/services.js';

describe('stowage migrate', () => {
  it('--check reports pending PostgreSQL migrations (exit 1), migrate applies them, then --check is clean', async () => {
    const db = await freshDatabase();
    const env = { STOWAGE_METADATA_DRIVER: 'postgres', STOWAGE_POSTGRES_URL: db.url };
    try {
      const all = PG_MIGRATIONS.map((_, i) => i + 1).join(', ');
      const before = await stowage(['migrate', '--check'], { env });
      assert.equal(before.code, 1, before.stderr);
      assert.equal(before.stdout, `postgres: pending migrations: ${all}\n`);
      const again = await stowage(['migrate', '--check'], { env });
      assert.equal(again.code, 1, '--check changed nothing');
      const applied = await stowage(['migrate'], { env });
      assert.equal(applied.code, 0, applied.stderr);
      assert.equal(applied.stdout, `postgres: applied migrations ${all}\n`);
      const after = await stowage(['migrate', '--check'], { env });
      assert.equal(after.code, 0, after.stderr);
      assert.equal(after.stdout, 'postgres: schema up to date\n');
    } finally {
      await db.drop();
    }
  });

  it('--check on the embedded SQLite database', async () => {
    const data = await mkdtemp(join(tmpdir(), 'stowage-migrate-'));
    try {
      const before = await stowage(['migrate', '--check', '--data', data]);
      assert.equal(before.code, 1);
      assert.equal(
        before.stdout,
        `sqlite: pending migrations: ${Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1).join(', ')}\n`,
      );
      assert.equal((await stowage(['migrate', '--data', data])).code, 0);
      const after = await stowage(['migrate', '--check', '--data', data]);
      assert.deepEqual([after.code, after.stdout], [0, 'sqlite: schema up to date\n']);
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  });
});
