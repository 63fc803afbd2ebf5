/**
 * The token realm never comes from an unchecked Host header: a configured public
 * URL or realm wins, an allowed-hosts list is enforced, and listening beyond
 * loopback with token auth and none of these refuses to start.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError, resolveConfig } from '../../src/config/config.js';
import { call, startAuthInProcess, type AuthServer } from './helpers.js';

const realmOf = (h: unknown) => /realm="([^"]*)"/.exec(String(h))?.[1];

describe('realm configuration', () => {
  const token = { mode: 'token', htpasswd: '/nonexistent/htpasswd' };

  it('listening beyond loopback with token auth and no public URL, realm or allowed hosts: refuses to start, saying what to set', () => {
    for (const addr of ['0.0.0.0:5000', ':5000', '[::]:5000', '10.1.2.3:5000']) {
      assert.throws(
        () => resolveConfig({ addr, auth: token }, {}, {}),
        (e: unknown) =>
          e instanceof ConfigError &&
          /public_url/.test(e.message) &&
          /allowed_hosts/.test(e.message) &&
          /auth\.realm/.test(e.message),
        addr,
      );
    }
  });

  it('starts beyond loopback once one of them is set, on loopback without, and in Basic mode (no URL in its realm)', () => {
    const addr = '0.0.0.0:5000';
    assert.equal(
      resolveConfig({ addr, auth: token, publicUrl: 'https://registry.example.com/' }, {}, {}).publicUrl,
      'https://registry.example.com',
    );
    assert.deepEqual(
      resolveConfig({ addr, auth: token }, { allowedHosts: 'Registry.Example.com, registry.example.com:5000' }, {})
        .allowedHosts,
      ['registry.example.com', 'registry.example.com:5000'],
    );
    assert.ok(resolveConfig({ addr, auth: { ...token, realm: 'https://auth.example.com/token' } }, {}, {}));
    assert.ok(resolveConfig({ addr: '127.0.0.1:5000', auth: token }, {}, {}));
    assert.ok(resolveConfig({ addr, auth: { ...token, mode: 'basic' } }, {}, {}));
  });

  it('refuses a public URL that is not an http(s) origin, and malformed hosts', () => {
    for (const bad of ['registry.example.com', 'ftp://x', 'https://x/path', 'https://u:p@x', 'https://x/?q=1']) {
      assert.throws(() => resolveConfig({ publicUrl: bad }, {}, {}), ConfigError, bad);
    }
    assert.throws(() => resolveConfig({ allowedHosts: ['evil.example/x'] }, {}, {}), ConfigError);
  });
});

describe('realm in challenges', () => {
  let withUrl: AuthServer;
  let withHosts: AuthServer;
  before(async () => {
    withUrl = await startAuthInProcess({ config: { publicUrl: 'https://registry.example.com' } });
    withHosts = await startAuthInProcess({ config: { allowedHosts: ['registry.example.com', 'localhost'] } });
  });
  after(async () => {
    await withUrl?.stop();
    await withHosts?.stop();
  });

  it('a public URL is the realm whatever Host the request claims', async () => {
    for (const host of ['evil.example', 'registry.example.com', withUrl.host]) {
      const res = await call(withUrl.url, 'GET', '/v2/', { headers: { Host: host } });
      assert.equal(res.status, 401);
      assert.equal(realmOf(res.headers['www-authenticate']), 'https://registry.example.com/token', host);
    }
  });

  it('allowed hosts: an allowed Host is followed, any other gets the first allowed one', async () => {
    const get = async (host: string) =>
      realmOf(
        (await call(withHosts.url, 'GET', '/v2/alice/app/tags/list', { headers: { Host: host } })).headers[
          'www-authenticate'
        ],
      );
    assert.equal(await get('evil.example'), 'http://registry.example.com/token');
    assert.equal(await get('evil.example:5000'), 'http://registry.example.com/token');
    assert.equal(await get(withHosts.host), 'http://registry.example.com/token', 'an address not in the list');
    assert.equal(await get('LOCALHOST'), 'http://localhost/token');
    assert.equal(await get('registry.example.com'), 'http://registry.example.com/token');
  });
});
