/**
 * Requirement 1: no blob is ever held whole in memory. A 2 GiB layer is pushed
 * (streamed PATCH with chunked transfer-encoding; separately a monolithic PUT
 * with Content-Length) and pulled (hashed on the client), while the server's
 * peak RSS (VmHWM) stays flat: under a fixed ceiling, and no higher than after
 * a 64 MiB push by more than a small margin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startStowage } from '../helpers/server.js';
import {
  GiB,
  MiB,
  PatternContent,
  blobFile,
  describe,
  hashFile,
  http,
  procStatusBytes,
  removeDir,
  startUpload,
  tempDir,
  uploadPath,
  withDigest,
} from './helpers.js';
import { stat } from 'node:fs/promises';

const BIG = 2 * GiB;
const SMALL = 64 * MiB;
const CEILING = 200 * MiB;
/** How much higher the peak may get for 2 GiB than it already was for 64 MiB. */
const GROWTH_MARGIN = 48 * MiB;

const mb = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

async function streamedPatch(base: string, repo: string, content: PatternContent): Promise<string> {
  const hash = createHash('sha256');
  const loc = await startUpload(base, repo);
  const patch = await http(base, loc, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/octet-stream' }, // no Content-Length: chunked transfer-encoding
    body: content.stream(0, content.size, hash),
  });
  assert.equal(patch.status, 202, describe(patch));
  assert.equal(patch.headers.range, `0-${content.size - 1}`);
  const digest = `sha256:${hash.digest('hex')}`;
  const put = await http(base, withDigest(uploadPath(patch.headers.location), digest), {
    method: 'PUT',
    headers: { 'Content-Length': 0 },
  });
  assert.equal(put.status, 201, describe(put));
  assert.equal(put.headers['docker-content-digest'], digest);
  return digest;
}

async function monolithicPut(base: string, repo: string, content: PatternContent, digest: string): Promise<void> {
  const loc = await startUpload(base, repo);
  const put = await http(base, withDigest(loc, digest), {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': content.size },
    body: content.stream(),
  });
  assert.equal(put.status, 201, describe(put));
  assert.equal(put.headers['docker-content-digest'], digest);
}

async function pullAndHash(base: string, repo: string, digest: string, size: number): Promise<void> {
  const res = await http(base, `/v2/${repo}/blobs/${digest}`, { hashBody: true });
  assert.equal(res.status, 200);
  assert.equal(res.bodyLength, size);
  assert.equal(res.digest, digest, 'pulled bytes hash to the digest');
}

test(
  'a 2 GiB blob pushes (streamed and monolithic) and pulls with flat server memory',
  { timeout: 480_000 },
  async (t) => {
    const dataDir = await tempDir();
    const server = await startStowage({ dataDir });
    t.after(async () => {
      await server.kill('SIGKILL');
      await removeDir(dataDir);
    });
    const hwm = () => procStatusBytes(server.pid, 'VmHWM');
    const timings: Record<string, number> = {};
    const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
      const t0 = Date.now();
      try {
        return await f();
      } finally {
        timings[name] = Date.now() - t0;
      }
    };

    const idle = await hwm();

    // Baseline: the same three operations at 64 MiB.
    const small = new PatternContent(1, SMALL);
    const smallDigest = await timed('64MiB streamed PATCH', () => streamedPatch(server.url, 'mem/small', small));
    assert.equal(smallDigest, await small.digest());
    const smallMono = new PatternContent(2, SMALL);
    const smallMonoDigest = await smallMono.digest();
    await timed('64MiB monolithic PUT', () => monolithicPut(server.url, 'mem/small-mono', smallMono, smallMonoDigest));
    await timed('64MiB GET', () => pullAndHash(server.url, 'mem/small', smallDigest, SMALL));
    const baseline = await hwm();

    // 2 GiB, streamed PATCH with chunked transfer-encoding.
    const big = new PatternContent(3, BIG);
    const bigDigest = await timed('2GiB streamed PATCH+PUT', () => streamedPatch(server.url, 'mem/big', big));
    const afterPatch = await hwm();

    // 2 GiB, monolithic PUT with Content-Length (different content, digest computed up front by streaming).
    const bigMono = new PatternContent(4, BIG);
    const bigMonoDigest = await timed('2GiB client digest', () => bigMono.digest());
    await timed('2GiB monolithic PUT', () => monolithicPut(server.url, 'mem/big-mono', bigMono, bigMonoDigest));
    const afterPut = await hwm();

    // 2 GiB pull, hashed on the client.
    await timed('2GiB GET', () => pullAndHash(server.url, 'mem/big', bigDigest, BIG));
    const afterGet = await hwm();

    // The bytes on disk are the blob, whole.
    assert.equal((await stat(blobFile(dataDir, bigMonoDigest))).size, BIG);
    assert.equal(
      `sha256:${await timed('2GiB on-disk hash', () => hashFile(blobFile(dataDir, bigMonoDigest)))}`,
      bigMonoDigest,
    );

    t.diagnostic(
      `VmHWM idle ${mb(idle)}, after 64 MiB ${mb(baseline)}, after 2 GiB PATCH ${mb(afterPatch)}, after 2 GiB PUT ${mb(afterPut)}, after 2 GiB GET ${mb(afterGet)}`,
    );
    t.diagnostic(`timings (ms): ${JSON.stringify(timings)}`);

    for (const [what, v] of [
      ['PATCH', afterPatch],
      ['PUT', afterPut],
      ['GET', afterGet],
    ] as const) {
      assert.ok(v < CEILING, `peak RSS after 2 GiB ${what} is ${mb(v)}, over ${mb(CEILING)}`);
      assert.ok(
        v - baseline < GROWTH_MARGIN,
        `peak RSS grew by ${mb(v - baseline)} from the 64 MiB baseline (${mb(baseline)}) to after the 2 GiB ${what} (${mb(v)}): memory depends on blob size`,
      );
    }
  },
);
