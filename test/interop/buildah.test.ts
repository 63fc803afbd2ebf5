/**
 * buildah: build from scratch (two commits → two layers), `buildah push` to the
 * registry, then `buildah from` the pushed image in fresh storage and read the
 * files through `buildah mount`.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe } from 'node:test';
import { dockerRef, inspectRaw, setupInterop, skopeoCopy } from '../helpers/interop.js';
import {
  MediaTypes,
  OciLayout,
  hostPlatform,
  layerFiles,
  sha256,
  type OciManifestJson,
} from '../helpers/oci-fixtures.js';
import { createContainersSandbox, parseJson } from '../helpers/tools.js';

describe('buildah', () => {
  const env = setupInterop({ name: 'buildah', tools: ['buildah'] });

  env.test('buildah push of a 2-layer image built from scratch; buildah from pulls it back', async () => {
    const { reg, sb } = env;
    const greeting = `hello from buildah ${randomUUID()}\n`;
    const payload = randomBytes(64 * 1024);
    await writeFile(env.path('greeting.txt'), greeting);
    await writeFile(env.path('payload.bin'), payload);
    const arch = hostPlatform().architecture;

    // Layer 1
    const c1 = (await sb.buildah(['from', '--signature-policy', sb.policyPath, 'scratch'])).stdout.trim();
    await sb.buildah(['add', c1, env.path('greeting.txt'), '/app/greeting.txt']);
    await sb.buildah([
      'config',
      '--label',
      'org.example.step=base',
      '--env',
      'GREETING=/app/greeting.txt',
      '--arch',
      arch,
      '--os',
      'linux',
      c1,
    ]);
    await sb.buildah(['commit', '--signature-policy', sb.policyPath, '-q', c1, 'localhost/interop/base:v1']);
    await sb.buildah(['rm', c1]);
    // Layer 2 on top
    const c2 = (
      await sb.buildah(['from', '--signature-policy', sb.policyPath, 'localhost/interop/base:v1'])
    ).stdout.trim();
    await sb.buildah(['add', c2, env.path('payload.bin'), '/app/data/payload.bin']);
    await sb.buildah(['config', '--label', 'org.example.step=app', c2]);
    await sb.buildah(['commit', '--signature-policy', sb.policyPath, '-q', c2, 'localhost/interop/app:v1']);
    await sb.buildah(['rm', c2]);

    const digestFile = env.path('buildah.digest');
    await sb.buildah([
      'push',
      '--tls-verify=false',
      '--signature-policy',
      sb.policyPath,
      '--digestfile',
      digestFile,
      'localhost/interop/app:v1',
      dockerRef(reg.host, 'interop/buildah', 'v1'),
    ]);
    const pushed = (await readFile(digestFile, 'utf8')).trim();

    const raw = await inspectRaw(sb, dockerRef(reg.host, 'interop/buildah', 'v1'));
    assert.equal(sha256(raw), pushed, 'registry serves the manifest buildah pushed');
    const manifest = JSON.parse(raw.toString('utf8')) as OciManifestJson;
    assert.equal(manifest.mediaType, MediaTypes.ociManifest);
    assert.equal(manifest.layers.length, 2, 'two commits → two layers');
    const config = JSON.parse(
      (await inspectRaw(sb, dockerRef(reg.host, 'interop/buildah', 'v1'), { config: true })).toString('utf8'),
    ) as {
      config: { Labels: Record<string, string>; Env: string[] };
      architecture: string;
    };
    assert.equal(config.config.Labels['org.example.step'], 'app');
    assert.ok(config.config.Env.includes('GREETING=/app/greeting.txt'));
    assert.equal(config.architecture, arch);

    // Layer contents, via skopeo into an OCI layout.
    const out = OciLayout.open(env.path('out'));
    await skopeoCopy(sb, dockerRef(reg.host, 'interop/buildah', 'v1'), out.ref('v1'));
    const outManifest = await out.readJsonBlob<OciManifestJson>((await out.resolve('v1')).digest);
    const files0 = layerFiles(await out.readBlob(outManifest.layers[0]!.digest));
    const files1 = layerFiles(await out.readBlob(outManifest.layers[1]!.digest));
    assert.equal(files0.get('app/greeting.txt')?.toString('utf8'), greeting);
    assert.ok(files1.get('app/data/payload.bin')?.equals(payload), 'layer 2 holds the payload');

    // Fresh storage: buildah from the registry, mount (vfs: a plain directory), read.
    const fresh = await createContainersSandbox('buildah-fresh');
    try {
      const c3 = (
        await fresh.buildah([
          'from',
          '--tls-verify=false',
          '--signature-policy',
          fresh.policyPath,
          dockerRef(reg.host, 'interop/buildah', 'v1'),
        ])
      ).stdout.trim();
      const mountpoint = (await fresh.buildah(['mount', c3])).stdout.trim();
      assert.equal(await readFile(path.join(mountpoint, 'app/greeting.txt'), 'utf8'), greeting);
      assert.ok((await readFile(path.join(mountpoint, 'app/data/payload.bin'))).equals(payload));
      const images = parseJson<{ names?: string[]; digest?: string }[]>(
        (await fresh.buildah(['images', '--json'])).stdout,
        'buildah images',
      );
      assert.ok(
        images.some((i) => i.digest === pushed),
        `buildah images should list the pulled image with digest ${pushed}: ${JSON.stringify(images)}`,
      );
      await fresh.buildah(['umount', c3]);
      await fresh.buildah(['rm', c3]);
    } finally {
      await fresh.cleanup();
    }
  });

  env.test('buildah manifest push --all (Docker manifest list, 2 platforms)', async () => {
    const { reg, sb } = env;
    const host = hostPlatform().architecture;
    const other = host === 'arm64' ? 'amd64' : 'arm64';
    for (const arch of [host, other]) {
      await writeFile(env.path(`${arch}.txt`), `built for ${arch} ${randomUUID()}\n`);
      const c = (
        await sb.buildah(['from', '--arch', arch, '--signature-policy', sb.policyPath, 'scratch'])
      ).stdout.trim();
      await sb.buildah(['add', c, env.path(`${arch}.txt`), '/arch.txt']);
      await sb.buildah(['config', '--arch', arch, '--os', 'linux', c]);
      await sb.buildah(['commit', '--signature-policy', sb.policyPath, '-q', c, `localhost/interop/arch:${arch}`]);
      await sb.buildah(['rm', c]);
    }
    await sb.buildah(['manifest', 'create', 'localhost/interop/list:v1']);
    for (const arch of [host, other]) {
      await sb.buildah([
        'manifest',
        'add',
        'localhost/interop/list:v1',
        `containers-storage:localhost/interop/arch:${arch}`,
      ]);
    }
    const digestFile = env.path('list.digest');
    await sb.buildah([
      'manifest',
      'push',
      '--all',
      '--format',
      'v2s2',
      '--tls-verify=false',
      '--signature-policy',
      sb.policyPath,
      '--digestfile',
      digestFile,
      'localhost/interop/list:v1',
      dockerRef(reg.host, 'interop/buildah-list', 'v1'),
    ]);
    const pushed = (await readFile(digestFile, 'utf8')).trim();

    const raw = await inspectRaw(sb, dockerRef(reg.host, 'interop/buildah-list', 'v1'));
    assert.equal(sha256(raw), pushed, 'registry serves the list buildah pushed');
    const list = JSON.parse(raw.toString('utf8')) as {
      mediaType: string;
      manifests: { mediaType: string; digest: string; platform: { architecture: string } }[];
    };
    assert.equal(list.mediaType, MediaTypes.dockerManifestList);
    assert.equal(list.manifests.length, 2);
    for (const entry of list.manifests) {
      assert.equal(entry.mediaType, MediaTypes.dockerManifest);
      const child = await inspectRaw(sb, dockerRef(reg.host, 'interop/buildah-list', entry.digest));
      assert.equal(sha256(child), entry.digest);
      const config = JSON.parse(
        (await inspectRaw(sb, dockerRef(reg.host, 'interop/buildah-list', entry.digest), { config: true })).toString(
          'utf8',
        ),
      ) as { architecture: string };
      assert.equal(config.architecture, entry.platform.architecture);
    }
    assert.deepEqual(list.manifests.map((m) => m.platform.architecture).sort(), [host, other].sort());
  });
});
