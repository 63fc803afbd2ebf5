/**
 * Requirement 2: a client that disconnects mid-upload leaves nothing committed.
 * The socket is destroyed halfway through a PATCH (Content-Length and chunked),
 * a monolithic PUT and a POST?digest=. Afterwards the blob is not HEAD-able, the
 * session (when there is one) is rolled back to its last complete chunk, it can
 * still be finished with the right bytes, and the server keeps serving.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { DiskBlobStore } from '../../src/storage/disk/disk-blob-store.js';
import { startStowage, type StowageProcess } from '../helpers/server.js';
import {
  MiB,
  PatternContent,
  blobFile,
  checkBlobFiles,
  describe,
  existsSync,
  http,
  manualRequest,
  prng,
  readDb,
  removeDir,
  sessionFileOf,
  sessionIdOf,
  sleep,
  startUpload,
  tempDir,
  uploadPath,
  uploadedSize,
  waitFor,
  withDigest,
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

const sessionFile = (loc: string) => sessionFileOf(dataDir, loc);

/** Sends `sent` bytes of a body then destroys the socket; waits until the server has seen them. */
async function abortHalfway(
  path: string,
  method: string,
  headers: Record<string, string | number>,
  body: Buffer,
  watch?: { file: string; above: number },
): Promise<void> {
  const r = manualRequest(server.url, path, { method, headers });
  await r.write(body);
  if (watch) {
    // Make sure the server really wrote part of the chunk before the client vanishes.
    await waitFor('partial bytes on disk', async () => (await stat(watch.file)).size > watch.above, 5000, 5);
  } else {
    await sleep(200);
  }
  r.req.destroy();
  await r.response.then(
    (res) => assert.fail(`request answered although it was aborted: ${describe(res)}`),
    () => undefined,
  );
}

async function assertServing(): Promise<void> {
  const res = await http(server.url, '/v2/');
  assert.equal(res.status, 200, 'server still answers /v2/');
}

async function assertNotCommitted(repo: string, digest: string): Promise<void> {
  const head = await http(server.url, `/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
  assert.equal(head.status, 404, `blob ${digest} must not be HEAD-able after an aborted upload`);
  assert.equal(existsSync(blobFile(dataDir, digest)), false, 'no blob file was committed');
}

/** Waits for the server to notice and roll back: the session reports `size` and its file is that long. */
async function assertRolledBack(loc: string, size: number): Promise<void> {
  let seen = -1;
  await waitFor(
    `session rolled back to ${size}`,
    async () => (seen = (await stat(sessionFile(loc))).size) === size,
    5000,
  ).catch((e: Error) => {
    throw new Error(`${e.message}: session file holds ${seen} bytes`);
  });
  // And stays there (no late write lands after the rollback).
  await sleep(300);
  assert.equal((await stat(sessionFile(loc))).size, size, 'session file size after settling');
  const st = await uploadedSize(server.url, loc);
  assert.equal(st.status, 204);
  assert.equal(st.size, size, `GET upload reports Range ${st.range}`);
}

/** Finishing the session after the abort still produces exactly the right blob. */
async function finishFrom(repo: string, loc: string, content: PatternContent, offset: number): Promise<void> {
  const rest = content.bytes(offset);
  const patch = await http(server.url, loc, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${content.size - 1}` },
    body: rest,
  });
  assert.equal(patch.status, 202, describe(patch));
  const digest = await content.digest();
  const put = await http(server.url, withDigest(uploadPath(patch.headers.location), digest), {
    method: 'PUT',
    headers: { 'Content-Length': 0 },
  });
  assert.equal(put.status, 201, `finishing after the abort: ${describe(put)}`);
  const get = await http(server.url, `/v2/${repo}/blobs/${digest}`, { hashBody: true });
  assert.equal(get.status, 200);
  assert.equal(get.digest, digest);
}

