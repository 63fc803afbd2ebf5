/**
 * Plain Basic auth mode over HTTP, and HTTPS serving (both modes).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parsePatScope } from '../../src/auth/pat.js';
import { makeTempDir, removeDir } from '../helpers/tools.js';
import {
  openPats,
  PASSWORDS,
  basic,
  bearer,
  call,
  fetchToken,
  makeTls,
  pushTinyImage,
  startAuthInProcess,
  type AuthServer,
  type TlsFiles,
} from './helpers.js';

const as = (u: keyof typeof PASSWORDS) => ({ Authorization: basic(u, PASSWORDS[u]) });

describe('Basic auth mode', () => {
  let s: AuthServer;
  let pats: ReturnType<typeof openPats>;
  before(async () => {
    s = await startAuthInProcess({ mode: 'basic' });
    pats = openPats(s.dataDir);
    assert.equal(await pushTinyImage(s, 'public/base', 'v1', as('admin')), 201);
    assert.equal(await pushTinyImage(s, 'alice/app', 'v1', as('alice')), 201);
  });
  after(async () => {
    await pats?.close();
    await s?.stop();
  });

  it('GET /v2/ challenges anonymous callers (also `Basic Og==`) and checks credentials', async () => {
    for (const headers of [{}, { Authorization: 'Basic Og==' }]) {
      const res = await call(s.url, 'GET', '/v2/', { headers });
      assert.equal(res.status, 401);
      assert.equal(res.headers['www-authenticate'], 'Basic realm="Stowage",charset="UTF-8"');
    }
    assert.equal((await call(s.url, 'GET', '/v2/', { headers: as('bob') })).status, 200);
    const wrong = await call(s.url, 'GET', '/v2/', { headers: { Authorization: basic('bob', 'nope') } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json().errors[0].message, 'incorrect username or password');
    assert.equal((await call(s.url, 'GET', '/v2/', { headers: bearer('x.y.z') })).status, 401);
  });

  it('anonymous callers pull public repositories (with no header or `Basic Og==`), nothing else', async () => {
    for (const headers of [{}, { Authorization: 'Basic Og==' }]) {
      assert.equal((await call(s.url, 'GET', '/v2/public/base/manifests/v1', { headers })).status, 200);
      const priv = await call(s.url, 'GET', '/v2/alice/app/manifests/v1', { headers });
      assert.equal(priv.status, 401);
      assert.match(String(priv.headers['www-authenticate']), /^Basic /);
      assert.equal((await call(s.url, 'POST', '/v2/public/base/blobs/uploads/', { headers })).status, 401);
    }
  });

  it('users lacking permission get 403 DENIED, and nothing is created', async () => {
    const res = await call(s.url, 'GET', '/v2/alice/app/manifests/v1', { headers: as('bob') });
    assert.equal(res.status, 403);
    assert.equal(res.json().errors[0].code, 'DENIED');
    assert.equal(await pushTinyImage(s, 'alice/intrusion', 'v1', as('bob')), 403);
    assert.equal(await pushTinyImage(s, 'public/base', 'v2', as('bob')), 403);
    assert.equal((await call(s.url, 'DELETE', '/v2/alice/app/manifests/v1', { headers: as('bob') })).status, 403);
    const cat = (await call(s.url, 'GET', '/v2/_catalog', { headers: as('admin') })).json().repositories;
    assert.deepEqual(cat, ['alice/app', 'public/base']);
  });

  it('_catalog lists only what the caller may pull', async () => {
    assert.deepEqual((await call(s.url, 'GET', '/v2/_catalog', { headers: as('bob') })).json().repositories, [
      'public/base',
    ]);
    assert.deepEqual((await call(s.url, 'GET', '/v2/_catalog', { headers: as('alice') })).json().repositories, [
      'alice/app',
      'public/base',
    ]);
    assert.deepEqual((await call(s.url, 'GET', '/v2/_catalog')).json().repositories, ['public/base']);
  });

  it('a personal access token works as the password, within its scopes; revoked → 401', async () => {
    const { token, record } = await pats.create('alice', [parsePatScope('alice/**:pull')]);
    const h = { Authorization: basic('alice', token) };
    assert.equal((await call(s.url, 'GET', '/v2/alice/app/manifests/v1', { headers: h })).status, 200);
    assert.equal(await pushTinyImage(s, 'alice/app', 'v2', h), 403, 'the PAT only pulls');
    await pats.revoke(record.id);
    assert.equal((await call(s.url, 'GET', '/v2/alice/app/manifests/v1', { headers: h })).status, 401);
  });

  it('there is no token endpoint', async () => {
    assert.equal((await call(s.url, 'GET', '/token?service=stowage', { headers: as('alice') })).status, 404);
    assert.equal(
      (
        await call(s.url, 'POST', '/token', {
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=password',
        })
      ).status,
      404,
    );
  });
});

describe('HTTPS', () => {
  let dir: string;
  let tls: TlsFiles;
  before(async () => {
    dir = await makeTempDir('auth-tls');
    tls = await makeTls(dir);
  });
  after(async () => {
    await removeDir(dir);
  });

  it('token mode: serves TLS and points the realm at https', async () => {
    const s = await startAuthInProcess({ tls });
    try {
      const res = await call(s.url, 'GET', '/v2/', { ca: tls.ca });
      assert.equal(res.status, 401);
      assert.match(String(res.headers['www-authenticate']), new RegExp(`^Bearer realm="https://${s.host}/token"`));
      const t = await fetchToken(s, { user: 'alice', secret: PASSWORDS.alice }, ['repository:alice/app:pull,push']);
      assert.equal(await pushTinyImage(s, 'alice/app', 'v1', bearer(t.token)), 201);
      await assert.rejects(call(s.url, 'GET', '/v2/'), /self[- ]signed|certificate/i, 'untrusted without the CA');
      await assert.rejects(call(s.url.replace('https:', 'http:'), 'GET', '/v2/'), 'no plain HTTP on the TLS port');
    } finally {
      await s.stop();
    }
  });

  it('basic mode over TLS', async () => {
    const s = await startAuthInProcess({ mode: 'basic', tls });
    try {
      assert.equal((await call(s.url, 'GET', '/v2/', { ca: tls.ca, headers: as('alice') })).status, 200);
      assert.equal(await pushTinyImage(s, 'alice/app', 'v1', as('alice')), 201);
    } finally {
      await s.stop();
    }
  });
});
