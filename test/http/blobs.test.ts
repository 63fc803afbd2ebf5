/** end-2 (GET/HEAD blob, ranges) and end-10 (DELETE blob). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startInProcess, type InProcessStowage } from '../helpers/server.js';
import {
  EMPTY_DIGEST,
  MT,
  assertApiVersion,
  assertError,
  imageManifest,
  pushBlob,
  pushManifest,
  rawHeader,
  repoName,
  req,
  sha256,
  sha512,
} from './helpers.js';

describe('blobs: GET / HEAD', () => {
  let s: InProcessStowage;
  const repo = repoName('blobs');
  const data = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz'); // 36 bytes
  let digest: string;
  before(async () => {
    s = await startInProcess({ fsync: false });
    digest = (await pushBlob(s.url, repo, data)).digest;
  });
  after(async () => {
    await s.stop();
  });

  function assertBlobHeaders(res: Awaited<ReturnType<typeof req>>, length: number) {
    assertApiVersion(res);
    assert.equal(rawHeader(res, 'content-type')[0], 'application/octet-stream');
    assert.equal(res.headers['content-length'], String(length));
    assert.equal(res.headers['docker-content-digest'], digest);
    assert.equal(res.headers['accept-ranges'], 'bytes');
    assert.equal(res.headers['content-encoding'], undefined);
  }

  it('GET → 200 with the exact bytes and headers', async () => {
    const res = await req(s.url, 'GET', `/v2/${repo}/blobs/${digest}`, { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(res.status, 200);
    assertBlobHeaders(res, data.length);
    assert.equal(res.headers.etag, `"${digest}"`);
    assert.deepEqual(res.body, data);
  });

  it('HEAD → 200 with the same headers and no body', async () => {
    const res = await req(s.url, 'HEAD', `/v2/${repo}/blobs/${digest}`);
    assert.equal(res.status, 200);
    assertBlobHeaders(res, data.length);
    assert.equal(res.body.length, 0);
  });

  it('digest percent-encoded in the path is decoded', async () => {
    const res = await req(s.url, 'HEAD', `/v2/${repo}/blobs/${digest.replace(':', '%3A')}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['docker-content-digest'], digest);
  });

  const ranges: Array<[string, number, number]> = [
    ['bytes=0-9', 0, 9],
    ['bytes=10-', 10, 35],
    ['bytes=30-100', 30, 35],
    ['bytes=35-35', 35, 35],
    ['bytes=-5', 31, 35],
    ['bytes=-100', 0, 35],
  ];
  for (const [range, start, end] of ranges) {
    it(`Range ${range} → 206 Content-Range bytes ${start}-${end}/36`, async () => {
      const res = await req(s.url, 'GET', `/v2/${repo}/blobs/${digest}`, { headers: { Range: range } });
      assert.equal(res.status, 206);
      assertBlobHeaders(res, end - start + 1);
      assert.equal(res.headers['content-range'], `bytes ${start}-${end}/36`);
      assert.deepEqual(res.body, data.subarray(start, end + 1));
    });
  }

  it('Range on HEAD → 206 with the range headers, no body', async () => {
    const res = await req(s.url, 'HEAD', `/v2/${repo}/blobs/${digest}`, { headers: { Range: 'bytes=4-7' } });
    assert.equal(res.status, 206);
    assertBlobHeaders(res, 4);
    assert.equal(res.headers['content-range'], 'bytes 4-7/36');
    assert.equal(res.body.length, 0);
  });

  for (const range of ['bytes=36-', 'bytes=100-200', 'bytes=-0']) {
    it(`unsatisfiable Range ${range} → 416 with Content-Range bytes */36`, async () => {
      const res = await req(s.url, 'GET', `/v2/${repo}/blobs/${digest}`, { headers: { Range: range } });
      assertError(res, 416, 'RANGE_INVALID');
      assert.equal(res.headers['content-range'], 'bytes */36');
    });
  }

  for (const range of ['items=0-3', 'bytes=0-1,4-5', 'bytes=9-3', 'bytes=-']) {
    it(`unusable Range ${range} is ignored → 200 whole blob`, async () => {
      const res = await req(s.url, 'GET', `/v2/${repo}/blobs/${digest}`, { headers: { Range: range } });
      assert.equal(res.status, 200);
      assertBlobHeaders(res, 36);
      assert.deepEqual(res.body, data);
    });
  }

  it('unknown blob → 404 BLOB_UNKNOWN (GET and HEAD)', async () => {
    const unknown = sha256('never pushed');
    assertError(await req(s.url, 'GET', `/v2/${repo}/blobs/${unknown}`), 404, 'BLOB_UNKNOWN');
    assertError(await req(s.url, 'HEAD', `/v2/${repo}/blobs/${unknown}`), 404, 'BLOB_UNKNOWN', 'HEAD');
  });

  it('a blob is visible only in the repository that pushed it', async () => {
    const other = repoName('other');
    await pushBlob(s.url, other, 'something else');
    assertError(await req(s.url, 'GET', `/v2/${other}/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
    assertError(await req(s.url, 'HEAD', `/v2/${other}/blobs/${digest}`), 404, 'BLOB_UNKNOWN', 'HEAD');
    assertError(await req(s.url, 'HEAD', `/v2/never-seen/blobs/${digest}`), 404, 'BLOB_UNKNOWN', 'HEAD');
  });

  it('a mounted blob becomes visible in the target repository', async () => {
    const target = repoName('mnt');
    const res = await req(s.url, 'POST', `/v2/${target}/blobs/uploads/?mount=${digest}&from=${repo}`);
    assert.equal(res.status, 201);
    const head = await req(s.url, 'HEAD', `/v2/${target}/blobs/${digest}`);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '36');
  });

  it('zero-length blob: GET/HEAD 200 Content-Length 0; any Range → 416 bytes */0', async () => {
    const r = repoName('zero');
    const { digest: d } = await pushBlob(s.url, r, Buffer.alloc(0));
    assert.equal(d, EMPTY_DIGEST);
    const get = await req(s.url, 'GET', `/v2/${r}/blobs/${d}`);
    assert.equal(get.status, 200);
    assert.equal(get.headers['content-length'], '0');
    assert.equal(get.headers['docker-content-digest'], EMPTY_DIGEST);
    assert.equal(get.body.length, 0);
    const head = await req(s.url, 'HEAD', `/v2/${r}/blobs/${d}`);
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '0');
    const ranged = await req(s.url, 'GET', `/v2/${r}/blobs/${d}`, { headers: { Range: 'bytes=0-' } });
    assertError(ranged, 416, 'RANGE_INVALID');
    assert.equal(ranged.headers['content-range'], 'bytes */0');
  });

  it('a manifest can be read through the blobs endpoint of its repository', async () => {
    const r = repoName('mfblob');
    const doc = await imageManifest(s.url, r);
    const m = await pushManifest(s.url, r, 'v1', doc, MT.ociManifest);
    const res = await req(s.url, 'GET', `/v2/${r}/blobs/${m.digest}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['docker-content-digest'], m.digest);
    assert.deepEqual(res.body, m.bytes);
    const ranged = await req(s.url, 'GET', `/v2/${r}/blobs/${m.digest}`, { headers: { Range: 'bytes=0-4' } });
    assert.equal(ranged.status, 206);
    assert.deepEqual(ranged.body, m.bytes.subarray(0, 5));
  });

  it('sha512 blobs are addressable', async () => {
    const r = repoName('sha512');
    const bytes = Buffer.from('sha512 content');
    const d = sha512(bytes);
    const put = await req(s.url, 'POST', `/v2/${r}/blobs/uploads/?digest=${encodeURIComponent(d)}`, { body: bytes });
    assert.equal(put.status, 201, put.text);
    assert.equal(put.headers['docker-content-digest'], d);
    const get = await req(s.url, 'GET', `/v2/${r}/blobs/${d}`);
    assert.equal(get.status, 200);
    assert.deepEqual(get.body, bytes);
    assert.equal(get.headers['docker-content-digest'], d);
  });

  for (const bad of [
    'sha256:abc',
    `sha256:${'A'.repeat(64)}`,
    `md5:${'a'.repeat(32)}`,
    'latest',
    `sha256:${'a'.repeat(63)}g`,
    'sha256%3Azz',
    '%ZZ',
  ]) {
    it(`malformed digest in path ${bad} → 400 DIGEST_INVALID`, async () => {
      assertError(await req(s.url, 'GET', `/v2/${repo}/blobs/${bad}`), 400, 'DIGEST_INVALID');
      assertError(await req(s.url, 'HEAD', `/v2/${repo}/blobs/${bad}`), 400, 'DIGEST_INVALID', 'HEAD');
      assertError(await req(s.url, 'DELETE', `/v2/${repo}/blobs/${bad}`), 400, 'DIGEST_INVALID');
    });
  }
});

describe('blobs: DELETE', () => {
  let s: InProcessStowage;
  before(async () => {
    s = await startInProcess({ fsync: false });
  });
  after(async () => {
    await s.stop();
  });

  it('DELETE → 202, then 404 BLOB_UNKNOWN; a second DELETE → 404', async () => {
    const repo = repoName('del');
    const { digest } = await pushBlob(s.url, repo, 'to be deleted');
    const del = await req(s.url, 'DELETE', `/v2/${repo}/blobs/${digest}`);
    assert.equal(del.status, 202);
    assertApiVersion(del);
    assert.equal(del.headers['content-length'], '0');
    assertError(await req(s.url, 'HEAD', `/v2/${repo}/blobs/${digest}`), 404, 'BLOB_UNKNOWN', 'HEAD');
    assertError(await req(s.url, 'GET', `/v2/${repo}/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
    assertError(await req(s.url, 'DELETE', `/v2/${repo}/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
  });

  it('DELETE only unlinks from that repository', async () => {
    const a = repoName('dela');
    const b = repoName('delb');
    const { digest } = await pushBlob(s.url, a, 'shared bytes');
    await pushBlob(s.url, b, 'shared bytes');
    assert.equal((await req(s.url, 'DELETE', `/v2/${a}/blobs/${digest}`)).status, 202);
    assert.equal((await req(s.url, 'HEAD', `/v2/${a}/blobs/${digest}`)).status, 404);
    const stillThere = await req(s.url, 'GET', `/v2/${b}/blobs/${digest}`);
    assert.equal(stillThere.status, 200);
    assert.equal(stillThere.text, 'shared bytes');
  });

  it('DELETE of an unknown blob / in an unknown repository → 404 BLOB_UNKNOWN', async () => {
    assertError(await req(s.url, 'DELETE', `/v2/${repoName('nothing')}/blobs/${sha256('nope')}`), 404, 'BLOB_UNKNOWN');
  });

  it('DELETE of a blob referenced by a manifest → 405 UNSUPPORTED (the spec allows only 400/405 refusals), blob stays; allowed after the manifest goes', async () => {
    const repo = repoName('ref');
    const doc = await imageManifest(s.url, repo);
    const m = await pushManifest(s.url, repo, 'v1', doc, MT.ociManifest);
    const config = (doc.config as { digest: string }).digest;
    const layer = (doc.layers as Array<{ digest: string }>)[0]!.digest;
    for (const d of [config, layer]) {
      const res = await req(s.url, 'DELETE', `/v2/${repo}/blobs/${d}`);
      assertError(res, 405, 'UNSUPPORTED');
      assert.equal((await req(s.url, 'HEAD', `/v2/${repo}/blobs/${d}`)).status, 200);
    }
    // The image is still pullable.
    assert.equal((await req(s.url, 'GET', `/v2/${repo}/manifests/v1`)).status, 200);
    assert.equal((await req(s.url, 'DELETE', `/v2/${repo}/manifests/${m.digest}`)).status, 202);
    assert.equal((await req(s.url, 'DELETE', `/v2/${repo}/blobs/${layer}`)).status, 202);
    assert.equal((await req(s.url, 'HEAD', `/v2/${repo}/blobs/${layer}`)).status, 404);
  });

  it('a blob referenced in another repository can still be deleted here', async () => {
    const a = repoName('refa');
    const b = repoName('refb');
    const doc = await imageManifest(s.url, a);
    await pushManifest(s.url, a, 'v1', doc, MT.ociManifest);
    const layer = (doc.layers as Array<{ digest: string; size: number }>)[0]!;
    const mount = await req(s.url, 'POST', `/v2/${b}/blobs/uploads/?mount=${layer.digest}&from=${a}`);
    assert.equal(mount.status, 201);
    assert.equal((await req(s.url, 'DELETE', `/v2/${b}/blobs/${layer.digest}`)).status, 202);
    assert.equal((await req(s.url, 'HEAD', `/v2/${a}/blobs/${layer.digest}`)).status, 200);
  });

  it('DELETE with a wrong-repo blob leaves state unchanged', async () => {
    const a = repoName('keep');
    const { digest } = await pushBlob(s.url, a, 'keep me');
    assertError(await req(s.url, 'DELETE', `/v2/${repoName('elsewhere')}/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
    assert.equal((await req(s.url, 'HEAD', `/v2/${a}/blobs/${digest}`)).status, 200);
  });
});
