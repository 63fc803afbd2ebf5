/** end-1 (`/v2/`), health endpoints, unknown routes and wrong methods. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startInProcess, type InProcessStowage } from '../helpers/server.js';
import { assertApiVersion, assertError, pushBlob, rawHeader, rawRequest, req } from './helpers.js';

describe('base endpoints', () => {
  let s: InProcessStowage;
  before(async () => {
    s = await startInProcess({ fsync: false });
  });
  after(async () => {
    await s.stop();
  });

  for (const path of ['/v2/', '/v2']) {
    it(`GET ${path} → 200 {} with the API version header`, async () => {
      const res = await req(s.url, 'GET', path);
      assert.equal(res.status, 200);
      assertApiVersion(res);
      assert.equal(rawHeader(res, 'content-type')[0], 'application/json');
      assert.deepEqual(res.json(), {});
      assert.equal(res.headers['content-length'], String(res.body.length));
    });

    it(`HEAD ${path} → 200, no body`, async () => {
      const res = await req(s.url, 'HEAD', path);
      assert.equal(res.status, 200);
      assertApiVersion(res);
      assert.equal(res.body.length, 0);
    });
  }

  it('GET /healthz → 200 ok', async () => {
    const res = await req(s.url, 'GET', '/healthz');
    assert.equal(res.status, 200);
    assertApiVersion(res);
    assert.deepEqual(res.json(), { status: 'ok' });
  });

  it('GET /readyz → 200 ready', async () => {
    const res = await req(s.url, 'GET', '/readyz');
    assert.equal(res.status, 200);
    assertApiVersion(res);
    assert.deepEqual(res.json(), { status: 'ready', blobs: 'ok', metadata: 'ok' });
  });

  it('every response carries a request id', async () => {
    const a = await req(s.url, 'GET', '/v2/');
    const b = await req(s.url, 'GET', '/nope');
    assert.ok(a.headers['x-request-id']);
    assert.ok(b.headers['x-request-id']);
    assert.notEqual(a.headers['x-request-id'], b.headers['x-request-id']);
  });

  // `/` is the web UI's (test/ui/static-ui.test.ts); with `ui: false` it is unknown too.
  for (const path of [
    '/v1/',
    '/v2/foo',
    '/v2/foo/bar',
    '/v2/foo/tags',
    '/v2/foo/manifests/',
    '/v2/foo/blobs/',
    '/v3/',
    '/healthz/x',
    '/v2/_oci/ext/discover',
  ]) {
    it(`unknown route ${path} → 404 JSON error (UNSUPPORTED)`, async () => {
      const res = await req(s.url, 'GET', path);
      const body = assertError(res, 404, 'UNSUPPORTED');
      assert.equal(typeof body.errors[0].message, 'string');
    });
  }

  it('unknown route answered to HEAD → 404 with no body', async () => {
    const res = await req(s.url, 'HEAD', '/v2/foo');
    assertError(res, 404, 'UNSUPPORTED', 'HEAD');
  });

  const wrongMethods: Array<[string, string, string[]]> = [
    ['POST', '/v2/', ['GET', 'HEAD']],
    ['DELETE', '/v2/', ['GET', 'HEAD']],
    ['PUT', '/v2/_catalog', ['GET', 'HEAD']],
    ['POST', '/v2/foo/tags/list', ['GET', 'HEAD']],
    ['POST', '/v2/foo/manifests/latest', ['GET', 'PUT', 'DELETE', 'HEAD']],
    ['PATCH', '/v2/foo/manifests/latest', ['GET', 'PUT', 'DELETE', 'HEAD']],
    ['PUT', `/v2/foo/blobs/sha256:${'a'.repeat(64)}`, ['GET', 'DELETE', 'HEAD']],
    ['POST', `/v2/foo/blobs/sha256:${'a'.repeat(64)}`, ['GET', 'DELETE', 'HEAD']],
    ['GET', '/v2/foo/blobs/uploads/', ['POST']],
    ['PUT', '/v2/foo/blobs/uploads/', ['POST']],
    ['POST', '/v2/foo/blobs/uploads/0b7e0b33-a9f4-4a39-9d70-0b2d5a0f0c55', ['GET', 'PATCH', 'PUT', 'DELETE', 'HEAD']],
    ['DELETE', `/v2/foo/referrers/sha256:${'a'.repeat(64)}`, ['GET', 'HEAD']],
    ['POST', '/healthz', ['GET', 'HEAD']],
  ];
  for (const [method, path, allowed] of wrongMethods) {
    it(`${method} ${path} → 405 UNSUPPORTED with Allow`, async () => {
      const res = await req(s.url, method, path);
      assertError(res, 405, 'UNSUPPORTED');
      const allow = String(res.headers.allow).split(/,\s*/).sort();
      assert.deepEqual(allow, [...allowed].sort());
    });
  }

  it('HTTP/1.0 request → 200', async () => {
    const res = await rawRequest(s.url, 'GET /v2/ HTTP/1.0');
    assert.equal(res.status, 200);
    assertApiVersion(res);
    assert.deepEqual(res.json(), {});
  });

  it('HEAD with a request body is served normally', async () => {
    const { digest } = await pushBlob(s.url, 'headbody', 'hello');
    const res = await rawRequest(s.url, `HEAD /v2/headbody/blobs/${digest} HTTP/1.1\r\nContent-Length: 3`, 'abc');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], '5');
    assert.equal(res.headers['docker-content-digest'], digest);
    assert.equal(res.body.length, 0);
  });

  it('absolute-form request target (RFC 9112 §3.2.2: servers MUST accept it) is routed like origin-form', async () => {
    const { digest } = await pushBlob(s.url, 'absform', 'absolute');
    const base = await rawRequest(s.url, `GET http://${s.host}/v2/ HTTP/1.1`);
    assert.equal(base.status, 200, base.text);
    assertApiVersion(base);
    const blob = await rawRequest(s.url, `GET http://${s.host}/v2/absform/blobs/${digest} HTTP/1.1`);
    assert.equal(blob.status, 200, blob.text);
    assert.equal(blob.text, 'absolute');
    const tags = await rawRequest(s.url, `GET http://${s.host}/v2/absform/tags/list?n=1 HTTP/1.1`);
    assert.equal(tags.status, 200, tags.text);
  });

  it('errors carry the API version header and JSON body', async () => {
    const res = await req(s.url, 'GET', '/v2/NotValid/tags/list');
    assertError(res, 400, 'NAME_INVALID');
  });
});
