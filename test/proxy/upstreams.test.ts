/**
 * The pull-through cache against real upstreams: docker-registry without auth (behind a
 * counting relay), docker-registry with htpasswd Basic auth, and Stowage with token
 * auth; several prefixes in one cache, failover, outages, tag TTLs, interrupted and
 * concurrent first pulls.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/password.js';
import { RegistryClient, StaticCredentials, parseReference, pushArtifact, pushImage } from '../../src/client/index.js';
import { PASSWORDS, startAuthInProcess, type AuthServer } from '../auth/helpers.js';
import { countingRelay, type CountingRelay } from '../helpers/counting-relay.js';
import { startDistribution, type DistributionHandle } from '../helpers/distribution.js';
import { skopeoCopyDigest } from '../helpers/interop.js';
import { createSimpleLayout } from '../helpers/oci-fixtures.js';
import { startInProcess, type InProcessStowage } from '../helpers/server.js';
import {
  createContainersSandbox,
  makeTempDir,
  removeDir,
  requireTools,
  type ContainersSandbox,
} from '../helpers/tools.js';

const MANIFEST_ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

describe('pull-through cache: upstreams, outages, TTL, big blobs', { timeout: 300_000 }, () => {
  let open: DistributionHandle;
  let basic: DistributionHandle;
  let token: AuthServer;
  let relay: CountingRelay;
  let dead: CountingRelay;
  let cache: InProcessStowage;
  let sb: ContainersSandbox;
  let work: string;
  let client: RegistryClient;
  const images: Record<string, string> = {};
  let big: Buffer;
  let bigDigest: string;
  let bigSize: number;

  /** Pushes a fresh image to `ref` and returns its manifest digest. */
  let seeded = 0;
  const seed = async (ref: string, layers = 1) => {
    const dir = path.join(work, `seed-${seeded++}`);
    await createSimpleLayout(dir, { tag: 'x', layerCount: layers });
    return (images[ref] = (await pushImage(client, dir, parseReference(ref))).digest);
  };
  let pulls = 0;
  const pull = (repo: string, ref: string) =>
    skopeoCopyDigest(sb, `docker://${cache.host}/${repo}:${ref}`, `oci:${path.join(work, `pulled-${pulls++}`)}:${ref}`);
  const manifestAt = (repo: string, ref: string) =>
    fetch(`${cache.url}/v2/${repo}/manifests/${ref}`, { headers: { Accept: MANIFEST_ACCEPT } });

  before(async () => {
    requireTools('docker-registry', 'skopeo');
    work = await makeTempDir('proxy-upstreams');
    const htpasswd = path.join(work, 'htpasswd');
    await writeFile(htpasswd, `alice:${await hashPassword('alice-pw', 4)}\n`);
    const passwordFile = path.join(work, 'basic-password');
    await writeFile(passwordFile, 'alice-pw\n');
    [open, basic, token] = await Promise.all([
      startDistribution(),
      startDistribution({
        extraConfig: ['auth:', '  htpasswd:', '    realm: proxy-test', `    path: ${JSON.stringify(htpasswd)}`],
      }),
      startAuthInProcess({ mode: 'token', users: ['alice'] }),
    ]);
    relay = await countingRelay(open.host);
    // A URL that refuses connections: a relay stopped before use.
    dead = await countingRelay(open.host);
    await dead.stop();
    sb = await createContainersSandbox('proxy-upstreams');
    client = new RegistryClient({
      credentials: new StaticCredentials({
        [basic.host]: { username: 'alice', password: 'alice-pw' },
        [token.host]: { username: 'alice', password: PASSWORDS.alice },
      }),
    });
    await Promise.all([
      seed(`${open.host}/library/alpine:3`),
      seed(`${basic.host}/acme/tool:1`),
      seed(`${token.host}/alice/app:v1`),
      seed(`${open.host}/library/moving:1`),
    ]);
    // One 64 MiB layer, for interrupted and concurrent first pulls.
    big = Buffer.alloc(64 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) createHash('sha256').update(String(i)).digest().copy(big, i);
    await pushArtifact(client, parseReference(`${open.host}/library/big:1`), {
      artifactType: 'application/vnd.stowage.test',
      layers: [{ mediaType: 'application/octet-stream', bytes: big }],
    });
    bigDigest = `sha256:${createHash('sha256').update(big).digest('hex')}`;
    bigSize = big.length;
    cache = await startInProcess({
      fsync: false,
      metrics: { enabled: true },
      proxy: [
        { prefix: 'hub', upstreams: [relay.url], tag_ttl_seconds: 0 },
        { prefix: 'priv', upstreams: [basic.url], username: 'alice', password_file: passwordFile },
        { prefix: 'stow', upstreams: [token.url], username: 'alice', password: PASSWORDS.alice },
        { prefix: 'failover', upstreams: [dead.url, open.url] },
        { prefix: 'short', upstreams: [relay.url], tag_ttl_seconds: 3 },
        { prefix: 'ranged', upstreams: [relay.url] },
      ],
    } as never);
  });
  after(async () => {
    client?.close();
    await Promise.allSettled([cache?.stop(), relay?.stop(), open?.stop(), basic?.stop(), token?.stop()]);
    await Promise.allSettled([sb?.cleanup(), work ? removeDir(work) : undefined]);
  });

  it('serves several upstreams under their prefixes: no auth, Basic (htpasswd) and token (Stowage)', async () => {
    assert.equal(await pull('hub/library/alpine', '3'), images[`${open.host}/library/alpine:3`]);
    assert.equal(await pull('priv/acme/tool', '1'), images[`${basic.host}/acme/tool:1`]);
    assert.equal(await pull('stow/alice/app', 'v1'), images[`${token.host}/alice/app:v1`]);
  });

  it('proxies the referrers API with the referrers cached next to their subject', async () => {
    const subjectRef = `${token.host}/alice/app:v1`;
    const subject = await client.repository(parseReference(subjectRef)).resolve('v1');
    const sbom = await pushArtifact(client, parseReference(`${token.host}/alice/app:sbom`), {
      artifactType: 'application/vnd.example.sbom',
      layers: [{ mediaType: 'application/json', bytes: Buffer.from('{"sbom":true}') }],
      subject,
    });
    const res = await fetch(`${cache.url}/v2/stow/alice/app/referrers/${subject.digest}`);
    assert.equal(res.status, 200);
    const index = (await res.json()) as { manifests: { digest: string; artifactType?: string }[] };
    assert.deepEqual(
      index.manifests.map((m) => [m.digest, m.artifactType]),
      [[sbom.descriptor.digest, 'application/vnd.example.sbom']],
    );
    // The referrer itself is cached content now.
    const cached = await manifestAt('stow/alice/app', sbom.descriptor.digest);
    assert.equal(cached.status, 200);
  });

  it('fails over to the next upstream URL when the first refuses connections', async () => {
    assert.equal(await pull('failover/library/alpine', '3'), images[`${open.host}/library/alpine:3`]);
  });

  it('serves cached content when the upstream is down, flagging the unconfirmed tag as stale', async () => {
    const digest = await pull('hub/library/moving', '1');
    const fresh = await manifestAt('hub/library/moving', '1');
    assert.equal(fresh.status, 200);
    assert.equal(fresh.headers.get('stowage-cache'), null);
    await relay.stop();
    try {
      const stale = await manifestAt('hub/library/moving', '1');
      assert.equal(stale.status, 200);
      assert.equal(stale.headers.get('docker-content-digest'), digest);
      assert.equal(stale.headers.get('stowage-cache'), 'stale');
      // The whole image comes from the cache (tag TTL 0: every pull asks upstream first).
      assert.equal(await pull('hub/library/moving', '1'), digest);
      // Nothing cached and no upstream: 503 with Retry-After.
      const missing = await manifestAt('hub/library/never-pulled', '1');
      assert.equal(missing.status, 503);
      assert.ok(missing.headers.get('retry-after'));
    } finally {
      await relay.start();
    }
  });

  it('sees a tag moved upstream after its TTL, not before', async () => {
    const ref = `${open.host}/library/alpine`;
    const first = await pull('short/library/alpine', '3');
    assert.equal(first, images[`${ref}:3`]);
    // Move the tag upstream to another image.
    const moved = await seed(`${ref}:3`);
    assert.notEqual(moved, first);
    const asked = relay.count('HEAD', /^\/v2\/library\/alpine\/manifests\/3$/);
    const before = await manifestAt('short/library/alpine', '3');
    assert.equal(before.headers.get('docker-content-digest'), first);
    assert.equal(
      relay.count('HEAD', /^\/v2\/library\/alpine\/manifests\/3$/),
      asked,
      'within the TTL, upstream is not asked',
    );
    let seen = first;
    for (let i = 0; i < 100 && seen === first; i++) {
      await sleep(200);
      seen = (await manifestAt('short/library/alpine', '3')).headers.get('docker-content-digest') ?? '';
    }
    assert.equal(seen, moved);
  });

  it('a client leaving mid-way through the first pull of a 64 MiB blob corrupts nothing; the next pull completes', async () => {
    const blobPath = new RegExp(`^/v2/library/big/blobs/${bigDigest}$`);
    const ac = new AbortController();
    const res = await fetch(`${cache.url}/v2/hub/library/big/blobs/${bigDigest}`, { signal: ac.signal });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    let got = 0;
    while (got < 8 * 1024 * 1024) got += (await reader.read()).value!.length;
    ac.abort();
    await reader.cancel().catch(() => undefined);
    const again = await fetch(`${cache.url}/v2/hub/library/big/blobs/${bigDigest}`);
    assert.equal(again.status, 200);
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of again.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      size += chunk.length;
    }
    assert.equal(size, bigSize);
    assert.equal(`sha256:${hash.digest('hex')}`, bigDigest);
    // The interrupted fetch went on and was kept: one upstream GET in all.
    assert.equal(relay.count('GET', blobPath), 1);
  });

  it('concurrent first pulls of a blob fetch it from upstream once', async () => {
    // The same big blob under another prefix is a first pull again (it was cached under hub/).
    const url = `${cache.url}/v2/short/library/big/blobs/${bigDigest}`;
    const blobPath = new RegExp(`^/v2/library/big/blobs/${bigDigest}$`);
    const before = relay.count('GET', blobPath);
    // The first one holds the fetch open by not reading; the others arrive while it runs.
    const leader = await fetch(url);
    assert.equal(leader.status, 200);
    const followers = [0, 1, 2].map(() => fetch(url));
    await sleep(300);
    const digestOf = async (res: Response) => {
      const hash = createHash('sha256');
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
      return `sha256:${hash.digest('hex')}`;
    };
    // The followers are answered once the leader's fetch has stored the blob.
    const digests = await Promise.all([digestOf(leader), ...followers.map(async (f) => digestOf(await f))]);
    assert.deepEqual(digests, [bigDigest, bigDigest, bigDigest, bigDigest]);
    assert.equal(relay.count('GET', blobPath) - before, 1);
  });

  it('a range of a blob not cached yet is answered from upstream, not after the whole blob', async () => {
    // Another prefix: a first pull again. The first client holds the full fetch open by not
    // reading: a range that waited for the whole blob would never be answered.
    const url = `${cache.url}/v2/ranged/library/big/blobs/${bigDigest}`;
    const blobPath = new RegExp(`^/v2/library/big/blobs/${bigDigest}$`);
    const before = relay.count('GET', blobPath);
    const leader = await fetch(url);
    assert.equal(leader.status, 200);
    const start = 40 * 1024 * 1024 + 123;
    const end = start + 1024 * 1024;
    const part = await fetch(url, { headers: { Range: `bytes=${start}-${end}` } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes ${start}-${end}/${bigSize}`);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(big.subarray(start, end + 1)), 'the bytes of the range');
    assert.equal(relay.count('GET', blobPath) - before, 2, 'the full fetch and the range');
    // The full fetch completes for the leader and is cached: a range now comes from here.
    const hash = createHash('sha256');
    for await (const chunk of leader.body as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
    assert.equal(`sha256:${hash.digest('hex')}`, bigDigest);
    // The client has every byte (Content-Length) a moment before the commit ends: wait until a
    // HEAD is answered here without one upstream.
    for (let asked = -1; asked !== relay.count('HEAD', blobPath);) {
      asked = relay.count('HEAD', blobPath);
      assert.equal((await fetch(url, { method: 'HEAD' })).status, 200);
    }
    const cached = await fetch(url, { headers: { Range: 'bytes=-10' } });
    assert.equal(cached.status, 206);
    assert.ok(Buffer.from(await cached.arrayBuffer()).equals(big.subarray(bigSize - 10)));
    assert.equal(relay.count('GET', blobPath) - before, 2, 'nothing more from upstream');
  });

  it('exports hits, misses, stale answers, upstream bytes and upstream errors', async () => {
    const text = await (await fetch(`${cache.url}/metrics`)).text();
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? NaN);
    assert.ok(value(/stowage_proxy_requests_total\{kind="manifest",result="miss"\} (\d+)/) > 0, text);
    assert.ok(value(/stowage_proxy_requests_total\{kind="manifest",result="stale"\} (\d+)/) > 0);
    assert.ok(value(/stowage_proxy_requests_total\{kind="blob",result="miss"\} (\d+)/) > 0);
    assert.ok(value(/stowage_proxy_requests_total\{kind="blob",result="hit"\} (\d+)/) > 0);
    const bytes = value(new RegExp(`stowage_proxy_upstream_bytes_total\\{upstream="${relay.url}"\\} (\\d+)`));
    assert.ok(bytes >= 2 * bigSize, `upstream bytes ${bytes}`);
    assert.ok(
      value(new RegExp(`stowage_proxy_upstream_errors_total\\{upstream="${dead.url}",reason="connection"\\} (\\d+)`)) >
        0,
    );
  });
  it('a restarted cache keeps its tag TTLs (kept in the metadata store): no upstream HEAD within the TTL', async () => {
    const data = await makeTempDir('proxy-restart');
    const config = {
      fsync: false,
      data,
      proxy: [{ prefix: 'hub', upstreams: [relay.url], tag_ttl_seconds: 3600 }],
    } as never;
    const heads = () => relay.count('HEAD', /^\/v2\/library\/alpine\/manifests\/3$/);
    try {
      const first = await startInProcess(config);
      let digest: string | null;
      const before = heads();
      try {
        const res = await fetch(`${first.url}/v2/hub/library/alpine/manifests/3`, {
          headers: { Accept: MANIFEST_ACCEPT },
        });
        assert.equal(res.status, 200);
        digest = res.headers.get('docker-content-digest');
        assert.equal(heads() - before, 1, 'the first pull asks upstream');
      } finally {
        await first.stop();
      }
      const second = await startInProcess(config);
      try {
        const res = await fetch(`${second.url}/v2/hub/library/alpine/manifests/3`, {
          headers: { Accept: MANIFEST_ACCEPT },
        });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('docker-content-digest'), digest);
        assert.equal(res.headers.get('stowage-cache'), null);
        assert.equal(heads() - before, 1, 'confirmed before the restart: not asked again');
      } finally {
        await second.stop();
      }
    } finally {
      await removeDir(data);
    }
  });
});
