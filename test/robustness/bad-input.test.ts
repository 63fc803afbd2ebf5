/**
 * Requirement 5: bad input changes nothing at the storage level. After a
 * barrage of bad requests (digest mismatch, size mismatch, bad Content-Range,
 * oversize manifest, invalid JSON, unknown references, path tricks) there are
 * no new files in blobs/, the database's blobs/manifests/tags are unchanged,
 * and every upload left behind is one a DELETE removes completely.
 * (Status codes are another suite's business; here only the data dir counts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startStowage } from '../helpers/server.js';
import {
  MiB,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER,
  OCI_MANIFEST,
  checkStorageInvariants,
  describe,
  descriptor,
  http,
  imageManifest,
  listFiles,
  manualRequest,
  pushImage,
  randomBytesSeeded,
  readDb,
  removeDir,
  sha256,
  sleep,
  startUpload,
  tempDir,
  uploadedSize,
  withDigest,
  type DbSnapshot,
} from './helpers.js';

const stable = (db: DbSnapshot) => ({
  repositories: db.repositories.map((r) => r.name),
  blobLinks: db.blobLinks,
  manifests: db.manifests.map((m) => ({ ...m, content: sha256(m.content) })),
  refs: db.refs,
  tags: db.tags,
});

test(
  'a barrage of bad requests leaves blobs/, the database and uploads as they were',
  { timeout: 60_000 },
  async (t) => {
    const dataDir = await tempDir();
    const server = await startStowage({ dataDir });
    t.after(async () => {
      await server.kill('SIGKILL');
      await removeDir(dataDir);
    });
    const base = server.url;
    const repo = 'bad/repo';

    // Known good state: one image, and one open session holding 100 bytes.
    const layer = randomBytesSeeded(50, 300_000);
    const good = await pushImage(base, repo, 'v1', [layer]);
    const config = Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, n: undefined }),
    );
    const keep = await startUpload(base, repo);
    const first = await http(base, keep, {
      method: 'PATCH',
      headers: { 'Content-Range': '0-99' },
      body: layer.subarray(0, 100),
    });
    assert.equal(first.status, 202);

    const blobsBefore = await listFiles(join(dataDir, 'blobs'));
    const dbBefore = stable(readDb(dataDir));
    const topBefore = (await readdir(dataDir)).sort();

    const data = randomBytesSeeded(51, MiB);
    const dataDigest = sha256(data);
    const wrong = sha256('something else');
    const statuses: string[] = [];
    const send = async (what: string, path: string, opts: Parameters<typeof http>[2]) => {
      const res = await http(base, path, opts);
      statuses.push(`${what}: ${res.status}`);
      assert.ok(res.status >= 400, `${what} was accepted: ${describe(res)}`);
      return res;
    };

    // --- digest mismatches, every flow -------------------------------------------
    await send('POST ?digest=wrong', `/v2/${repo}/blobs/uploads/?digest=${wrong}`, { method: 'POST', body: data });
    await send('POST ?digest=sha512 wrong', `/v2/${repo}/blobs/uploads/?digest=sha512:${'ab'.repeat(64)}`, {
      method: 'POST',
      body: data,
    });
    await send('POST ?digest=garbage', `/v2/${repo}/blobs/uploads/?digest=sha256:zz`, { method: 'POST', body: data });
    await send('POST ?digest=uppercase', `/v2/${repo}/blobs/uploads/?digest=${dataDigest.toUpperCase()}`, {
      method: 'POST',
      body: data,
    });
    await send('POST ?digest=traversal', `/v2/${repo}/blobs/uploads/?digest=sha256:..%2F..%2F..%2Fetc`, {
      method: 'POST',
      body: data,
    });
    {
      const loc = await startUpload(base, repo);
      await send('PUT ?digest=wrong with body', withDigest(loc, wrong), { method: 'PUT', body: data });
    }
    {
      const loc = await startUpload(base, repo);
      await http(base, loc, { method: 'PATCH', body: data.subarray(0, 1000) });
      await send('PUT ?digest=wrong after PATCH', withDigest(loc, wrong), {
        method: 'PUT',
        headers: { 'Content-Length': 0 },
      });
    }
    {
      const loc = await startUpload(base, repo);
      await send('PUT without digest', loc, { method: 'PUT', body: data });
    }
    {
      // Size mismatch by content: the digest of a prefix, with the whole body.
      const loc = await startUpload(base, repo);
      await send('PUT digest of a prefix', withDigest(loc, sha256(data.subarray(0, 1000))), {
        method: 'PUT',
        body: data,
      });
    }
    {
      // Truncated last chunk: digest of all, body of half.
      await send('POST digest of all, half the body', `/v2/${repo}/blobs/uploads/?digest=${dataDigest}`, {
        method: 'POST',
        body: data.subarray(0, data.length / 2),
      });
    }

    // --- Content-Range / Content-Length trouble on sessions ---------------------------
    {
      const loc = await startUpload(base, repo);
      await send('PATCH range/length mismatch', loc, {
        method: 'PATCH',
        headers: { 'Content-Range': '0-99' },
        body: data.subarray(0, 50),
      });
      await send('PATCH garbage range', loc, {
        method: 'PATCH',
        headers: { 'Content-Range': 'bytes=abc' },
        body: data.subarray(0, 50),
      });
      await send('PATCH reversed range', loc, {
        method: 'PATCH',
        headers: { 'Content-Range': '10-5' },
        body: data.subarray(0, 6),
      });
      await send('PATCH range past the end', loc, {
        method: 'PATCH',
        headers: { 'Content-Range': '5-10' },
        body: data.subarray(0, 6),
      });
      await send('PATCH huge range', loc, {
        method: 'PATCH',
        headers: { 'Content-Range': '0-99999999999999999999' },
        body: data.subarray(0, 6),
      });
      await send('PATCH bad Content-Length', loc, {
        method: 'PATCH',
        headers: { 'Content-Range': '0-5', 'Content-Length': '6x' },
        body: data.subarray(0, 6),
      }).catch(() => undefined);
      await send('PUT last chunk out of order', withDigest(loc, dataDigest), {
        method: 'PUT',
        headers: { 'Content-Range': '100-199' },
        body: data.subarray(100, 200),
      });
    }
    {
      // The session holding 100 bytes: retried and overlapping chunks must not touch it.
      await send('PATCH retried chunk', keep, {
        method: 'PATCH',
        headers: { 'Content-Range': '0-99' },
        body: layer.subarray(0, 100),
      });
      await send('PATCH overlapping chunk', keep, {
        method: 'PATCH',
        headers: { 'Content-Range': '50-149' },
        body: layer.subarray(50, 150),
      });
      await send('PATCH gap', keep, {
        method: 'PATCH',
        headers: { 'Content-Range': '200-299' },
        body: layer.subarray(200, 300),
      });
      const st = await uploadedSize(base, keep);
      assert.equal(st.size, 100, 'the good session still holds exactly its 100 bytes');
    }

    // --- unknown and malformed sessions -------------------------------------------------
    await send('PATCH unknown session', `/v2/${repo}/blobs/uploads/00000000-0000-4000-8000-000000000000`, {
      method: 'PATCH',
      body: data.subarray(0, 10),
    });
    await send('PATCH traversal session', `/v2/${repo}/blobs/uploads/..%2F..%2Fstowage.db`, {
      method: 'PATCH',
      body: data.subarray(0, 10),
    });
    await send('PUT traversal session', `/v2/${repo}/blobs/uploads/..%2F..%2Fblobs?digest=${dataDigest}`, {
      method: 'PUT',
      body: data,
    });
    await send('PATCH session of another repo', keep.replace(`/v2/${repo}/`, '/v2/bad/other/'), {
      method: 'PATCH',
      body: data.subarray(0, 10),
    });
    await send('POST invalid repository name', `/v2/Bad..Name/blobs/uploads/?digest=${dataDigest}`, {
      method: 'POST',
      body: data,
    });

    // --- manifests -------------------------------------------------------------------------
    const oversize = Buffer.alloc(4 * MiB + 1, 0x20);
    await send('manifest oversize (Content-Length)', `/v2/${repo}/manifests/big`, {
      method: 'PUT',
      headers: { 'Content-Type': OCI_MANIFEST },
      body: oversize,
    }).catch(() => undefined);
    {
      // Oversize with chunked encoding (no Content-Length to refuse up front).
      const r = manualRequest(base, `/v2/${repo}/manifests/big2`, {
        method: 'PUT',
        headers: { 'Content-Type': OCI_MANIFEST },
      });
      for (let i = 0; i < 5; i++) await r.write(Buffer.alloc(MiB, 0x20)).catch(() => undefined);
      r.req.end();
      const res = await r.response.catch((e: Error) => ({ status: -1, body: Buffer.from(e.message) }) as never);
      statuses.push(`manifest oversize (chunked): ${(res as { status: number }).status}`);
    }
    await send('manifest invalid JSON', `/v2/${repo}/manifests/bad`, {
      method: 'PUT',
      headers: { 'Content-Type': OCI_MANIFEST },
      body: '{"schemaVersion": 2, ',
    });
    await send('manifest not UTF-8', `/v2/${repo}/manifests/bad`, {
      method: 'PUT',
      headers: { 'Content-Type': OCI_MANIFEST },
      body: Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
    });
    await send('manifest schema 1', `/v2/${repo}/manifests/bad`, {
      method: 'PUT',
      headers: { 'Content-Type': OCI_MANIFEST },
      body: '{"schemaVersion":1}',
    });
    const missing = imageManifest(descriptor(OCI_CONFIG, Buffer.from('{"not":"pushed"}')), [
      descriptor(OCI_LAYER, layer),
    ]);
    await send('manifest with unknown config', `/v2/${repo}/manifests/bad`, {
      method: 'PUT',
      headers: { 'Content-Type': OCI_MANIFEST },
      body: missing,
    });
    const sizeLie = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: descriptor(OCI_CONFIG, config),
        layers: [{ ...descriptor(OCI_LAYER, layer), size: layer.length + 1 }],
      }),
    );
    await send('manifest with wrong layer size', `/v2/${repo}/manifests/v1`, {
      method: 'PUT',
      headers: { 'Content-Type': OCI_MANIFEST },
      body: sizeLie,
    });
    const goodBody = (await http(base, `/v2/${repo}/manifests/${good}`, { headers: { Accept: OCI_MANIFEST } })).body;
    await send('manifest digest mismatch', `/v2/${repo}/manifests/${wrong}`, {
      method: 'PUT',
      headers: { 'Content-Type': OCI_MANIFEST },
      body: goodBody,
    });
    await send('manifest type mismatch', `/v2/${repo}/manifests/v1`, {
      method: 'PUT',
      headers: { 'Content-Type': OCI_INDEX },
      body: goodBody,
    });
    await send('manifest bad tag', `/v2/${repo}/manifests/-bad-tag`, {
      method: 'PUT',
      headers: { 'Content-Type': OCI_MANIFEST },
      body: goodBody,
    });
    await send('index with unknown child', `/v2/${repo}/manifests/idx`, {
      method: 'PUT',
      headers: { 'Content-Type': OCI_INDEX },
      body: JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{ mediaType: OCI_MANIFEST, digest: wrong, size: 10 }],
      }),
    });
    await send('manifest into another repo missing its blobs', `/v2/bad/other/manifests/v1`, {
      method: 'PUT',
      headers: { 'Content-Type': OCI_MANIFEST },
      body: goodBody,
    });

    // --- deletes of things that do not exist --------------------------------------------------
    await send('DELETE unknown blob', `/v2/${repo}/blobs/${wrong}`, { method: 'DELETE' });
    await send('DELETE referenced blob', `/v2/${repo}/blobs/${sha256(layer)}`, { method: 'DELETE' });
    await send('DELETE unknown manifest', `/v2/${repo}/manifests/${wrong}`, { method: 'DELETE' });
    await send('DELETE unknown tag', `/v2/${repo}/manifests/nope`, { method: 'DELETE' });
    t.diagnostic(statuses.join('; '));

    await sleep(200); // let aborted bodies settle
    const server2 = await http(base, '/v2/');
    assert.equal(server2.status, 200, 'still serving');

    // --- the data dir ------------------------------------------------------------------------------
    assert.deepEqual(await listFiles(join(dataDir, 'blobs')), blobsBefore, 'no new (or removed) files under blobs/');
    assert.deepEqual(stable(readDb(dataDir)), dbBefore, 'repositories, blob links, manifests, refs and tags unchanged');
    const topAfter = (await readdir(dataDir)).sort();
    assert.deepEqual(topAfter, topBefore, 'no new top-level entries in the data dir');

    // Whatever sessions are left are proper sessions: each has a record, and DELETE removes all of it.
    const db = readDb(dataDir);
    const files = await listFiles(join(dataDir, 'uploads'));
    const ids = db.uploads.map((u) => u.id);
    assert.deepEqual(
      files.filter((f) => !ids.includes(f)),
      [],
      'session files with no session record (a DELETE could never reach them)',
    );
    for (const u of db.uploads) {
      const del = await http(base, `/v2/${u.repository}/blobs/uploads/${u.id}`, { method: 'DELETE' });
      assert.ok(del.status === 204 || del.status === 404, `DELETE session ${u.id}: ${describe(del)}`);
    }
    assert.deepEqual(await listFiles(join(dataDir, 'uploads')), [], 'uploads/ empty after deleting every session');
    assert.deepEqual(readDb(dataDir).uploads, [], 'no session records left after deleting every session');
    assert.deepEqual(await checkStorageInvariants(dataDir), []);
    // The good image is untouched.
    const pulled = await http(base, `/v2/${repo}/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
    assert.equal(sha256(pulled.body), good);
  },
);

test('a rejected push into a new repository does not create the repository', async (t) => {
  const dataDir = await tempDir();
  const server = await startStowage({ dataDir });
  t.after(async () => {
    await server.kill('SIGKILL');
    await removeDir(dataDir);
  });
  const base = server.url;
  const before = await http(base, '/v2/fresh/tags/list');
  assert.equal(before.status, 404, 'unknown repository before');

  await http(base, `/v2/fresh/blobs/uploads/?digest=${sha256('x')}`, { method: 'POST', body: 'not x' });
  await http(base, `/v2/fresh/blobs/uploads/?digest=sha256:zz`, { method: 'POST', body: 'x' });
  await http(base, `/v2/fresh/manifests/v1`, {
    method: 'PUT',
    headers: { 'Content-Type': OCI_MANIFEST },
    body: '{"schemaVersion": 2',
  });

  assert.deepEqual(readDb(dataDir).repositories, [], 'no repositories row for a repository nothing was ever stored in');
  const after = await http(base, '/v2/fresh/tags/list');
  assert.equal(after.status, 404, `tags/list of a repository that only saw rejected pushes: ${describe(after)}`);
  assert.deepEqual(await listFiles(join(dataDir, 'uploads')), []);
});
