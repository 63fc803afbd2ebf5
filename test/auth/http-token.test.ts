/**
 * Token auth over HTTP, endpoint by endpoint: challenges, the token endpoint
 * (GET and POST, both grants), scopes per route, mounts, the catalog, PATs,
 * and every way a bad token must be refused (with nothing changed).
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatHtpasswd, parseHtpasswd } from '../../src/auth/htpasswd.js';
import { algorithmFor, libtrustKeyId, signToken, type SigningKey } from '../../src/auth/jwt.js';
import { loadOrCreateSigningKey } from '../../src/auth/keys.js';
import { hashPassword } from '../../src/auth/password.js';
import { parsePatScope } from '../../src/auth/pat.js';
import {
  openPats,
  PASSWORDS,
  basic,
  bearer,
  call,
  claimsOf,
  fetchToken,
  headerOf,
  pushTinyImage,
  startAuthInProcess,
  type AuthServer,
  type Res,
} from './helpers.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;
const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function challengeOf(res: Res): Record<string, string> {
  const h = String(res.headers['www-authenticate'] ?? '');
  assert.match(
    h,
    /^Bearer /,
    `Bearer challenge expected, got "${h}" (status ${res.status}: ${res.text.slice(0, 200)})`,
  );
  return Object.fromEntries([...h.slice(7).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

function assert401(res: Res, error?: 'invalid_token' | 'insufficient_scope', scope?: string): Record<string, string> {
  assert.equal(res.status, 401, res.text);
  const c = challengeOf(res);
  assert.equal(c.error, error);
  if (scope !== undefined) assert.equal(c.scope, scope);
  if (res.text !== '') assert.equal(JSON.parse(res.text).errors[0].code, 'UNAUTHORIZED');
  return c;
}

const user = (u: keyof typeof PASSWORDS) => ({ user: u, secret: PASSWORDS[u] });

describe('token auth over HTTP', () => {
  let s: AuthServer;
  let key: SigningKey;
  let pats: ReturnType<typeof openPats>;
  const tokenFor = async (who: keyof typeof PASSWORDS | undefined, ...scopes: string[]) =>
    (await fetchToken(s, who ? user(who) : undefined, scopes)).token;

  before(async () => {
    s = await startAuthInProcess();
    key = (await loadOrCreateSigningKey(join(s.dataDir, 'auth', 'token-signing-key.pem'))).key;
    pats = openPats(s.dataDir);
    // Fixtures: admin fills a public repository, alice and bob one private repository each.
    const admin = await tokenFor('admin', 'repository:public/base:pull,push', 'repository:bob/private:pull,push');
    assert.equal(await pushTinyImage(s, 'public/base', 'v1', bearer(admin)), 201);
    assert.equal(await pushTinyImage(s, 'bob/private', 'v1', bearer(admin)), 201);
    assert.equal(
      await pushTinyImage(s, 'alice/app', 'v1', bearer(await tokenFor('alice', 'repository:alice/app:pull,push'))),
      201,
    );
  });
  after(async () => {
    await pats?.close();
    await s?.stop();
  });

  describe('challenges', () => {
    it('GET /v2/ answers 401 with a Bearer challenge on the same origin, even though anonymous pull is allowed', async () => {
      for (const headers of [{}, { Authorization: 'Basic Og==' }]) {
        const res = await call(s.url, 'GET', '/v2/', { headers });
        const c = assert401(res);
        assert.deepEqual(c, { realm: `${s.url}/token`, service: 'stowage' });
        assert.equal(res.headers['docker-distribution-api-version'], 'registry/2.0');
      }
    });

    it('the realm follows the Host the client used', async () => {
      const res = await call(s.url, 'GET', '/v2/', { headers: { Host: `localhost:${new URL(s.url).port}` } });
      assert.equal(challengeOf(res).realm, `http://localhost:${new URL(s.url).port}/token`);
    });

    it('every 401 names the scope the request needs', async () => {
      assert401(await call(s.url, 'GET', '/v2/alice/app/tags/list'), undefined, 'repository:alice/app:pull');
      assert401(await call(s.url, 'POST', '/v2/alice/app/blobs/uploads/'), undefined, 'repository:alice/app:pull,push');
      assert401(
        await call(s.url, 'POST', '/v2/alice/app/blobs/uploads/?mount=sha256:aa&from=bob/private'),
        undefined,
        'repository:alice/app:pull,push repository:bob/private:pull',
      );
      assert401(await call(s.url, 'DELETE', '/v2/alice/app/manifests/v1'), undefined, 'repository:alice/app:delete');
      assert401(await call(s.url, 'GET', '/v2/_catalog'), undefined, 'registry:catalog:*');
      const head = await call(s.url, 'HEAD', '/v2/alice/app/manifests/v1');
      assert.equal(head.text, '');
      assert401(head, undefined, 'repository:alice/app:pull');
    });

    it('health checks stay open', async () => {
      assert.equal((await call(s.url, 'GET', '/healthz')).status, 200);
      assert.equal((await call(s.url, 'GET', '/readyz')).status, 200);
    });
  });

  describe('token endpoint (GET)', () => {
    it('docker login: Basic credentials, no scope, offline_token → token, refresh_token, RFC 3339 issued_at', async () => {
      const q = 'account=alice&client_id=docker&offline_token=true&service=stowage';
      const res = await call(s.url, 'GET', `/token?${q}`, {
        headers: { Authorization: basic('alice', PASSWORDS.alice) },
      });
      assert.equal(res.status, 200, res.text);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.equal(res.headers['cache-control'], 'no-store');
      const body = res.json();
      assert.equal(body.token, body.access_token);
      assert.ok(body.expires_in >= 60);
      assert.match(body.issued_at, RFC3339);
      assert.ok(typeof body.refresh_token === 'string');
      assert.deepEqual(headerOf(body.token), { typ: 'JWT', alg: 'ES256', kid: libtrustKeyId(key.publicKey) });
      const claims = claimsOf(body.token);
      assert.equal(claims.iss, 'stowage');
      assert.equal(claims.sub, 'alice');
      assert.equal(claims.aud, 'stowage');
      assert.deepEqual(claims.access, []);
      assert.equal(claims.exp - claims.iat, body.expires_in);
      // A token with no access still logs in: GET /v2/ → 200.
      assert.equal((await call(s.url, 'GET', '/v2/', { headers: bearer(body.token) })).status, 200);
    });

    it('no refresh_token unless asked for', async () => {
      assert.equal((await fetchToken(s, user('alice'), [])).refresh_token, undefined);
    });

    it('grants the intersection of requested and allowed, from repeated and space-separated scopes', async () => {
      const t = await fetchToken(s, user('alice'), [
        'repository:alice/app:pull,push repository:bob/private:pull',
        'repository:public/base:push,pull',
        'registry:catalog:*',
      ]);
      assert.deepEqual(claimsOf(t.token).access, [
        { type: 'repository', name: 'alice/app', actions: ['pull', 'push'] },
        { type: 'repository', name: 'public/base', actions: ['pull'] },
        { type: 'registry', name: 'catalog', actions: ['*'] },
      ]);
    });

    it('anonymous callers get anonymous tokens (sub "") with public pulls only', async () => {
      const t = await fetchToken(s, undefined, ['repository:public/base:pull,push', 'repository:alice/app:pull']);
      const claims = claimsOf(t.token);
      assert.equal(claims.sub, '');
      assert.deepEqual(claims.access, [{ type: 'repository', name: 'public/base', actions: ['pull'] }]);
      assert.equal(t.refresh_token, undefined);
      assert.equal((await call(s.url, 'GET', '/v2/', { headers: bearer(t.token) })).status, 200);
      assert.equal(
        (await call(s.url, 'GET', '/v2/public/base/manifests/v1', { headers: bearer(t.token) })).status,
        200,
      );
      assert401(
        await call(s.url, 'GET', '/v2/alice/app/manifests/v1', { headers: bearer(t.token) }),
        'insufficient_scope',
        'repository:alice/app:pull',
      );
    });

    it('wrong password → 401 with a message docker shows', async () => {
      for (const creds of [basic('alice', 'wrong'), basic('nobody', 'x'), basic('alice', PASSWORDS.bob)]) {
        const res = await call(s.url, 'GET', '/token?service=stowage&scope=repository:alice/app:pull', {
          headers: { Authorization: creds },
        });
        assert.equal(res.status, 401);
        assert.deepEqual(res.json(), { errors: [{ code: 'UNAUTHORIZED', message: 'incorrect username or password' }] });
      }
    });

    it('refuses another service and a bearer token as credentials', async () => {
      const res = await call(s.url, 'GET', '/token?service=other.registry&scope=repository:a:pull');
      assert.equal(res.status, 400);
      assert.match(res.text, /unknown service/);
      const t = await tokenFor('alice');
      assert.equal((await call(s.url, 'GET', '/token?service=stowage', { headers: bearer(t) })).status, 401);
    });
  });

  describe('token endpoint (POST, OAuth2)', () => {
    const post = (form: Record<string, string>, type = 'application/x-www-form-urlencoded; charset=utf-8') =>
      call(s.url, 'POST', '/token', { headers: { 'Content-Type': type }, body: new URLSearchParams(form).toString() });

    it('password grant → access_token (and a refresh_token with access_type=offline)', async () => {
      const res = await post({
        grant_type: 'password',
        username: 'alice',
        password: PASSWORDS.alice,
        service: 'stowage',
        client_id: 'containerd-client',
        scope: 'repository:alice/app:pull,push repository:bob/private:pull',
        access_type: 'offline',
      });
      assert.equal(res.status, 200, res.text);
      const body = res.json();
      assert.equal(body.access_token, body.token);
      assert.equal(body.scope, 'repository:alice/app:pull,push');
      assert.match(body.issued_at, RFC3339);
      assert.ok(body.expires_in >= 60);
      assert.ok(body.refresh_token);
      assert.equal(
        (await call(s.url, 'GET', '/v2/alice/app/tags/list', { headers: bearer(body.access_token) })).status,
        200,
      );
      const noOffline = (
        await post({ grant_type: 'password', username: 'alice', password: PASSWORDS.alice, service: 'stowage' })
      ).json();
      assert.equal(noOffline.refresh_token, undefined);
    });

    it('refresh_token grant works (so handing out refresh tokens is safe), and only with a real refresh token', async () => {
      const { refresh_token, token } = await fetchToken(s, user('alice'), [], { offline_token: 'true' });
      const res = await post({
        grant_type: 'refresh_token',
        refresh_token: refresh_token!,
        service: 'stowage',
        client_id: 'docker',
        scope: 'repository:alice/app:pull',
      });
      assert.equal(res.status, 200, res.text);
      const body = res.json();
      assert.equal(claimsOf(body.access_token).sub, 'alice');
      assert.deepEqual(claimsOf(body.access_token).access, [
        { type: 'repository', name: 'alice/app', actions: ['pull'] },
      ]);
      assert.equal(body.refresh_token, refresh_token);
      // An access token is not a refresh token, and a refresh token is not an access token.
      assert.equal((await post({ grant_type: 'refresh_token', refresh_token: token, service: 'stowage' })).status, 401);
      assert.equal(
        (await post({ grant_type: 'refresh_token', refresh_token: 'garbage', service: 'stowage' })).status,
        401,
      );
      assert401(await call(s.url, 'GET', '/v2/', { headers: bearer(refresh_token!) }), 'invalid_token');
    });

    it('refuses wrong passwords, unknown grants and other content types', async () => {
      assert.equal(
        (await post({ grant_type: 'password', username: 'alice', password: 'nope', service: 'stowage' })).status,
        401,
      );
      assert.equal((await post({ grant_type: 'client_credentials', service: 'stowage' })).status, 400);
      assert.equal(
        (await post({ grant_type: 'password', username: 'alice', password: PASSWORDS.alice }, 'application/json'))
          .status,
        400,
      );
      assert.equal(
        (await post({ grant_type: 'password', username: 'alice', password: PASSWORDS.alice, service: 'elsewhere' }))
          .status,
        400,
      );
    });
  });

  describe('every endpoint enforces the token', () => {
    it("a token for one repository opens nothing else (bob's repository, every route), and nothing changes", async () => {
      const t = bearer(
        await tokenFor('alice', 'repository:alice/app:pull,push,delete', 'repository:bob/private:pull,push,delete'),
      );
      const layer = Buffer.from('layer of bob/private:v1');
      const probes: [string, string, string][] = [
        ['GET', '/v2/bob/private/tags/list', 'pull'],
        ['GET', '/v2/bob/private/manifests/v1', 'pull'],
        ['HEAD', '/v2/bob/private/manifests/v1', 'pull'],
        ['PUT', '/v2/bob/private/manifests/v2', 'pull,push'],
        ['DELETE', '/v2/bob/private/manifests/v1', 'delete'],
        ['GET', `/v2/bob/private/blobs/${sha(layer)}`, 'pull'],
        ['HEAD', `/v2/bob/private/blobs/${sha(layer)}`, 'pull'],
        ['DELETE', `/v2/bob/private/blobs/${sha(layer)}`, 'delete'],
        ['POST', '/v2/bob/private/blobs/uploads/', 'pull,push'],
        ['GET', '/v2/bob/private/blobs/uploads/00000000-0000-0000-0000-000000000000', 'pull,push'],
        ['PATCH', '/v2/bob/private/blobs/uploads/00000000-0000-0000-0000-000000000000', 'pull,push'],
        ['PUT', '/v2/bob/private/blobs/uploads/00000000-0000-0000-0000-000000000000?digest=' + sha('x'), 'pull,push'],
        ['DELETE', '/v2/bob/private/blobs/uploads/00000000-0000-0000-0000-000000000000', 'pull,push'],
        ['GET', `/v2/bob/private/referrers/${sha('x')}`, 'pull'],
      ];
      for (const [method, path, actions] of probes) {
        const res = await call(s.url, method, path, {
          headers: t,
          ...(method === 'PUT' || method === 'PATCH' ? { body: '{}' } : {}),
        });
        assert401(res, 'insufficient_scope', `repository:bob/private:${actions}`);
      }
      // Still all there for bob.
      const bob = bearer(await tokenFor('bob', 'repository:bob/private:pull'));
      assert.deepEqual((await call(s.url, 'GET', '/v2/bob/private/tags/list', { headers: bob })).json().tags, ['v1']);
      assert.equal((await call(s.url, 'GET', `/v2/bob/private/blobs/${sha(layer)}`, { headers: bob })).status, 200);
    });

    it('pull-only tokens cannot push or delete; deletes need delete', async () => {
      const pull = bearer(await tokenFor('alice', 'repository:alice/app:pull'));
      assert.equal((await call(s.url, 'GET', '/v2/alice/app/manifests/v1', { headers: pull })).status, 200);
      assert401(await call(s.url, 'POST', '/v2/alice/app/blobs/uploads/', { headers: pull }), 'insufficient_scope');
      assert401(
        await call(s.url, 'DELETE', '/v2/alice/app/manifests/v1', { headers: pull }),
        'insufficient_scope',
        'repository:alice/app:delete',
      );
      assert.equal(await pushTinyImage(s, 'alice/app', 'v1', pull), 401);

      const push = bearer(await tokenFor('alice', 'repository:alice/app:pull,push'));
      assert.equal(await pushTinyImage(s, 'alice/app', 'gone', push), 201);
      assert401(await call(s.url, 'DELETE', '/v2/alice/app/manifests/gone', { headers: push }), 'insufficient_scope');
      const del = bearer(await tokenFor('alice', 'repository:alice/app:delete'));
      const manifest = await call(s.url, 'GET', '/v2/alice/app/manifests/gone', { headers: push });
      assert.equal(
        (
          await call(s.url, 'DELETE', `/v2/alice/app/manifests/${manifest.headers['docker-content-digest']}`, {
            headers: del,
          })
        ).status,
        202,
      );
    });

    it('cancelling an upload needs push, not delete (podman cancels with its push token)', async () => {
      const push = bearer(await tokenFor('alice', 'repository:alice/app:pull,push'));
      const started = await call(s.url, 'POST', '/v2/alice/app/blobs/uploads/', { headers: push });
      assert.equal(started.status, 202);
      assert.equal((await call(s.url, 'DELETE', String(started.headers.location), { headers: push })).status, 204);
    });

    it('mounts need pull on the source repository', async () => {
      const layer = Buffer.from('layer of bob/private:v1');
      const base = Buffer.from('layer of public/base:v1');
      const t = bearer(await tokenFor('alice', 'repository:alice/mnt:pull,push', 'repository:bob/private:pull'));
      const fromBob = await call(s.url, 'POST', `/v2/alice/mnt/blobs/uploads/?mount=${sha(layer)}&from=bob/private`, {
        headers: t,
      });
      assert.equal(fromBob.status, 202, 'not mounted: a fresh upload session instead');
      assert.equal((await call(s.url, 'HEAD', `/v2/alice/mnt/blobs/${sha(layer)}`, { headers: t })).status, 404);
      const fromPublic = await call(s.url, 'POST', `/v2/alice/mnt/blobs/uploads/?mount=${sha(base)}&from=public/base`, {
        headers: t,
      });
      assert.equal(fromPublic.status, 201, 'alice may pull public/base');
      // Bob mounting from alice's repository gets nothing either.
      const b = bearer(await tokenFor('bob', 'repository:bob/mnt:pull,push', 'repository:alice/app:pull'));
      assert.equal(
        (
          await call(s.url, 'POST', `/v2/bob/mnt/blobs/uploads/?mount=${sha('layer of alice/app:v1')}&from=alice/app`, {
            headers: b,
          })
        ).status,
        202,
      );
    });

    it('_catalog needs the catalog scope and lists only what the caller may pull', async () => {
      const list = async (who: keyof typeof PASSWORDS | undefined) =>
        (
          await call(s.url, 'GET', '/v2/_catalog', { headers: bearer(await tokenFor(who, 'registry:catalog:*')) })
        ).json().repositories as string[];
      assert.deepEqual(await list('alice'), ['alice/app', 'public/base']);
      assert.deepEqual(await list('bob'), ['bob/private', 'public/base']);
      assert.deepEqual(await list(undefined), ['public/base']);
      assert.deepEqual(await list('admin'), ['alice/app', 'bob/private', 'public/base']);
      assert401(
        await call(s.url, 'GET', '/v2/_catalog', {
          headers: bearer(await tokenFor('alice', 'repository:alice/app:pull')),
        }),
        'insufficient_scope',
        'registry:catalog:*',
      );
    });
  });

  describe('personal access tokens', () => {
    it('log in like a password, limited to their scopes', async () => {
      const { token: pat } = await pats.create('alice', [parsePatScope('alice/app:pull')]);
      const t = await fetchToken(
        s,
        { user: 'alice', secret: pat },
        ['repository:alice/app:pull,push', 'repository:alice/other:pull'],
        { offline_token: 'true' },
      );
      const claims = claimsOf(t.token);
      assert.deepEqual(claims.access, [{ type: 'repository', name: 'alice/app', actions: ['pull'] }]);
      assert.equal(typeof claims.pat, 'string');
      assert.equal((await call(s.url, 'GET', '/v2/alice/app/tags/list', { headers: bearer(t.token) })).status, 200);
      assert.ok(t.refresh_token);
    });

    it('are refused when revoked (and so are refresh tokens earned with them), expired, or presented as another user', async () => {
      const { token: pat, record } = await pats.create('alice', [parsePatScope('alice/**:pull,push')]);
      const { refresh_token } = await fetchToken(s, { user: 'alice', secret: pat }, [], { offline_token: 'true' });
      assert.equal(
        (await call(s.url, 'GET', '/token?service=stowage', { headers: { Authorization: basic('bob', pat) } })).status,
        401,
        'another user',
      );
      await pats.revoke(record.id);
      assert.equal(
        (await call(s.url, 'GET', '/token?service=stowage', { headers: { Authorization: basic('alice', pat) } }))
          .status,
        401,
        'revoked',
      );
      const refreshed = await call(s.url, 'POST', '/token', {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: refresh_token!,
          service: 'stowage',
        }).toString(),
      });
      assert.equal(refreshed.status, 401, 'refresh token of a revoked PAT');
      const expired = await pats.create(
        'alice',
        [parsePatScope('alice/**:pull')],
        { expiresInSeconds: 60 },
        Date.now() - 120_000,
      );
      assert.equal(
        (
          await call(s.url, 'GET', '/token?service=stowage', {
            headers: { Authorization: basic('alice', expired.token) },
          })
        ).status,
        401,
        'expired',
      );
    });
  });

  describe('bad tokens → 401 invalid_token, nothing changed', () => {
    const claims = (o: Record<string, unknown> = {}) => ({
      iss: 'stowage',
      sub: 'alice',
      aud: 'stowage',
      access: [{ type: 'repository', name: 'alice/app', actions: ['pull', 'push', 'delete'] }],
      ttl: 300,
      ...o,
    });
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

    async function refused(token: string) {
      assert401(await call(s.url, 'GET', '/v2/', { headers: bearer(token) }), 'invalid_token');
      assert401(
        await call(s.url, 'DELETE', '/v2/alice/app/manifests/v1', { headers: bearer(token) }),
        'invalid_token',
        'repository:alice/app:delete',
      );
    }

    it('control: a well-formed token signed with the server key works', async () => {
      const t = await signToken(
        key,
        claims({ access: [{ type: 'repository', name: 'alice/app', actions: ['pull'] }] }),
      );
      assert.equal((await call(s.url, 'GET', '/v2/alice/app/tags/list', { headers: bearer(t) })).status, 200);
    });

    it('expired', async () => {
      await refused(await signToken(key, claims(), Math.floor(Date.now() / 1000) - 1000));
    });

    it('tampered (access widened after signing)', async () => {
      const [h, p, sig] = (await signToken(key, claims({ access: [] }))).split('.');
      const c = JSON.parse(Buffer.from(p!, 'base64url').toString());
      c.access = claims().access;
      await refused(`${h}.${b64(c)}.${sig}`);
    });

    it('signed by another key (under the server kid, and under its own)', async () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const other: SigningKey = { privateKey, publicKey, alg: algorithmFor(privateKey), kid: key.kid };
      await refused(await signToken(other, claims()));
      await refused(await signToken({ ...other, kid: libtrustKeyId(publicKey) }, claims()));
    });

    it('alg none', async () => {
      const c = { ...claims(), exp: Math.floor(Date.now() / 1000) + 300 };
      await refused(`${b64({ typ: 'JWT', alg: 'none', kid: key.kid })}.${b64(c)}.`);
    });

    it('for another service (audience) or from an unknown issuer', async () => {
      await refused(await signToken(key, claims({ aud: 'other.registry' })));
      await refused(await signToken(key, claims({ iss: 'somebody' })));
    });

    it('malformed Authorization', async () => {
      for (const h of ['Bearer', 'Bearer not.a.jwt', 'Token abc', `Bearer ${'a'.repeat(10000)}`]) {
        const res = await call(s.url, 'GET', '/v2/alice/app/tags/list', { headers: { Authorization: h } });
        assert.equal(res.status, 401);
        challengeOf(res);
      }
      // And alice/app is untouched by all of the above.
      const t = bearer(await tokenFor('alice', 'repository:alice/app:pull'));
      assert.ok((await call(s.url, 'GET', '/v2/alice/app/tags/list', { headers: t })).json().tags.includes('v1'));
    });
  });

  describe('password changes and removed users', () => {
    it('end refresh tokens and logins (the htpasswd file is re-read while running)', async () => {
      const { refresh_token } = await fetchToken(s, user('carol'), [], { offline_token: 'true' });
      const users = parseHtpasswd(await readFile(s.htpasswd, 'utf8')).users;
      users.set('carol', await hashPassword('carol-new-password', 4));
      await writeFile(s.htpasswd, formatHtpasswd(users));
      await new Promise((r) => setTimeout(r, 1100));
      const refresh = await call(s.url, 'POST', '/token', {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: refresh_token!,
          service: 'stowage',
        }).toString(),
      });
      assert.equal(refresh.status, 401);
      assert.equal(
        (
          await call(s.url, 'GET', '/token?service=stowage', {
            headers: { Authorization: basic('carol', PASSWORDS.carol) },
          })
        ).status,
        401,
      );
      assert.equal(
        (
          await call(s.url, 'GET', '/token?service=stowage', {
            headers: { Authorization: basic('carol', 'carol-new-password') },
          })
        ).status,
        200,
      );
    });
  });
});

describe('tokens of an external token service', () => {
  let s: AuthServer;
  let idp: SigningKey;
  before(async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    idp = { privateKey, publicKey, alg: 'ES256', kid: 'idp-2024' };
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'stowage-idp-'));
    await writeFile(
      join(dir, 'jwks.json'),
      JSON.stringify({
        keys: [{ ...(publicKey.export({ format: 'jwk' }) as object), kid: 'idp-2024', alg: 'ES256', use: 'sig' }],
      }),
    );
    s = await startAuthInProcess({
      auth: { trusted_issuers: [{ issuer: 'https://idp.example', jwks: join(dir, 'jwks.json') }] },
    });
  });
  after(async () => {
    await s?.stop();
  });

  const idpToken = (o: Record<string, unknown> = {}) =>
    signToken(idp, {
      iss: 'https://idp.example',
      sub: 'ci-robot',
      aud: 'stowage',
      access: [{ type: 'repository', name: 'ext/app', actions: ['pull', 'push'] }],
      ttl: 300,
      ...o,
    });

  it('are accepted for exactly the access they carry', async () => {
    const t = bearer(await idpToken());
    assert.equal(await pushTinyImage(s, 'ext/app', 'v1', t), 201);
    const other = await call(s.url, 'GET', '/v2/alice/app/tags/list', { headers: t });
    assert.equal(other.status, 401);
    assert.match(String(other.headers['www-authenticate']), /error="insufficient_scope"/);
  });

  it('are refused for another audience, with an unknown kid, or claiming Stowage as issuer', async () => {
    for (const t of [
      await idpToken({ aud: 'elsewhere' }),
      await signToken(
        { ...idp, kid: 'nope' },
        { iss: 'https://idp.example', sub: 'x', aud: 'stowage', access: [], ttl: 300 },
      ),
      await idpToken({ iss: 'stowage' }),
    ]) {
      const res = await call(s.url, 'GET', '/v2/', { headers: bearer(t) });
      assert.equal(res.status, 401);
      assert.match(String(res.headers['www-authenticate']), /error="invalid_token"/);
    }
  });
});
