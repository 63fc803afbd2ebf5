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
