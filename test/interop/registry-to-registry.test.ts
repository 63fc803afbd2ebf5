/**
 * skopeo copies between the registry under test and Debian's docker-registry
 * (CNCF Distribution 2.8), both directions: digests must be identical.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { dockerRef, inspectRaw, listTags, setupInterop, skopeoCopy, skopeoCopyDigest } from '../helpers/interop.js';
import {
  MediaTypes,
  createMultiArchLayout,
  createSimpleLayout,
  randomLayer,
  sha256,
  writeDockerArchive,
  type BuiltIndex,
  type OciManifestJson,
} from '../helpers/oci-fixtures.js';
import type { ContainersSandbox } from '../helpers/tools.js';

/** Asserts that both registries serve the same bytes for the index and all its children. */
async function assertSameIndex(sb: ContainersSandbox, a: string, b: string, index: BuiltIndex): Promise<void> {
  const rawA = await inspectRaw(sb, a);
  const rawB = await inspectRaw(sb, b);
  assert.ok(rawA.equals(index.index), `${a} index bytes`);
  assert.ok(rawB.equals(index.index), `${b} index bytes`);
  for (const image of index.images) {
    const at = (ref: string) => ref.replace(/:[^:/@]+$/, `@${image.digest}`);
    assert.ok((await inspectRaw(sb, at(a))).equals(image.manifest), `${at(a)}`);
    assert.ok((await inspectRaw(sb, at(b))).equals(image.manifest), `${at(b)}`);
  }
}

