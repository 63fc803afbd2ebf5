/**
 * Every client flow, against one registry (the target) with a second one (the peer)
 * for cross-registry copies: image push from each archive generation, pulls in both
 * formats checked with skopeo and podman, copy, tag, inspect, tags, catalog,
 * artifacts and referrers. Run by flows-stowage.test.ts and flows-distribution.test.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  RegistryClient,
  StaticCredentials,
  copy,
  inspect,
  parseReference,
  pullArtifact,
  pullImage,
  pushArtifact,
  pushImage,
  tag,
  type ClientError,
  type ProgressEvent,
} from '../../src/client/index.js';
import {
  MediaTypes,
  createMultiArchLayout,
  createSimpleLayout,
  hostPlatform,
  randomLayer,
  readTar,
  sha256,
  writeDockerArchive,
} from '../helpers/oci-fixtures.js';
import {
  createContainersSandbox,
  makeTempDir,
  removeDir,
  requireTools,
  type ContainersSandbox,
} from '../helpers/tools.js';
import { gzipFile, startTarget, writeContainerdArchive, writeDocker25Archive, type TargetRegistry } from './helpers.js';

interface SkopeoInspect {
  Digest: string;
  Layers: string[];
  Architecture: string;
}

export function defineFlows(targetName: TargetRegistry['name']): void {
  const peerName = targetName === 'stowage' ? 'distribution' : 'stowage';
  describe(`client flows against ${targetName}`, { timeout: 120_000 }, () => {
    let target: TargetRegistry;
    let peer: TargetRegistry;
    let sb: ContainersSandbox;
    let work: string;
    let client: RegistryClient;
    const events: ProgressEvent[] = [];
    const ref = (repo: string, t = 'v1') => parseReference(`${target.host}/${repo}:${t}`);
    const file = (name: string) => path.join(work, name);
    const skopeoInspect = async (transport: string) =>
      JSON.parse((await sb.skopeo(['inspect', '--tls-verify=false', transport])).stdout) as SkopeoInspect;

    before(async () => {
      requireTools('skopeo', 'podman', 'docker-registry');
      [target, peer] = await Promise.all([startTarget(targetName), startTarget(peerName)]);
      sb = await createContainersSandbox(`cl-${targetName.slice(0, 4)}`);
      work = await makeTempDir(`client-flows-${targetName}`);
      // Small chunks so multi-chunk uploads (PATCH + Content-Range) happen on every layer.
      client = new RegistryClient({
        credentials: new StaticCredentials({}),
        chunkSize: 2048,
        onProgress: (e) => events.push(e),
      });
    });
    after(async () => {
      client?.close();
      await Promise.allSettled([target?.stop(), peer?.stop(), sb?.cleanup()]);
      if (work) await removeDir(work);
    });

    it('pushes an OCI layout (directory and tar) byte for byte, with chunked uploads and progress', async () => {
      const { image } = await createSimpleLayout(file('layout'), { tag: 'v1', layerCount: 3 });
      const r = await pushImage(client, file('layout'), ref('flows/layout'));
      assert.equal(r.digest, image.digest);
      assert.equal(r.archive.format, 'oci-layout');
      assert.deepEqual({ uploaded: r.stats.uploaded, existed: r.stats.existed }, { uploaded: 4, existed: 0 });
      assert.equal((await skopeoInspect(`docker://${target.host}/flows/layout:v1`)).Digest, image.digest);
      assert.ok(
        events.some((e) => e.type === 'blob' && e.state === 'progress'),
        'progress events',
      );
      // The same layout as a tar made by GNU tar ("./" names), to another tag: every blob is already there.
      execFileSync('tar', ['-C', file('layout'), '-cf', file('layout.tar'), '.']);
      const again = await pushImage(client, file('layout.tar'), ref('flows/layout', 'v2'));
      assert.equal(again.digest, image.digest);
      assert.deepEqual({ uploaded: again.stats.uploaded, existed: again.stats.existed }, { uploaded: 0, existed: 4 });
    });

    it('pushes a legacy docker save archive as docker push would (gzip, schema 2, same digests every time)', async () => {
      const layers = [randomLayer('legacy-a'), randomLayer('legacy-b')];
      const saved = await writeDockerArchive(file('legacy.tar'), { layers, repoTags: ['legacy:v1'] });
      const r = await pushImage(client, file('legacy.tar'), ref('flows/legacy'));
      assert.equal(r.mediaType, MediaTypes.dockerManifest);
      assert.match(r.notes.join(), /2 layers gzip-compressed/);
      const seen = await skopeoInspect(`docker://${target.host}/flows/legacy:v1`);
      assert.equal(seen.Digest, r.digest);
      const config = JSON.parse(
        (await sb.skopeo(['inspect', '--tls-verify=false', '--config', `docker://${target.host}/flows/legacy:v1`]))
          .stdout,
      ) as { rootfs: { diff_ids: string[] } };
      assert.deepEqual(config.rootfs.diff_ids, saved.diffIds);
      // gzip'ed archive (docker save | gzip), pushed elsewhere: identical manifest digest.
      await gzipFile(file('legacy.tar'), file('legacy.tar.gz'));
      assert.equal((await pushImage(client, file('legacy.tar.gz'), ref('flows/legacy-gz'))).digest, r.digest);
    });

    it('pushes Docker 25 archives unchanged (uncompressed OCI layers keep the saved digest)', async () => {
      const saved = await writeDocker25Archive(file('d25.tar'), { repoTags: ['d25:v1', 'd25:latest'] });
      const r = await pushImage(client, file('d25.tar'), ref('flows/d25'), { image: 'd25:latest' });
      assert.equal(r.digest, saved.manifestDigest);
      assert.equal(r.archive.format, 'docker-save-oci');
    });

    it('pushes a containerd-store archive whose index is partly missing, as a new index of what is there', async () => {
      const plat = hostPlatform();
      const other = { os: 'linux', architecture: plat.architecture === 'amd64' ? 'arm64' : 'amd64' };
      const saved = await writeContainerdArchive(file('ctr.tar'), {
        name: 'multi:v1',
        platforms: [plat, other],
        present: 1,
      });
      const r = await pushImage(client, file('ctr.tar'), ref('flows/ctr'));
      assert.notEqual(r.digest, saved.indexDigest);
      assert.equal(r.notes.length, 1);
      const index = JSON.parse(
        (await sb.skopeo(['inspect', '--tls-verify=false', '--raw', `docker://${target.host}/flows/ctr:v1`])).stdout,
      ) as { manifests: { digest: string }[] };
      assert.deepEqual(
        index.manifests.map((m) => m.digest),
        saved.present,
      );
    });

    it('pulls a docker archive that skopeo and podman load', async () => {
      const layers = [randomLayer('pull-a'), randomLayer('pull-b')];
      const saved = await writeDockerArchive(file('src.tar'), { layers, repoTags: ['src:v1'] });
      await pushImage(client, file('src.tar'), ref('flows/pull'));
      const r = await pullImage(client, ref('flows/pull'), { file: file('pulled.tar') }, { format: 'docker' });
      assert.equal(r.format, 'docker');
      const members = readTar(await readFile(file('pulled.tar')));
      const manifest = JSON.parse(members.find((m) => m.path === 'manifest.json')!.data.toString()) as {
        Config: string;
        RepoTags: string[];
        Layers: string[];
      }[];
      assert.deepEqual(manifest[0]!.RepoTags, [`${target.host}/flows/pull:v1`]);
      assert.equal(sha256(members.find((m) => m.path === manifest[0]!.Config)!.data), saved.configDigest);
      assert.ok(members.some((m) => m.path === 'repositories'));
      const seen = await skopeoInspect(`docker-archive:${file('pulled.tar')}`);
      assert.deepEqual(seen.Layers, saved.diffIds, 'uncompressed layers: layer digests are the diff_ids');
      await sb.skopeo(['copy', `docker-archive:${file('pulled.tar')}`, `oci:${file('from-docker-archive')}:v1`]);
      const loaded = await sb.podman(['load', '-i', file('pulled.tar')]);
      assert.match(loaded.stdout, new RegExp(`${target.host}/flows/pull:v1`));
      const id = (
        await sb.podman(['image', 'inspect', '--format', '{{.Id}}', `${target.host}/flows/pull:v1`])
      ).stdout.trim();
      assert.equal(`sha256:${id}`, saved.configDigest);
    });

    it('pulls a multi-platform index into an OCI archive (all platforms, docker manifest.json for this machine)', async () => {
      const plat = hostPlatform();
      const other = { os: 'linux', architecture: plat.architecture === 'amd64' ? 'arm64' : 'amd64' };
      const { index } = await createMultiArchLayout(file('multi'), [plat, other], { tag: 'v1' });
      await pushImage(client, file('multi'), ref('flows/multi'));
      const r = await pullImage(client, ref('flows/multi'), { file: file('multi-oci.tar') }, { format: 'oci' });
      assert.equal(r.digest, index.digest);
      const raw = (await sb.skopeo(['inspect', '--raw', `oci-archive:${file('multi-oci.tar')}:v1`])).stdoutBytes;
      assert.ok(raw.equals(index.index), 'the index bytes survive');
      const members = readTar(await readFile(file('multi-oci.tar')));
      const idx = JSON.parse(members.find((m) => m.path === 'index.json')!.data.toString()) as {
        manifests: { annotations: Record<string, string> }[];
      };
      assert.equal(idx.manifests[0]!.annotations['io.containerd.image.name'], `${target.host}/flows/multi:v1`);
      assert.equal(idx.manifests[0]!.annotations['org.opencontainers.image.ref.name'], 'v1');
      const hostImage = index.images.find((i) => i.platform.architecture === plat.architecture)!;
      const dm = JSON.parse(members.find((m) => m.path === 'manifest.json')!.data.toString()) as { Config: string }[];
      assert.equal(dm[0]!.Config, `blobs/sha256/${hostImage.configDigest.slice(7)}`);
      assert.equal((await skopeoInspect(`docker-archive:${file('multi-oci.tar')}`)).Architecture, plat.architecture);
      const loaded = await sb.podman(['load', '-i', file('multi-oci.tar')]);
      assert.match(loaded.stdout, /Loaded image/);
      // Docker format from an index: this machine's platform.
      const d = await pullImage(client, ref('flows/multi'), { file: file('multi-docker.tar') }, { format: 'docker' });
      assert.equal(d.digest, hostImage.digest);
      assert.equal(d.platform, `${plat.os}/${plat.architecture}`);
      await assert.rejects(
        pullImage(
          client,
          ref('flows/multi'),
          { file: file('none.tar') },
          { format: 'docker', platform: { os: 'linux', architecture: 's390x' } },
        ),
        (e: ClientError) => e.code === 'PLATFORM_NOT_FOUND' && /linux\/amd64|linux\/arm64/.test(e.hint ?? ''),
      );
    });

    it('copies every platform of an index, within the registry (mounts) and to the other registry, byte for byte', async () => {
      const { index } = await createMultiArchLayout(
        file('copy-src'),
        [
          { os: 'linux', architecture: 'amd64' },
          { os: 'linux', architecture: 'arm64', variant: 'v8' },
        ],
        { tag: 'v1' },
      );
      await pushImage(client, file('copy-src'), ref('flows/copy-src'));
      const within = await copy(
        client,
        ref('flows/copy-src'),
        parseReference(`${target.host}/flows/copy-dst`, { defaultTag: null }),
      );
      assert.equal(within.digest, index.digest);
      assert.equal(within.tag, 'v1');
      assert.equal(within.stats.mounted, 6, 'all layers and configs mounted');
      assert.equal(within.stats.uploaded, 0);
      const across = await copy(client, ref('flows/copy-src'), parseReference(`${peer.host}/mirror/copy:v9`));
      assert.equal(across.digest, index.digest);
      assert.equal(across.stats.uploaded, 6);
      for (const img of index.images) {
        const raw = (
          await sb.skopeo(['inspect', '--tls-verify=false', '--raw', `docker://${peer.host}/mirror/copy@${img.digest}`])
        ).stdoutBytes;
        assert.ok(raw.equals(img.manifest));
      }
      // And back again, into a repository that already has everything.
      const back = await copy(client, parseReference(`${peer.host}/mirror/copy:v9`), ref('flows/copy-src', 'again'));
      assert.equal(back.stats.uploaded, 0);
    });

    it('tags, lists tags and the catalog, inspects', async () => {
      const { index } = await createMultiArchLayout(
        file('tag-src'),
        [
          { os: 'linux', architecture: 'amd64' },
          { os: 'linux', architecture: 'arm64' },
        ],
        { tag: 'v1' },
      );
      await pushImage(client, file('tag-src'), ref('flows/tagged'));
      const t = await tag(client, ref('flows/tagged'), 'stable');
      assert.equal(t.digest, index.digest);
      assert.deepEqual((await client.repository(ref('flows/tagged')).tags()).sort(), ['stable', 'v1']);
      assert.ok((await client.catalog(target.host)).includes('flows/tagged'));
      const i = await inspect(client, ref('flows/tagged', 'stable'));
      assert.equal(i.mediaType, MediaTypes.ociIndex);
      assert.deepEqual(
        i.platforms?.map((p) => p.platform),
        ['linux/amd64', 'linux/arm64'],
      );
      assert.equal(i.annotations?.['org.opencontainers.image.description'], 'stowage interop multi-arch fixture');
      const one = await inspect(client, ref('flows/tagged'), { platform: { os: 'linux', architecture: 'arm64' } });
      assert.equal(one.digest, index.images[1]!.digest);
      assert.equal((one.config as { architecture: string }).architecture, 'arm64');
      assert.equal(one.layers?.length, 2);
      await assert.rejects(
        client.repository(ref('flows/tagged')).resolve('v3'),
        (e: ClientError) => e.code === 'MANIFEST_NOT_FOUND' && /stable, v1/.test(e.hint ?? ''),
      );
      await assert.rejects(
        client.repository(parseReference(`${target.host}/flows/nothing-here`)).tags(),
        (e: ClientError) => e.code === 'REPOSITORY_NOT_FOUND',
      );
    });

    it('pushes and pulls artifacts with a subject; referrers come from the API or the fallback tag', async () => {
      const { image } = await createSimpleLayout(file('subject'), { tag: 'v1' });
      await pushImage(client, file('subject'), ref('flows/art'));
      const sbom = Buffer.from(JSON.stringify({ spdxVersion: 'SPDX-2.3', name: 'demo' }));
      const pushed = await pushArtifact(client, parseReference(`${target.host}/flows/art`, { defaultTag: null }), {
        artifactType: 'application/spdx+json',
        layers: [
          {
            mediaType: 'application/spdx+json',
            bytes: sbom,
            annotations: { 'org.opencontainers.image.title': 'sbom.spdx.json' },
          },
        ],
        annotations: { 'org.example.kind': 'sbom' },
        subject: { mediaType: MediaTypes.ociManifest, digest: image.digest, size: image.manifest.length },
      });
      const referrers = await client.repository(ref('flows/art')).referrers(image.digest);
      assert.equal(referrers.via, targetName === 'stowage' ? 'api' : 'tag-schema');
      assert.deepEqual(
        referrers.manifests.map((m) => [m.digest, m.artifactType]),
        [[pushed.descriptor.digest, 'application/spdx+json']],
      );
      const filtered = await client
        .repository(ref('flows/art'))
        .referrers(image.digest, { artifactType: 'application/other' });
      assert.deepEqual(filtered.manifests, []);
      const i = await inspect(client, ref('flows/art'));
      assert.deepEqual(
        i.referrers.map((d) => d.digest),
        [pushed.descriptor.digest],
      );
      const out = file('artifact-out');
      await mkdir(out);
      const pulled = await pullArtifact(
        client,
        parseReference(`${target.host}/flows/art@${pushed.descriptor.digest}`),
        { outDir: out },
      );
      assert.equal(pulled.manifest.artifactType, 'application/spdx+json');
      assert.ok((await readFile(path.join(out, 'sbom.spdx.json'))).equals(sbom));
      assert.equal(pulled.config.toString(), '{}');
    });
  });
}
