/**
 * Requirement 7: SIGTERM stops accepting connections, lets in-flight requests
 * finish (bounded), then exits 0. A slow upload is in flight when SIGTERM
 * arrives: new connections are refused, the upload completes with 202 / 201,
 * and the process exits 0 promptly. With STOWAGE_SHUTDOWN_GRACE_SECONDS=1 a
 * request that never finishes is cut and the process still exits 0 promptly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startStowage, type StowageProcess } from '../helpers/server.js';
import {
  MiB,
  PatternContent,
  describe,
  http,
  manualRequest,
  removeDir,
  sleep,
  startUpload,
  tempDir,
  uploadPath,
  uploadedSize,
  waitFor,
  withDigest,
} from './helpers.js';

/** Resolves with the error code of a fresh TCP connection attempt ('connected' if it got through). */
function tryConnect(host: string): Promise<string> {
  const [h, p] = [host.slice(0, host.lastIndexOf(':')), Number(host.slice(host.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const s = connect({ host: h, port: p });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

function exitOf(server: StowageProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }> {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      resolve({ code: server.child.exitCode, signal: server.child.signalCode, at: Date.now() });
      return;
    }
    server.child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() }));
  });
}

const hasLog = (server: StowageProcess, msg: string) => server.logs.some((l) => l.includes(`"msg":"${msg}"`));

for (const keepAlive of [false, true]) {
  test(
    `SIGTERM lets an in-flight upload finish, refuses new connections, exits 0 (client keep-alive ${keepAlive ? 'on' : 'off'})`,
    { timeout: 90_000 },
    async (t) => {
      const dataDir = await tempDir();
      const server = await startStowage({ dataDir });
      const exited = exitOf(server);
      t.after(async () => {
        await server.kill('SIGKILL');
        await removeDir(dataDir);
      });
      const agent = keepAlive ? new Agent({ keepAlive: true }) : false;
      t.after(() => {
        if (agent) agent.destroy();
      });
      const repo = 'term/inflight';
      const content = new PatternContent(70, 6 * MiB);
      const digest = await content.digest();
      const loc = await startUpload(server.url, repo);

      // In flight: a ranged PATCH of 4 MiB, of which 1 MiB is sent before SIGTERM.
      const r = manualRequest(server.url, loc, {
        method: 'PATCH',
        headers: {
          'Content-Type': 'application/octet-stream',
          'Content-Range': `0-${4 * MiB - 1}`,
          'Content-Length': 4 * MiB,
        },
        agent,
      });
      await r.write(content.bytes(0, MiB));
      await waitFor(
        'first bytes on disk',
        async () => (await stat(join(dataDir, 'uploads', loc.split('/').pop()!))).size > 0,
      );

      server.child.kill('SIGTERM');
      await waitFor('shutdown logged', () => hasLog(server, 'shutting down'), 5000);
      const refused = await waitFor(
        'new connections refused',
        async () => {
          const code = await tryConnect(server.host);
          return code === 'connected' ? undefined : code;
        },
        3000,
      );
      assert.equal(refused, 'ECONNREFUSED', 'a new connection is refused while draining');
      assert.equal(server.child.exitCode, null, 'still running while the upload is in flight');

      // The in-flight request is allowed to finish.
      await sleep(500);
      await r.write(content.bytes(MiB, 2 * MiB));
      await sleep(500);
      r.req.end(content.bytes(2 * MiB, 4 * MiB));
      const res = await r.response;
      const answeredAt = Date.now();
      assert.equal(res.status, 202, describe(res));
      assert.equal(res.headers.range, `0-${4 * MiB - 1}`);

      const exit = await exited;
      assert.equal(exit.code, 0, `exit code (signal ${exit.signal})`);
      t.diagnostic(`exited ${exit.at - answeredAt} ms after the in-flight request was answered`);
      // Events, not a stopwatch: it stopped because nothing was left in flight, not
      // because the 30 s grace period ran out and cut the (now idle) connection.
      assert.ok(hasLog(server, 'stopped'), 'logged "stopped"');
      assert.ok(
        !hasLog(server, 'grace period over: closing remaining connections'),
        `waited for the grace period instead of closing the now-idle connection (response had Connection: ${String(res.headers.connection)}, Keep-Alive: ${String(res.headers['keep-alive'])})`,
      );

      // What the in-flight request wrote was kept: restart and finish the blob (201).
      const again = await startStowage({ dataDir });
      t.after(() => again.kill('SIGKILL'));
      const st = await uploadedSize(again.url, uploadPath(res.headers.location));
      assert.equal(st.size, 4 * MiB);
      const put = await http(again.url, withDigest(uploadPath(res.headers.location), digest), {
        method: 'PUT',
        headers: { 'Content-Range': `${4 * MiB}-${6 * MiB - 1}` },
        body: content.bytes(4 * MiB),
      });
      assert.equal(put.status, 201, describe(put));
    },
  );
}

