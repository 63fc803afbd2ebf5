/**
 * `/api/v1/session` and `/api/v1/info` through real HTTP with auth on (token and
 * Basic mode): signing in with a password and with a personal access token, the
 * cookie's attributes, CSRF on cookie mutations, Basic/Bearer for scripts, and
 * failed sign-ins rate-limited like /token.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { PASSWORDS, basic, call, openPats, startAuthInProcess, type AuthServer } from '../auth/helpers.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

async function signIn(s: AuthServer, username: string, password: string) {
  const res = await call(s.url, 'POST', '/api/v1/session', {
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const setCookie = res.headers['set-cookie']?.[0];
  const cookie = setCookie?.split(';')[0];
  return { res, setCookie, cookie };
}

for (const mode of ['token', 'basic'] as const) {
  describe(`api session (${mode} mode)`, () => {
    let s: AuthServer;
    before(async () => {
      s = await startAuthInProcess({ mode, auth: { rate_limit: { per_user: 3, per_address: 100 } } });
    });
    after(() => s.stop());

    it('info names the version from package.json and the host the request used', async () => {
      const res = await call(s.url, 'GET', '/api/v1/info');
      assert.equal(res.status, 200);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      const body = res.json();
      assert.equal(body.version, VERSION);
      assert.equal(body.registryHost, s.host);
      assert.deepEqual(body.features, { lifecycle: false, quotas: false });
    });

    it('anonymous: no user, no csrf, auth enabled', async () => {
      const res = await call(s.url, 'GET', '/api/v1/session');
      assert.equal(res.status, 200);
      assert.deepEqual(res.json(), { user: null, admin: false, csrf: null, authEnabled: true });
    });

    it('signs in with a password: an HttpOnly SameSite=Strict cookie that later requests carry', async () => {
      const { res, setCookie, cookie } = await signIn(s, 'admin', PASSWORDS.admin);
      assert.equal(res.status, 200);
      assert.match(setCookie!, /^stowage_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
      const body = res.json();
      assert.equal(body.user, 'admin');
      assert.equal(body.admin, true);
      assert.equal(typeof body.csrf, 'string');
      const again = await call(s.url, 'GET', '/api/v1/session', { headers: { Cookie: cookie! } });
      assert.deepEqual(again.json(), { user: 'admin', admin: true, csrf: body.csrf, authEnabled: true });
    });

    it('a wrong password is 401 with a JSON error, and no cookie', async () => {
      const { res, setCookie } = await signIn(s, 'bob', 'not-the-password');
      assert.equal(res.status, 401);
      assert.equal(res.json().error.code, 'UNAUTHORIZED');
      assert.equal(res.headers['www-authenticate'], undefined);
      assert.equal(setCookie, undefined);
    });

    it('signs in with a personal access token (not an admin, even for an admin user)', async () => {
      const pats = openPats(s.dataDir);
      const { token } = await pats.create('admin', [{ glob: '**', actions: ['pull'] }]);
      await pats.close();
      const { res, cookie } = await signIn(s, 'admin', token);
      assert.equal(res.status, 200);
      assert.equal(res.json().user, 'admin');
      assert.equal(res.json().admin, false);
      const bearer = await call(s.url, 'GET', '/api/v1/session', { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(bearer.json().user, 'admin');
      assert.equal(bearer.json().csrf, null);
      assert.ok(cookie);
    });

    it('Basic credentials work without a session; wrong ones are 401', async () => {
      const ok = await call(s.url, 'GET', '/api/v1/session', {
        headers: { Authorization: basic('alice', PASSWORDS.alice) },
      });
      assert.equal(ok.json().user, 'alice');
      const bad = await call(s.url, 'GET', '/api/v1/session', { headers: { Authorization: basic('alice', 'nope') } });
      assert.equal(bad.status, 401);
      assert.equal(bad.json().error.code, 'UNAUTHORIZED');
    });

    it('a tampered or foreign cookie is nobody', async () => {
      const { cookie } = await signIn(s, 'alice', PASSWORDS.alice);
      const [header, , sig] = cookie!.slice('stowage_session='.length).split('.');
      const forged = Buffer.from(
        JSON.stringify({ sub: 'admin', aud: 'stowage#session', iss: 'stowage', csrf: 'x', exp: 9e9 }),
      ).toString('base64url');
      const res = await call(s.url, 'GET', '/api/v1/session', {
        headers: { Cookie: `stowage_session=${header}.${forged}.${sig}` },
      });
      assert.equal(res.json().user, null);
    });

    it('signing out with the cookie needs the CSRF header; then the cookie is cleared', async () => {
      const { res, cookie } = await signIn(s, 'carol', PASSWORDS.carol);
      const csrf = res.json().csrf as string;
      const refused = await call(s.url, 'DELETE', '/api/v1/session', { headers: { Cookie: cookie! } });
      assert.equal(refused.status, 403);
      assert.equal(refused.json().error.code, 'CSRF');
      const wrong = await call(s.url, 'DELETE', '/api/v1/session', {
        headers: { Cookie: cookie!, 'X-Stowage-CSRF': 'guess' },
      });
      assert.equal(wrong.status, 403);
      const out = await call(s.url, 'DELETE', '/api/v1/session', {
        headers: { Cookie: cookie!, 'X-Stowage-CSRF': csrf },
      });
      assert.equal(out.status, 204);
      assert.match(out.headers['set-cookie']![0]!, /^stowage_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0$/);
    });

    it('sign-in takes only JSON (a cross-site form cannot post it)', async () => {
      const res = await call(s.url, 'POST', '/api/v1/session', {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: `username=alice&password=${PASSWORDS.alice}`,
      });
      assert.equal(res.status, 400);
      assert.equal(res.json().error.code, 'BAD_REQUEST');
    });

    it('repeated failures are rate-limited like /token (429, Retry-After)', async () => {
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) codes.push((await signIn(s, 'dave', `wrong-${i}`)).res.status);
      assert.deepEqual(codes.slice(0, 3), [401, 401, 401]);
      const limited = await signIn(s, 'dave', `wrong-again`);
      assert.equal(limited.res.status, 429);
      assert.equal(limited.res.json().error.code, 'TOO_MANY_REQUESTS');
      assert.ok(Number(limited.res.headers['retry-after']) > 0);
    });

    it('unknown API paths are JSON 404s', async () => {
      const res = await call(s.url, 'GET', '/api/v1/nothing-here');
      assert.equal(res.status, 404);
      assert.equal(res.json().error.code, 'NOT_FOUND');
    });
  });
}

describe('ui: false', () => {
  let s: AuthServer;
  before(async () => {
    s = await startAuthInProcess({ config: { ui: { enabled: false, sessionTtlSeconds: 3600, signatureKeys: [] } } });
  });
  after(() => s.stop());

  it('turns /api/v1 off (404 like any unknown path)', async () => {
    const res = await call(s.url, 'GET', '/api/v1/info');
    assert.equal(res.status, 404);
    assert.equal(res.json().errors[0].code, 'UNSUPPORTED');
  });
});
