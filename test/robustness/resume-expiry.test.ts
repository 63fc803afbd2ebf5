/**
 * Requirement 8: uploads resume across a server restart (PATCH half, SIGTERM,
 * restart on the same data, GET shows the bytes, PATCH the rest, PUT ?digest=
 * → 201 with the digest verified), and abandoned uploads expire: with
 * STOWAGE_UPLOAD_TTL_SECONDS=1 the session is gone (404 BLOB_UPLOAD_UNKNOWN)
 * and its file removed, both by the expiry at start and by the periodic sweep.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStowage } from '../helpers/server.js';
import {
  MiB,
  PatternContent,
  blobFile,
  describe,
  errorCodes,
  existsSync,
  hashFile,
  http,
  listFiles,
  readDb,
  removeDir,
  sessionFileOf,
  sleep,
  startUpload,
  tempDir,
  uploadPath,
  uploadedSize,
  waitFor,
  withDigest,
} from './helpers.js';

for (const flavour of ['ranged', 'streamed'] as const) {
  test(
    `a ${flavour} chunked upload resumes across a restart (SIGTERM, new process, same data dir)`,
    { timeout: 30_000 },
    async (t) => {
      const dataDir = await tempDir();
      t.after(() => removeDir(dataDir));
      const repo = `resume/${flavour}`;
      const content = new PatternContent(80, 10 * MiB + 12345);
      const half = 5 * MiB;
      const digest = await content.digest();

      const first = await startStowage({ dataDir });
      // Two sessions get the same first half: one is finished right, one with a wrong digest.
      const sessions: string[] = [];
      for (let i = 0; i < 2; i++) {
        let loc = await startUpload(first.url, repo);
        for (const [a, b] of [
          [0, 2 * MiB],
          [2 * MiB, half],
        ] as const) {
          const res = await http(first.url, loc, {
            method: 'PATCH',
            headers: flavour === 'ranged' ? { 'Content-Range': `${a}-${b - 1}` } : {},
            body: flavour === 'ranged' ? content.bytes(a, b) : content.stream(a, b),
          });
          assert.equal(res.status, 202, describe(res));
          loc = uploadPath(res.headers.location);
        }
        sessions.push(loc);
      }
      assert.equal(await first.kill('SIGTERM'), 0, 'clean exit on SIGTERM');

      const second = await startStowage({ dataDir });
      t.after(() => second.kill('SIGKILL'));
      const finished: string[] = [];
      for (const loc of sessions) {
        const st = await uploadedSize(second.url, loc);
        assert.equal(st.status, 204, `GET upload after restart: ${st.codes.join(',')}`);
        assert.equal(st.range, `0-${half - 1}`, 'Range shows the bytes received before the restart');
        const rest = await http(second.url, loc, {
          method: 'PATCH',
          headers: flavour === 'ranged' ? { 'Content-Range': `${half}-${content.size - 1}` } : {},
          body: flavour === 'ranged' ? content.bytes(half) : content.stream(half),
        });
        assert.equal(rest.status, 202, describe(rest));
        assert.equal(rest.headers.range, `0-${content.size - 1}`);
        finished.push(uploadPath(rest.headers.location));
      }

      // The digest is verified against every byte, though the running hash did not survive the restart.
      const wrong = await http(second.url, withDigest(finished[0]!, `sha256:${'0'.repeat(64)}`), {
        method: 'PUT',
        headers: { 'Content-Length': 0 },
      });
      assert.equal(wrong.status, 400, 'a wrong digest is refused after a restart');
      assert.deepEqual(errorCodes(wrong), ['DIGEST_INVALID']);
      const put = await http(second.url, withDigest(finished[1]!, digest), {
        method: 'PUT',
        headers: { 'Content-Length': 0 },
      });
      assert.equal(put.status, 201, describe(put));
      assert.equal(put.headers['docker-content-digest'], digest);
      const get = await http(second.url, `/v2/${repo}/blobs/${digest}`, { hashBody: true });
      assert.equal(get.status, 200);
      assert.equal(get.digest, digest, 'pulled bytes hash to the digest');
      assert.equal(`sha256:${await hashFile(blobFile(dataDir, digest))}`, digest);
      assert.deepEqual(await listFiles(join(dataDir, 'uploads')), [], 'no session bytes left');
      await second.kill('SIGTERM');
    },
  );
}

test('an upload resumes after kill -9 too, from the offset GET reports', { timeout: 30_000 }, async (t) => {
  const dataDir = await tempDir();
  t.after(() => removeDir(dataDir));
  const repo = 'resume/killed';
  const content = new PatternContent(81, 6 * MiB);
  const first = await startStowage({ dataDir });
  const loc = await startUpload(first.url, repo);
  const res = await http(first.url, loc, {
    method: 'PATCH',
    headers: { 'Content-Range': `0-${3 * MiB - 1}` },
    body: content.bytes(0, 3 * MiB),
  });
  assert.equal(res.status, 202);
  await first.kill('SIGKILL');

  const second = await startStowage({ dataDir });
  t.after(() => second.kill('SIGKILL'));
  const st = await uploadedSize(second.url, loc);
  assert.equal(st.size, 3 * MiB);
  const put = await http(second.url, withDigest(loc, await content.digest()), {
    method: 'PUT',
    headers: { 'Content-Range': `${3 * MiB}-${6 * MiB - 1}` },
    body: content.bytes(3 * MiB),
  });
  assert.equal(put.status, 201, describe(put));
});

test(
  'with STOWAGE_UPLOAD_TTL_SECONDS=1, an abandoned session is removed by the expiry at start',
  { timeout: 30_000 },
  async (t) => {
    const dataDir = await tempDir();
    t.after(() => removeDir(dataDir));
    const env = { STOWAGE_UPLOAD_TTL_SECONDS: '1' };
    const repo = 'expire/at-start';
    // Started without the short TTL so the session surely survives until the stop.
    const first = await startStowage({ dataDir });
    const loc = await startUpload(first.url, repo);
    const res = await http(first.url, loc, { method: 'PATCH', body: Buffer.alloc(100_000, 7) });
    assert.equal(res.status, 202);
    assert.ok(existsSync(sessionFileOf(dataDir, loc)));
    assert.equal(await first.kill('SIGTERM'), 0);

    await sleep(1_300); // older than the 1 s TTL
    const second = await startStowage({ dataDir, env });
    t.after(() => second.kill('SIGKILL'));
    assert.ok(
      second.logs.some((l) => l.includes('removed expired upload sessions')),
      'expiry at start logged',
    );
    const st = await http(second.url, loc);
    assert.equal(st.status, 404, describe(st));
    assert.deepEqual(errorCodes(st), ['BLOB_UPLOAD_UNKNOWN']);
    const patch = await http(second.url, loc, { method: 'PATCH', body: Buffer.alloc(10) });
    assert.equal(patch.status, 404);
    assert.deepEqual(errorCodes(patch), ['BLOB_UPLOAD_UNKNOWN']);
    assert.equal(existsSync(sessionFileOf(dataDir, loc)), false, 'its file under uploads/ is removed');
    assert.deepEqual(readDb(dataDir).uploads, [], 'its record is removed');
  },
);

test(
  'with STOWAGE_UPLOAD_TTL_SECONDS=1, a running server sweeps an abandoned session',
  { timeout: 30_000 },
  async (t) => {
    const dataDir = await tempDir();
    t.after(() => removeDir(dataDir));
    const server = await startStowage({ dataDir, env: { STOWAGE_UPLOAD_TTL_SECONDS: '1' } });
    t.after(() => server.kill('SIGKILL'));
    const repo = 'expire/sweep';
    const loc = await startUpload(server.url, repo);
    const res = await http(server.url, loc, { method: 'PATCH', body: Buffer.alloc(100_000, 7) });
    assert.equal(res.status, 202, describe(res));
    const file = sessionFileOf(dataDir, loc);
    assert.ok(existsSync(file));

    // An upload kept busy is not expired under it: PATCH every 400 ms for ~2.4 s.
    const busy = await startUpload(server.url, repo);
    for (let i = 0; i < 6; i++) {
      await sleep(400);
      const p = await http(server.url, busy, { method: 'PATCH', body: Buffer.alloc(1000, i) });
      assert.equal(p.status, 202, `active session PATCH ${i} after ${(i + 1) * 400} ms: ${describe(p)}`);
    }

    await waitFor('abandoned session file removed', () => !existsSync(file), 5_000, 100);
    const st = await http(server.url, loc);
    assert.equal(st.status, 404, describe(st));
    assert.deepEqual(errorCodes(st), ['BLOB_UPLOAD_UNKNOWN']);
    assert.ok(!readDb(dataDir).uploads.some((u) => loc.includes(u.id)), 'record removed');
  },
);
