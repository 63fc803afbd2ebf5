/** end-4a/4b (POST), end-5 (PATCH), end-6 (PUT), end-11 (mount), end-13 (status), DELETE <loc>. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startInProcess, type InProcessStowage } from '../helpers/server.js';
import {
  EMPTY_DIGEST,
  assertApiVersion,
  assertError,
  pushBlob,
  rawRequest,
  repoName,
  req,
  sha256,
  sha512,
  startUpload,
  withDigest,
  type Res,
} from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function assertSession(res: Res, status: number, repo: string, size: number): string {
  assert.equal(res.status, status, res.text);
  assertApiVersion(res);
  const loc = res.headers.location;
  assert.ok(loc, 'Location');
  assert.ok(
    loc.startsWith(`/v2/${repo}/blobs/uploads/`),
    `Location ${loc} is an absolute path under /v2/${repo}/blobs/uploads/`,
  );
  const id = res.headers['docker-upload-uuid'];
  assert.ok(typeof id === 'string' && UUID.test(id), 'Docker-Upload-UUID');
  assert.ok(loc.includes(id), 'Location names the session');
  assert.equal(res.headers.range, `0-${Math.max(0, size - 1)}`);
  // 202 says Content-Length: 0; a 204 may omit it (RFC 9110 forbids it there, Node keeps it).
  if (status !== 204 || res.headers['content-length'] !== undefined) assert.equal(res.headers['content-length'], '0');
  assert.equal(res.body.length, 0);
  return loc;
}

function assertCreated(res: Res, repo: string, digest: string): void {
  assert.equal(res.status, 201, res.text);
  assertApiVersion(res);
  assert.equal(res.headers.location, `/v2/${repo}/blobs/${digest}`);
  assert.equal(res.headers['docker-content-digest'], digest);
  assert.equal(res.headers['content-length'], '0');
}

async function assertBlob(base: string, repo: string, digest: string, bytes: Buffer | string): Promise<void> {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  const head = await req(base, 'HEAD', `/v2/${repo}/blobs/${digest}`);
  assert.equal(head.status, 200, `HEAD ${repo}@${digest}`);
  assert.equal(head.headers['content-length'], String(buf.length));
  const get = await req(base, 'GET', `/v2/${repo}/blobs/${digest}`);
  assert.deepEqual(get.body, buf);
}

describe('uploads', () => {
  let s: InProcessStowage;
  before(async () => {
    s = await startInProcess({ fsync: false });
  });
  after(async () => {
    await s.stop();
  });

  describe('POST (start)', () => {
    it('POST /blobs/uploads/ → 202 with Location, Docker-Upload-UUID, Range 0-0', async () => {
      const repo = repoName('start');
      const res = await req(s.url, 'POST', `/v2/${repo}/blobs/uploads/`);
      assertSession(res, 202, repo, 0);
    });

    it('POST /blobs/uploads (no trailing slash) → 202 as well', async () => {
      const repo = repoName('noslash');
      const res = await req(s.url, 'POST', `/v2/${repo}/blobs/uploads`);
      assertSession(res, 202, repo, 0);
    });

    it('POST with Content-Type: application/json and empty body → 202', async () => {
      const repo = repoName('jsonpost');
      const res = await req(s.url, 'POST', `/v2/${repo}/blobs/uploads/`, {
        headers: { 'Content-Type': 'application/json', 'Content-Length': '0' },
      });
      assertSession(res, 202, repo, 0);
    });

    it('every POST gets a distinct session', async () => {
      const repo = repoName('distinct');
      const a = await startUpload(s.url, repo);
      const b = await startUpload(s.url, repo);
      assert.notEqual(a, b);
    });

    it('nested repository names work', async () => {
      const repo = `team/${repoName('nested')}/blobs/manifests`;
      const loc = await startUpload(s.url, repo);
      assert.ok(loc.startsWith(`/v2/${repo}/blobs/uploads/`));
      const put = await req(s.url, 'PUT', withDigest(loc, sha256('nested')), { body: 'nested' });
      assertCreated(put, repo, sha256('nested'));
      await assertBlob(s.url, repo, sha256('nested'), 'nested');
    });
  });

  describe('monolithic POST ?digest=', () => {
    it('with the whole body → 201 and the blob is readable', async () => {
      const repo = repoName('mono');
      const data = Buffer.from('monolithic body');
      const d = sha256(data);
      const res = await req(s.url, 'POST', `/v2/${repo}/blobs/uploads/?digest=${d}`, {
        headers: { 'Content-Type': 'application/octet-stream' },
        body: data,
      });
      assertCreated(res, repo, d);
      await assertBlob(s.url, repo, d, data);
    });

    it('digest percent-encoded (sha256%3A…) and chunked body → 201', async () => {
      const repo = repoName('monoenc');
      const data = Buffer.from('x'.repeat(10_000));
      const d = sha256(data);
      const res = await req(s.url, 'POST', `/v2/${repo}/blobs/uploads/?digest=${encodeURIComponent(d)}`, {
        body: data,
        chunked: true,
      });
      assertCreated(res, repo, d);
      await assertBlob(s.url, repo, d, data);
    });

    it('zero-length blob via POST ?digest= with empty body → 201', async () => {
      const repo = repoName('monozero');
      const res = await req(s.url, 'POST', `/v2/${repo}/blobs/uploads/?digest=${EMPTY_DIGEST}`, {
        body: Buffer.alloc(0),
      });
      assertCreated(res, repo, EMPTY_DIGEST);
      await assertBlob(s.url, repo, EMPTY_DIGEST, Buffer.alloc(0));
    });

    it('digest mismatch → 400 DIGEST_INVALID and nothing stored', async () => {
      const repo = repoName('monobad');
      const d = sha256('what the client claims');
      const res = await req(s.url, 'POST', `/v2/${repo}/blobs/uploads/?digest=${d}`, { body: 'something else' });
      assertError(res, 400, 'DIGEST_INVALID');
      assert.equal((await req(s.url, 'HEAD', `/v2/${repo}/blobs/${d}`)).status, 404);
      assert.equal((await req(s.url, 'HEAD', `/v2/${repo}/blobs/${sha256('something else')}`)).status, 404);
    });

    for (const bad of ['sha256:short', 'nope', `sha256:${'F'.repeat(64)}`, `foo:${'a'.repeat(64)}`]) {
      it(`malformed ?digest=${bad} → 400 DIGEST_INVALID`, async () => {
        const repo = repoName('monomal');
        const res = await req(s.url, 'POST', `/v2/${repo}/blobs/uploads/?digest=${encodeURIComponent(bad)}`, {
          body: 'abc',
        });
        assertError(res, 400, 'DIGEST_INVALID');
        assert.equal((await req(s.url, 'HEAD', `/v2/${repo}/blobs/${sha256('abc')}`)).status, 404);
      });
    }
  });

  describe('mount', () => {
    it('mount from a repository holding the blob → 201 Location /v2/<name>/blobs/<digest>', async () => {
      const from = repoName('src');
      const to = repoName('dst');
      const { digest } = await pushBlob(s.url, from, 'mount me');
      const res = await req(s.url, 'POST', `/v2/${to}/blobs/uploads/?mount=${digest}&from=${from}`);
      assertCreated(res, to, digest);
      await assertBlob(s.url, to, digest, 'mount me');
    });

    it('query order from-first and encoded digest also mount', async () => {
      const from = repoName('src2');
      const to = repoName('dst2');
      const { digest } = await pushBlob(s.url, from, 'mount me too');
      const res = await req(
        s.url,
        'POST',
        `/v2/${to}/blobs/uploads/?from=${encodeURIComponent(from)}&mount=${encodeURIComponent(digest)}`,
      );
      assertCreated(res, to, digest);
    });

    it('mount from a nested repository name', async () => {
      const from = `org/${repoName('deep')}/x`;
      const to = repoName('dst3');
      const { digest } = await pushBlob(s.url, from, 'nested mount');
      const res = await req(s.url, 'POST', `/v2/${to}/blobs/uploads/?mount=${digest}&from=${encodeURIComponent(from)}`);
      assertCreated(res, to, digest);
    });

    it('unknown blob → 202 fresh session (fallback), blob not linked', async () => {
      const from = repoName('src4');
      const to = repoName('dst4');
      await pushBlob(s.url, from, 'other');
      const d = sha256('not there');
      const res = await req(s.url, 'POST', `/v2/${to}/blobs/uploads/?mount=${d}&from=${from}`);
      const loc = assertSession(res, 202, to, 0);
      assert.equal((await req(s.url, 'HEAD', `/v2/${to}/blobs/${d}`)).status, 404);
      // The session is usable.
      assertCreated(
        await req(s.url, 'PUT', withDigest(loc, sha256('now uploaded')), { body: 'now uploaded' }),
        to,
        sha256('now uploaded'),
      );
    });

    it('unknown source repository → 202 fallback', async () => {
      const to = repoName('dst5');
      const { digest } = await pushBlob(s.url, repoName('src5'), 'exists elsewhere');
      const res = await req(s.url, 'POST', `/v2/${to}/blobs/uploads/?mount=${digest}&from=${repoName('ghost')}`);
      assertSession(res, 202, to, 0);
      assert.equal((await req(s.url, 'HEAD', `/v2/${to}/blobs/${digest}`)).status, 404);
    });

    it('blob present elsewhere but not in `from` → 202 fallback', async () => {
      const from = repoName('src6');
      const to = repoName('dst6');
      await pushBlob(s.url, from, 'unrelated');
      const { digest } = await pushBlob(s.url, repoName('holder'), 'held elsewhere');
      const res = await req(s.url, 'POST', `/v2/${to}/blobs/uploads/?mount=${digest}&from=${from}`);
      assertSession(res, 202, to, 0);
      assert.equal((await req(s.url, 'HEAD', `/v2/${to}/blobs/${digest}`)).status, 404);
    });

    it('mount without from → 202 fallback', async () => {
      const to = repoName('dst7');
      const { digest } = await pushBlob(s.url, repoName('src7'), 'no from');
      const res = await req(s.url, 'POST', `/v2/${to}/blobs/uploads/?mount=${digest}`);
      assertSession(res, 202, to, 0);
    });

    it('malformed ?mount= digest → 400 DIGEST_INVALID, nothing linked', async () => {
      const from = repoName('src8');
      const to = repoName('dst8');
      await pushBlob(s.url, from, 'x');
      for (const bad of ['sha256:xyz', 'garbage', `sha256:${'A'.repeat(64)}`]) {
        const res = await req(s.url, 'POST', `/v2/${to}/blobs/uploads/?mount=${encodeURIComponent(bad)}&from=${from}`);
        assertError(res, 400, 'DIGEST_INVALID');
      }
      const tags = await req(s.url, 'GET', `/v2/${to}/tags/list`);
      assertError(tags, 404, 'NAME_UNKNOWN');
    });

    it('malformed ?from= name → 400 NAME_INVALID', async () => {
      const to = repoName('dst9');
      const res = await req(s.url, 'POST', `/v2/${to}/blobs/uploads/?mount=${sha256('x')}&from=BAD..name`);
      assertError(res, 400, 'NAME_INVALID');
    });
  });

  describe('PATCH', () => {
    it('streamed PATCH with Transfer-Encoding: chunked and no Content-Length, then PUT ?digest= empty body', async () => {
      const repo = repoName('stream');
      const data = Buffer.from('streamed '.repeat(5000));
      let loc = await startUpload(s.url, repo);
      const patch = await req(s.url, 'PATCH', loc, {
        headers: { 'Content-Type': 'application/octet-stream' },
        body: data,
        chunked: true,
      });
      loc = assertSession(patch, 202, repo, data.length);
      const status = await req(s.url, 'GET', loc);
      assertSession(status, 204, repo, data.length);
      const put = await req(s.url, 'PUT', withDigest(loc, sha256(data)), { headers: { 'Content-Length': '0' } });
      assertCreated(put, repo, sha256(data));
      await assertBlob(s.url, repo, sha256(data), data);
    });

    it('PATCH with Content-Length and no Content-Range appends; several streamed PATCHes concatenate', async () => {
      const repo = repoName('plain');
      let loc = await startUpload(s.url, repo);
      const parts = ['first part;', 'second part;', 'third'];
      let total = 0;
      for (const p of parts) {
        const res = await req(s.url, 'PATCH', loc, { body: p });
        total += p.length;
        loc = assertSession(res, 202, repo, total);
      }
      const all = parts.join('');
      assertCreated(await req(s.url, 'PUT', withDigest(loc, sha256(all))), repo, sha256(all));
      await assertBlob(s.url, repo, sha256(all), all);
    });

    it('empty PATCH (0 bytes) is accepted and changes nothing', async () => {
      const repo = repoName('emptypatch');
      const loc = await startUpload(s.url, repo);
      const res = await req(s.url, 'PATCH', loc, { body: Buffer.alloc(0) });
      assertSession(res, 202, repo, 0);
      assertCreated(await req(s.url, 'PUT', withDigest(loc, EMPTY_DIGEST)), repo, EMPTY_DIGEST);
    });

    it('ranged PATCH chunks in order → 202 each with Range 0-<end>', async () => {
      const repo = repoName('ranged');
      const data = Buffer.from('0123456789ABCDEFGHIJ');
      let loc = await startUpload(s.url, repo);
      for (const [a, b] of [
        [0, 6],
        [7, 13],
        [14, 19],
      ] as const) {
        const res = await req(s.url, 'PATCH', loc, {
          headers: { 'Content-Range': `${a}-${b}`, 'Content-Type': 'application/octet-stream' },
          body: data.subarray(a, b + 1),
        });
        loc = assertSession(res, 202, repo, b + 1);
      }
      assertCreated(await req(s.url, 'PUT', withDigest(loc, sha256(data))), repo, sha256(data));
      await assertBlob(s.url, repo, sha256(data), data);
    });

    it('Content-Range other than <start>-<end> (bytes prefix, /total) → 416, nothing appended', async () => {
      const repo = repoName('strictcr');
      let loc = await startUpload(s.url, repo);
      loc = assertSession(
        await req(s.url, 'PATCH', loc, { headers: { 'Content-Range': '0-2' }, body: 'abc' }),
        202,
        repo,
        3,
      );
      for (const form of ['bytes 3-5/6', 'bytes=3-5', '3-5/6', 'bytes 0-1023/1024']) {
        assertError(
          await req(s.url, 'PATCH', loc, { headers: { 'Content-Range': form }, body: 'def' }),
          416,
          'RANGE_INVALID',
        );
        assertSession(await req(s.url, 'GET', loc), 204, repo, 3);
      }
      loc = assertSession(
        await req(s.url, 'PATCH', loc, { headers: { 'Content-Range': '3-5' }, body: 'def' }),
        202,
        repo,
        6,
      );
      assertCreated(await req(s.url, 'PUT', withDigest(loc, sha256('abcdef'))), repo, sha256('abcdef'));
    });

    it('out-of-order chunk → 416 with the current Range; session unchanged and still usable', async () => {
      const repo = repoName('ooo');
      let loc = await startUpload(s.url, repo);
      loc = assertSession(
        await req(s.url, 'PATCH', loc, { headers: { 'Content-Range': '0-4' }, body: 'hello' }),
        202,
        repo,
        5,
      );
      const skip = await req(s.url, 'PATCH', loc, { headers: { 'Content-Range': '10-14' }, body: 'world' });
      assertError(skip, 416, 'RANGE_INVALID');
      assert.equal(skip.headers.range, '0-4');
      assertSession(await req(s.url, 'GET', loc), 204, repo, 5);
      loc = assertSession(
        await req(s.url, 'PATCH', loc, { headers: { 'Content-Range': '5-9' }, body: 'world' }),
        202,
        repo,
        10,
      );
      assertCreated(await req(s.url, 'PUT', withDigest(loc, sha256('helloworld'))), repo, sha256('helloworld'));
    });

    it('repeated (retried) chunk → 416', async () => {
      const repo = repoName('retry');
      let loc = await startUpload(s.url, repo);
      loc = assertSession(
        await req(s.url, 'PATCH', loc, { headers: { 'Content-Range': '0-4' }, body: 'hello' }),
        202,
        repo,
        5,
      );
      const again = await req(s.url, 'PATCH', loc, { headers: { 'Content-Range': '0-4' }, body: 'hello' });
      assertError(again, 416, 'RANGE_INVALID');
      assert.equal(again.headers.range, '0-4');
      assertSession(await req(s.url, 'GET', loc), 204, repo, 5);
    });

    it('first chunk not starting at 0 → 416', async () => {
      const repo = repoName('notzero');
      const loc = await startUpload(s.url, repo);
      const res = await req(s.url, 'PATCH', loc, { headers: { 'Content-Range': '1-3' }, body: 'abc' });
      assertError(res, 416, 'RANGE_INVALID');
      assertSession(await req(s.url, 'GET', loc), 204, repo, 0);
    });

    it('Content-Length disagreeing with Content-Range → 400 SIZE_INVALID, nothing appended', async () => {
      const repo = repoName('sizeinv');
      const loc = await startUpload(s.url, repo);
      const res = await req(s.url, 'PATCH', loc, { headers: { 'Content-Range': '0-9' }, body: 'abcde' });
      assertError(res, 400, 'SIZE_INVALID');
      assertSession(await req(s.url, 'GET', loc), 204, repo, 0);
    });

    for (const bad of ['abc', '5-2', '-3', '0-', 'bytes 0-2/x']) {
      it(`malformed Content-Range "${bad}" → 416 RANGE_INVALID`, async () => {
        const repo = repoName('badcr');
        const loc = await startUpload(s.url, repo);
        const res = await req(s.url, 'PATCH', loc, { headers: { 'Content-Range': bad }, body: 'abc' });
        assertError(res, 416, 'RANGE_INVALID');
        assertSession(await req(s.url, 'GET', loc), 204, repo, 0);
      });
    }
  });

  describe('PUT (close)', () => {
    it('POST then monolithic PUT with the whole body → 201', async () => {
      const repo = repoName('monoput');
      const data = Buffer.from('whole blob in the PUT');
      const loc = await startUpload(s.url, repo);
      const res = await req(s.url, 'PUT', withDigest(loc, sha256(data)), {
        headers: { 'Content-Type': 'application/octet-stream' },
        body: data,
      });
      assertCreated(res, repo, sha256(data));
      await assertBlob(s.url, repo, sha256(data), data);
    });

    it('PUT with a last chunk (Content-Range) after PATCHes → 201', async () => {
      const repo = repoName('lastchunk');
      let loc = await startUpload(s.url, repo);
      loc = assertSession(
        await req(s.url, 'PATCH', loc, { headers: { 'Content-Range': '0-3' }, body: 'abcd' }),
        202,
        repo,
        4,
      );
      const res = await req(s.url, 'PUT', withDigest(loc, sha256('abcdefgh')), {
        headers: { 'Content-Range': '4-7' },
        body: 'efgh',
      });
      assertCreated(res, repo, sha256('abcdefgh'));
      await assertBlob(s.url, repo, sha256('abcdefgh'), 'abcdefgh');
    });

    it('PUT with a chunked last chunk and no Content-Range → 201', async () => {
      const repo = repoName('lastchunked');
      let loc = await startUpload(s.url, repo);
      loc = assertSession(await req(s.url, 'PATCH', loc, { body: 'head-' }), 202, repo, 5);
      const res = await req(s.url, 'PUT', withDigest(loc, sha256('head-tail')), { body: 'tail', chunked: true });
      assertCreated(res, repo, sha256('head-tail'));
    });

    it('final chunk out of order → 416', async () => {
      const repo = repoName('lastooo');
      let loc = await startUpload(s.url, repo);
      loc = assertSession(
        await req(s.url, 'PATCH', loc, { headers: { 'Content-Range': '0-3' }, body: 'abcd' }),
        202,
        repo,
        4,
      );
      const res = await req(s.url, 'PUT', withDigest(loc, sha256('abcdefgh')), {
        headers: { 'Content-Range': '6-9' },
        body: 'efgh',
      });
      assertError(res, 416, 'RANGE_INVALID');
      assert.equal((await req(s.url, 'HEAD', `/v2/${repo}/blobs/${sha256('abcdefgh')}`)).status, 404);
    });

    it('PUT ?digest= with neither Content-Length nor Transfer-Encoding (no body) → 201', async () => {
      const repo = repoName('nolength');
      let loc = await startUpload(s.url, repo);
      loc = assertSession(await req(s.url, 'PATCH', loc, { body: 'bytes' }), 202, repo, 5);
      const res = await rawRequest(s.url, `PUT ${withDigest(loc, sha256('bytes'))} HTTP/1.1`);
      assertCreated(res, repo, sha256('bytes'));
    });

    it('PUT ?digest= with Transfer-Encoding: chunked and an empty body → 201', async () => {
      const repo = repoName('emptychunked');
      let loc = await startUpload(s.url, repo);
      loc = assertSession(await req(s.url, 'PATCH', loc, { body: 'bytes' }), 202, repo, 5);
      const res = await rawRequest(
        s.url,
        `PUT ${withDigest(loc, sha256('bytes'))} HTTP/1.1\r\nTransfer-Encoding: chunked`,
        '0\r\n\r\n',
      );
      assertCreated(res, repo, sha256('bytes'));
    });

    it('hand-framed chunked PATCH (several chunks, no Content-Length) and Expect: 100-continue PUT', async () => {
      const repo = repoName('handchunked');
      const loc = await startUpload(s.url, repo);
      const patch = await rawRequest(
        s.url,
        `PATCH ${loc} HTTP/1.1\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked`,
        '3\r\nabc\r\n1\r\nd\r\na\r\n0123456789\r\n0\r\n\r\n',
      );
      const next = assertSession(patch, 202, repo, 14);
      const put = await rawRequest(
        s.url,
        `PUT ${withDigest(next, sha256('abcd0123456789xyz'))} HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3`,
        'xyz',
      );
      assertCreated(put, repo, sha256('abcd0123456789xyz'));
      await assertBlob(s.url, repo, sha256('abcd0123456789xyz'), 'abcd0123456789xyz');
    });

    it('zero-length blob via POST + PUT ?digest= with no body → 201', async () => {
      const repo = repoName('zeroput');
      const loc = await startUpload(s.url, repo);
      assertCreated(await req(s.url, 'PUT', withDigest(loc, EMPTY_DIGEST)), repo, EMPTY_DIGEST);
      await assertBlob(s.url, repo, EMPTY_DIGEST, Buffer.alloc(0));
    });

    it('sha512 digest on PUT is verified and honoured', async () => {
      const repo = repoName('put512');
      const loc = await startUpload(s.url, repo);
      const d = sha512('five-twelve');
      assertCreated(await req(s.url, 'PUT', withDigest(loc, d), { body: 'five-twelve' }), repo, d);
      await assertBlob(s.url, repo, d, 'five-twelve');
    });

    it('digest mismatch → 400 DIGEST_INVALID and the session is gone', async () => {
      const repo = repoName('mismatch');
      let loc = await startUpload(s.url, repo);
      loc = assertSession(await req(s.url, 'PATCH', loc, { body: 'actual bytes' }), 202, repo, 12);
      const wrong = sha256('claimed bytes');
      const res = await req(s.url, 'PUT', withDigest(loc, wrong));
      assertError(res, 400, 'DIGEST_INVALID');
      assert.equal((await req(s.url, 'HEAD', `/v2/${repo}/blobs/${wrong}`)).status, 404);
      assert.equal((await req(s.url, 'HEAD', `/v2/${repo}/blobs/${sha256('actual bytes')}`)).status, 404);
      assertError(await req(s.url, 'GET', loc), 404, 'BLOB_UPLOAD_UNKNOWN');
      assertError(await req(s.url, 'PATCH', loc, { body: 'more' }), 404, 'BLOB_UPLOAD_UNKNOWN');
      assertError(await req(s.url, 'PUT', withDigest(loc, sha256('actual bytes'))), 404, 'BLOB_UPLOAD_UNKNOWN');
    });

    it('digest mismatch with body in the PUT → 400 DIGEST_INVALID', async () => {
      const repo = repoName('mismatch2');
      const loc = await startUpload(s.url, repo);
      const res = await req(s.url, 'PUT', withDigest(loc, sha256('other')), { body: 'this' });
      assertError(res, 400, 'DIGEST_INVALID');
      assertError(await req(s.url, 'GET', loc), 404, 'BLOB_UPLOAD_UNKNOWN');
    });

    it('missing digest → 400 DIGEST_INVALID', async () => {
      const repo = repoName('nodigest');
      const loc = await startUpload(s.url, repo);
      assertError(await req(s.url, 'PUT', loc, { body: 'abc' }), 400, 'DIGEST_INVALID');
      assert.equal((await req(s.url, 'HEAD', `/v2/${repo}/blobs/${sha256('abc')}`)).status, 404);
    });

    it('empty digest parameter → 400 DIGEST_INVALID', async () => {
      const repo = repoName('emptydigest');
      const loc = await startUpload(s.url, repo);
      assertError(await req(s.url, 'PUT', `${loc}?digest=`), 400, 'DIGEST_INVALID');
    });

    for (const bad of ['sha256:123', 'sha256', `SHA256:${'a'.repeat(64)}`, `sha256:${'g'.repeat(64)}`]) {
      it(`malformed ?digest=${bad} on PUT → 400 DIGEST_INVALID`, async () => {
        const repo = repoName('putmal');
        const loc = await startUpload(s.url, repo);
        assertError(await req(s.url, 'PUT', withDigest(loc, bad), { body: 'abc' }), 400, 'DIGEST_INVALID');
        assert.equal((await req(s.url, 'HEAD', `/v2/${repo}/blobs/${sha256('abc')}`)).status, 404);
      });
    }

    it('Content-Length disagreeing with Content-Range on the final PUT → 400 SIZE_INVALID', async () => {
      const repo = repoName('putsize');
      const loc = await startUpload(s.url, repo);
      const res = await req(s.url, 'PUT', withDigest(loc, sha256('abc')), {
        headers: { 'Content-Range': '0-9' },
        body: 'abc',
      });
      assertError(res, 400, 'SIZE_INVALID');
      assert.equal((await req(s.url, 'HEAD', `/v2/${repo}/blobs/${sha256('abc')}`)).status, 404);
    });

    it('the same blob uploaded twice → 201 both times', async () => {
      const repo = repoName('twice');
      for (let i = 0; i < 2; i++) {
        const loc = await startUpload(s.url, repo);
        assertCreated(
          await req(s.url, 'PUT', withDigest(loc, sha256('twice')), { body: 'twice' }),
          repo,
          sha256('twice'),
        );
      }
    });

    it('concurrent identical uploads both succeed', async () => {
      const repo = repoName('concurrent');
      const data = Buffer.alloc(200_000, 7);
      const locs = await Promise.all([startUpload(s.url, repo), startUpload(s.url, repo), startUpload(s.url, repo)]);
      const results = await Promise.all(
        locs.map((l) => req(s.url, 'PUT', withDigest(l, sha256(data)), { body: data })),
      );
      for (const r of results) assertCreated(r, repo, sha256(data));
      await assertBlob(s.url, repo, sha256(data), data);
    });

    it('a finished session is gone: GET/PATCH/PUT/DELETE → 404 BLOB_UPLOAD_UNKNOWN', async () => {
      const repo = repoName('finished');
      const loc = await startUpload(s.url, repo);
      assertCreated(await req(s.url, 'PUT', withDigest(loc, sha256('done')), { body: 'done' }), repo, sha256('done'));
      assertError(await req(s.url, 'GET', loc), 404, 'BLOB_UPLOAD_UNKNOWN');
      assertError(await req(s.url, 'PATCH', loc, { body: 'x' }), 404, 'BLOB_UPLOAD_UNKNOWN');
      assertError(await req(s.url, 'PUT', withDigest(loc, sha256('done'))), 404, 'BLOB_UPLOAD_UNKNOWN');
      assertError(await req(s.url, 'DELETE', loc), 404, 'BLOB_UPLOAD_UNKNOWN');
    });
  });

  describe('query re-encoding by clients', () => {
    it('extra params, reordered, and digest=sha256%3A… all work', async () => {
      const repo = repoName('requery');
      const data = 'requery';
      const loc = await startUpload(s.url, repo);
      const url = `${loc}?_state=abc%2Fdef%3D%3D&foo=bar&digest=${sha256(data).replace(':', '%3A')}`;
      assertCreated(await req(s.url, 'PUT', url, { body: data }), repo, sha256(data));
    });

    it('digest first, then other params, raw colon', async () => {
      const repo = repoName('requery2');
      const loc = await startUpload(s.url, repo);
      assertCreated(
        await req(s.url, 'PUT', `${loc}?digest=${sha256('x2')}&_state=zzz`, { body: 'x2' }),
        repo,
        sha256('x2'),
      );
    });

    it('PATCH and GET tolerate unknown query params', async () => {
      const repo = repoName('requery3');
      const loc = await startUpload(s.url, repo);
      const patch = await req(s.url, 'PATCH', `${loc}?_state=whatever`, { body: 'abc' });
      assertSession(patch, 202, repo, 3);
      assertSession(await req(s.url, 'GET', `${loc}?x=1`), 204, repo, 3);
    });

    it('monolithic POST with extra params', async () => {
      const repo = repoName('requery4');
      const res = await req(
        s.url,
        'POST',
        `/v2/${repo}/blobs/uploads/?foo=1&digest=${encodeURIComponent(sha256('p'))}&bar=2`,
        { body: 'p' },
      );
      assertCreated(res, repo, sha256('p'));
    });
  });

  describe('status (GET <loc>) and cancel (DELETE <loc>)', () => {
    it('GET <loc> → 204 with Location, Range 0-0 when empty, Docker-Upload-UUID', async () => {
      const repo = repoName('status');
      const loc = await startUpload(s.url, repo);
      const res = await req(s.url, 'GET', loc);
      assertSession(res, 204, repo, 0);
      assert.equal(res.body.length, 0);
    });

    it('HEAD <loc> → 204 too', async () => {
      const repo = repoName('statushead');
      const loc = await startUpload(s.url, repo);
      assertSession(await req(s.url, 'HEAD', loc), 204, repo, 0);
    });

    it('DELETE <loc> → 204, then GET/PATCH/PUT/DELETE → 404 BLOB_UPLOAD_UNKNOWN', async () => {
      const repo = repoName('cancel');
      let loc = await startUpload(s.url, repo);
      loc = assertSession(await req(s.url, 'PATCH', loc, { body: 'partial' }), 202, repo, 7);
      const del = await req(s.url, 'DELETE', loc);
      assert.equal(del.status, 204);
      assertApiVersion(del);
      assertError(await req(s.url, 'GET', loc), 404, 'BLOB_UPLOAD_UNKNOWN');
      assertError(await req(s.url, 'PATCH', loc, { body: 'more' }), 404, 'BLOB_UPLOAD_UNKNOWN');
      assertError(await req(s.url, 'PUT', withDigest(loc, sha256('partial'))), 404, 'BLOB_UPLOAD_UNKNOWN');
      assertError(await req(s.url, 'DELETE', loc), 404, 'BLOB_UPLOAD_UNKNOWN');
      assert.equal((await req(s.url, 'HEAD', `/v2/${repo}/blobs/${sha256('partial')}`)).status, 404);
    });

    for (const id of ['0b7e0b33-a9f4-4a39-9d70-0b2d5a0f0c55', 'not-a-uuid', '..', '%2E%2E', 'x'.repeat(300)]) {
      it(`unknown session id ${id.slice(0, 40)} → 404 BLOB_UPLOAD_UNKNOWN for every method`, async () => {
        const repo = repoName('unknownid');
        const loc = `/v2/${repo}/blobs/uploads/${id}`;
        assertError(await req(s.url, 'GET', loc), 404, 'BLOB_UPLOAD_UNKNOWN');
        assertError(await req(s.url, 'PATCH', loc, { body: 'x' }), 404, 'BLOB_UPLOAD_UNKNOWN');
        assertError(await req(s.url, 'PUT', withDigest(loc, sha256('x')), { body: 'x' }), 404, 'BLOB_UPLOAD_UNKNOWN');
        assertError(await req(s.url, 'DELETE', loc), 404, 'BLOB_UPLOAD_UNKNOWN');
      });
    }

    it('a session of repository A used under repository B → 404 BLOB_UPLOAD_UNKNOWN, and A still works', async () => {
      const a = repoName('sessa');
      const b = repoName('sessb');
      await pushBlob(s.url, b, 'b exists');
      const locA = await startUpload(s.url, a);
      const id = locA.slice(locA.lastIndexOf('/') + 1);
      const locB = `/v2/${b}/blobs/uploads/${id}`;
      assertError(await req(s.url, 'GET', locB), 404, 'BLOB_UPLOAD_UNKNOWN');
      assertError(await req(s.url, 'PATCH', locB, { body: 'x' }), 404, 'BLOB_UPLOAD_UNKNOWN');
      assertError(await req(s.url, 'PUT', withDigest(locB, sha256('x')), { body: 'x' }), 404, 'BLOB_UPLOAD_UNKNOWN');
      assertError(await req(s.url, 'DELETE', locB), 404, 'BLOB_UPLOAD_UNKNOWN');
      assert.equal((await req(s.url, 'HEAD', `/v2/${b}/blobs/${sha256('x')}`)).status, 404);
      assertSession(await req(s.url, 'GET', locA), 204, a, 0);
      assertCreated(await req(s.url, 'PUT', withDigest(locA, sha256('a')), { body: 'a' }), a, sha256('a'));
    });
  });
});

describe('upload expiry', () => {
  let s: InProcessStowage;
  before(async () => {
    s = await startInProcess({ fsync: false, uploadTtlSeconds: 1 });
  });
  after(async () => {
    await s.stop();
  });

  it('an idle session expires → 404 BLOB_UPLOAD_UNKNOWN; sessions started later work', async () => {
    // The server's own sweep removes it: wait for that event, however long a loaded
    // machine takes. The TTL arithmetic (and that activity keeps a session) is tested
    // with an injected clock in test/unit/registry.test.ts.
    const repo = repoName('ttl');
    const idle = await startUpload(s.url, repo);
    assertSession(await req(s.url, 'PATCH', idle, { body: 'x' }), 202, repo, 1);
    for (;;) {
      const status = await req(s.url, 'GET', idle);
      if (status.status === 404) break;
      assertSession(status, 204, repo, 1);
      await new Promise((r) => setTimeout(r, 100));
    }
    assertError(await req(s.url, 'GET', idle), 404, 'BLOB_UPLOAD_UNKNOWN');
    assertError(await req(s.url, 'PUT', withDigest(idle, EMPTY_DIGEST)), 404, 'BLOB_UPLOAD_UNKNOWN');
    const fresh = await startUpload(s.url, repo);
    assertCreated(await req(s.url, 'PUT', withDigest(fresh, sha256('x')), { body: 'x' }), repo, sha256('x'));
  });
});
