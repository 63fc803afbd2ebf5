/**
 * The real containerd (Debian containerd 1.6, `ctr`: containerd's remotes/docker
 * resolver, pusher and fetcher — what nerdctl, BuildKit and Kubernetes use)
 * against Stowage, with no auth and with token auth: import of a docker-save
 * archive and push (containerd uploads with one PUT, no PATCH), pull back, pull by
 * digest, push to a second repository (mounted), a multi-arch index with
 * --all-platforms pulled and pushed byte for byte, and with token auth `--user`
 * with a password and with a personal access token, refusals without them, and
 * anonymous pull of a public repository.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ctrClient, startContainerd, type Containerd, type CtrClient } from '../helpers/containerd.js';
import { startEngineRegistry, type AuthMode, type EngineRegistry } from '../helpers/engine-registry.js';
import { skopeoCopy } from '../helpers/interop.js';
import {
  createMultiArchLayout,
  randomLayer,
  writeDockerArchive,
  type BuiltIndex,
  type DockerArchiveImage,
} from '../helpers/oci-fixtures.js';
import {
  createContainersSandbox,
  makeTempDir,
  removeDir,
  requireTools,
  type ContainersSandbox,
} from '../helpers/tools.js';

const T = { timeout: 120_000 };

let containerd: Containerd;
let work: string;

before(async () => {
  requireTools('skopeo');
  work = await makeTempDir('containerd-interop');
  containerd = await startContainerd();
});
after(async () => {
  if (work) await removeDir(work);
});

// The two registries run side by side; the steps against each one run in order.
describe('containerd 1.6 (ctr)', { concurrency: 2 }, () => {
  for (const mode of ['none', 'token'] as AuthMode[]) {
    describe(mode === 'none' ? 'no auth' : 'token auth', { concurrency: 1 }, () => {
      let reg: EngineRegistry;
      let c: CtrClient;
      let sb: ContainersSandbox;
      let app: DockerArchiveImage;
      let appDigest: string;
      let multi: BuiltIndex;
      const ref = (repo: string, tag = 'v1') => `${reg.host}/${repo}${tag.startsWith('sha256:') ? '@' : ':'}${tag}`;
      /** --plain-http, and --user USER:SECRET when the registry has auth. */
      const remote = (user: 'alice' | 'admin' = 'alice') => {
        const creds = reg.creds(user);
        return ['--plain-http', ...(creds ? ['--user', `${creds.user}:${creds.secret}`] : [])];
      };
      const requests = (mark: number, method: string, repo: string) =>
        reg.requests(mark).filter((r) => r.method === method && r.path.startsWith(`/v2/${repo}/`));

      before(async () => {
        reg = await startEngineRegistry(mode);
        c = ctrClient(containerd, `stowage-${mode}`);
        sb = await createContainersSandbox(`containerd-${mode}`);
        const archive = join(work, `${mode}-app.tar`);
        app = await writeDockerArchive(archive, {
          layers: [randomLayer('base'), randomLayer('lib'), randomLayer('app')],
          repoTags: [ref('alice/app')],
        });
        await c.ctr(['images', 'import', archive]);
        ({ index: multi } = await createMultiArchLayout(join(work, `${mode}-multi`), [
          { os: 'linux', architecture: 'amd64' },
          { os: 'linux', architecture: 'arm64' },
          { os: 'linux', architecture: 'arm', variant: 'v7' },
        ]));
      });
      after(async () => {
        await Promise.allSettled([c?.clear(), reg?.stop(), sb?.cleanup()]);
      });

      it('push of an imported multi-layer image (one PUT per blob, no PATCH)', T, async () => {
        assert.ok(await c.imageDigest(ref('alice/app')), 'ctr images import named the image after its RepoTags');
        const mark = reg.mark();
        await c.ctr(['images', 'push', ...remote(), ref('alice/app')]);
        const stored = await reg.manifest('alice/app', 'v1');
        assert.equal(stored.status, 200);
        appDigest = stored.digest;
        assert.equal(
          appDigest,
          await c.imageDigest(ref('alice/app')),
          'the registry holds the manifest containerd has',
        );
        const m = JSON.parse(stored.body.toString('utf8'));
        assert.equal(m.config.digest, app.configDigest);
        assert.equal(m.layers.length, 3);
        assert.equal(requests(mark, 'PATCH', 'alice/app').length, 0);
        const puts = requests(mark, 'PUT', 'alice/app/blobs/uploads').filter((r) => r.status === 201);
        assert.equal(puts.length, 4, 'config and three layers, each in a single PUT');
      });

      it('pull --plain-http back into an empty namespace', T, async () => {
        await c.clear();
        assert.equal(await c.imageDigest(ref('alice/app')), undefined);
        const mark = reg.mark();
        await c.ctr(['images', 'pull', ...remote(), ref('alice/app')]);
        assert.equal(await c.imageDigest(ref('alice/app')), appDigest);
        const blobs = requests(mark, 'GET', 'alice/app/blobs').filter((r) => r.status === 200);
        assert.equal(blobs.length, 4, 'config and three layers downloaded');
        const config = (await c.ctr(['content', 'get', app.configDigest])).stdoutBytes;
        assert.deepEqual(config, app.config, 'config bytes as pushed');
      });

      it('pull by digest', T, async () => {
        await c.clear();
        await c.ctr(['images', 'pull', ...remote(), ref('alice/app', appDigest)]);
        assert.equal(await c.imageDigest(ref('alice/app', appDigest)), appDigest);
      });

      it('push to a second repository mounts the blobs', T, async () => {
        await c.ctr(['images', 'tag', ref('alice/app', appDigest), ref('alice/copy')]);
        const mark = reg.mark();
        await c.ctr(['images', 'push', ...remote(), ref('alice/copy')]);
        assert.equal((await reg.manifest('alice/copy', 'v1')).digest, appDigest);
        // containerd asks to mount what it pulled from the same registry (its distribution.source labels).
        const mounts = requests(mark, 'POST', 'alice/copy/blobs/uploads').filter((r) => r.status === 201);
        assert.equal(mounts.length, 4, `config and layers mounted: ${JSON.stringify(reg.requests(mark))}`);
        assert.equal(requests(mark, 'PUT', 'alice/copy/blobs/uploads').length, 0, 'nothing uploaded');
      });

      it('a multi-arch index: pull --all-platforms, push, byte for byte', T, async () => {
        const creds = reg.creds('alice');
        await skopeoCopy(sb, `oci:${join(work, `${mode}-multi`)}:multi`, `docker://${ref('alice/multi', 'idx')}`, [
          '--all',
          '--preserve-digests',
          ...(creds ? ['--dest-creds', `${creds.user}:${creds.secret}`] : []),
        ]);
        await c.ctr(['images', 'pull', '--all-platforms', ...remote(), ref('alice/multi', 'idx')]);
        assert.equal(await c.imageDigest(ref('alice/multi', 'idx')), multi.digest);
        for (const image of multi.images) {
          assert.deepEqual(
            (await c.ctr(['content', 'get', image.digest])).stdoutBytes,
            image.manifest,
            `manifest of ${image.platform.architecture}`,
          );
        }
        await c.ctr(['images', 'tag', ref('alice/multi', 'idx'), ref('alice/multi-copy', 'idx')]);
        await c.ctr(['images', 'push', ...remote(), ref('alice/multi-copy', 'idx')]);
        const copied = await reg.manifest('alice/multi-copy', 'idx');
        assert.equal(copied.digest, multi.digest);
        assert.deepEqual(copied.body, multi.index, 'index bytes kept (3-space indented)');
        for (const image of multi.images) {
          const child = await reg.manifest('alice/multi-copy', image.digest);
          assert.equal(child.status, 200, `child ${image.digest} pushed`);
          assert.deepEqual(child.body, image.manifest);
        }
        // One platform only, as a node pulls it.
        await c.clear();
        await c.ctr(['images', 'pull', '--platform', 'linux/arm64', ...remote(), ref('alice/multi-copy', 'idx')]);
        const arm64 = multi.images.find((i) => i.platform.architecture === 'arm64')!;
        assert.deepEqual((await c.ctr(['content', 'get', arm64.configDigest])).stdoutBytes, arm64.config);
        const amd64 = multi.images.find((i) => i.platform.architecture === 'amd64')!;
        const missing = await c.ctrFails(['content', 'get', amd64.configDigest]);
        assert.match(missing.stderr, /not found/i, 'other platforms were not fetched');
      });

      if (mode !== 'token') return;

      it('without --user a private pull is refused; a wrong password too', T, async () => {
        await c.clear();
        const anonymous = await c.ctrFails(['images', 'pull', '--plain-http', ref('alice/app')]);
        assert.match(anonymous.stderr, /401|403|unauthorized|denied|authorization/i);
        const wrong = await c.ctrFails([
          'images',
          'pull',
          '--plain-http',
          '--user',
          'alice:not-her-password',
          ref('alice/app'),
        ]);
        assert.match(wrong.stderr, /401|403|unauthorized|denied|authorization/i);
        assert.equal(await c.imageDigest(ref('alice/app')), undefined);
      });

      it('--user with a personal access token pulls and pushes; a pull-only token cannot push', T, async () => {
        const pat = await reg.createPat('alice', 'alice/**:pull,push');
        await c.ctr(['images', 'pull', '--plain-http', '--user', `alice:${pat}`, ref('alice/app')]);
        assert.equal(await c.imageDigest(ref('alice/app')), appDigest);
        await c.ctr(['images', 'tag', ref('alice/app'), ref('alice/app', 'pat')]);
        await c.ctr(['images', 'push', '--plain-http', '--user', `alice:${pat}`, ref('alice/app', 'pat')]);
        assert.equal((await reg.manifest('alice/app', 'pat')).digest, appDigest);

        const readOnly = await reg.createPat('alice', 'alice/**:pull');
        await c.ctr(['images', 'tag', ref('alice/app'), ref('alice/readonly')]);
        const denied = await c.ctrFails([
          'images',
          'push',
          '--plain-http',
          '--user',
          `alice:${readOnly}`,
          ref('alice/readonly'),
        ]);
        assert.match(denied.stderr, /401|403|unauthorized|denied|authorization/i);
        assert.equal((await reg.manifest('alice/readonly', 'v1')).status, 404);
      });

      it('anonymous pull of a public repository (anonymous push refused)', T, async () => {
        await c.ctr(['images', 'tag', ref('alice/app'), ref('public/app')]);
        const anonymousPush = await c.ctrFails(['images', 'push', '--plain-http', ref('public/app')]);
        assert.match(anonymousPush.stderr, /401|403|unauthorized|denied|authorization/i);
        await c.ctr(['images', 'push', ...remote('admin'), ref('public/app')]);
        await c.clear();
        await c.ctr(['images', 'pull', '--plain-http', ref('public/app')]);
        assert.equal(await c.imageDigest(ref('public/app')), appDigest);
      });
    });
  }
});
