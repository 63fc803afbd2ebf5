/**
 * The real Docker Engine (Debian docker.io, scripts/services/docker.sh) pulling through
 * the cache from Debian's docker-registry: `docker pull 127.0.0.1:PORT/hub/library/app:1`
 * gets the upstream's image (same image ID, same layers), and after `docker rmi` and the
 * upstream stopped, the same pull (by tag and by digest) is served from the cache.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dockerClient, startDockerEngine, type DockerClient } from '../helpers/docker.js';
import { startDistribution, type DistributionHandle } from '../helpers/distribution.js';
import { skopeoCopyDigest } from '../helpers/interop.js';
import {
  randomLayer,
  readDockerArchive,
  writeDockerArchive,
  type DockerArchiveImage,
} from '../helpers/oci-fixtures.js';
import { startInProcess, type InProcessStowage } from '../helpers/server.js';
import {
  createContainersSandbox,
  makeTempDir,
  removeDir,
  requireTools,
  type ContainersSandbox,
} from '../helpers/tools.js';

const T = { timeout: 120_000 };

describe('pull-through cache: docker pull', { timeout: 300_000, concurrency: 1 }, () => {
  let upstream: DistributionHandle;
  let cache: InProcessStowage;
  let docker: DockerClient;
  let sb: ContainersSandbox;
  let work: string;
  let app: DockerArchiveImage;
  let digest: string;
  const ref = () => `${cache.host}/hub/library/app:1`;
  const byDigest = () => `${cache.host}/hub/library/app@${digest}`;

  /** The layer tars of the image docker holds under `name`, as `docker save` writes them. */
  const savedLayers = async (name: string) => {
    const file = join(work, `saved-${Math.random().toString(36).slice(2)}.tar`);
    await docker.docker(['save', '-o', file, name]);
    return (await readDockerArchive(file)).layerTars;
  };

  before(async () => {
    requireTools('docker-registry', 'skopeo');
    work = await makeTempDir('proxy-docker');
    const engine = await startDockerEngine();
    docker = await dockerClient(engine, work);
    sb = await createContainersSandbox('proxy-docker');
    upstream = await startDistribution();
    // Random content: no other test's image shares this image ID in the shared daemon.
    const archive = join(work, 'app.tar');
    app = await writeDockerArchive(archive, {
      layers: [randomLayer('base'), randomLayer('app')],
      repoTags: ['stowage-test/proxy-app:1'],
      config: { env: ['STOWAGE_TEST=proxy-docker'] },
    });
    digest = await skopeoCopyDigest(sb, `docker-archive:${archive}`, `docker://${upstream.host}/library/app:1`);
    cache = await startInProcess({
      fsync: false,
      // Tag TTL 0: the pull after the outage asks upstream first, finds it gone, serves the cache.
      proxy: [{ prefix: 'hub', upstreams: [upstream.url], tag_ttl_seconds: 0 }],
    } as never);
  });
  after(async () => {
    if (docker && app) await docker.docker(['rmi', '-f', app.configDigest], { allowFailure: true });
    await Promise.allSettled([cache?.stop(), upstream?.stop()]);
    await Promise.allSettled([sb?.cleanup(), work ? removeDir(work) : undefined]);
  });

  it('docker pull through the cache gets the upstream image', T, async () => {
    const r = await docker.docker(['pull', ref()]);
    assert.match(r.stdout, new RegExp(`Digest: ${digest}`));
    assert.equal(await docker.imageId(ref()), app.configDigest);
    assert.deepEqual(
      await savedLayers(ref()),
      app.layers.map((l) => l.tar),
      'layer contents as pushed upstream',
    );
  });

  it('with the upstream stopped, docker pull (by tag and by digest) is served from the cache', T, async () => {
    await docker.docker(['rmi', ref()]);
    assert.equal(await docker.imageId(ref()), undefined, 'rmi removed the image');
    await upstream.stop();
    const again = await docker.docker(['pull', ref()]);
    assert.match(again.stdout, new RegExp(`Digest: ${digest}`));
    assert.equal(await docker.imageId(ref()), app.configDigest);
    assert.deepEqual(
      await savedLayers(ref()),
      app.layers.map((l) => l.tar),
    );
    await docker.docker(['rmi', ref()]);
    await docker.docker(['pull', byDigest()]);
    assert.equal(await docker.imageId(byDigest()), app.configDigest);
    // Something never pulled before fails cleanly: nothing cached and no upstream.
    const missing = await docker.dockerFails(['pull', `${cache.host}/hub/library/never-pulled:1`]);
    assert.match(missing.stderr, /503|unavailable|Service Unavailable/i);
  });
});
