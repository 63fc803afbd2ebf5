/**
 * The pull-through cache with Debian's docker-registry as the upstream: pulls through
 * the cache with skopeo, later pulls from the cache, pushes refused under the prefix.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegistryClient, StaticCredentials, parseReference, pushImage } from '../../src/client/index.js';
import { startDistribution, type DistributionHandle } from '../helpers/distribution.js';
import { skopeoCopy, skopeoCopyDigest } from '../helpers/interop.js';
import { createSimpleLayout } from '../helpers/oci-fixtures.js';
import { startInProcess, type InProcessStowage } from '../helpers/server.js';
import {
  createContainersSandbox,
  makeTempDir,
  removeDir,
  requireTools,
  type ContainersSandbox,
} from '../helpers/tools.js';

describe('pull-through cache (docker-registry upstream)', { timeout: 180_000 }, () => {
  let upstream: DistributionHandle;
  let cache: InProcessStowage;
  let sb: ContainersSandbox;
  let work: string;
  let client: RegistryClient;
  let pushed: string;

  before(async () => {
    requireTools('docker-registry', 'skopeo');
    upstream = await startDistribution();
    work = await makeTempDir('proxy-pull');
    sb = await createContainersSandbox('proxy-pull');
    client = new RegistryClient({ credentials: new StaticCredentials({}) });
    const dir = path.join(work, 'alpine');
    await createSimpleLayout(dir, { tag: '3', layerCount: 2 });
    pushed = (await pushImage(client, dir, parseReference(`${upstream.host}/library/alpine:3`))).digest;
    cache = await startInProcess({
      proxy: [{ prefix: 'hub', upstreams: [upstream.url], tag_ttl_seconds: 3600 }],
    } as never);
  });
  after(async () => {
    client?.close();
    await Promise.allSettled([cache?.stop(), upstream?.stop()]);
    await Promise.allSettled([sb?.cleanup(), work ? removeDir(work) : undefined]);
  });

  it('skopeo pulls an image through the cache, byte for byte', async () => {
    const digest = await skopeoCopyDigest(
      sb,
      `docker://${cache.host}/hub/library/alpine:3`,
      `oci:${path.join(work, 'pulled')}:3`,
    );
    assert.equal(digest, pushed);
    // The cache now holds it: the manifest and every blob are local content.
    const cached = client.repository(parseReference(`${cache.host}/hub/library/alpine`, { defaultTag: null }));
    assert.deepEqual(await cached.tags(), ['3']);
  });

  it('refuses pushes under the proxied prefix and accepts them in local repositories', async () => {
    const src = `oci:${path.join(work, 'alpine')}:3`;
    const refused = await skopeoCopy(sb, src, `docker://${cache.host}/hub/library/mine:1`, [], { allowFailure: true });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /denied|read-only/i);
    const ok = await skopeoCopy(sb, src, `docker://${cache.host}/team/mine:1`);
    assert.equal(ok.code, 0);
  });
});
