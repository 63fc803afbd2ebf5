/**
 * File-descriptor exhaustion (issue 10, item 3). `stowage serve` runs under
 * `ulimit -n 200`; clients open far more upload sessions than there are
 * descriptors, append to and finish many of them, and then hold so many
 * connections that the process really runs out. Every answer must be one a
 * client can act on (202, 204, 201, 429, 503 with Retry-After) and never a 500;
 * afterwards the registry serves a normal push and pull, every session left can be
 * finished, and no session row is left without its file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startStowage } from '../helpers/server.js';
import {
  OCI_CONFIG,
  OCI_LAYER,
  descriptor,
  describe,
  http,
  imageManifest,
  putManifest,
  readDb,
  removeDir,
  sha256,
  tempDir,
  uploadPath,
  waitFor,
  withDigest,
  type HttpResponse,
} from './helpers.js';

const DESCRIPTORS = 200;
const SESSIONS = 600; // three times the descriptor table
const ACCEPTABLE = new Set([201, 202, 204, 429, 503]);

/** Runs `fn` over `items`, `width` at a time. */
async function inParallel<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

test(
  'under ulimit -n 200: many more upload sessions than descriptors, never a 500',
  { timeout: 240_000 },
  async (t) => {
    const dataDir = await tempDir();
    const server = await startStowage({
      dataDir,
      maxOpenFiles: DESCRIPTORS,
      env: { STOWAGE_MAX_OPEN_UPLOAD_FILES: '32', STOWAGE_FSYNC: 'false' },
    });
    t.after(async () => {
      await server.kill('SIGKILL');
      await removeDir(dataDir);
    });
    // Few client connections, reused: the server's descriptors go to uploads, not sockets.
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    t.after(() => agent.destroy());
    const statuses = new Map<number, number>();
    const check = (what: string, res: HttpResponse): HttpResponse => {
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      assert.ok(ACCEPTABLE.has(res.status), `${what}: ${describe(res)}`);
      if (res.status === 503)
        assert.match(String(res.headers['retry-after']), /^\d+$/, `${what}: 503 without Retry-After`);
      return res;
    };

    // 1. Three times as many sessions as descriptors: each must be accepted (a POST holds no file open).
    const sessions: string[] = [];
    await inParallel(
      Array.from({ length: SESSIONS }, (_, i) => i),
      16,
      async (i) => {
        const res = check(
          `POST ${i}`,
          await http(server.url, `/v2/fd/repo${i % 3}/blobs/uploads/`, { method: 'POST', agent }),
        );
        if (res.status === 202) sessions.push(uploadPath(res.headers.location));
      },
    );
    assert.equal(sessions.length, SESSIONS, `every POST accepted: ${JSON.stringify([...statuses])}`);

    // 2. Append to every other session, interleaved (the open-file cap closes the least recently used).
    const chunk = (loc: string) => Buffer.from(`first bytes of ${loc}\n`);
    const patched = sessions.filter((_, i) => i % 2 === 0);
    await inParallel(patched, 16, async (loc) => {
      check(`PATCH ${loc}`, await http(server.url, loc, { method: 'PATCH', body: chunk(loc), agent }));
    });
    // A second chunk for each, in another order: every session's file is reopened.
    await inParallel([...patched].reverse(), 16, async (loc) => {
      const res = check(`PATCH 2 ${loc}`, await http(server.url, loc, { method: 'PATCH', body: chunk(loc), agent }));
      assert.equal(res.status, 202, describe(res));
    });
    // 3. Finish a third of them.
    const finished = patched.filter((_, i) => i % 3 === 0);
    await inParallel(finished, 16, async (loc) => {
      const bytes = Buffer.concat([chunk(loc), chunk(loc)]);
      const res = check(`PUT ${loc}`, await http(server.url, withDigest(loc, sha256(bytes)), { method: 'PUT', agent }));
      assert.equal(res.status, 201, describe(res));
    });

    // 4. Hold connections until the process really is out of descriptors, and keep using the agent's.
    const held: Socket[] = [];
    t.after(() => held.forEach((s) => s.destroy()));
    const port = Number(new URL(server.url).port);
    let dropped = 0;
    await Promise.all(
      Array.from(
        { length: DESCRIPTORS + 50 },
        () =>
          new Promise<void>((resolve) => {
            const s = connect({ port, host: '127.0.0.1' }, () => resolve());
            s.on('error', () => resolve());
            s.on('close', () => {
              dropped++;
              resolve();
            });
            held.push(s);
          }),
      ),
    );
    await waitFor('accept() to run out of descriptors', () => dropped > 0, 20_000);
    const exhausted = new Map<number, number>();
    const before = new Map(statuses);
    const rest = sessions.filter((_, i) => i % 2 === 1).slice(0, 120);
    await inParallel(rest, 8, async (loc) => {
      // The agent's sockets were connected before the flood; a dropped one is retried by the next request.
      const res = await http(server.url, loc, { method: 'PATCH', body: chunk(loc), agent }).catch(() => undefined);
      if (res) check(`PATCH while exhausted ${loc}`, res);
    });
    await inParallel(
      Array.from({ length: 40 }, (_, i) => i),
      8,
      async (i) => {
        const res = await http(server.url, `/v2/fd/repo0/blobs/uploads/`, { method: 'POST', agent }).catch(
          () => undefined,
        );
        if (res) check(`POST while exhausted ${i}`, res);
      },
    );
    // Reading a blob needs a descriptor too.
    await inParallel(finished, 8, async (loc) => {
      const bytes = Buffer.concat([chunk(loc), chunk(loc)]);
      const repo = /^\/v2\/(.+)\/blobs\/uploads\//.exec(loc)![1]!;
      const res = await http(server.url, `/v2/${repo}/blobs/${sha256(bytes)}`, { agent }).catch(() => undefined);
      if (res && res.status !== 200) check(`GET while exhausted ${loc}`, res);
    });
    for (const [status, n] of statuses) exhausted.set(status, n - (before.get(status) ?? 0));
    assert.ok(
      (exhausted.get(503) ?? 0) > 0,
      `out of descriptors, some requests get 503: ${JSON.stringify([...exhausted])}`,
    );

    // 5. Descriptors come back: the registry serves normally.
    held.forEach((s) => s.destroy());
    await waitFor(
      'the registry to answer again',
      async () => (await http(server.url, '/v2/', { agent })).status === 200,
    );
    const layer = Buffer.from('a layer pushed after the exhaustion');
    const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
    for (const bytes of [layer, config]) {
      const res = await http(server.url, `/v2/fd/after/blobs/uploads/?digest=${sha256(bytes)}`, {
        method: 'POST',
        body: bytes,
        agent,
      });
      assert.equal(res.status, 201, describe(res));
    }
    const manifest = imageManifest(descriptor(OCI_CONFIG, config), [descriptor(OCI_LAYER, layer)]);
    assert.equal((await putManifest(server.url, 'fd/after', 'v1', manifest)).status, 201);
    const pulled = await http(server.url, `/v2/fd/after/blobs/${sha256(layer)}`, { agent });
    assert.equal(pulled.status, 200);
    assert.deepEqual(pulled.body, layer);

    // Every session still open can be finished with exactly the bytes it holds.
    const db = readDb(dataDir);
    const files = new Set(await readdir(join(dataDir, 'uploads')));
    const orphans = db.uploads.filter((u) => !files.has(u.id));
    assert.deepEqual(orphans, [], 'no session row without its file');
    const open = new Set(db.uploads.map((u) => u.id));
    const left = patched.filter((loc) => open.has(loc.split('/').pop()!)).slice(0, 60);
    assert.ok(left.length > 0);
    await inParallel(left, 8, async (loc) => {
      const bytes = Buffer.concat([chunk(loc), chunk(loc)]);
      const res = await http(server.url, withDigest(loc, sha256(bytes)), { method: 'PUT', agent });
      assert.equal(res.status, 201, `finishing ${loc} after the exhaustion: ${describe(res)}`);
    });
    assert.equal(server.child.exitCode, null, 'the server is still running');
  },
);
