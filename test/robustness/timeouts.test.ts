/**
 * Requirement 6: Node's default request timeouts must not kill long uploads.
 * The server's configured values are asserted on an in-process server built
 * the way `stowage serve` builds it, and a real slow upload (one PATCH whose
 * body pauses longer than Node's keep-alive default between chunks) and an
 * idle keep-alive connection reused after the same pause both succeed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { resolveConfig } from '../../src/config/config.js';
import { openEmbeddedRegistry } from '../../src/app.js';
import { createRegistryServer } from '../../src/http/server.js';
import { startStowage } from '../helpers/server.js';
import {
  MiB,
  describe,
  http,
  manualRequest,
  randomBytesSeeded,
  removeDir,
  sha256,
  sleep,
  startUpload,
  tempDir,
  uploadPath,
  withDigest,
} from './helpers.js';

/** Node's own defaults (http.createServer with no options), for comparison. */
const NODE_DEFAULTS = { requestTimeout: 300_000, headersTimeout: 60_000, keepAliveTimeout: 5_000 };
const PAUSE_MS = 6_500;

test('the HTTP server is configured with no whole-request deadline and generous idle timeouts', async (t) => {
  const dataDir = await tempDir();
  const config = resolveConfig({}, {}, { addr: '127.0.0.1:0', data: dataDir });
  const registry = await openEmbeddedRegistry(config);
  const { server } = createRegistryServer({ registry, log: pino({ level: 'silent' }) });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await registry.close();
    await removeDir(dataDir);
  });

  assert.equal(server.requestTimeout, 0, 'requestTimeout 0: a multi-gigabyte upload may take as long as it takes');
  assert.equal(server.timeout, 0, 'no socket inactivity timeout killing a slow body');
  assert.ok(
    server.keepAliveTimeout > NODE_DEFAULTS.keepAliveTimeout,
    `keepAliveTimeout ${server.keepAliveTimeout} ms must exceed Node's 5 s default (clients reuse idle connections)`,
  );
  assert.equal(server.headersTimeout, 30_000, 'headers must arrive within headers_timeout_seconds (30 s by default)');
  // Node requires headersTimeout <= requestTimeout unless requestTimeout is 0; and keepAlive must not outlive headers wait by design.
  assert.ok(server.headersTimeout > 5_000);

  // And it serves: a sanity request against the very server object checked above.
  const { port } = server.address() as AddressInfo;
  const res = await http(`http://127.0.0.1:${port}`, '/v2/');
  assert.equal(res.status, 200);
});

test(
  'a PATCH that pauses mid-body longer than Node defaults allow, and a keep-alive connection idle as long, both succeed',
  { timeout: 60_000 },
  async (t) => {
    const dataDir = await tempDir();
    const server = await startStowage({ dataDir });
    t.after(async () => {
      await server.kill('SIGKILL');
      await removeDir(dataDir);
    });
    const repo = 'slow/upload';
    const blob = randomBytesSeeded(60, 3 * MiB);
    const digest = sha256(blob);

    // (a) one PATCH request, chunked transfer-encoding, pausing between chunks.
    const slow = async () => {
      const loc = await startUpload(server.url, repo);
      const r = manualRequest(server.url, loc, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/octet-stream' },
      });
      await r.write(blob.subarray(0, MiB));
      await sleep(PAUSE_MS);
      await r.write(blob.subarray(MiB, 2 * MiB));
      await sleep(500);
      r.req.end(blob.subarray(2 * MiB));
      const res = await r.response;
      assert.equal(res.status, 202, describe(res));
      assert.equal(res.headers.range, `0-${blob.length - 1}`);
      const put = await http(server.url, withDigest(uploadPath(res.headers.location), digest), {
        method: 'PUT',
        headers: { 'Content-Length': 0 },
      });
      assert.equal(put.status, 201, describe(put));
    };

    // (b) a keep-alive connection left idle longer than Node's 5 s keepAliveTimeout is still open.
    const idle = async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const first = await http(server.url, '/v2/', { agent });
        assert.equal(first.status, 200);
        await sleep(PAUSE_MS);
        const second = await http(server.url, '/v2/', { agent });
        assert.equal(second.status, 200);
        assert.equal(second.reusedSocket, true, 'the idle connection was still open and got reused');
      } finally {
        agent.destroy();
      }
    };

    const started = Date.now();
    await Promise.all([slow(), idle()]);
    t.diagnostic(`slow upload and idle keep-alive took ${Date.now() - started} ms`);
    const get = await http(server.url, `/v2/${repo}/blobs/${digest}`, { hashBody: true });
    assert.equal(get.digest, digest);
  },
);
