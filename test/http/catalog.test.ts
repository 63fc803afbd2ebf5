/** GET /v2/_catalog (distribution extension). A fresh server so the list is known exactly. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startInProcess, type InProcessStowage } from '../helpers/server.js';
import { assertApiVersion, assertError, pushBlob, pushImage, rawHeader, req, startUpload } from './helpers.js';

// Byte order: '-' (0x2d) < '.' < '/' < digits < '_' < letters.
const REPOS = [
  'zeta',
  'alpha',
  'alpha/beta',
  'alpha-beta',
  'alpha.beta',
  'alpha_beta',
  'team/app/web',
  'team/app',
  '9lives',
  'b',
];
const SORTED = [...REPOS].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

describe('catalog', () => {
  let s: InProcessStowage;
  before(async () => {
    s = await startInProcess({ fsync: false });
    for (const r of REPOS) await pushImage(s.url, r, 'latest');
    // Repositories without manifests: blobs only, an open upload, everything deleted.
    await pushBlob(s.url, 'blobs-only', 'just bytes');
    await startUpload(s.url, 'upload-only');
    const gone = await pushImage(s.url, 'deleted', 'latest');
    assert.equal((await req(s.url, 'DELETE', `/v2/deleted/manifests/${gone.digest}`)).status, 202);
  });
  after(async () => {
    await s.stop();
  });

  it('GET /v2/_catalog → 200 every repository with a manifest, in byte order', async () => {
    const res = await req(s.url, 'GET', '/v2/_catalog');
    assert.equal(res.status, 200);
    assertApiVersion(res);
    assert.match(rawHeader(res, 'content-type')[0]!, /^application\/json/);
    assert.deepEqual(res.json(), { repositories: SORTED });
    assert.equal(res.headers.link, undefined);
  });

  it('repositories without manifests are not listed', async () => {
    const repos: string[] = (await req(s.url, 'GET', '/v2/_catalog')).json().repositories;
    for (const r of ['blobs-only', 'upload-only', 'deleted']) assert.ok(!repos.includes(r), r);
  });

  it('a repository whose tags were deleted but that still holds a manifest stays listed', async () => {
    const res = await req(s.url, 'DELETE', '/v2/b/manifests/latest');
    assert.equal(res.status, 202);
    assert.ok((await req(s.url, 'GET', '/v2/_catalog')).json().repositories.includes('b'));
  });

  it('n/last pagination with a relative Link until done', async () => {
    const seen: string[] = [];
    let path: string | undefined = '/v2/_catalog?n=3';
    let pages = 0;
    while (path) {
      const res = await req(s.url, 'GET', path);
      assert.equal(res.status, 200, res.text);
      const repos: string[] = res.json().repositories;
      assert.ok(repos.length <= 3);
      seen.push(...repos);
      pages++;
      const link = res.headers.link as string | undefined;
      if (link) {
        const m = /^<(\/v2\/_catalog\?[^>]+)>;\s*rel="next"$/.exec(link);
        assert.ok(m, `Link: ${link}`);
        const q = new URL(m[1]!, 'http://x').searchParams;
        assert.equal(q.get('n'), '3');
        assert.equal(q.get('last'), repos[repos.length - 1]);
        path = m[1];
      } else {
        path = undefined;
      }
      assert.ok(pages < 10);
    }
    assert.deepEqual(seen, SORTED);
    assert.equal(pages, Math.ceil(SORTED.length / 3));
  });

  it('exact Link for a plain name', async () => {
    const res = await req(s.url, 'GET', '/v2/_catalog?n=1');
    assert.deepEqual(res.json().repositories, [SORTED[0]]);
    assert.equal(res.headers.link, `</v2/_catalog?last=${SORTED[0]}&n=1>; rel="next"`);
  });

  it('last alone, last with a slash (raw or encoded)', async () => {
    let res = await req(s.url, 'GET', '/v2/_catalog?last=alpha');
    assert.deepEqual(
      res.json().repositories,
      SORTED.filter((r) => r > 'alpha'),
    );
    res = await req(s.url, 'GET', '/v2/_catalog?last=team/app');
    assert.deepEqual(res.json().repositories, ['team/app/web', 'zeta']);
    res = await req(s.url, 'GET', '/v2/_catalog?last=team%2Fapp&n=1');
    assert.deepEqual(res.json().repositories, ['team/app/web']);
    const next = /^<([^>]+)>/.exec(String(res.headers.link))![1]!;
    assert.equal(new URL(next, 'http://x').searchParams.get('last'), 'team/app/web');
    assert.deepEqual((await req(s.url, 'GET', next)).json().repositories, ['zeta']);
  });

  it('n=0 → [] and no Link; n larger than the list → everything, no Link', async () => {
    let res = await req(s.url, 'GET', '/v2/_catalog?n=0');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { repositories: [] });
    assert.equal(res.headers.link, undefined);
    res = await req(s.url, 'GET', `/v2/_catalog?n=${SORTED.length}`);
    assert.deepEqual(res.json().repositories, SORTED);
    assert.equal(res.headers.link, undefined);
  });

  for (const n of ['-2', 'ten', '2.0']) {
    it(`bad n=${n} → 400 PAGINATION_NUMBER_INVALID`, async () => {
      assertError(await req(s.url, 'GET', `/v2/_catalog?n=${n}`), 400, 'PAGINATION_NUMBER_INVALID');
    });
  }

  it('an empty registry lists []', async () => {
    const fresh = await startInProcess({ fsync: false });
    try {
      const res = await req(fresh.url, 'GET', '/v2/_catalog');
      assert.equal(res.status, 200);
      assert.deepEqual(res.json(), { repositories: [] });
    } finally {
      await fresh.stop();
    }
  });
});
