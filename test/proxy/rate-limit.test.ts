/**
 * The pull-through cache against an upstream that answers 429 with Retry-After (nginx
 * in front of Debian's docker-registry, test/helpers/rate-limiter.ts): what is cached
 * is still served (tags flagged stale), the rate-limited URL is not asked again until
 * its Retry-After is over (counted in nginx's access log), uncached content answers
 * 429 with a Retry-After, a second URL takes over, and once Retry-After has passed the
 * upstream is asked again.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { RegistryClient, StaticCredentials, parseReference, pushImage } from '../../src/client/index.js';
import { startDistribution, type DistributionHandle } from '../helpers/distribution.js';
import { skopeoCopyDigest } from '../helpers/interop.js';
import { createSimpleLayout } from '../helpers/oci-fixtures.js';
import { startRateLimiter, type RateLimiter } from '../helpers/rate-limiter.js';
import { startInProcess, type InProcessStowage } from '../helpers/server.js';
import {
  createContainersSandbox,
  makeTempDir,
  removeDir,
  requireTools,
  type ContainersSandbox,
} from '../helpers/tools.js';

const MANIFEST_ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';
/** Long enough that the test never outlasts it; the short one is waited out. */
const LONG_RETRY_AFTER = 600;
const SHORT_RETRY_AFTER = 1;