test('PATCH with Content-Length aborted halfway rolls back to the last complete chunk', async () => {
  const repo = 'abort/patch-length';
  const content = new PatternContent(10, 12 * MiB);
  const loc = await startUpload(server.url, repo);
  const first = await http(server.url, loc, {
    method: 'PATCH',
    headers: { 'Content-Range': `0-${4 * MiB - 1}` },
    body: content.bytes(0, 4 * MiB),
  });
  assert.equal(first.status, 202, describe(first));
  await assertRolledBack(loc, 4 * MiB);

  // Second chunk: declares 8 MiB, sends 4 MiB, vanishes.
  await abortHalfway(
    loc,
    'PATCH',
    {
      'Content-Type': 'application/octet-stream',
      'Content-Range': `${4 * MiB}-${12 * MiB - 1}`,
      'Content-Length': 8 * MiB,
    },
    content.bytes(4 * MiB, 8 * MiB),
    { file: sessionFile(loc), above: 4 * MiB },
  );
  await assertRolledBack(loc, 4 * MiB);
  await assertNotCommitted(repo, await content.digest());
  await assertServing();
  await finishFrom(repo, loc, content, 4 * MiB);
});

test('streamed PATCH (chunked transfer-encoding) aborted halfway rolls back', async () => {
  const repo = 'abort/patch-chunked';
  const content = new PatternContent(11, 10 * MiB);
  const loc = await startUpload(server.url, repo);
  const first = await http(server.url, loc, { method: 'PATCH', body: content.bytes(0, 2 * MiB) });
  assert.equal(first.status, 202, describe(first));

  // No Content-Length: Node sends Transfer-Encoding: chunked.
  await abortHalfway(loc, 'PATCH', { 'Content-Type': 'application/octet-stream' }, content.bytes(2 * MiB, 6 * MiB), {
    file: sessionFile(loc),
    above: 2 * MiB,
  });
  await assertRolledBack(loc, 2 * MiB);
  await assertNotCommitted(repo, await content.digest());
  await assertServing();
  await finishFrom(repo, loc, content, 2 * MiB);
});

test('repeated aborts on one session never leave stray bytes', async () => {
  const repo = 'abort/repeated';
  const content = new PatternContent(12, 8 * MiB);
  const loc = await startUpload(server.url, repo);
  const first = await http(server.url, loc, {
    method: 'PATCH',
    headers: { 'Content-Range': `0-${MiB - 1}` },
    body: content.bytes(0, MiB),
  });
  assert.equal(first.status, 202);
  for (let i = 0; i < 5; i++) {
    const half = content.bytes(MiB, MiB + (i + 1) * 512 * 1024);
    const chunked = i % 2 === 0;
    await abortHalfway(
      loc,
      'PATCH',
      chunked ? {} : { 'Content-Range': `${MiB}-${8 * MiB - 1}`, 'Content-Length': 7 * MiB },
      half,
      { file: sessionFile(loc), above: MiB },
    );
    await assertRolledBack(loc, MiB);
  }
  await assertServing();
  await finishFrom(repo, loc, content, MiB);
});

