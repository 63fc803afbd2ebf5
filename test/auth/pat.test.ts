import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { formatPatScope, generatePat, parseDuration, parsePat, parsePatScope } from '../../src/auth/pat.js';
import { PatStore } from '../../src/auth/pat-store.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/storage/sqlite/schema.js';
import { SqliteMetadataStore } from '../../src/storage/sqlite/sqlite-metadata-store.js';

describe('personal access token format', () => {
  it('is stw_<id>_<secret> and parses back', () => {
    const { id, secret, token } = generatePat();
    assert.match(token, /^stw_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(parsePat(token), { id, secret });
    assert.equal(parsePat('stw_short'), undefined);
    assert.equal(parsePat(`${token}x`), undefined);
    assert.equal(parsePat('a normal password'), undefined);
  });
  it('parses scopes and durations', () => {
    assert.deepEqual(parsePatScope('alice/**:pull,push'), { glob: 'alice/**', actions: ['pull', 'push'] });
    assert.deepEqual(parsePatScope('x:*'), { glob: 'x', actions: ['pull', 'push', 'delete'] });
    assert.equal(formatPatScope(parsePatScope('a/*:push,pull')), 'a/*:pull,push');
    assert.throws(() => parsePatScope('alice/**'), /GLOB:ACTIONS/);
    assert.throws(() => parsePatScope('alice/**:write'), /unknown action/);
    assert.throws(() => parsePatScope('Alice:pull'), /invalid repository glob/);
    assert.equal(parseDuration('30d'), 30 * 86400);
    assert.equal(parseDuration('90m'), 5400);
    assert.equal(parseDuration('1w'), 604800);
    assert.equal(parseDuration('never'), undefined);
    assert.throws(() => parseDuration('0d'));
    assert.throws(() => parseDuration('soon'));
  });
});

describe('PAT store', () => {
  let dir: string;
  let meta: SqliteMetadataStore;
  let store: PatStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-pat-'));
    meta = new SqliteMetadataStore(join(dir, 'stowage.db'));
    store = new PatStore(meta);
  });
  after(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores only a hash of the secret', async () => {
    const { token, record } = await store.create('alice', [parsePatScope('alice/**:pull')], { note: 'ci' });
    assert.equal(record.user, 'alice');
    assert.equal(record.note, 'ci');
    const raw = new Database(join(dir, 'stowage.db'), { readonly: true });
    try {
      const row = raw.prepare('SELECT * FROM access_tokens WHERE id = ?').get(record.id) as Record<string, unknown>;
      const dump = JSON.stringify(row) + Buffer.from(row.secret_hash as Buffer).toString('latin1');
      assert.ok(!dump.includes(parsePat(token)!.secret), 'the secret is not in the database');
      assert.equal((row.secret_hash as Buffer).length, 32);
    } finally {
      raw.close();
    }
  });

  it('checks tokens: good, wrong secret, unknown, revoked, expired', async () => {
    const now = 1_800_000_000_000;
    const { token, record } = await store.create(
      'bob',
      [parsePatScope('bob/**:pull,push')],
      { expiresInSeconds: 3600 },
      now,
    );
    const ok = await store.check(token, now + 1000);
    assert.ok(ok?.ok);
    assert.deepEqual(ok.record.scopes, [{ glob: 'bob/**', actions: ['pull', 'push'] }]);

    const wrong = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    assert.deepEqual(await store.check(wrong, now), { ok: false, reason: 'unknown' });
    assert.deepEqual(await store.check(generatePat().token, now), { ok: false, reason: 'unknown' });
    assert.equal(await store.check('not-a-token', now), undefined, 'passwords are not PATs');
    assert.deepEqual(await store.check(token, now + 3600_000), { ok: false, reason: 'expired' });
    assert.equal(await store.active(record.id, now + 3600_000), undefined);

    assert.equal(await store.revoke(record.id), true);
    assert.equal(await store.revoke(record.id), false, 'already revoked');
    assert.deepEqual(await store.check(token, now + 1000), { ok: false, reason: 'revoked' });
    assert.equal(await store.active(record.id, now + 1000), undefined);
  });

  it('records the last use, at most once a minute', async () => {
    const now = 1_900_000_000_000;
    const { token, record } = await store.create('carol', [], {}, now);
    assert.equal((await store.get(record.id))?.lastUsedAt, undefined);
    await store.check(token, now + 5);
    await meta.close(); // drains the fire-and-forget write
    meta = new SqliteMetadataStore(join(dir, 'stowage.db'));
    store = new PatStore(meta);
    assert.equal((await store.get(record.id))?.lastUsedAt, now + 5);
  });

  it('lists per user without secrets', async () => {
    const list = await store.list('alice');
    assert.ok(list.length >= 1);
    assert.ok(list.every((r) => r.user === 'alice'));
    assert.ok(!JSON.stringify(await store.list()).includes('stw_'));
  });

  it('reads tokens a database of an earlier Stowage holds (same access_tokens table)', async () => {
    // Written the way the previous release wrote it: schema v2, a row of its own making.
    const path = join(dir, 'earlier.db');
    const db = new Database(path);
    for (const m of MIGRATIONS.slice(0, 2)) db.exec(m);
    db.pragma('user_version = 2');
    const { id, secret, token } = generatePat();
    db.prepare(
      'INSERT INTO access_tokens (id, username, note, scopes, secret_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, NULL)',
    ).run(
      id,
      'dave',
      'old',
      JSON.stringify([{ glob: 'dave/**', actions: ['pull', 'push'] }]),
      createHash('sha256').update(secret).digest(),
      1_700_000_000_000,
    );
    db.close();
    const earlier = new SqliteMetadataStore(path);
    try {
      const pats = new PatStore(earlier);
      const check = await pats.check(token);
      assert.ok(check?.ok);
      assert.deepEqual(check.record, {
        id,
        user: 'dave',
        note: 'old',
        scopes: [{ glob: 'dave/**', actions: ['pull', 'push'] }],
        createdAt: 1_700_000_000_000,
      });
      assert.equal(await pats.revoke(id), true);
      assert.deepEqual(await pats.check(token), { ok: false, reason: 'revoked' });
    } finally {
      await earlier.close();
    }
    const raw = new Database(path, { readonly: true });
    assert.equal(raw.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    raw.close();
  });
});