describe('registry ↔ registry (docker-registry)', () => {
  const env = setupInterop({ name: 'r2r', tools: ['skopeo'], distribution: true });

  env.test('registry under test → docker-registry', async () => {
    const { reg, dist, sb } = env;
    const { layout, image } = await createSimpleLayout(env.path('single'), { layerCount: 3 });
    await skopeoCopy(sb, layout.ref('v1'), dockerRef(reg.host, 'interop/r2r-single', 'v1'));

    const copied = await skopeoCopyDigest(
      sb,
      dockerRef(reg.host, 'interop/r2r-single', 'v1'),
      dockerRef(dist.host, 'mirror/single', 'v1'),
      ['--preserve-digests'],
    );
    assert.equal(copied, image.digest);
    assert.ok((await inspectRaw(sb, dockerRef(dist.host, 'mirror/single', 'v1'))).equals(image.manifest));
    assert.ok(
      (await inspectRaw(sb, dockerRef(dist.host, 'mirror/single', 'v1'), { config: true })).equals(image.config),
    );

    const { layout: ml, index } = await createMultiArchLayout(env.path('multi'), [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ]);
    await skopeoCopy(sb, ml.ref('multi'), dockerRef(reg.host, 'interop/r2r-multi', 'v1'), ['--all']);
    const copiedIndex = await skopeoCopyDigest(
      sb,
      dockerRef(reg.host, 'interop/r2r-multi', 'v1'),
      dockerRef(dist.host, 'mirror/multi', 'v1'),
      ['--all', '--preserve-digests'],
    );
    assert.equal(copiedIndex, index.digest);
    await assertSameIndex(
      sb,
      dockerRef(reg.host, 'interop/r2r-multi', 'v1'),
      dockerRef(dist.host, 'mirror/multi', 'v1'),
      index,
    );
  });

  env.test('docker-registry → registry under test', async () => {
    const { reg, dist, sb } = env;

    // An OCI image and a multi-arch index…
    const { layout, image } = await createSimpleLayout(env.path('single-rev'), { layerCount: 2, style: 'pretty' });
    await skopeoCopy(sb, layout.ref('v1'), dockerRef(dist.host, 'upstream/single', 'v1'));
    const copied = await skopeoCopyDigest(
      sb,
      dockerRef(dist.host, 'upstream/single', 'v1'),
      dockerRef(reg.host, 'interop/from-dist', 'v1'),
      ['--preserve-digests'],
    );
    assert.equal(copied, image.digest);
    assert.ok((await inspectRaw(sb, dockerRef(reg.host, 'interop/from-dist', 'v1'))).equals(image.manifest));

    const { layout: ml, index } = await createMultiArchLayout(env.path('multi-rev'), [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'ppc64le' },
      { os: 'linux', architecture: 's390x' },
    ]);
    await skopeoCopy(sb, ml.ref('multi'), dockerRef(dist.host, 'upstream/multi', 'v1'), ['--all']);
    const copiedIndex = await skopeoCopyDigest(
      sb,
      dockerRef(dist.host, 'upstream/multi', 'v1'),
      dockerRef(reg.host, 'interop/from-dist-multi', 'v1'),
      ['--all', '--preserve-digests'],
    );
    assert.equal(copiedIndex, index.digest);
    await assertSameIndex(
      sb,
      dockerRef(dist.host, 'upstream/multi', 'v1'),
      dockerRef(reg.host, 'interop/from-dist-multi', 'v1'),
      index,
    );

    // …and a Docker schema 2 image (from a docker-save archive), with a second tag.
    await writeDockerArchive(env.path('docker.tar'), {
      layers: [randomLayer('d1'), randomLayer('d2')],
      repoTags: ['example.test/docker:v1'],
    });
    const dockerDigest = await skopeoCopyDigest(
      sb,
      `docker-archive:${env.path('docker.tar')}`,
      dockerRef(dist.host, 'upstream/docker', 'v1'),
    );
    await skopeoCopy(sb, dockerRef(dist.host, 'upstream/docker', 'v1'), dockerRef(dist.host, 'upstream/docker', 'v2'));
    const distRaw = await inspectRaw(sb, dockerRef(dist.host, 'upstream/docker', 'v1'));
    assert.equal((JSON.parse(distRaw.toString('utf8')) as OciManifestJson).mediaType, MediaTypes.dockerManifest);

    for (const tag of ['v1', 'v2']) {
      const d = await skopeoCopyDigest(
        sb,
        dockerRef(dist.host, 'upstream/docker', tag),
        dockerRef(reg.host, 'interop/from-dist-docker', tag),
        ['--preserve-digests'],
      );
      assert.equal(d, dockerDigest);
    }
    const ourRaw = await inspectRaw(sb, dockerRef(reg.host, 'interop/from-dist-docker', 'v1'));
    assert.ok(ourRaw.equals(distRaw), 'Docker schema 2 manifest must be stored verbatim');
    assert.equal(sha256(ourRaw), dockerDigest);
    assert.deepEqual((await listTags(sb, reg.host, 'interop/from-dist-docker')).sort(), ['v1', 'v2']);

    // Round trip back to docker-registry under a new name: still the same digest.
    const back = await skopeoCopyDigest(
      sb,
      dockerRef(reg.host, 'interop/from-dist-docker', 'v2'),
      dockerRef(dist.host, 'roundtrip/docker', 'v2'),
      ['--preserve-digests'],
    );
    assert.equal(back, dockerDigest);
  });

  env.test('skopeo sync of whole repositories (all tags, --all) in both directions', async () => {
    const { reg, dist, sb } = env;
    const { layout: ml, index } = await createMultiArchLayout(env.path('sync-multi'), [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ]);
    const { layout, image } = await createSimpleLayout(env.path('sync-single'), { layerCount: 2 });
    const expected: Record<string, string> = {
      multi: index.digest,
      'single-1': image.digest,
      'single-2': image.digest,
    };
    await skopeoCopy(sb, ml.ref('multi'), dockerRef(reg.host, 'interop/syncme', 'multi'), ['--all']);
    await skopeoCopy(sb, layout.ref('v1'), dockerRef(reg.host, 'interop/syncme', 'single-1'));
    await skopeoCopy(sb, layout.ref('v1'), dockerRef(reg.host, 'interop/syncme', 'single-2'));

    const sync = (src: string, dest: string) =>
      sb.skopeo([
        'sync',
        '--all',
        '--preserve-digests',
        '--src',
        'docker',
        '--dest',
        'docker',
        '--src-tls-verify=false',
        '--dest-tls-verify=false',
        src,
        dest,
      ]);

    // Stowage repo → docker-registry (lands in <dest>/<last path component>)
    await sync(`${reg.host}/interop/syncme`, `${dist.host}/synced`);
    // …and that copy back into Stowage under another namespace.
    await sync(`${dist.host}/synced/syncme`, `${reg.host}/resynced`);

    for (const [host, repo] of [
      [dist.host, 'synced/syncme'],
      [reg.host, 'resynced/syncme'],
    ] as const) {
      assert.deepEqual((await listTags(sb, host, repo)).sort(), Object.keys(expected).sort(), `${host}/${repo} tags`);
      for (const [tag, digest] of Object.entries(expected)) {
        assert.equal(sha256(await inspectRaw(sb, dockerRef(host, repo, tag))), digest, `${host}/${repo}:${tag}`);
      }
      for (const child of index.images) {
        assert.ok(
          (await inspectRaw(sb, dockerRef(host, repo, child.digest))).equals(child.manifest),
          `${host}/${repo}@${child.digest}`,
        );
      }
    }
  });
});