test('many concurrent aborted PATCHes: every session rolls back exactly and stays resumable', async () => {
  // Aborts land at random points while the server is busy writing: this is where a
  // write still in flight when the rollback truncates would reappear after it.
  const repo = 'abort/concurrent';
  const content = new PatternContent(15, 8 * MiB);
  const digest = await content.digest();
  const outcomes: { loc: string; size: number }[] = [];
  const rnd = prng(15);
  async function worker(w: number): Promise<void> {
    for (let k = 0; k < 6; k++) {
      const loc = await startUpload(server.url, repo);
      const first = await http(server.url, loc, {
        method: 'PATCH',
        headers: { 'Content-Range': `0-${MiB - 1}` },
        body: content.bytes(0, MiB),
      });
      assert.equal(first.status, 202, describe(first));
      const r = manualRequest(server.url, loc, {
        method: 'PATCH',
        headers: (w + k) % 2 ? {} : { 'Content-Range': `${MiB}-${8 * MiB - 1}`, 'Content-Length': 7 * MiB },
      });
      await r.write(content.bytes(MiB, MiB + 512 * 1024 + Math.floor(rnd() * 4 * MiB)));
      r.req.destroy();
      await r.response.then(
        (res) => assert.fail(`answered: ${describe(res)}`),
        () => undefined,
      );
      // Let this session settle before the next abort (back at 1 MiB, or unchanged for 1 s).
      let seen = -1;
      await waitFor(
        'settled',
        async () => {
          const size = (await stat(sessionFile(loc))).size;
          const settled = size === MiB || size === seen;
          seen = size;
          return settled;
        },
        10_000,
        250,
      );
      outcomes.push({ loc, size: -1 });
    }
  }
  await Promise.all(Array.from({ length: 12 }, (_, w) => worker(w)));
  // Give the server all the time it needs to notice the aborts and roll back (it may be
  // busy, and fsyncing): wait until every session is back at 1 MiB, or until nothing
  // has changed for a full second.
  const sizes = async () => Promise.all(outcomes.map(async (o) => (o.size = (await stat(sessionFile(o.loc))).size)));
  let last = '';
  let stableSince = Date.now();
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const now = (await sizes()).join(',');
    if (outcomes.every((o) => o.size === MiB)) break;
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    } else if (Date.now() - stableSince > 1_000) break;
    await sleep(100);
  }
  // Both the bytes on disk and the size the server reports (GET → Range) must be back at 1 MiB.
  const wrong: string[] = [];
  for (const o of outcomes) {
    const st = await uploadedSize(server.url, o.loc);
    if (o.size !== MiB || st.size !== MiB)
      wrong.push(`${sessionIdOf(o.loc)}: file ${o.size} bytes, GET Range ${st.range}`);
  }
  // Every session must resume from the offset the server reports (GET Range) and verify.
  const resumeFailures: string[] = [];
  for (const o of outcomes) {
    const st = await uploadedSize(server.url, o.loc);
    const offset = st.size ?? 0;
    const patch = await http(server.url, o.loc, {
      method: 'PATCH',
      headers: { 'Content-Range': `${offset}-${content.size - 1}` },
      body: content.bytes(offset),
    });
    const put =
      patch.status === 202
        ? await http(server.url, withDigest(uploadPath(patch.headers.location), digest), {
            method: 'PUT',
            headers: { 'Content-Length': 0 },
          })
        : patch;
    if (put.status !== 201) resumeFailures.push(`resume at ${offset}: ${describe(put).slice(0, 120)}`);
  }
  assert.deepEqual(
    wrong,
    [],
    `${wrong.length}/${outcomes.length} aborted PATCHes left the session at the wrong size instead of ${MiB}; resuming from the reported Range then failed for ${resumeFailures.length}: ${resumeFailures.slice(0, 3).join('; ')}`,
  );
  assert.deepEqual(resumeFailures, [], 'resuming from the reported Range must produce the blob');
  await assertServing();
});

test('the rollback of a failed append waits for the write in flight (deterministic, at the blob store)', async (t) => {
  // Over HTTP the window is narrow (the client must vanish while the server's last
  // write is still in the thread pool), so the situation is forced here: a 64 MiB chunk
  // is still being written when the body stream fails. Whether the damage shows then
  // depends on which completion the thread pool delivers first, so it is tried 16 times. The rollback must
  // leave the file and the reported size at the last complete chunk.
  const root = await tempDir();
  const store = await DiskBlobStore.open(root, { fsync: false });
  t.after(async () => {
    await store.close();
    await removeDir(root);
  });
  const results: string[] = [];
  for (let i = 0; i < 16; i++) {
    const id = randomUUID();
    await store.createUpload(id);
    await store.appendUpload(id, 0, Readable.from([Buffer.alloc(MiB, 1)]));
    const body = new Readable({ read() {} });
    body.push(Buffer.alloc(64 * MiB, i));
    setImmediate(() => body.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })));
    await assert.rejects(store.appendUpload(id, MiB, body), /aborted/);
    await sleep(150); // anything still in flight has landed by now
    const reported = await store.uploadSize(id);
    const onDisk = (await stat(join(root, 'uploads', id))).size;
    if (reported !== MiB || onDisk !== MiB) results.push(`attempt ${i}: uploadSize ${reported}, file ${onDisk}`);
  }
  assert.deepEqual(
    results,
    [],
    `after a failed append the session must be back at ${MiB} bytes, in memory and on disk`,
  );
});

