/**
 * The web UI's serving, over HTTP: the page at `/` and every client route, assets
 * under a build hash with a year's cache, ETags, the CSP, the API paths left to
 * the registry, `ui: false`, and the size of the JavaScript shipped.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { startInProcess, type InProcessStowage } from '../helpers/server.js';
import { UI_DEFAULTS } from '../../src/config/ui-config.js';
import { CONTENT_SECURITY_POLICY } from '../../src/ui/static-ui.js';

/** web/ of the checkout (the page and styles) and dist/web (the compiled scripts), from dist/test/ui. */
const WEB = fileURLToPath(new URL('../../../web/', import.meta.url));
const DIST_WEB = fileURLToPath(new URL('../../web/', import.meta.url));

describe('the web UI is served at / by stowage serve', () => {
  let s: InProcessStowage;
  before(async () => {
    s = await startInProcess();
  });
  after(() => s?.stop());

  test('/ and the client routes get the page, with the CSP and no caching without revalidation', async () => {
    for (const path of [
      '/',
      '/signin',
      '/r/library/app',
      '/r/a/b/c/-/m/sha256:abc',
      '/r/a/-/m/sha256:abc/files?path=x',
    ]) {
      const res = await fetch(s.url + path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(res.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      const html = await res.text();
      assert.match(html, /<script type="module" src="\/assets\/[0-9a-f]{16}\/main\.js"><\/script>/);
      assert.doesNotMatch(html, /%ASSETS%|%PRELOAD%/);
      // Nothing from elsewhere: no CDN, no inline script or style.
      assert.doesNotMatch(html, /(?:src|href)="(?:https?:)?\/\//);
      assert.doesNotMatch(html, /<script>|<style|style=/);
    }
  });

  test('the strict CSP of the contract', () => {
    assert.equal(
      CONTENT_SECURITY_POLICY,
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
  });

  test('assets: a year of cache under the build hash, ETag revalidation, gzip, 404 for another build', async () => {
    const html = await (await fetch(s.url + '/')).text();
    const prefix = /src="(\/assets\/[0-9a-f]{16}\/)main\.js"/.exec(html)![1]!;
    const urls = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    assert.ok(urls.some((u) => u.endsWith('.css')));
    assert.ok(urls.filter((u) => u.endsWith('.js')).length >= 5, 'every module is preloaded');
    for (const url of urls) {
      const res = await fetch(s.url + url);
      assert.equal(res.status, 200, url);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      await res.arrayBuffer();
    }
    const js = await fetch(`${s.url}${prefix}main.js`);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(js.headers.get('content-encoding'), 'gzip', 'fetch asks for gzip');
    const etag = js.headers.get('etag')!;
    assert.match(etag, /^".+"$/);
    const again = await fetch(`${s.url}${prefix}main.js`, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    const page = await fetch(s.url + '/');
    const page304 = await fetch(s.url + '/', { headers: { 'If-None-Match': page.headers.get('etag')! } });
    assert.equal(page304.status, 304);
    // An older build's asset must not be answered with the page (a script would get HTML).
    const stale = await fetch(`${s.url}/assets/0000000000000000/main.js`);
    assert.equal(stale.status, 404);
    assert.equal(stale.headers.get('content-type'), 'text/plain; charset=utf-8');
    const head = await fetch(`${s.url}${prefix}app.css`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  test('the registry and API paths are never the page', async () => {
    for (const path of [
      '/v2/nothing/here',
      '/api/v1/nope',
      '/tokenx/../token',
      '/metrics',
      '/healthz',
      '/readyz',
      '/api',
      '/v1/',
      '/no/such/path',
    ]) {
      const res = await fetch(s.url + path);
      assert.notEqual(res.headers.get('content-type'), 'text/html; charset=utf-8', path);
      await res.arrayBuffer();
    }
    const v2 = await fetch(s.url + '/v2/nothing/here');
    assert.equal(v2.status, 404);
    assert.ok(Array.isArray(((await v2.json()) as any).errors), 'an OCI error body');
    // Other methods on a UI path are the registry's 404, not the page.
    const post = await fetch(s.url + '/r/x', { method: 'POST' });
    assert.equal(post.status, 404);
    await post.arrayBuffer();
  });
});

test('ui: false serves no page (404 at / and the client routes)', async () => {
  const s = await startInProcess({ ui: { ...UI_DEFAULTS, enabled: false } });
  try {
    for (const path of ['/', '/r/library/app', '/signin']) {
      const res = await fetch(s.url + path);
      assert.equal(res.status, 404, path);
      assert.notEqual(res.headers.get('content-type'), 'text/html; charset=utf-8');
      await res.arrayBuffer();
    }
  } finally {
    await s.stop();
  }
});

test('the JavaScript shipped is well under 150 KB gzipped', async () => {
  const dist = DIST_WEB;
  const files = (await readdir(dist)).filter((f) => f.endsWith('.js'));
  assert.ok(files.includes('main.js'), `built into ${dist}`);
  let total = 0;
  for (const f of files) total += gzipSync(await readFile(dist + f), { level: 9 }).length;
  assert.ok(total > 1000, 'the UI is built');
  assert.ok(total < 150 * 1024, `${total} bytes gzipped`);
  // The page and styles ship beside it, from web/.
  assert.match(await readFile(WEB + 'index.html', 'utf8'), /%ASSETS%\/main\.js/);
});
