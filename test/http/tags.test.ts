/** end-8a/8b: tags list and its pagination. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startInProcess, type InProcessStowage } from '../helpers/server.js';
import {
  MT,
  assertApiVersion,
  assertError,
  pushBlob,
  pushImage,
  pushManifest,
  rawHeader,
  repoName,
  req,
} from './helpers.js';

// Byte order: digits < uppercase < '_' < lowercase; '-' and '.' before digits.
const TAGS = ['v1.10', 'v1.9', 'V2', 'latest', '1.0', '_x', 'a-b', 'a.b', 'a_b', 'Latest', '0', 'z'];
const SORTED = [...TAGS].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

function parseLink(link: string | undefined): string | undefined {
  if (link === undefined) return undefined;
  const m = /^<([^>]+)>;\s*rel="next"$/.exec(link);
  assert.ok(m, `Link header shape: ${link}`);
  return m[1];
}

describe('tags list', () => {
  let s: InProcessStowage;
  const repo = `team/${repoName('tags')}`;
  before(async () => {
    s = await startInProcess({ fsync: false });
    const m = await pushImage(s.url, repo, TAGS[0]!);
    for (const t of TAGS.slice(1)) await pushManifest(s.url, repo, t, m.bytes, MT.ociManifest);
  });
  after(async () => {
    await s.stop();
  });

  it('GET /tags/list → 200 {name, tags} in byte order, application/json, no Link', async () => {
    const res = await req(s.url, 'GET', `/v2/${repo}/tags/list`);
    assert.equal(res.status, 200);
    assertApiVersion(res);
    assert.match(rawHeader(res, 'content-type')[0]!, /^application\/json/);
    assert.deepEqual(res.json(), { name: repo, tags: SORTED });
    assert.equal(res.headers.link, undefined);
  });

  it('HEAD /tags/list → 200 without body', async () => {
    const res = await req(s.url, 'HEAD', `/v2/${repo}/tags/list`);
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 0);
  });

  it('n pages with a relative Link `</v2/<name>/tags/list?last=…&n=…>; rel="next"` until done', async () => {
    const seen: string[] = [];
    let path: string | undefined = `/v2/${repo}/tags/list?n=5`;
    let pages = 0;
    while (path) {
      const res = await req(s.url, 'GET', path);
      assert.equal(res.status, 200, res.text);
      const body = res.json();
      assert.equal(body.name, repo);
      assert.ok(body.tags.length <= 5);
      seen.push(...body.tags);
      pages++;
      const next = parseLink(res.headers.link as string | undefined);
      if (next) {
        assert.ok(next.startsWith(`/v2/${repo}/tags/list?`), `relative link: ${next}`);
        const q = new URL(next, 'http://x').searchParams;
        assert.equal(q.get('n'), '5');
        assert.equal(q.get('last'), body.tags[body.tags.length - 1]);
        assert.equal(body.tags.length, 5);
      }
      path = next;
      assert.ok(pages < 10);
    }
    assert.deepEqual(seen, SORTED);
    assert.equal(pages, 3);
  });

  it('exact Link format for the first page', async () => {
    const res = await req(s.url, 'GET', `/v2/${repo}/tags/list?n=2`);
    assert.deepEqual(res.json().tags, SORTED.slice(0, 2));
    assert.equal(res.headers.link, `</v2/${repo}/tags/list?last=${SORTED[1]}&n=2>; rel="next"`);
  });

  it('n equal to the number of tags → all of them, no Link', async () => {
    const res = await req(s.url, 'GET', `/v2/${repo}/tags/list?n=${TAGS.length}`);
    assert.deepEqual(res.json().tags, SORTED);
    assert.equal(res.headers.link, undefined);
  });

  it('n larger than the number of tags → all of them, no Link', async () => {
    const res = await req(s.url, 'GET', `/v2/${repo}/tags/list?n=1000`);
    assert.deepEqual(res.json().tags, SORTED);
    assert.equal(res.headers.link, undefined);
  });

  it('last alone → strictly after that value', async () => {
    const res = await req(s.url, 'GET', `/v2/${repo}/tags/list?last=${SORTED[3]}`);
    assert.deepEqual(res.json().tags, SORTED.slice(4));
    assert.equal(res.headers.link, undefined);
  });

  it('last that is not a tag → strictly after it in byte order', async () => {
    const res = await req(s.url, 'GET', `/v2/${repo}/tags/list?last=b`);
    assert.deepEqual(
      res.json().tags,
      SORTED.filter((t) => t > 'b'),
    );
  });

  it('last after every tag → []', async () => {
    const res = await req(s.url, 'GET', `/v2/${repo}/tags/list?last=zzz&n=3`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json().tags, []);
    assert.equal(res.headers.link, undefined);
  });

  it('n=0 → [] and no Link', async () => {
    const res = await req(s.url, 'GET', `/v2/${repo}/tags/list?n=0`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { name: repo, tags: [] });
    assert.equal(res.headers.link, undefined);
  });

  it('empty n is ignored', async () => {
    const res = await req(s.url, 'GET', `/v2/${repo}/tags/list?n=`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json().tags, SORTED);
  });

  for (const n of ['-1', 'abc', '1.5', '1e3', '0x10', '99999999999999999999']) {
    it(`bad n=${n} → 400 PAGINATION_NUMBER_INVALID`, async () => {
      assertError(
        await req(s.url, 'GET', `/v2/${repo}/tags/list?n=${encodeURIComponent(n)}`),
        400,
        'PAGINATION_NUMBER_INVALID',
      );
    });
  }

  it('unknown repository → 404 NAME_UNKNOWN', async () => {
    assertError(await req(s.url, 'GET', `/v2/${repoName('nosuch')}/tags/list`), 404, 'NAME_UNKNOWN');
  });

  it('a repository whose tags were all deleted → 200 with [] (not null)', async () => {
    const r = repoName('emptied');
    const a = await pushImage(s.url, r, 'a');
    await pushManifest(s.url, r, 'b', a.bytes, MT.ociManifest);
    assert.equal((await req(s.url, 'DELETE', `/v2/${r}/manifests/a`)).status, 202);
    assert.equal((await req(s.url, 'DELETE', `/v2/${r}/manifests/b`)).status, 202);
    const res = await req(s.url, 'GET', `/v2/${r}/tags/list`);
    assert.equal(res.status, 200);
    assert.equal(res.text.includes('null'), false);
    assert.deepEqual(res.json(), { name: r, tags: [] });
  });

  it('a repository with only untagged manifests → 200 []', async () => {
    const r = repoName('untagged');
    await pushImage(s.url, r, 'digest');
    const res = await req(s.url, 'GET', `/v2/${r}/tags/list`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json().tags, []);
  });

  it('a repository holding only blobs → 200 [] (or 404 NAME_UNKNOWN, as distribution), never null', async () => {
    const r = repoName('blobonly');
    await pushBlob(s.url, r, 'just a blob');
    const res = await req(s.url, 'GET', `/v2/${r}/tags/list`);
    if (res.status === 404) assertError(res, 404, 'NAME_UNKNOWN');
    else {
      assert.equal(res.status, 200);
      assert.deepEqual(res.json(), { name: r, tags: [] });
    }
  });

  it('tag lists are per repository', async () => {
    const r = repoName('isolated');
    await pushImage(s.url, r, 'only-here');
    assert.deepEqual((await req(s.url, 'GET', `/v2/${r}/tags/list`)).json().tags, ['only-here']);
    assert.ok(!(await req(s.url, 'GET', `/v2/${repo}/tags/list`)).json().tags.includes('only-here'));
  });

  it('repository names containing route keywords (tags, manifests, blobs) route correctly', async () => {
    const r = `x/tags/manifests/blobs/${repoName('kw')}`;
    await pushImage(s.url, r, 'kw');
    const res = await req(s.url, 'GET', `/v2/${r}/tags/list`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json(), { name: r, tags: ['kw'] });
    const r2 = `y/${repoName('kw')}/tags/list`;
    await pushImage(s.url, r2, 'kw2');
    assert.deepEqual((await req(s.url, 'GET', `/v2/${r2}/tags/list`)).json(), { name: r2, tags: ['kw2'] });
  });
});
