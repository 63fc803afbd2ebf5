/**
 * umoci: build an image layout with umoci (insert, config, unpack/modify/repack
 * → a whiteout layer), push it with skopeo, pull it into a new layout and
 * `umoci unpack` it: the filesystem must come out as built.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe } from 'node:test';
import { dockerRef, inspectRaw, setupInterop, skopeoCopy, skopeoCopyDigest } from '../helpers/interop.js';
import { OciLayout, hostPlatform, layerFiles, type OciManifestJson } from '../helpers/oci-fixtures.js';
import { requireTool, run } from '../helpers/tools.js';

const umoci = (args: string[]) => run(requireTool('umoci'), args);

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

describe('umoci', () => {
  const env = setupInterop({ name: 'umoci', tools: ['umoci'] });

  env.test('umoci-built layout → registry → umoci unpack', async () => {
    const { reg, sb } = env;
    const layoutDir = env.path('layout');
    const keep = `keep ${randomUUID()}\n`;
    const added = `added ${randomUUID()}\n`;
    const blob = randomBytes(128 * 1024);

    // Base layer via `umoci insert`, config via `umoci config`.
    const src = env.path('src/app');
    await mkdir(src, { recursive: true });
    await writeFile(path.join(src, 'keep.txt'), keep);
    await writeFile(path.join(src, 'remove-me.txt'), 'to be deleted\n');
    await writeFile(path.join(src, 'blob.bin'), blob);
    await umoci(['init', '--layout', layoutDir]);
    await umoci(['new', '--image', `${layoutDir}:base`]);
    await umoci(['insert', '--image', `${layoutDir}:base`, src, '/opt/app']);
    await umoci([
      'config',
      '--image',
      `${layoutDir}:base`,
      '--tag',
      'v1',
      '--config.env',
      'FOO=bar',
      '--config.label',
      'org.example.tool=umoci',
      '--architecture',
      hostPlatform().architecture,
      '--os',
      'linux',
    ]);
    // Second layer via unpack → modify → repack (deletion becomes a whiteout).
    const bundle1 = env.path('bundle1');
    await umoci(['unpack', '--image', `${layoutDir}:v1`, bundle1]);
    await rm(path.join(bundle1, 'rootfs/opt/app/remove-me.txt'));
    await writeFile(path.join(bundle1, 'rootfs/opt/app/added.txt'), added);
    await umoci(['repack', '--image', `${layoutDir}:v2`, bundle1]);

    const layout = OciLayout.open(layoutDir);
    const desc = await layout.resolve('v2');
    const manifest = await layout.readJsonBlob<OciManifestJson>(desc.digest);
    assert.equal(manifest.layers.length, 2);
    assert.ok(
      layerFiles(await layout.readBlob(manifest.layers[1]!.digest)).has('opt/app/.wh.remove-me.txt'),
      'repack wrote a whiteout',
    );

    // Push with skopeo, digest unchanged.
    const pushed = await skopeoCopyDigest(sb, layout.ref('v2'), dockerRef(reg.host, 'interop/umoci', 'v2'), [
      '--preserve-digests',
    ]);
    assert.equal(pushed, desc.digest);
    assert.ok(
      (await inspectRaw(sb, dockerRef(reg.host, 'interop/umoci', 'v2'))).equals(await layout.readBlob(desc.digest)),
    );

    // Pull into a new layout and unpack with umoci.
    const pulledDir = env.path('pulled');
    await skopeoCopy(sb, dockerRef(reg.host, 'interop/umoci', 'v2'), `oci:${pulledDir}:v2`, ['--preserve-digests']);
    assert.equal((await OciLayout.open(pulledDir).resolve('v2')).digest, desc.digest);
    const bundle2 = env.path('bundle2');
    await umoci(['unpack', '--image', `${pulledDir}:v2`, bundle2]);
    const rootfs = path.join(bundle2, 'rootfs');
    assert.equal(await readFile(path.join(rootfs, 'opt/app/keep.txt'), 'utf8'), keep);
    assert.equal(await readFile(path.join(rootfs, 'opt/app/added.txt'), 'utf8'), added);
    assert.ok((await readFile(path.join(rootfs, 'opt/app/blob.bin'))).equals(blob));
    assert.equal(
      await exists(path.join(rootfs, 'opt/app/remove-me.txt')),
      false,
      'whiteout must hide the deleted file',
    );
    const runtime = JSON.parse(await readFile(path.join(bundle2, 'config.json'), 'utf8')) as {
      process: { env: string[] };
      annotations?: Record<string, string>;
    };
    assert.ok(runtime.process.env.includes('FOO=bar'), `runtime env: ${JSON.stringify(runtime.process.env)}`);
    assert.equal(runtime.annotations?.['org.example.tool'], 'umoci');
  });
});
