/**
 * The pull-through cache with Debian's docker-registry as the upstream: pulls through
 * the cache with skopeo, later pulls from the cache, pushes refused under the prefix.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegistryClient, StaticCredentials, parseReference, pushImage } from '../../src/client/index.js';
import { startDistribution, type DistributionHandle } from '../helpers/distribution.js';
import { stowage } from '../client/helpers.js';
import { skopeoCopy, skopeoCopyDigest } from '../helpers/interop.js';
import { createSimpleLayout, hexOf } from '../helpers/oci-fixtures.js';
import { runCli, startInProcess, type InProcessStowage } from '../helpers/server.js';
import { writeFile } from 'node:fs/promises';
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
  let configDigest: string;

  before(async () => {
    requireTools('docker-registry', 'skopeo', 'podman');
    upstream = await startDistribution();
    work = await makeTempDir('proxy-pull');
    sb = await createContainersSandbox('proxy-pull');
    client = new RegistryClient({ credentials: new StaticCredentials({}) });
    const dir = path.join(work, 'alpine');
    configDigest = (await createSimpleLayout(dir, { tag: '3', layerCount: 2 })).image.configDigest;
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

  it('podman pulls through the cache', async () => {
    const ref = `${cache.host}/hub/library/alpine:3`;
    const pulled = await sb.podman(['pull', '--tls-verify=false', '--signature-policy', sb.policyPath, '-q', ref]);
    assert.equal(pulled.stdout.trim(), hexOf(configDigest));
  });

  it('a signature made upstream verifies through the cache', async () => {
    const env = { DOCKER_CONFIG: path.join(work, 'docker'), HOME: work, COSIGN_PASSWORD: 'alice-pw' };
    const key = path.join(work, 'alice');
    const ok = (r: { code: number | null; stderr: string }) => assert.equal(r.code, 0, r.stderr);
    ok(await stowage(['key', 'generate', '--output-key-prefix', key], { env }));
    // Signed at the upstream (docker-registry: the .sig tag and the sha256-<hex> referrers tag).
    ok(await stowage(['sign', `${upstream.host}/library/alpine:3`, '--key', `${key}.key`], { env }));
    const verified = await stowage(
      ['verify', `${cache.host}/hub/library/alpine:3`, '--key', `${key}.pub`, '--output', 'json'],
      { env },
    );
    ok(verified);
    assert.match(verified.stdout, new RegExp(pushed));
    // Another key does not verify: the check is real.
    const other = path.join(work, 'bob');
    ok(await stowage(['key', 'generate', '--output-key-prefix', other], { env }));
    const refused = await stowage(['verify', `${cache.host}/hub/library/alpine:3`, '--key', `${other}.pub`], { env });
    assert.notEqual(refused.code, 0);
  });

  it('fsck knows that cached manifests wait for their blobs', async () => {
    const dir = path.join(work, 'lazy');
    await createSimpleLayout(dir, { tag: '1', layerCount: 1 });
    const digest = (await pushImage(client, dir, parseReference(`${upstream.host}/library/lazy:1`))).digest;
    // Only the manifest comes through: no client asked for the blobs yet.
    const res = await fetch(`${cache.url}/v2/hub/library/lazy/manifests/1`, {
      headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    assert.equal(res.headers.get('docker-content-digest'), digest);
    const config = path.join(work, 'stowage.yml');
    await writeFile(config, `proxy:\n  - prefix: hub\n    upstreams: ["${upstream.url}"]\n`);
    const withProxy = await runCli(['fsck', '--data', cache.dataDir, '--config', config, '--output', 'json']);
    assert.equal(withProxy.code, 0, withProxy.stdout + withProxy.stderr);
    // Without the proxy entry the same references are missing ones.
    const without = await runCli(['fsck', '--data', cache.dataDir, '--output', 'json']);
    assert.equal(without.code, 4);
    const kinds = (JSON.parse(without.stdout) as { problems: { kind: string; repository: string }[] }).problems;
    assert.ok(kinds.some((p) => p.kind === 'reference-missing' && p.repository === 'hub/library/lazy'));
  });

  it('refuses pushes under the proxied prefix and accepts them in local repositories', async () => {
    const src = `oci:${path.join(work, 'alpine')}:3`;
    const refused = await skopeoCopy(sb, src, `docker://${cache.host}/hub/library/mine:1`, [], { allowFailure: true });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /denied|read-only/i);
    const ok = await skopeoCopy(sb, src, `docker://${cache.host}/team/mine:1`);
    assert.equal(ok.code, 0);
  });

  it("the web UI's API offers no push or delete under the proxied prefix, and both locally", async () => {
    const summary = async (name: string) => {
      const res = await fetch(`${cache.url}/api/v1/repositories/${name}/-/summary`);
      assert.equal(res.status, 200);
      return (await res.json()) as { canPush: boolean; canDelete: boolean };
    };
    const proxied = await summary('hub/library/alpine');
    assert.equal(proxied.canPush, false);
    assert.equal(proxied.canDelete, false);
    const local = await summary('team/mine');
    assert.equal(local.canPush, true);
    assert.equal(local.canDelete, true);
  });
});
