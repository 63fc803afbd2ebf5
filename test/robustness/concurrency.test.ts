/**
 * Requirement 4: concurrent pushes of the same blob (16 parallel uploads of the
 * same 8 MiB, mixing monolithic and chunked flows) all get 201 and the blob is
 * intact; concurrent PUTs of different manifests to one tag all succeed and
 * the tag ends on one of them, consistently between tags/list, GET, HEAD and
 * the database.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startStowage, type StowageProcess } from '../helpers/server.js';
import {
  ACCEPT_ALL_MANIFESTS,
  MiB,
  OCI_CONFIG,
  OCI_LAYER,
  UPLOAD_METHODS,
  blobFile,
  checkStorageInvariants,
  describe,
  descriptor,
  hashFile,
  http,
  imageManifest,
  json,
  listFiles,
  pushBlob,
  putManifest,
  randomBytesSeeded,
  readDb,
  removeDir,
  sha256,
  tempDir,
} from './helpers.js';

let server: StowageProcess;
let dataDir: string;

before(async () => {
  dataDir = await tempDir();
  server = await startStowage({ dataDir });
});

after(async () => {
  await server.kill('SIGKILL');
  await removeDir(dataDir);
});

test('16 parallel uploads of the same 8 MiB blob (mixed flows) all get 201 and the blob is intact', async () => {
  const repo = 'conc/same-blob';
  const blob = randomBytesSeeded(40, 8 * MiB);
  const digest = sha256(blob);
  const results = await Promise.all(
    Array.from({ length: 16 }, (_, i) =>
      pushBlob(server.url, repo, blob, UPLOAD_METHODS[i % UPLOAD_METHODS.length]!, (1 + (i % 3)) * MiB),
    ),
  );
  results.forEach((res, i) => {
    assert.equal(res.status, 201, `upload ${i} (${UPLOAD_METHODS[i % UPLOAD_METHODS.length]}): ${describe(res)}`);
    assert.equal(res.headers['docker-content-digest'], digest);
  });

  const head = await http(server.url, `/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(Number(head.headers['content-length']), blob.length);
  const get = await http(server.url, `/v2/${repo}/blobs/${digest}`, { hashBody: true });
  assert.equal(get.status, 200);
  assert.equal(get.digest, digest);

  assert.equal(await hashFile(blobFile(dataDir, digest)), digest.slice(7), 'the file on disk is the blob');
  const db = readDb(dataDir);
  assert.deepEqual(
    db.blobLinks.filter((l) => l.repo === repo),
    [{ repo, digest, size: blob.length }],
  );
  assert.deepEqual(
    db.uploads.filter((u) => u.repository === repo),
    [],
    'no session left open',
  );
  assert.deepEqual(await listFiles(join(dataDir, 'uploads')), [], 'no session bytes left behind');
});

test('the same blob pushed in parallel into different repositories is linked in each', async () => {
  const blob = randomBytesSeeded(41, 2 * MiB);
  const digest = sha256(blob);
  const repos = Array.from({ length: 8 }, (_, i) => `conc/spread-${i}`);
  const results = await Promise.all(
    repos.flatMap((repo, i) => [
      pushBlob(server.url, repo, blob, UPLOAD_METHODS[i % 4]!),
      pushBlob(server.url, repo, blob, UPLOAD_METHODS[(i + 1) % 4]!),
    ]),
  );
  for (const res of results) assert.equal(res.status, 201, describe(res));
  for (const repo of repos) {
    const get = await http(server.url, `/v2/${repo}/blobs/${digest}`, { hashBody: true });
    assert.equal(get.digest, digest, repo);
  }
  assert.deepEqual(await checkStorageInvariants(dataDir), []);
});

test('concurrent PUTs of different manifests to one tag all succeed and the tag ends on one of them', async () => {
  const repo = 'conc/tag-race';
  const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
  const layer = randomBytesSeeded(42, 100_000);
  for (const b of [config, layer]) assert.equal((await pushBlob(server.url, repo, b)).status, 201);

  for (let round = 0; round < 4; round++) {
    const bodies = Array.from({ length: 16 }, (_, i) =>
      imageManifest(descriptor(OCI_CONFIG, config), [descriptor(OCI_LAYER, layer)], {
        'test.round': String(round),
        'test.i': String(i),
      }),
    );
    const digests = bodies.map((b) => sha256(b));
    const results = await Promise.all(bodies.map((b) => putManifest(server.url, repo, 'race', b)));
    results.forEach((res, i) => {
      assert.equal(res.status, 201, `PUT ${i}: ${describe(res)}`);
      assert.equal(res.headers['docker-content-digest'], digests[i]);
    });

    const tags = json<{ tags: string[] }>(await http(server.url, `/v2/${repo}/tags/list`)).tags;
    assert.deepEqual(tags, ['race'], 'the tag is listed exactly once');
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const get = await http(server.url, `/v2/${repo}/manifests/race`, { headers: { Accept: ACCEPT_ALL_MANIFESTS } });
      assert.equal(get.status, 200);
      assert.equal(sha256(get.body), get.headers['docker-content-digest'], 'body and digest header agree');
      seen.add(sha256(get.body));
      const head = await http(server.url, `/v2/${repo}/manifests/race`, {
        method: 'HEAD',
        headers: { Accept: ACCEPT_ALL_MANIFESTS },
      });
      seen.add(String(head.headers['docker-content-digest']));
    }
    assert.equal(seen.size, 1, `GET/HEAD of the tag disagree: ${[...seen].join(', ')}`);
    const winner = [...seen][0]!;
    assert.ok(digests.includes(winner), 'the tag points at one of the pushed manifests');
    const dbTag = readDb(dataDir).tags.filter((t) => t.repo === repo);
    assert.deepEqual(
      dbTag.map((t) => [t.name, t.digest]),
      [['race', winner]],
      'database agrees with the API',
    );
    // Every one of the 16 manifests is stored and reachable by digest.
    for (const d of digests) {
      const byDigest = await http(server.url, `/v2/${repo}/manifests/${d}`, {
        method: 'HEAD',
        headers: { Accept: ACCEPT_ALL_MANIFESTS },
      });
      assert.equal(byDigest.status, 200, `manifest ${d} reachable by digest`);
    }
  }
  assert.deepEqual(await checkStorageInvariants(dataDir), []);
});

test('concurrent PUTs of the same manifest bytes to many tags all succeed', async () => {
  const repo = 'conc/many-tags';
  const config = Buffer.from('{"architecture":"arm64","os":"linux"}');
  assert.equal((await pushBlob(server.url, repo, config)).status, 201);
  const body = imageManifest(descriptor(OCI_CONFIG, config), []);
  const tags = Array.from({ length: 24 }, (_, i) => `t${String(i).padStart(2, '0')}`);
  const results = await Promise.all([
    ...tags.map((tag) => putManifest(server.url, repo, tag, body)),
    putManifest(server.url, repo, sha256(body), body),
  ]);
  for (const res of results) assert.equal(res.status, 201, describe(res));
  const listed = json<{ tags: string[] }>(await http(server.url, `/v2/${repo}/tags/list`)).tags;
  assert.deepEqual(listed, tags);
  const db = readDb(dataDir);
  assert.equal(db.manifests.filter((m) => m.repo === repo).length, 1, 'one manifest row');
  assert.equal(db.refs.filter((r) => r.repo === repo).length, 1, 'its one reference recorded once');
});