describe('pull-through cache: upstream 429 and Retry-After', { timeout: 180_000 }, () => {
  let upstream: DistributionHandle;
  let long: RateLimiter;
  let short: RateLimiter;
  let cache: InProcessStowage;
  let sb: ContainersSandbox;
  let work: string;
  let client: RegistryClient;
  const images: Record<string, { digest: string; layers: string[] }> = {};

  const seed = async (name: string) => {
    const dir = path.join(work, name);
    await createSimpleLayout(dir, { tag: '1', layerCount: 2 });
    const pushed = await pushImage(client, dir, parseReference(`${upstream.host}/library/${name}:1`));
    const manifest = (await (
      await fetch(`${upstream.url}/v2/library/${name}/manifests/1`, { headers: { Accept: MANIFEST_ACCEPT } })
    ).json()) as { layers: { digest: string }[] };
    images[name] = { digest: pushed.digest, layers: manifest.layers.map((l) => l.digest) };
  };
  let pulls = 0;
  const pull = (repo: string) =>
    skopeoCopyDigest(sb, `docker://${cache.host}/${repo}:1`, `oci:${path.join(work, `pulled-${pulls++}`)}:1`);
  const manifest = (repo: string) =>
    fetch(`${cache.url}/v2/${repo}/manifests/1`, { headers: { Accept: MANIFEST_ACCEPT } });
  /** The requests that reached a limiter after the first `from`. */
  const since = async (limiter: RateLimiter, from: number) => (await limiter.requests()).slice(from);
  const retryAfter = (res: Response) => {
    const value = res.headers.get('retry-after');
    assert.match(value ?? '', /^\d+$/, `Retry-After: ${value}`);
    return Number(value);
  };

  before(async () => {
    requireTools('docker-registry', 'skopeo', 'nginx');
    work = await makeTempDir('proxy-rate-limit');
    sb = await createContainersSandbox('proxy-rate-limit');
    upstream = await startDistribution();
    client = new RegistryClient({ credentials: new StaticCredentials({}) });
    for (const name of ['app', 'other', 'third']) await seed(name);
    [long, short] = await Promise.all([
      startRateLimiter(upstream.host, LONG_RETRY_AFTER),
      startRateLimiter(upstream.host, SHORT_RETRY_AFTER),
    ]);
    cache = await startInProcess({
      fsync: false,
      proxy: [
        // Tag TTL 0: every tag request asks upstream first.
        { prefix: 'rl', upstreams: [long.url], tag_ttl_seconds: 0 },
        { prefix: 'fo', upstreams: [long.url, upstream.url], tag_ttl_seconds: 0 },
        { prefix: 'short', upstreams: [short.url], tag_ttl_seconds: 0 },
      ],
    } as never);
  });
  after(async () => {
    client?.close();
    await Promise.allSettled([cache?.stop(), long?.stop(), short?.stop(), upstream?.stop()]);
    await Promise.allSettled([sb?.cleanup(), work ? removeDir(work) : undefined]);
  });

  it('serves what is cached while upstream answers 429, and asks it nothing until Retry-After is over', async () => {
    assert.equal(await pull('rl/library/app'), images.app!.digest);
    await long.limit(true);
    const mark = (await long.requests()).length;

    const stale = await manifest('rl/library/app');
    assert.equal(stale.status, 200);
    assert.equal(stale.headers.get('docker-content-digest'), images.app!.digest);
    assert.equal(stale.headers.get('stowage-cache'), 'stale');
    const refused = await since(long, mark);
    assert.deepEqual(
      refused.map((r) => [r.status, r.method, r.path]),
      [[429, 'HEAD', '/v2/library/app/manifests/1']],
      'one HEAD, answered 429',
    );

    // Backing off: the tag and the whole image come from the cache without a request upstream.
    assert.equal((await manifest('rl/library/app')).headers.get('stowage-cache'), 'stale');
    assert.equal(await pull('rl/library/app'), images.app!.digest);
    assert.deepEqual(await since(long, mark + 1), [], 'nothing sent upstream while backing off');
  });

  it('answers uncached manifests and blobs with 429 and the Retry-After left, without asking upstream', async () => {
    const mark = (await long.requests()).length;
    const res = await manifest('rl/library/other');
    assert.equal(res.status, 429);
    assert.match(await res.text(), /TOOMANYREQUESTS/);
    const wait = retryAfter(res);
    assert.ok(wait >= 1 && wait <= LONG_RETRY_AFTER, `Retry-After ${wait}`);
    const blob = await fetch(`${cache.url}/v2/rl/library/other/blobs/${images.other!.layers[0]}`);
    assert.equal(blob.status, 429);
    await blob.arrayBuffer();
    assert.ok(retryAfter(blob) <= LONG_RETRY_AFTER);
    assert.deepEqual(await since(long, mark), [], 'the limited upstream was not asked');
  });

  it('moves on to the next upstream URL when the first answers 429, and keeps skipping it', async () => {
    const mark = (await long.requests()).length;
    assert.equal(await pull('fo/library/other'), images.other!.digest);
    // This entry's first request met the 429; every later one went to the second URL.
    assert.deepEqual(
      (await since(long, mark)).map((r) => r.status),
      [429],
    );
    assert.equal(await pull('fo/library/third'), images.third!.digest);
    assert.equal((await since(long, mark)).length, 1);
  });

  it('asks upstream again once Retry-After is over', async () => {
    assert.equal(await pull('short/library/app'), images.app!.digest);
    await short.limit(true);
    const mark = (await short.requests()).length;
    const stale = await manifest('short/library/app');
    assert.equal(stale.headers.get('stowage-cache'), 'stale');
    assert.deepEqual(
      (await since(short, mark)).map((r) => r.status),
      [429],
    );
    await short.limit(false);
    // Stale until the back-off ends, then confirmed upstream again (the suite's timeout bounds the wait).
    let fresh = stale;
    while (fresh.headers.get('stowage-cache') === 'stale') {
      await sleep(200);
      fresh = await manifest('short/library/app');
    }
    assert.equal(fresh.status, 200);
    assert.equal(fresh.headers.get('docker-content-digest'), images.app!.digest);
    const after = await since(short, mark);
    assert.deepEqual(
      after.map((r) => [r.status, r.method]),
      [
        [429, 'HEAD'],
        [200, 'HEAD'],
      ],
      'asked once more, after the back-off',
    );
  });
});
