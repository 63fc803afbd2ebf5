/** Quotas over HTTP: bytes per namespace (each blob once), tags and manifests per repository; DENIED with usage and limit, nothing half-stored. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServeConfig } from '../../src/config/config.js';
import { startInProcess } from '../helpers/server.js';
import {
  assertError,
  imageManifest,
  pushBlob,
  putManifest,
  req,
  sha256,
  startUpload,
  withDigest,
  MT,
} from './helpers.js';

describe('quotas', () => {
  it('a blob that would exceed the namespace quota is refused at commit; nothing stays; a blob already counted is free', async () => {
    const s = await startInProcess({
      fsync: false,
      quotas: [{ namespaces: 'team', bytes: 1000 }],
    } as unknown as Partial<ServeConfig>);
    try {
      const small = await pushBlob(s.url, 'team/a', 'x'.repeat(600));
      const big = Buffer.from('y'.repeat(500));
      const loc = await startUpload(s.url, 'team/b');
      const refused = await req(s.url, 'PUT', withDigest(loc, sha256(big)), {
        headers: { 'Content-Type': 'application/octet-stream' },
        body: big,
      });
      const body = assertError(refused, 403, 'DENIED', 'PUT');
      assert.match(
        body.errors[0].message,
        /storage quota of namespace team exceeded: 600 of 1000 bytes used, this push needs 500 more/,
      );
      assert.equal((await req(s.url, 'HEAD', `/v2/team/b/blobs/${sha256(big)}`)).status, 404);
      assert.equal((await req(s.url, 'GET', loc)).status, 404, 'the upload session is gone');
      // The same 600 bytes in another repository of the namespace count once.
      await pushBlob(s.url, 'team/b', 'x'.repeat(600));
      assert.equal((await req(s.url, 'HEAD', `/v2/team/b/blobs/${small.digest}`)).status, 200);
      // Other namespaces are not limited.
      await pushBlob(s.url, 'other/app', big);
    } finally {
      await s.stop();
    }
  });

  it('tags and manifests per repository', async () => {
    const s = await startInProcess({
      fsync: false,
      quotas: [{ namespaces: '*', tags_per_repository: 2, manifests_per_repository: 3 }],
    } as unknown as Partial<ServeConfig>);
    try {
      const m = async () => Buffer.from(JSON.stringify(await imageManifest(s.url, 'app')));
      const a = await m();
      assert.equal((await putManifest(s.url, 'app', 't1', a, MT.ociManifest)).status, 201);
      assert.equal((await putManifest(s.url, 'app', 't2', a, MT.ociManifest)).status, 201);
      assert.equal(
        (await putManifest(s.url, 'app', 't2', await m(), MT.ociManifest)).status,
        201,
        'moving a tag is not a new tag',
      );
      const tags = assertError(await putManifest(s.url, 'app', 't3', a, MT.ociManifest), 403, 'DENIED', 'PUT');
      assert.match(tags.errors[0].message, /tag limit of app reached: 2 of 2 tags/);
      const third = await m();
      assert.equal((await putManifest(s.url, 'app', sha256(third), third, MT.ociManifest)).status, 201);
      const fourth = await m();
      const over = assertError(
        await putManifest(s.url, 'app', sha256(fourth), fourth, MT.ociManifest),
        403,
        'DENIED',
        'PUT',
      );
      assert.match(over.errors[0].message, /manifest limit of app reached: 3 of 3 manifests/);
      assert.equal((await req(s.url, 'HEAD', `/v2/app/manifests/${sha256(fourth)}`)).status, 404);
    } finally {
      await s.stop();
    }
  });
});

describe('quotas before the bytes', () => {
  const start = () =>
    startInProcess({ fsync: false, quotas: [{ namespaces: 'team', bytes: 1000 }] } as unknown as Partial<ServeConfig>);

  it('refuses a declared size at the monolithic POST and at a PATCH, before the bytes, leaving no session', async () => {
    const s = await start();
    try {
      const big = Buffer.from('z'.repeat(2000));
      const mono = await req(s.url, 'POST', `/v2/team/a/blobs/uploads/?digest=${encodeURIComponent(sha256(big))}`, {
        headers: { 'Content-Type': 'application/octet-stream' },
        body: big,
      });
      const body = assertError(mono, 403, 'DENIED', 'POST');
      assert.match(body.errors[0].message, /0 of 1000 bytes used, this push needs 2000 more/);
      assert.equal((await req(s.url, 'HEAD', `/v2/team/a/blobs/${sha256(big)}`)).status, 404);

      const loc = await startUpload(s.url, 'team/a');
      const patch = await req(s.url, 'PATCH', loc, {
        headers: { 'Content-Type': 'application/octet-stream' },
        body: big,
      });
      assertError(patch, 403, 'DENIED', 'PATCH');
      assert.equal((await req(s.url, 'GET', loc)).status, 404, 'the refused session is gone');

      // Streamed without a length: cut off once past the room left.
      const loc2 = await startUpload(s.url, 'team/a');
      const chunked = await req(s.url, 'PATCH', loc2, {
        headers: { 'Content-Type': 'application/octet-stream' },
        body: big,
        chunked: true,
      });
      assertError(chunked, 403, 'DENIED', 'PATCH');
      assert.equal((await req(s.url, 'GET', loc2)).status, 404);
      // What fits still goes in.
      await pushBlob(s.url, 'team/a', 'w'.repeat(900));
    } finally {
      await s.stop();
    }
  });

  it('two concurrent pushes that each fit but not together: exactly one is committed', async () => {
    const s = await start();
    try {
      const blobs = [Buffer.from('a'.repeat(600)), Buffer.from('b'.repeat(600))];
      const results = await Promise.all(
        blobs.map(async (b, i) => {
          const loc = await startUpload(s.url, `team/r${i}`);
          return req(s.url, 'PUT', withDigest(loc, sha256(b)), {
            headers: { 'Content-Type': 'application/octet-stream' },
            body: b,
          });
        }),
      );
      assert.deepEqual(results.map((r) => r.status).sort(), [201, 403], results.map((r) => r.text).join('\n'));
      const present = await Promise.all(
        blobs.map(async (b, i) => (await req(s.url, 'HEAD', `/v2/team/r${i}/blobs/${sha256(b)}`)).status),
      );
      assert.deepEqual(present.sort(), [200, 404]);
    } finally {
      await s.stop();
    }
  });
});
