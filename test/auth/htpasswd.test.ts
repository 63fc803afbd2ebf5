import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { formatHtpasswd, isValidUsername, parseHtpasswd } from '../../src/auth/htpasswd.js';
import { DEFAULT_COST, dummyHash, hashCost, hashPassword, verifyPassword } from '../../src/auth/password.js';
import { UserFile, readUsers, typicalCost, writeUsers } from '../../src/auth/users.js';

describe('htpasswd format', () => {
  it('reads bcrypt entries in every variant htpasswd and other tools write ($2y$, $2a$, $2b$)', async () => {
    const b = await bcrypt.hash('pw-b', 4); // bcryptjs writes $2b$
    const a = b.replace(/^\$2b\$/, '$2a$');
    const y = b.replace(/^\$2b\$/, '$2y$');
    const parsed = parseHtpasswd(`# comment\nalice:${y}\n\nbob:${a}\r\ncarol:${b}\n`);
    assert.deepEqual([...parsed.users.keys()], ['alice', 'bob', 'carol']);
    for (const hash of parsed.users.values()) assert.equal(await verifyPassword('pw-b', hash), true);
    assert.deepEqual(parsed.skipped, []);
  });

  it('skips weak or broken entries and says why (without the hash)', () => {
    const parsed = parseHtpasswd(
      'md5:$apr1$abc$def\nsha:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\nplain:secret\nnocolon\n:$2y$\n',
    );
    assert.equal(parsed.users.size, 0);
    assert.equal(parsed.skipped.length, 5);
    assert.ok(parsed.skipped.every((s) => !JSON.stringify(s).includes('secret')));
  });

  it('keeps the first of duplicate users', async () => {
    const h1 = await hashPassword('one-password', 4);
    const h2 = await hashPassword('two-password', 4);
    const parsed = parseHtpasswd(`x:${h1}\nx:${h2}\n`);
    assert.equal(parsed.users.get('x'), h1);
    assert.equal(parsed.skipped[0]!.reason.includes('duplicate'), true);
  });

  it('round-trips', async () => {
    const users = new Map([['alice', await hashPassword('p', 4)]]);
    assert.deepEqual(parseHtpasswd(formatHtpasswd(users)).users, users);
  });

  it('user names must be able to name a repository namespace', () => {
    for (const ok of ['alice', 'a', 'bob-smith', 'ci.bot', 'x_y', '42']) assert.ok(isValidUsername(ok), ok);
    for (const bad of ['', 'Alice', 'a/b', 'a:b', '-a', 'a-', 'a b', '{user}', 'x'.repeat(65)])
      assert.ok(!isValidUsername(bad), bad);
  });
});

describe('passwords', () => {
  it('hashes as $2y$ (like htpasswd -B) and verifies', async () => {
    const h = await hashPassword('correct horse', 4);
    assert.match(h, /^\$2y\$04\$/);
    assert.equal(await verifyPassword('correct horse', h), true);
    assert.equal(await verifyPassword('correct hors', h), false);
    assert.equal(await verifyPassword('', h), false);
  });

  it('an unknown user is checked against a dummy hash of the cost given, which never matches', async () => {
    for (const cost of [4, 5, 10, 12]) {
      const dummy = dummyHash(cost);
      assert.equal(bcrypt.getRounds(dummy), cost, 'bcrypt runs at that cost');
      assert.equal(hashCost(dummy), cost);
      assert.notEqual(dummyHash(cost), dummy, 'random each time');
    }
    const dummy = dummyHash(4);
    for (const pw of ['', 'a-wrong-password', dummy]) assert.equal(await verifyPassword(pw, undefined, dummy), false);
  });

  it('the dummy cost follows the users in the file (the most common cost), so unknown and known users take the same time', async () => {
    assert.equal(typicalCost([]), DEFAULT_COST);
    assert.equal(typicalCost([await hashPassword('a', 5), await hashPassword('b', 5), await hashPassword('c', 4)]), 5);
    assert.equal(
      typicalCost([await hashPassword('a', 4), await hashPassword('b', 6)]),
      6,
      'a tie takes the slower cost',
    );
  });
});

describe('htpasswd file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-htpasswd-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is written atomically with mode 0600 and read back', async () => {
    const path = join(dir, 'sub', 'htpasswd');
    assert.deepEqual(await readUsers(path), new Map(), 'missing file = no users');
    await writeUsers(path, new Map([['alice', await hashPassword('pw', 4)]]));
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual([...(await readUsers(path)).keys()], ['alice']);
  });

  it('is re-read by the server when it changes (checked at most once a second)', async () => {
    const path = join(dir, 'live');
    let clock = 1_000_000;
    const loads: unknown[] = [];
    const users = new UserFile(
      path,
      (r) => loads.push(r),
      () => clock,
    );
    assert.equal(users.has('alice'), false);
    assert.deepEqual(loads, [{ missing: true }]);

    await writeFile(path, `alice:${await hashPassword('pw', 4)}\n`);
    assert.equal(users.has('alice'), false, 'not looked at again within a second');
    clock += 1500;
    assert.equal(users.has('alice'), true);

    await writeFile(path, `bob:${await hashPassword('pw', 4)}\n`);
    await utimes(path, new Date(), new Date(Date.now() + 5000));
    clock += 1500;
    assert.equal(users.has('alice'), false, 'removed users are gone');
    assert.equal(users.has('bob'), true);
  });

  it("checks unknown users against a dummy hash at the file's cost, not a fixed one", async () => {
    const path = join(dir, 'costs');
    await writeFile(path, `alice:${await hashPassword('pw', 5)}\nbob:${await hashPassword('pw', 5)}\n`);
    const users = new UserFile(path);
    assert.equal(bcrypt.getRounds(users.dummyHash()), 5, 'htpasswd -B writes cost 5 by default');
    assert.equal(bcrypt.getRounds(new UserFile(join(dir, 'absent')).dummyHash()), DEFAULT_COST);
  });
});
