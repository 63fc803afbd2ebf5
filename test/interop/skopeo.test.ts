/**
 * skopeo (containers/image) against the registry under test: docker-archive
 * and OCI layout round trips, inspect, list-tags, delete, cross-repo mount.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { gunzipSync } from 'node:zlib';
import {
  MANIFEST_ACCEPT,
  describeHeaders,
  dockerRef,
  http,
  inspectRaw,
  listTags,
  putManifest,
  setupInterop,
  skopeoCopy,
  skopeoCopyDigest,
  skopeoFails,
  skopeoInspect,
} from '../helpers/interop.js';
import {
  MediaTypes,
  OciLayout,
  createSimpleLayout,
  hostPlatform,
  randomLayer,
  readDockerArchive,
  sha256,
  writeDockerArchive,
  type OciManifestJson,
} from '../helpers/oci-fixtures.js';

describe('skopeo', () => {
  const env = setupInterop({ name: 'skopeo', tools: ['skopeo'] });

  env.test('docker-archive (docker save format) → registry → docker-archive, digests checked', async () => {
    const { reg, sb } = env;
    const layers = [randomLayer('base', 20_000), randomLayer('mid'), randomLayer('top', 100)];
    const archive = await writeDockerArchive(env.path('in.tar'), {
      layers,
      repoTags: ['example.test/interop/archive:v1'],
    });
    const repo = 'interop/archive';

    const pushed = await skopeoCopyDigest(sb, `docker-archive:${env.path('in.tar')}`, dockerRef(reg.host, repo, 'v1'));

    // What the registry serves is exactly what skopeo pushed.
    const raw = await inspectRaw(sb, dockerRef(reg.host, repo, 'v1'));
    assert.equal(sha256(raw), pushed, 'manifest bytes served by tag must hash to the digest skopeo pushed');
    const manifest = JSON.parse(raw.toString('utf8')) as OciManifestJson;
    assert.equal(manifest.mediaType, MediaTypes.dockerManifest, 'docker-archive sources push Docker schema 2');
    assert.equal(manifest.config.digest, archive.configDigest, 'config (image ID) must survive the round trip');
    assert.equal(manifest.layers.length, layers.length);

    const config = await inspectRaw(sb, dockerRef(reg.host, repo, 'v1'), { config: true });
    assert.ok(config.equals(archive.config), 'config blob bytes must be identical to the archive config');

    // Layers were gzip-compressed by skopeo on push; they must decompress to the diff IDs.
    const byDigest = await skopeoInspect(sb, dockerRef(reg.host, repo, pushed));
    assert.equal(byDigest.Digest, pushed);
    assert.deepEqual(
      byDigest.Layers,
      manifest.layers.map((l) => l.digest),
    );
    for (const [i, l] of manifest.layers.entries()) {
      const blob = await http(reg.url, 'GET', `/v2/${repo}/blobs/${l.digest}`);
      assert.equal(blob.status, 200, `GET blob ${l.digest}`);
      assert.equal(sha256(blob.body), l.digest, `layer ${i} bytes must match its digest`);
      assert.equal(blob.body.length, l.size, `layer ${i} size`);
      assert.equal(sha256(gunzipSync(blob.body)), archive.diffIds[i], `layer ${i} must decompress to its diff ID`);
    }

    // And back out as a docker-archive: identical config and layer tars.
    await skopeoCopy(sb, dockerRef(reg.host, repo, 'v1'), `docker-archive:${env.path('out.tar')}:${repo}:v1`);
    const out = await readDockerArchive(env.path('out.tar'));
    assert.equal(out.configDigest, archive.configDigest);
    assert.equal(out.layerTars.length, layers.length);
    for (const [i, tar] of out.layerTars.entries()) {
      assert.equal(sha256(tar), archive.diffIds[i], `exported layer ${i} diff ID`);
      assert.ok(tar.equals(layers[i]!.tar), `exported layer ${i} bytes`);
    }
  });

  env.test('OCI layout → registry → OCI layout, byte-identical with --preserve-digests', async () => {
    const { reg, sb } = env;
    // 3-space-indented manifest: only byte-exact storage keeps its digest.
    const { layout, image, layers } = await createSimpleLayout(env.path('oci-src'), { layerCount: 3, style: 'pretty' });
    const repo = 'interop/oci';

    const pushed = await skopeoCopyDigest(sb, layout.ref('v1'), dockerRef(reg.host, repo, 'v1'), [
      '--preserve-digests',
    ]);
    assert.equal(pushed, image.digest);

    const raw = await inspectRaw(sb, dockerRef(reg.host, repo, 'v1'));
    assert.ok(raw.equals(image.manifest), `served manifest differs from pushed bytes:\n${raw.toString('utf8')}`);

    // Registry headers as clients rely on them (HEAD by tag).
    const head = await http(reg.url, 'HEAD', `/v2/${repo}/manifests/v1`, { headers: { Accept: MANIFEST_ACCEPT } });
    assert.equal(head.status, 200, describeHeaders(head.headers));
    assert.equal(head.headers.get('docker-content-digest'), image.digest, describeHeaders(head.headers));
    assert.equal(head.headers.get('content-type'), MediaTypes.ociManifest, describeHeaders(head.headers));
    assert.equal(head.headers.get('content-length'), String(image.manifest.length), describeHeaders(head.headers));

    const inspected = await skopeoInspect(sb, dockerRef(reg.host, repo, 'v1'));
    assert.equal(inspected.Digest, image.digest);
    assert.equal(inspected.Architecture, hostPlatform().architecture);
    assert.equal(inspected.Os, 'linux');
    assert.deepEqual(
      inspected.Layers,
      layers.map((l) => l.digest),
    );
    assert.equal(inspected.Labels?.['org.example.fixture'], 'stowage-interop');

    const outLayout = OciLayout.open(env.path('oci-out'));
    await skopeoCopy(sb, dockerRef(reg.host, repo, image.digest), outLayout.ref('v1'), ['--preserve-digests']);
    const desc = await outLayout.resolve('v1');
    assert.equal(desc.digest, image.digest);
    assert.ok((await outLayout.readBlob(image.digest)).equals(image.manifest));
    assert.ok((await outLayout.readBlob(image.configDigest)).equals(image.config));
    for (const l of layers) assert.ok((await outLayout.readBlob(l.digest)).equals(l.blob), `layer ${l.digest}`);
    assert.equal(await outLayout.verifyBlobs(), layers.length + 2);
  });

  env.test('inspect, list-tags and delete', async () => {
    const { reg, sb } = env;
    const repo = 'interop/tags';
    const layout = await OciLayout.create(env.path('tags-src'));
    const a = await layout.addImage({ layers: [randomLayer('a')], tag: 'a' });
    const b = await layout.addImage({ layers: [randomLayer('b')], tag: 'b' });
    const c = await layout.addImage({ layers: [randomLayer('c')], tag: 'c' });

    await skopeoCopy(sb, layout.ref('a'), dockerRef(reg.host, repo, 'v1'));
    await skopeoCopy(sb, layout.ref('b'), dockerRef(reg.host, repo, 'v2'));
    await skopeoCopy(sb, layout.ref('c'), dockerRef(reg.host, repo, 'v3'));
    // Retag inside the registry with skopeo (manifest GET + PUT, blobs already there).
    await skopeoCopy(sb, dockerRef(reg.host, repo, 'v1'), dockerRef(reg.host, repo, 'latest'));
    // Many more tags for the same manifest, straight over HTTP: list-tags must see
    // all of them (following Link pagination if the registry pages).
    const bulk = Array.from({ length: 120 }, (_, i) => `bulk-${String(i).padStart(3, '0')}`);
    for (const t of bulk) await putManifest(reg.url, repo, t, a.manifest, MediaTypes.ociManifest);

    const expected = ['v1', 'v2', 'v3', 'latest', ...bulk].sort();
    assert.deepEqual([...(await listTags(sb, reg.host, repo))].sort(), expected);

    const inspected = await skopeoInspect(sb, dockerRef(reg.host, repo, 'latest'));
    assert.equal(inspected.Digest, a.digest);
    assert.deepEqual([...inspected.RepoTags].sort(), expected, 'skopeo inspect RepoTags comes from tags/list');

    // Delete by tag: skopeo resolves the tag and deletes the manifest by digest.
    await sb.skopeo(['delete', '--tls-verify=false', dockerRef(reg.host, repo, 'v2')]);
    const goneTag = await skopeoFails(sb, ['inspect', '--tls-verify=false', '--raw', dockerRef(reg.host, repo, 'v2')]);
    assert.match(goneTag, /manifest unknown/i, goneTag);
    const goneDigest = await skopeoFails(sb, [
      'inspect',
      '--tls-verify=false',
      '--raw',
      dockerRef(reg.host, repo, b.digest),
    ]);
    assert.match(goneDigest, /manifest unknown/i, goneDigest);
    assert.deepEqual(
      [...(await listTags(sb, reg.host, repo))].sort(),
      expected.filter((t) => t !== 'v2'),
    );

    // Delete by digest: every tag pointing at it goes too.
    await sb.skopeo(['delete', '--tls-verify=false', dockerRef(reg.host, repo, a.digest)]);
    assert.deepEqual(await listTags(sb, reg.host, repo), ['v3']);
    for (const ref of ['v1', 'latest', 'bulk-000', a.digest]) {
      const stderr = await skopeoFails(sb, ['inspect', '--tls-verify=false', '--raw', dockerRef(reg.host, repo, ref)]);
      assert.match(stderr, /manifest unknown/i, `${ref}: ${stderr}`);
    }
    // The untouched image is intact.
    assert.ok((await inspectRaw(sb, dockerRef(reg.host, repo, 'v3'))).equals(c.manifest));

    // Unknown repository / tag.
    const noRepo = await skopeoFails(sb, [
      'inspect',
      '--tls-verify=false',
      dockerRef(reg.host, 'interop/does-not-exist', 'v1'),
    ]);
    assert.match(noRepo, /manifest unknown|name unknown/i, noRepo);
  });

  env.test('concurrent pushes of images sharing layers all succeed', async () => {
    const { reg, sb } = env;
    const layout = await OciLayout.create(env.path('concurrent'));
    const shared = [randomLayer('shared-base', 300_000), randomLayer('shared-mid', 50_000)];
    const images = [];
    for (let i = 0; i < 4; i++) {
      images.push(await layout.addImage({ layers: [...shared, randomLayer(`own-${i}`)], tag: `i${i}` }));
    }
    // Two images into the same repo and two into other repos, all at once.
    const targets = ['interop/conc-a', 'interop/conc-a', 'interop/conc-b', 'interop/conc-c'];
    await Promise.all(
      images.map((img, i) =>
        skopeoCopy(sb, layout.ref(`i${i}`), dockerRef(reg.host, targets[i]!, `i${i}`), ['--preserve-digests']),
      ),
    );
    for (const [i, img] of images.entries()) {
      assert.ok((await inspectRaw(sb, dockerRef(reg.host, targets[i]!, `i${i}`))).equals(img.manifest), `image ${i}`);
      for (const l of img.layers) {
        const blob = await http(reg.url, 'GET', `/v2/${targets[i]}/blobs/${l.digest}`);
        assert.equal(blob.status, 200, `${targets[i]} blob ${l.digest}`);
        assert.equal(sha256(blob.body), l.digest);
      }
    }
  });

  env.test('cross-repository copy within the registry mounts layers', async (t) => {
    const { reg, sb } = env;
    const { layout, image, layers } = await createSimpleLayout(env.path('mount-src'), { layerCount: 2 });
    await skopeoCopy(sb, layout.ref('v1'), dockerRef(reg.host, 'interop/mount-a', 'v1'));

    await skopeoCopy(sb, dockerRef(reg.host, 'interop/mount-a', 'v1'), dockerRef(reg.host, 'interop/mount-b', 'v1'));
    // Same copy again into a third repo with --debug, to see what happened on the wire.
    const debug = await sb.skopeo([
      '--debug',
      'copy',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      dockerRef(reg.host, 'interop/mount-a', 'v1'),
      dockerRef(reg.host, 'interop/mount-c', 'v1'),
    ]);

    for (const repo of ['interop/mount-b', 'interop/mount-c']) {
      const raw = await inspectRaw(sb, dockerRef(reg.host, repo, 'v1'));
      assert.ok(raw.equals(image.manifest), `${repo}: manifest must be copied verbatim`);
      for (const l of layers) {
        const head = await http(reg.url, 'HEAD', `/v2/${repo}/blobs/${l.digest}`);
        assert.equal(head.status, 200, `${repo} must hold layer ${l.digest}`);
        assert.equal(head.headers.get('content-length'), String(l.size));
        assert.equal(head.headers.get('docker-content-digest'), l.digest);
      }
    }

    // c/image asks for a mount of each layer (never of the config).
    const log = debug.stderr;
    for (const l of layers) {
      assert.ok(
        log.includes(`mount=${encodeURIComponent(l.digest)}`),
        `expected a mount POST for ${l.digest}; skopeo --debug said:\n${log.slice(-6000)}`,
      );
    }
    const mounted = (log.match(/\.\.\. mount OK/g) ?? []).length;
    t.diagnostic(`layers mounted by the registry: ${mounted}/${layers.length}`);
    assert.equal(
      mounted,
      layers.length,
      `registry should answer the mount POSTs with 201; skopeo --debug said:\n${log.slice(-6000)}`,
    );
  });
});
