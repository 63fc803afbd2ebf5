/**
 * One `stowage serve` over PostgreSQL + S3 (radosgw), configured through STOWAGE_*
 * env: the OCI conformance suite, blob GETs redirected to presigned URLs (and
 * streamed with ranges when `redirect: false`), readiness, and secrets kept out
 * of the logs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { digestBytes } from '../../src/core/digest.js';
import { runConformance } from '../conformance/index.js';
import { reportSpecs } from '../conformance/subtests.js';
import { startStowage } from '../helpers/server.js';
import { scaleOutEnv } from '../helpers/services.js';
import { cuttableProxy } from '../helpers/tcp-proxy.js';

async function pushBlob(url: string, repo: string, bytes: Buffer): Promise<string> {
  const digest = digestBytes(bytes).value;
  const post = await fetch(`${url}/v2/${repo}/blobs/uploads/?digest=${digest}`, {
    method: 'POST',
    body: new Uint8Array(bytes),
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  assert.equal(post.status, 201, await post.text());
  return digest;
}

describe('stowage serve over PostgreSQL and S3', () => {
  it('passes the OCI conformance suite, redirecting blob GETs to presigned URLs', async (t) => {
    const { env, drop } = await scaleOutEnv();
    const s = await startStowage({ env });
    try {
      const report = await runConformance(s.url, {
        namespace: 'conformance/repo',
        crossmountNamespace: 'conformance/cross',
      });
      await reportSpecs(t, report);
      assert.deepEqual(report.counts, { passed: 69, failed: 0, skipped: 5 });

      const bytes = randomBytes(300_000);
      const digest = await pushBlob(s.url, 'app', bytes);
      const get = await fetch(`${s.url}/v2/app/blobs/${digest}`, { redirect: 'manual' });
      assert.equal(get.status, 307);
      const location = get.headers.get('location')!;
      assert.match(location, new RegExp(`^${env.STOWAGE_S3_ENDPOINT}/${env.STOWAGE_S3_BUCKET}/`));
      assert.match(location, /X-Amz-Signature=/);
      assert.ok(Buffer.from(await (await fetch(location)).arrayBuffer()).equals(bytes));
      // HEAD answers from the database, without a redirect.
      const head = await fetch(`${s.url}/v2/app/blobs/${digest}`, { method: 'HEAD', redirect: 'manual' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(bytes.length));
      // Other repositories do not see it.
      assert.equal((await fetch(`${s.url}/v2/other/blobs/${digest}`, { redirect: 'manual' })).status, 404);

      const ready = await fetch(`${s.url}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { status: 'ready', blobs: 'ok', metadata: 'ok' });
      // Keys and passwords never reach the log.
      const logs = s.logs.join('\n');
      assert.ok(!logs.includes(env.STOWAGE_S3_SECRET_ACCESS_KEY!), 'the S3 secret is not logged');
      assert.match(logs, /"storage":\{"blobs":\{"driver":"s3"/);
    } finally {
      await s.stop();
      await drop();
    }
  });

  it('with redirect: false streams blobs itself, ranges included', async () => {
    const { env, drop } = await scaleOutEnv({ redirect: false });
    const s = await startStowage({ env });
    try {
      const bytes = randomBytes(3 * 1024 * 1024 + 17);
      const digest = await pushBlob(s.url, 'app', bytes);
      const get = await fetch(`${s.url}/v2/app/blobs/${digest}`, { redirect: 'manual' });
      assert.equal(get.status, 200);
      assert.ok(Buffer.from(await get.arrayBuffer()).equals(bytes));
      const ranged = await fetch(`${s.url}/v2/app/blobs/${digest}`, { headers: { Range: 'bytes=1000-2999999' } });
      assert.equal(ranged.status, 206);
      assert.equal(ranged.headers.get('content-range'), `bytes 1000-2999999/${bytes.length}`);
      assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(1000, 3_000_000)));
    } finally {
      await s.stop();
      await drop();
    }
  });
});

describe('stowage serve when PostgreSQL goes away', () => {
  it('answers 503 UNAVAILABLE with Retry-After, /readyz says so, and it recovers without a restart', async () => {
    const { env, drop } = await scaleOutEnv();
    const proxy = await cuttableProxy(new URL(env.STOWAGE_POSTGRES_URL!));
    const s = await startStowage({ env: { ...env, STOWAGE_POSTGRES_URL: proxy.url } });
    try {
      const digest = await pushBlob(s.url, 'app', randomBytes(1000));
      await proxy.cut();
      for (const [method, path] of [
        ['GET', '/v2/app/tags/list'],
        ['HEAD', `/v2/app/blobs/${digest}`],
        ['POST', '/v2/app/blobs/uploads/'],
      ] as const) {
        const r = await fetch(`${s.url}${path}`, { method });
        assert.equal(r.status, 503, `${method} ${path}`);
        assert.equal(r.headers.get('retry-after'), '5');
        if (method !== 'HEAD')
          assert.equal(((await r.json()) as { errors: { code: string }[] }).errors[0]!.code, 'UNAVAILABLE');
      }
      const notReady = await fetch(`${s.url}/readyz`);
      assert.equal(notReady.status, 503);
      assert.equal(((await notReady.json()) as { blobs: string }).blobs, 'ok');
      await proxy.restore();
      assert.equal((await fetch(`${s.url}/readyz`)).status, 200);
      assert.equal((await fetch(`${s.url}/v2/app/blobs/${digest}`, { method: 'HEAD' })).status, 200);
    } finally {
      await s.stop();
      await proxy.close();
      await drop();
    }
  });
});
