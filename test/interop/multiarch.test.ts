/**
 * Multi-platform OCI index pushed and pulled with `skopeo copy --all`: the index
 * and every child manifest must keep their exact bytes and digests.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  dockerRef,
  http,
  inspectRaw,
  setupInterop,
  skopeoCopy,
  skopeoCopyDigest,
  skopeoInspect,
} from '../helpers/interop.js';
import {
  MediaTypes,
  OciLayout,
  createMultiArchLayout,
  type OciIndexJson,
  type Platform,
} from '../helpers/oci-fixtures.js';

const PLATFORMS: Platform[] = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64', variant: 'v8' },
  { os: 'linux', architecture: 'arm', variant: 'v7' },
];

describe('skopeo multi-arch', () => {
  const env = setupInterop({ name: 'multiarch', tools: ['skopeo'] });

  env.test('OCI index with 3 platforms: copy --all preserves the index and every child', async () => {
    const { reg, sb } = env;
    const { layout, index } = await createMultiArchLayout(env.path('src'), PLATFORMS, { tag: 'multi' });
    const repo = 'interop/multi';

    const pushed = await skopeoCopyDigest(sb, layout.ref('multi'), dockerRef(reg.host, repo, 'v1'), [
      '--all',
      '--preserve-digests',
    ]);
    assert.equal(pushed, index.digest);

    // The index, byte for byte (it is 3-space indented JSON on purpose).
    const raw = await inspectRaw(sb, dockerRef(reg.host, repo, 'v1'));
    assert.ok(raw.equals(index.index), `served index differs from pushed bytes:\n${raw.toString('utf8')}`);
    const parsed = JSON.parse(raw.toString('utf8')) as OciIndexJson;
    assert.deepEqual(
      parsed.manifests.map((m) => [m.digest, m.platform]),
      index.images.map((i) => [i.digest, i.platform]),
    );

    const head = await http(reg.url, 'HEAD', `/v2/${repo}/manifests/v1`, { headers: { Accept: MediaTypes.ociIndex } });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-type'), MediaTypes.ociIndex);
    assert.equal(head.headers.get('docker-content-digest'), index.digest);

    // Every child manifest and config by digest.
    for (const image of index.images) {
      const child = await inspectRaw(sb, dockerRef(reg.host, repo, image.digest));
      assert.ok(child.equals(image.manifest), `child ${image.platform.architecture} manifest bytes`);
      const config = await inspectRaw(sb, dockerRef(reg.host, repo, image.digest), { config: true });
      assert.ok(config.equals(image.config), `child ${image.platform.architecture} config bytes`);
    }

    // Platform selection through the index (what `podman pull --arch` does).
    for (const image of index.images) {
      const p = image.platform;
      const override = [
        '--override-os',
        p.os,
        '--override-arch',
        p.architecture,
        ...(p.variant ? ['--override-variant', p.variant] : []),
      ];
      const info = await skopeoInspect(sb, dockerRef(reg.host, repo, 'v1'), override);
      assert.equal(info.Architecture, p.architecture);
      assert.deepEqual(
        info.Layers,
        image.layers.map((l) => l.digest),
        `layers selected for ${p.architecture}`,
      );
    }

    // Pull everything back into a fresh layout.
    const out = OciLayout.open(env.path('out'));
    await skopeoCopy(sb, dockerRef(reg.host, repo, 'v1'), out.ref('multi'), ['--all', '--preserve-digests']);
    assert.equal((await out.resolve('multi')).digest, index.digest);
    assert.ok((await out.readBlob(index.digest)).equals(index.index));
    for (const image of index.images) {
      assert.ok((await out.readBlob(image.digest)).equals(image.manifest));
      assert.ok((await out.readBlob(image.configDigest)).equals(image.config));
      for (const l of image.layers) await out.readBlob(l.digest);
    }
    // 1 index + 3 × (manifest + config + 2 layers)
    assert.equal(await out.verifyBlobs(), 1 + PLATFORMS.length * 4);
  });

  env.test('copy --all of an index by digest into a second repository', async () => {
    const { reg, sb } = env;
    const { layout, index } = await createMultiArchLayout(env.path('src2'), PLATFORMS.slice(0, 2), {
      tag: 'multi',
      style: 'compact',
    });
    await skopeoCopy(sb, layout.ref('multi'), dockerRef(reg.host, 'interop/multi-a', 'v1'), [
      '--all',
      '--preserve-digests',
    ]);
    const copied = await skopeoCopyDigest(
      sb,
      dockerRef(reg.host, 'interop/multi-a', index.digest),
      dockerRef(reg.host, 'interop/multi-b', 'v1'),
      ['--all', '--preserve-digests'],
    );
    assert.equal(copied, index.digest);
    assert.ok((await inspectRaw(sb, dockerRef(reg.host, 'interop/multi-b', 'v1'))).equals(index.index));
    for (const image of index.images) {
      assert.ok((await inspectRaw(sb, dockerRef(reg.host, 'interop/multi-b', image.digest))).equals(image.manifest));
    }
  });
});
