import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { formatPatScope, generatePat, parseDuration, parsePat, parsePatScope } from '../../src/auth/pat.js';
import { PatStore } from '../../src/auth/pat-store.js';
import { SCHEMA_VERSION } from '../../src/storage/sqlite/schema.js';
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
  let store: PatStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-pat-'));
    store = new PatStore(join(dir, 'stowage.db'));
  });
  after(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores only a hash of the secret', () => {
    const { token, record } = store.create('alice', [parsePatScope('alice/**:pull')], { note: 'ci' });
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

  it('checks tokens: good, wrong secret, unknown, revoked, expired', () => {
    const now = 1_800_000_000_000;
    const { token, record } = store.create('bob', [parsePatScope('bob/**:pull,push')], { expiresInSeconds: 3600 }, now);
    const ok = store.check(token, now + 1000);
    assert.ok(ok?.ok);
    assert.deepEqual(ok.record.scopes, [{ glob: 'bob/**', actions: ['pull', 'push'] }]);

    const wrong = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    assert.deepEqual(store.check(wrong, now), { ok: false, reason: 'unknown' });
    assert.deepEqual(store.check(generatePat().token, now), { ok: false, reason: 'unknown' });
    assert.equal(store.check('not-a-token', now), undefined, 'passwords are not PATs');
    assert.deepEqual(store.check(token, now + 3600_000), { ok: false, reason: 'expired' });
    assert.equal(store.active(record.id, now + 3600_000), undefined);

    assert.equal(store.revoke(record.id), true);
    assert.equal(store.revoke(record.id), false, 'already revoked');
    assert.deepEqual(store.check(token, now + 1000), { ok: false, reason: 'revoked' });
    assert.equal(store.active(record.id, now + 1000), undefined);
  });

  it('lists per user without secrets', () => {
    const list = store.list('alice');
    assert.ok(list.length >= 1);
    assert.ok(list.every((r) => r.user === 'alice'));
    assert.ok(!JSON.stringify(store.list()).includes('stw_'));
  });

  it('shares the database with the metadata store (schema migrations in either order)', async () => {
    const a = join(dir, 'a.db');
    new PatStore(a).close();
    const meta = new SqliteMetadataStore(a);
    await meta.close();
    const b = join(dir, 'b.db');
    await new SqliteMetadataStore(b).close();
    const pats = new PatStore(b);
    pats.create('x', []);
    pats.close();
    for (const p of [a, b]) {
      const db = new Database(p, { readonly: true });
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      db.close();
    }
  });
});