test(
  'SIGTERM with a 1 s grace period cuts a request that never finishes and still exits 0',
  { timeout: 60_000 },
  async (t) => {
    const dataDir = await tempDir();
    const server = await startStowage({ dataDir, env: { STOWAGE_SHUTDOWN_GRACE_SECONDS: '1' } });
    const exited = exitOf(server);
    t.after(async () => {
      await server.kill('SIGKILL');
      await removeDir(dataDir);
    });
    const repo = 'term/stuck';
    const content = new PatternContent(71, 8 * MiB);
    const loc = await startUpload(server.url, repo);
    const first = await http(server.url, loc, {
      method: 'PATCH',
      headers: { 'Content-Range': `0-${MiB - 1}` },
      body: content.bytes(0, MiB),
    });
    assert.equal(first.status, 202);

    // Never finishes: declares 7 MiB, sends 1 MiB, then stalls forever.
    const r = manualRequest(server.url, loc, {
      method: 'PATCH',
      headers: { 'Content-Range': `${MiB}-${8 * MiB - 1}`, 'Content-Length': 7 * MiB },
    });
    await r.write(content.bytes(MiB, 2 * MiB));
    await waitFor(
      'bytes of the stuck request on disk',
      async () => (await stat(join(dataDir, 'uploads', loc.split('/').pop()!))).size > MiB,
    );

    const signalled = Date.now();
    server.child.kill('SIGTERM');
    const exit = await exited;
    t.diagnostic(`exited ${exit.at - signalled} ms after SIGTERM`);
    assert.equal(exit.code, 0, `exit code (signal ${exit.signal})`);
    // It exited although the request never finished: the grace period ended it.
    assert.ok(
      hasLog(server, 'grace period over: closing remaining connections'),
      'the grace period expired and connections were closed',
    );
    await r.response.then(
      (res) => assert.fail(`the stuck request was answered: ${describe(res)}`),
      () => undefined,
    );

    // The session survives the cut in a resumable state: it holds a prefix of what was
    // sent (the last complete chunk, or that plus whatever of the cut chunk reached the
    // disk before exit), and finishing from the offset GET reports yields the blob.
    const again = await startStowage({ dataDir });
    t.after(() => again.kill('SIGKILL'));
    const st = await uploadedSize(again.url, loc);
    assert.equal(st.status, 204);
    const offset = st.size!;
    t.diagnostic(`session after the cut holds ${offset} bytes (last complete chunk ended at ${MiB})`);
    assert.ok(offset >= MiB && offset <= 2 * MiB, `session holds ${offset} bytes`);
    const patch = await http(again.url, loc, {
      method: 'PATCH',
      headers: { 'Content-Range': `${offset}-${content.size - 1}` },
      body: content.bytes(offset),
    });
    assert.equal(patch.status, 202, describe(patch));
    const put = await http(again.url, withDigest(uploadPath(patch.headers.location), await content.digest()), {
      method: 'PUT',
      headers: { 'Content-Length': 0 },
    });
    assert.equal(put.status, 201, `resuming from the reported offset ${offset}: ${describe(put)}`);
  },
);
