/**
 * podman pull / push of a multi-layer image (vfs storage in a temp dir).
 * podman stores layers uncompressed and re-compresses on push, so layer
 * digests may change; config digest (image ID) and diff IDs must not.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { dockerRef, http, inspectRaw, setupInterop, skopeoCopy, skopeoCopyDigest } from '../helpers/interop.js';
import {
  MediaTypes,
  OciLayout,
  createMultiArchLayout,
  hexOf,
  layerFiles,
  randomLayer,
  sha256,
  type OciManifestJson,
} from '../helpers/oci-fixtures.js';
import { parseJson } from '../helpers/tools.js';

interface PodmanImageInspect {
  Id: string;
  Digest: string;
  RootFS: { Type: string; Layers: string[] };
  Architecture: string;
}

describe('podman', () => {
  const env = setupInterop({ name: 'podman', tools: ['podman'] });

  env.test('pull a 4-layer image from the registry, push it to another repository, pull that back', async () => {
    const { reg, sb } = env;
    const layers = [
      randomLayer('etc', 50_000),
      randomLayer('usr', 20_000),
      randomLayer('app'),
      randomLayer('data', 10),
    ];
    const layout = await OciLayout.create(env.path('src'));
    const image = await layout.addImage({ layers, tag: 'v1', config: { labels: { purpose: 'podman-interop' } } });
    const src = `${reg.host}/interop/podman-src:v1`;
    await skopeoCopy(sb, layout.ref('v1'), `docker://${src}`, ['--preserve-digests']);

    // podman pull
    const pulled = await sb.podman(['pull', '--tls-verify=false', '--signature-policy', sb.policyPath, '-q', src]);
    assert.equal(pulled.stdout.trim(), hexOf(image.configDigest), 'podman pull prints the image ID (config digest)');
    const [info] = parseJson<PodmanImageInspect[]>(
      (await sb.podman(['image', 'inspect', src])).stdout,
      'podman image inspect',
    );
    assert.ok(info);
    assert.equal(info.Digest, image.digest, 'podman records the manifest digest it pulled');
    assert.deepEqual(info.RootFS.Layers, image.diffIds);

    // podman push to a different repository (OCI, as pulled) and as Docker schema 2.
    const digestFile = env.path('podman-push.digest');
    const dst = `${reg.host}/interop/podman-dst`;
    await sb.podman([
      'push',
      '--tls-verify=false',
      '--signature-policy',
      sb.policyPath,
      '--digestfile',
      digestFile,
      src,
      `docker://${dst}:v1`,
    ]);
    await sb.podman([
      'push',
      '--tls-verify=false',
      '--signature-policy',
      sb.policyPath,
      '--format',
      'v2s2',
      src,
      `docker://${dst}:docker`,
    ]);
    const pushedDigest = (await readFile(digestFile, 'utf8')).trim();

    for (const [tag, mediaType] of [
      ['v1', MediaTypes.ociManifest],
      ['docker', MediaTypes.dockerManifest],
    ] as const) {
      const raw = await inspectRaw(sb, dockerRef(reg.host, 'interop/podman-dst', tag));
      if (tag === 'v1') assert.equal(sha256(raw), pushedDigest, 'registry serves the manifest podman pushed');
      const m = JSON.parse(raw.toString('utf8')) as OciManifestJson;
      assert.equal(m.mediaType, mediaType, `${tag} manifest media type`);
      assert.equal(m.layers.length, layers.length);
      if (tag === 'v1') assert.equal(m.config.digest, image.configDigest, 'config (image ID) preserved by podman push');

      // Pull with skopeo and check the content layer by layer.
      const out = OciLayout.open(env.path(`out-${tag}`));
      await skopeoCopy(sb, dockerRef(reg.host, 'interop/podman-dst', tag), out.ref(tag));
      const outManifest = await out.readJsonBlob<OciManifestJson>((await out.resolve(tag)).digest);
      for (const [i, l] of outManifest.layers.entries()) {
        const blob = await out.readBlob(l.digest);
        assert.equal(sha256(gunzipSync(blob)), image.diffIds[i], `${tag}: layer ${i} diff ID`);
        assert.deepEqual(layerFiles(blob), layers[i]!.files, `${tag}: layer ${i} files`);
      }
    }

    // Drop everything locally and pull the podman-pushed copy.
    await sb.podman(['rmi', '-a', '-f']);
    const again = await sb.podman([
      'pull',
      '--tls-verify=false',
      '--signature-policy',
      sb.policyPath,
      '-q',
      `${dst}:v1`,
    ]);
    assert.equal(again.stdout.trim(), hexOf(image.configDigest));
    const [info2] = parseJson<PodmanImageInspect[]>(
      (await sb.podman(['image', 'inspect', `${dst}:v1`])).stdout,
      'podman image inspect',
    );
    assert.equal(info2?.Digest, pushedDigest);
    assert.deepEqual(info2?.RootFS.Layers, image.diffIds);
  });

  env.test('podman pull --arch/--variant selects the right child of a multi-arch index', async () => {
    const { reg, sb } = env;
    const { layout, index } = await createMultiArchLayout(env.path('multi'), [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
    ]);
    const ref = `${reg.host}/interop/podman-multi`;
    await skopeoCopy(sb, layout.ref('multi'), `docker://${ref}:v1`, ['--all', '--preserve-digests']);
    for (const image of index.images) {
      const p = image.platform;
      const tag = `${p.architecture}${p.variant ?? ''}`;
      // Pull by index digest, so each platform becomes its own local image.
      const id = (
        await sb.podman([
          'pull',
          '--tls-verify=false',
          '--signature-policy',
          sb.policyPath,
          '-q',
          '--arch',
          p.architecture,
          ...(p.variant ? ['--variant', p.variant] : []),
          `${ref}@${index.digest}`,
        ])
      ).stdout.trim();
      assert.equal(id, hexOf(image.configDigest), `podman pull --arch ${tag} must select ${image.digest}`);
      const [info] = parseJson<(PodmanImageInspect & { Os: string })[]>(
        (await sb.podman(['image', 'inspect', id])).stdout,
        'podman image inspect',
      );
      assert.equal(info?.Architecture, p.architecture);
      assert.deepEqual(info?.RootFS.Layers, image.diffIds);
    }
  });

  env.test('zstd-compressed layers (skopeo --dest-compress-format zstd) are stored and pulled by podman', async () => {
    const { reg, sb } = env;
    const layers = [randomLayer('zstd-a', 30_000), randomLayer('zstd-b', 5_000)];
    const layout = await OciLayout.create(env.path('zstd-src'));
    const image = await layout.addImage({ layers, tag: 'v1' });
    const ref = `${reg.host}/interop/zstd`;
    const pushed = await skopeoCopyDigest(sb, layout.ref('v1'), `docker://${ref}:v1`, [
      '--dest-compress-format',
      'zstd',
    ]);

    const raw = await inspectRaw(sb, `docker://${ref}:v1`);
    assert.equal(sha256(raw), pushed);
    const m = JSON.parse(raw.toString('utf8')) as OciManifestJson;
    for (const l of m.layers) {
      assert.equal(l.mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd');
      const blob = await http(reg.url, 'GET', `/v2/interop/zstd/blobs/${l.digest}`);
      assert.equal(blob.status, 200);
      assert.equal(sha256(blob.body), l.digest);
      assert.equal(blob.body.readUInt32LE(0), 0xfd2fb528, 'zstd frame magic');
      assert.equal(blob.headers.get('content-encoding'), null, 'blobs must not be served with Content-Encoding');
    }

    const id = (
      await sb.podman(['pull', '--tls-verify=false', '--signature-policy', sb.policyPath, '-q', `${ref}:v1`])
    ).stdout.trim();
    assert.equal(id, hexOf(image.configDigest));
    const [info] = parseJson<PodmanImageInspect[]>(
      (await sb.podman(['image', 'inspect', id])).stdout,
      'podman image inspect',
    );
    assert.deepEqual(info?.RootFS.Layers, image.diffIds, 'zstd layers decompress to the original diff IDs');
  });
});
