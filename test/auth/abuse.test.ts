/**
 * Brute force and leaks: failed logins are throttled per client address and
 * per user from that address (without locking out other users, or the owner
 * logging in from elsewhere), and no password,
 * token or Authorization header ever reaches the log.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parsePatScope } from '../../src/auth/pat.js';
import {
  openPats,
  PASSWORDS,
  basic,
  bearer,
  call,
  fetchToken,
  pushTinyImage,
  startAuthInProcess,
  startAuthProcess,
  type AuthProcess,
  type AuthServer,
} from './helpers.js';

const tokenGet = (s: AuthServer, user: string, secret: string, from: string) =>
  call(s.url, 'GET', '/token?service=stowage&scope=repository:x/y:pull', {
    headers: { Authorization: basic(user, secret) },
    from,
  });

describe('rate limiting failed logins', () => {
  let s: AuthServer;
  before(async () => {
    s = await startAuthInProcess({ auth: { rate_limit: { window_seconds: 60, per_address: 6, per_user: 4 } } });
  });
  after(async () => {
    await s?.stop();
  });

  it('per client address: the attacking address gets 429, other clients are unaffected', async () => {
    const attacker = '127.0.0.2';
    for (let i = 0; i < 6; i++) assert.equal((await tokenGet(s, `guess${i}`, 'pw', attacker)).status, 401);
    const limited = await tokenGet(s, 'bob', PASSWORDS.bob, attacker);
    assert.equal(limited.status, 429, 'even valid credentials from that address wait');
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.equal(limited.json().errors[0].code, 'TOOMANYREQUESTS');
    assert.equal((await tokenGet(s, 'bob', PASSWORDS.bob, '127.0.0.3')).status, 200, 'another address logs in');
  });

  it('per user from one address: the guessing address is refused for that user, the owner elsewhere logs in', async () => {
    const guesser = '127.0.0.10';
    for (let i = 0; i < 4; i++) assert.equal((await tokenGet(s, 'carol', 'wrong', guesser)).status, 401);
    assert.equal(
      (await tokenGet(s, 'carol', PASSWORDS.carol, guesser)).status,
      429,
      'the guessing address waits, even with the right password',
    );
    // Registry requests that need a login are throttled the same way (POST grant).
    const post = await call(s.url, 'POST', '/token', {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        username: 'carol',
        password: PASSWORDS.carol,
        service: 'stowage',
      }).toString(),
      from: guesser,
    });
    assert.equal(post.status, 429);
    assert.equal(
      (await tokenGet(s, 'carol', PASSWORDS.carol, '127.0.0.20')).status,
      200,
      'the owner, from another address, is not locked out',
    );
    assert.equal(
      (await tokenGet(s, 'alice', PASSWORDS.alice, guesser)).status,
      200,
      'other users from the guessing address are limited by per_address only',
    );
  });

  it('ten wrong passwords from one address do not lock the owner out anywhere else', async () => {
    // admin has not logged in yet here: no cached success lets the right password through.
    for (let i = 0; i < 10; i++) await tokenGet(s, 'admin', 'wrong', '127.0.1.1');
    assert.equal((await tokenGet(s, 'admin', PASSWORDS.admin, '127.0.1.1')).status, 429);
    for (const from of ['127.0.1.7', '127.0.1.8'])
      assert.equal((await tokenGet(s, 'admin', PASSWORDS.admin, from)).status, 200, from);
  });
});

describe('Basic mode is rate limited too', () => {
  it('429 after too many failures, for that user from that address only', async () => {
    const s = await startAuthInProcess({ mode: 'basic', auth: { rate_limit: { per_user: 3, per_address: 100 } } });
    try {
      const get = (user: string, pw: string, from: string) =>
        call(s.url, 'GET', '/v2/', { headers: { Authorization: basic(user, pw) }, from });
      for (let i = 0; i < 3; i++) assert.equal((await get('alice', 'nope', '127.0.0.30')).status, 401);
      assert.equal((await get('alice', PASSWORDS.alice, '127.0.0.30')).status, 429);
      assert.equal((await get('bob', PASSWORDS.bob, '127.0.0.30')).status, 200);
      assert.equal((await get('alice', PASSWORDS.alice, '127.0.0.31')).status, 200, 'the owner from another address');
    } finally {
      await s.stop();
    }
  });
});

describe('no secret in the logs', () => {
  let s: AuthProcess;
  before(async () => {
    s = await startAuthProcess({ logLevel: 'trace' });
  });
  after(async () => {
    await s?.stop();
  });

  it('passwords, PATs, bearer and refresh tokens and Authorization headers never appear, at trace level', async () => {
    const pats = openPats(s.dataDir);
    const { token: pat } = await pats.create('alice', [parsePatScope('alice/**:pull,push')]);
    await pats.close();
    const secrets: string[] = [PASSWORDS.alice, PASSWORDS.bob, pat, 'typed-password-in-user-field'];

    const t = await fetchToken(s, { user: 'alice', secret: PASSWORDS.alice }, ['repository:alice/app:pull,push'], {
      offline_token: 'true',
    });
    secrets.push(t.token, t.refresh_token!);
    assert.equal(await pushTinyImage(s, 'alice/app', 'v1', bearer(t.token)), 201);
    const viaPat = await fetchToken(s, { user: 'alice', secret: pat }, ['repository:alice/app:pull']);
    secrets.push(viaPat.token);
    await call(s.url, 'GET', '/token?service=stowage', { headers: { Authorization: basic('alice', PASSWORDS.bob) } });
    await call(s.url, 'GET', '/token?service=stowage', {
      headers: { Authorization: basic('typed-password-in-user-field', 'x') },
    });
    const form = (f: Record<string, string>) =>
      call(s.url, 'POST', '/token', {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(f).toString(),
      });
    await form({
      grant_type: 'password',
      username: 'bob',
      password: PASSWORDS.bob,
      service: 'stowage',
      access_type: 'offline',
    });
    await form({ grant_type: 'refresh_token', refresh_token: t.refresh_token!, service: 'stowage' });
    await call(s.url, 'GET', '/v2/alice/app/tags/list', { headers: bearer(t.token.slice(0, -3) + 'AAA') });
    for (const secret of [PASSWORDS.alice, pat]) secrets.push(Buffer.from(`alice:${secret}`).toString('base64'));

    await new Promise((r) => setTimeout(r, 200));
    const logs = s.proc.logs.join('\n');
    assert.match(logs, /authentication failed/, 'failures are logged');
    assert.match(logs, /"user":"alice"/, 'with the user name when it exists');
    for (const secret of secrets) assert.ok(!logs.includes(secret), `log contains a secret (${secret.slice(0, 6)}…)`);
    assert.ok(!/authorization/i.test(logs), 'no Authorization header in the log');
  });
});