test('monolithic PUT aborted halfway commits nothing and keeps the session at its last chunk', async () => {
  const repo = 'abort/put';
  const content = new PatternContent(13, 16 * MiB);
  const digest = await content.digest();
  const loc = await startUpload(server.url, repo);
  await abortHalfway(
    withDigest(loc, digest),
    'PUT',
    { 'Content-Type': 'application/octet-stream', 'Content-Length': content.size },
    content.bytes(0, 8 * MiB),
    { file: sessionFile(loc), above: 0 },
  );
  await assertNotCommitted(repo, digest);
  await assertRolledBack(loc, 0);
  await assertServing();
  // The session is still usable: the whole blob in one go now.
  const put = await http(server.url, withDigest(loc, digest), {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: content.bytes(),
  });
  assert.equal(put.status, 201, describe(put));
});

test('POST ?digest= aborted halfway commits nothing and leaves no partial bytes', async () => {
  const repo = 'abort/post-digest';
  const content = new PatternContent(14, 16 * MiB);
  const digest = await content.digest();
  const before = readDb(dataDir).uploads.map((u) => u.id);
  const r = manualRequest(server.url, `/v2/${repo}/blobs/uploads/?digest=${digest}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': content.size },
  });
  await r.write(content.bytes(0, 8 * MiB));
  // Wait until the server has created the session and written some of it.
  const id = (await waitFor<string | undefined>(
    'session created',
    async () => {
      const fresh = readDb(dataDir).uploads.filter((u) => !before.includes(u.id) && u.repository === repo);
      if (fresh.length !== 1) return undefined;
      const s = await stat(join(dataDir, 'uploads', fresh[0]!.id)).catch(() => undefined);
      return s && s.size > 0 ? fresh[0]!.id : undefined;
    },
    5000,
    10,
  ))!;
  r.req.destroy();
  await r.response.then(
    (res) => assert.fail(`answered: ${describe(res)}`),
    () => undefined,
  );

  await assertNotCommitted(repo, digest);
  // The implicit session is either gone or empty: never a partial blob.
  await waitFor(
    'implicit session emptied',
    async () => {
      const s = await stat(join(dataDir, 'uploads', id)).catch(() => undefined);
      return s === undefined || s.size === 0;
    },
    5000,
  );
  await sleep(300);
  const s = await stat(join(dataDir, 'uploads', id)).catch(() => undefined);
  assert.ok(s === undefined || s.size === 0, `session file holds ${s?.size} bytes after the abort`);
  await assertServing();
  // And the same blob pushes fine afterwards.
  const again = await http(server.url, `/v2/${repo}/blobs/uploads/?digest=${digest}`, {
    method: 'POST',
    body: content.bytes(),
  });
  assert.equal(again.status, 201, describe(again));
});

test('after all the aborts, blobs/ holds only complete blobs and the server logged no errors', async () => {
  const { problems } = await checkBlobFiles(dataDir);
  assert.deepEqual(problems, []);
  const errors = server.logs.filter((l) => {
    try {
      return (JSON.parse(l) as { level: number }).level >= 50;
    } catch {
      return false;
    }
  });
  assert.deepEqual(errors, [], 'no error-level log lines (client disconnects are not server errors)');
  await assertServing();
});
