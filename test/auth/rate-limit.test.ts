import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Authenticator } from '../../src/auth/authenticator.js';
import { CredentialCache } from '../../src/auth/credential-cache.js';
import { dummyHash, hashPassword } from '../../src/auth/password.js';
import { FailureLimiter } from '../../src/auth/rate-limit.js';
import type { UserFile } from '../../src/auth/users.js';

describe('failure limiter', () => {
  it('refuses a key after max failures until its window ends, and never for good', () => {
    let now = 0;
    const l = new FailureLimiter({ max: 3, windowMs: 10_000 }, () => now);
    for (let i = 0; i < 3; i++) {
      assert.equal(l.retryAfterMs('a'), 0);
      l.fail('a');
    }
    assert.equal(l.retryAfterMs('a'), 10_000);
    assert.equal(l.retryAfterMs('b'), 0, 'other keys are unaffected');
    now = 9_000;
    assert.equal(l.retryAfterMs('a'), 1_000);
    now = 10_000;
    assert.equal(l.retryAfterMs('a'), 0);
  });

  it('stays bounded under a flood of keys', () => {
    const l = new FailureLimiter({ max: 1, windowMs: 60_000, maxKeys: 100 }, () => 0);
    for (let i = 0; i < 1000; i++) l.fail(`k${i}`);
    assert.ok(l.size <= 100);
  });
});

describe('credential cache', () => {
  it('remembers for the TTL only, under keys that do not reveal the password', () => {
    let now = 0;
    const c = new CredentialCache<true>(1000, 10, () => now);
    const k = c.keyFor('alice', 'secret-pw', '$2y$hash');
    assert.ok(!k.includes('secret'));
    assert.notEqual(k, c.keyFor('alice', 'secret-pw', '$2y$other'), 'a new hash misses');
    assert.notEqual(c.keyFor('a', 'bc'), c.keyFor('ab', 'c'), 'parts are delimited');
    c.set(k, true);
    assert.equal(c.get(k), true);
    now = 1000;
    assert.equal(c.get(k), undefined);
  });
});

describe('authenticator', () => {
  const silent = pino({ level: 'silent' });
  async function setup() {
    const hashes = new Map([
      ['alice', await hashPassword('alice-pw', 4)],
      ['bob', await hashPassword('bob-pw', 4)],
    ]);
    const dummies: string[] = [];
    const users = {
      lookup: (u: string) => hashes.get(u),
      has: (u: string) => hashes.has(u),
      dummyHash: () => {
        dummies.push(dummyHash(4));
        return dummies[dummies.length - 1];
      },
    } as unknown as UserFile;
    let now = 0;
    const auth = new Authenticator(
      users,
      undefined,
      { perAddress: { max: 5, windowMs: 60_000 }, perAddressUser: { max: 3, windowMs: 60_000 }, cacheTtlMs: 30_000 },
      silent,
      () => now,
    );
    return { auth, hashes, dummies, tick: (ms: number) => (now += ms) };
  }

  it('limits per user from one address, without locking out other users or the owner elsewhere', async () => {
    const { auth } = await setup();
    for (let i = 0; i < 3; i++) assert.equal((await auth.authenticate('alice', 'wrong', '10.0.0.1')).ok, false);
    const limited = await auth.authenticate('alice', 'alice-pw', '10.0.0.1');
    assert.equal(limited.ok, false);
    assert.ok(
      !limited.ok && limited.retryAfterMs > 0,
      'alice is throttled from the guessing address even with the right password',
    );
    assert.equal((await auth.authenticate('bob', 'bob-pw', '10.0.0.1')).ok, true, 'bob is not');
    assert.equal(
      (await auth.authenticate('alice', 'alice-pw', '10.0.0.9')).ok,
      true,
      'alice from another address is not',
    );
  });

  it("checks an unknown user's password against the user file's dummy hash (its cost follows the real users)", async () => {
    const { auth, dummies } = await setup();
    assert.equal((await auth.authenticate('nobody', 'pw', '10.0.0.5')).ok, false);
    assert.equal(dummies.length, 1);
  });

  it('limits per client address', async () => {
    const { auth } = await setup();
    for (let i = 0; i < 5; i++) await auth.authenticate(`nobody${i}`, 'x', '10.0.0.66');
    const r = await auth.authenticate('bob', 'bob-pw', '10.0.0.66');
    assert.ok(!r.ok && r.retryAfterMs > 0);
    assert.equal((await auth.authenticate('bob', 'bob-pw', '10.0.0.67')).ok, true);
  });

  it('counts attempts before checking them, so parallel guesses cannot outrun the limit', async () => {
    const { auth } = await setup();
    const results = await Promise.all(Array.from({ length: 20 }, () => auth.authenticate('bob', 'wrong', '10.1.1.1')));
    const checked = results.filter((r) => !r.ok && r.retryAfterMs === 0).length;
    assert.equal(checked, 3, 'only per_user guesses were actually checked (same address and user)');
    assert.ok((await auth.authenticate('alice', 'alice-pw', '10.1.1.2')).ok, 'successes are not counted');
    for (let i = 0; i < 10; i++) assert.ok((await auth.authenticate('alice', 'alice-pw', '10.1.1.2')).ok);
  });

  it('caches a verified password briefly, and a password change misses the cache', async () => {
    const { auth, hashes, dummies, tick } = await setup();
    // Each bcrypt check takes the user file's dummy hash along: its calls count the checks.
    assert.equal((await auth.authenticate('alice', 'alice-pw', 'a')).ok, true);
    assert.equal(dummies.length, 1, 'the first login runs bcrypt');
    for (let i = 0; i < 50; i++) assert.equal((await auth.authenticate('alice', 'alice-pw', 'a')).ok, true);
    assert.equal(dummies.length, 1, 'cached: no bcrypt per request');
    hashes.set('alice', await hashPassword('new-pw', 4));
    assert.equal((await auth.authenticate('alice', 'alice-pw', 'a')).ok, false, 'old password refused at once');
    assert.equal((await auth.authenticate('alice', 'new-pw', 'a')).ok, true);
    hashes.delete('alice');
    tick(1);
    assert.equal((await auth.authenticate('alice', 'new-pw', 'a')).ok, false, 'removed user refused at once');
  });
});
