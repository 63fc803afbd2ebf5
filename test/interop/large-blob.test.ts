/**
 * A 200 MiB random (incompressible) layer pushed and pulled with skopeo;
 * the pulled blob's digest and size must match.
 */
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { describe } from 'node:test';
import { dockerRef, http, inspectRaw, setupInterop, skopeoCopy, skopeoCopyDigest } from '../helpers/interop.js';
import { OciLayout, sha256File } from '../helpers/oci-fixtures.js';

const SIZE = 200 * 1024 * 1024;

describe('large blob', () => {
  const env = setupInterop({ name: 'large', tools: ['skopeo'] });

  env.test(
    '200 MiB layer push and pull, digest checked',
    async (t) => {
      const { reg, sb } = env;
      let started = Date.now();
      const layout = await OciLayout.create(env.path('src'));
      const image = await layout.addLargeRandomImage(SIZE, { tag: 'v1' });
      const layer = image.layers[0]!;
      assert.ok(layer.size > SIZE, `layer must be incompressible (${layer.size} bytes)`);
      t.diagnostic(`generated ${layer.size} byte layer in ${Date.now() - started} ms`);

      started = Date.now();
      const pushed = await skopeoCopyDigest(sb, layout.ref('v1'), dockerRef(reg.host, 'interop/large', 'v1'), [
        '--preserve-digests',
      ]);
      t.diagnostic(`push took ${Date.now() - started} ms`);
      assert.equal(pushed, image.digest);
      assert.ok((await inspectRaw(sb, dockerRef(reg.host, 'interop/large', 'v1'))).equals(image.manifest));

      const head = await http(reg.url, 'HEAD', `/v2/interop/large/blobs/${layer.digest}`);
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(layer.size));
      assert.equal(head.headers.get('docker-content-digest'), layer.digest);

      started = Date.now();
      const out = OciLayout.open(env.path('out'));
      await skopeoCopy(sb, dockerRef(reg.host, 'interop/large', 'v1'), out.ref('v1'), ['--preserve-digests']);
      t.diagnostic(`pull took ${Date.now() - started} ms`);
      const file = out.blobPath(layer.digest);
      assert.equal((await stat(file)).size, layer.size);
      assert.equal(await sha256File(file), layer.digest);
    },
    { timeout: 180_000 },
  );
});
