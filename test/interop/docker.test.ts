/**
 * The real Docker Engine (Debian docker.io 20.10, classic image store: the
 * vendored docker/distribution client inside dockerd) against Stowage, with no
 * auth and with token auth: login with a password and with a personal access
 * token, push of a multi-layer image, rmi and pull back (layer bytes compared),
 * pull by digest, push to a second repository (the registry must see the mounts),
 * push --all-tags, manifest inspect, a multi-arch index pulled per platform,
 * denied pull after logout, anonymous pull of a public repository, and
 * credentials shared with `stowage login` / `stowage image pull` through one
 * DOCKER_CONFIG. Images are built without a base (a docker-save archive written
 * by the fixtures, then `docker load`) and kept small: vfs copies every layer.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dockerClient, startDockerEngine, type DockerClient, type DockerEngine } from '../helpers/docker.js';
import { startEngineRegistry, type AuthMode, type EngineRegistry } from '../helpers/engine-registry.js';
import { skopeoCopy } from '../helpers/interop.js';
import {
  createMultiArchLayout,
  randomLayer,
  readDockerArchive,
  writeDockerArchive,
  type BuiltIndex,
  type DockerArchiveImage,
  type Platform,
} from '../helpers/oci-fixtures.js';
import { CLI } from '../helpers/server.js';
import {
  createContainersSandbox,
  makeTempDir,
  removeDir,
  requireTools,
  run,
  type ContainersSandbox,
} from '../helpers/tools.js';

const T = { timeout: 120_000 };
const DOCKER_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
const PLATFORMS: Platform[] = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64' },
  { os: 'linux', architecture: 'arm', variant: 'v7' },
];

let engine: DockerEngine;
let work: string;

before(async () => {
  requireTools('skopeo');
  work = await makeTempDir('docker-interop');
  engine = await startDockerEngine();
});
after(async () => {
  if (work) await removeDir(work);
});

/** The `<tag>: digest: sha256:… size: N` line docker push prints. */
function pushedDigest(stdout: string, tag: string): string {
  const m = new RegExp(`^${tag}: digest: (sha256:[0-9a-f]{64}) size: \\d+$`, 'm').exec(stdout);
  assert.ok(m, `docker push printed no digest line for ${tag}:\n${stdout}`);
  return m[1]!;
}

// The two registries run side by side; the steps against each one run in order.
describe('docker engine 20.10', { concurrency: 2 }, () => {
  for (const mode of ['none', 'token'] as AuthMode[]) {
    describe(mode === 'none' ? 'no auth' : 'token auth', { concurrency: 1 }, () => {
      let reg: EngineRegistry;
      let alice: DockerClient;
      let sb: ContainersSandbox;
      let dir: string;
      let app: DockerArchiveImage;
      let appDigest: string;
      let multi: BuiltIndex;
      const ref = (repo: string, tag = 'v1') => `${reg.host}/${repo}${tag.startsWith('sha256:') ? '@' : ':'}${tag}`;
      const client = async (name: string) => dockerClient(engine, join(dir, name));
      /** Layer blobs GET from the registry since mark (what a pull really downloaded). */
      const blobGets = (mark: number, repo: string) =>
        reg
          .requests(mark)
          .filter((r) => r.method === 'GET' && r.status === 200 && r.path.startsWith(`/v2/${repo}/blobs/`));

      before(async () => {
        dir = join(work, mode);
        reg = await startEngineRegistry(mode);
        alice = await client('alice');
        sb = await createContainersSandbox(`docker-${mode}`);
        const layers = [randomLayer('base'), randomLayer('lib'), randomLayer('app')];
        const archive = join(work, `${mode}-app.tar`);
        app = await writeDockerArchive(archive, {
          layers,
          repoTags: [ref('alice/app')],
          config: { env: ['STOWAGE_TEST=docker'] },
        });
        await alice.docker(['load', '-i', archive]);
        assert.equal(
          await alice.imageId(ref('alice/app')),
          app.configDigest,
          'docker load kept the config (image ID = its digest)',
        );
        ({ index: multi } = await createMultiArchLayout(join(work, `${mode}-multi`), PLATFORMS, { tag: 'idx' }));
      });
      after(async () => {
        await Promise.allSettled([reg?.stop(), sb?.cleanup()]);
      });

      if (mode === 'token') {
        it('docker login with a password (a wrong one is refused)', T, async () => {
          const wrong = await alice.login(reg.host, 'alice', 'not-her-password', { allowFailure: true });
          assert.notEqual(wrong.code, 0, `login with a wrong password should fail:\n${wrong.stdout}`);
          assert.match(wrong.stderr, /unauthorized|incorrect username or password|401/i);
          const r = await alice.login(reg.host, 'alice', reg.creds('alice')!.secret);
          assert.match(r.stdout, /Login Succeeded/);
          // Stowage hands out a refresh token at login (offline_token=true): docker keeps it, not the password.
          const saved = JSON.parse(await readFile(join(alice.configDir, 'config.json'), 'utf8')).auths[reg.host];
          assert.equal(typeof saved.identitytoken, 'string', JSON.stringify(saved));
          assert.equal(Buffer.from(saved.auth, 'base64').toString(), 'alice:');
        });
      }

      it('push of a multi-layer image', T, async () => {
        const r = await alice.docker(['push', ref('alice/app')]);
        appDigest = pushedDigest(r.stdout, 'v1');
        const stored = await reg.manifest('alice/app', 'v1');
        assert.equal(stored.status, 200);
        assert.equal(stored.digest, appDigest, 'the registry serves the manifest docker computed');
        assert.equal(stored.contentType, DOCKER_V2);
        const m = JSON.parse(stored.body.toString('utf8'));
        assert.equal(m.config.digest, app.configDigest, 'config pushed byte for byte');
        assert.equal(m.layers.length, 3);
      });

      it('rmi, then pull back: same image ID and layer bytes', T, async () => {
        await alice.docker(['rmi', ref('alice/app')]);
        assert.equal(await alice.imageId(ref('alice/app')), undefined, 'rmi removed the image');
        const mark = reg.mark();
        const r = await alice.docker(['pull', ref('alice/app')]);
        assert.match(r.stdout, new RegExp(`Digest: ${appDigest}`));
        assert.equal(await alice.imageId(ref('alice/app')), app.configDigest);
        assert.equal(blobGets(mark, 'alice/app').length, 4, 'config and three layers downloaded');
        if (mode === 'token') {
          // With the identity token from login, docker gets access tokens by OAuth2 refresh.
          assert.ok(
            reg.requests(mark).some((q) => q.method === 'POST' && q.path.startsWith('/token') && q.status === 200),
            'POST /token',
          );
        }
        const saved = join(dir, 'saved.tar');
        await alice.docker(['save', '-o', saved, ref('alice/app')]);
        const back = await readDockerArchive(saved);
        assert.equal(back.configDigest, app.configDigest);
        assert.deepEqual(
          back.layerTars,
          app.layers.map((l) => l.tar),
          'layer contents as loaded',
        );
      });

      it('pull by digest', T, async () => {
        await alice.docker(['rmi', ref('alice/app')]);
        const mark = reg.mark();
        await alice.docker(['pull', ref('alice/app', appDigest)]);
        assert.equal(await alice.imageId(ref('alice/app', appDigest)), app.configDigest);
        assert.ok(blobGets(mark, 'alice/app').length >= 3, 'the layers came from the registry again');
        const digests = (
          await alice.docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', app.configDigest])
        ).stdout;
        assert.ok(JSON.parse(digests).includes(ref('alice/app', appDigest)), digests);
        await alice.docker(['tag', app.configDigest, ref('alice/app')]);
      });

      it('push to a second repository mounts the layers', T, async () => {
        await alice.docker(['tag', ref('alice/app'), ref('alice/copy')]);
        const mark = reg.mark();
        const r = await alice.docker(['push', ref('alice/copy')]);
        assert.equal(pushedDigest(r.stdout, 'v1'), appDigest);
        assert.equal((r.stdout.match(/Mounted from alice\/app/g) ?? []).length, 3, r.stdout);
        // A POST to the uploads endpoint answered 201 is a mount (docker never posts a whole blob).
        const mounts = reg
          .requests(mark)
          .filter((q) => q.method === 'POST' && q.path === '/v2/alice/copy/blobs/uploads/' && q.status === 201);
        assert.equal(mounts.length, 3, `the registry mounted each layer: ${JSON.stringify(reg.requests(mark))}`);
        assert.equal((await reg.manifest('alice/copy', 'v1')).digest, appDigest);
      });

      it('push --all-tags', T, async () => {
        for (const tag of ['a', 'b', 'c']) await alice.docker(['tag', ref('alice/app'), ref('alice/tags', tag)]);
        const r = await alice.docker(['push', '--all-tags', `${reg.host}/alice/tags`]);
        for (const tag of ['a', 'b', 'c']) assert.equal(pushedDigest(r.stdout, tag), appDigest);
        assert.deepEqual(await reg.tags('alice/tags'), ['a', 'b', 'c']);
      });

      it('manifest inspect shows what the registry holds', T, async () => {
        const r = await alice.docker(['manifest', 'inspect', '--insecure', ref('alice/app')]);
        const stored = await reg.manifest('alice/app', 'v1');
        assert.deepEqual(JSON.parse(r.stdout), JSON.parse(stored.body.toString('utf8')));
      });

      /** `docker pull --platform` of each platform of ref; checks the image ID and platform docker got. */
      const pullEachPlatform = async (
        cli: DockerClient,
        target: string,
        images: readonly { platform: Platform; configDigest: string }[],
      ) => {
        for (const { platform: p, configDigest } of images) {
          const platform = [p.os, p.architecture, p.variant].filter(Boolean).join('/');
          await cli.docker(['pull', '--platform', platform, target]);
          const got = (
            await cli.docker(['image', 'inspect', '--format', '{{.Id}} {{.Os}}/{{.Architecture}}', target])
          ).stdout.trim();
          assert.equal(got, `${configDigest} ${p.os}/${p.architecture}`, `pull --platform ${platform}`);
        }
      };

      it('an OCI index pulled per platform', T, async () => {
        const creds = reg.creds('alice');
        await skopeoCopy(sb, `oci:${join(work, `${mode}-multi`)}:idx`, `docker://${ref('alice/multi', 'idx')}`, [
          '--all',
          '--preserve-digests',
          ...(creds ? ['--dest-creds', `${creds.user}:${creds.secret}`] : []),
        ]);
        assert.equal((await reg.manifest('alice/multi', 'idx')).digest, multi.digest);
        await pullEachPlatform(alice, ref('alice/multi', 'idx'), multi.images);
      });

      it(
        'a manifest list made with docker manifest create/annotate/push, inspected and pulled per platform',
        T,
        async () => {
          const images: { platform: Platform; configDigest: string; digest: string }[] = [];
          for (const platform of PLATFORMS) {
            const name = ['list', platform.architecture, platform.variant].filter(Boolean).join('-');
            const archive = join(work, `${mode}-${name}.tar`);
            const image = await writeDockerArchive(archive, {
              layers: [randomLayer(name)],
              repoTags: [ref(`alice/${name}`)],
              config: { platform },
            });
            await alice.docker(['load', '-i', archive]);
            const digest = pushedDigest((await alice.docker(['push', ref(`alice/${name}`)])).stdout, 'v1');
            images.push({ platform, configDigest: image.configDigest, digest });
          }
          const list = ref('alice/list');
          const members = PLATFORMS.map((p) =>
            ref(`alice/${['list', p.architecture, p.variant].filter(Boolean).join('-')}`),
          );
          await alice.docker(['manifest', 'create', '--insecure', list, ...members]);
          // The CLI reads os/architecture from each config but not the variant.
          await alice.docker(['manifest', 'annotate', '--variant', 'v7', list, members[2]!]);
          // It pushes each member manifest into the list's repository, then the list; the last line is the list's digest.
          const pushed = (await alice.docker(['manifest', 'push', '--insecure', list])).stdout
            .trim()
            .split('\n')
            .at(-1);
          const stored = await reg.manifest('alice/list', 'v1');
          assert.equal(stored.digest, pushed, 'manifest push printed the digest the registry holds');
          assert.equal(stored.contentType, 'application/vnd.docker.distribution.manifest.list.v2+json');
          const inspected = JSON.parse((await alice.docker(['manifest', 'inspect', '--insecure', list])).stdout);
          assert.deepEqual(inspected, JSON.parse(stored.body.toString('utf8')));
          // The CLI does not keep the order of the members it was given.
          const entries = (list: [string, string, string | undefined][]) =>
            list.sort((a, b) => a[0].localeCompare(b[0]));
          assert.deepEqual(
            entries(
              inspected.manifests.map((m: { digest: string; platform: Platform }) => [
                m.digest,
                m.platform.architecture,
                m.platform.variant,
              ]),
            ),
            entries(images.map((i) => [i.digest, i.platform.architecture, i.platform.variant])),
          );
          for (const member of members) await alice.docker(['rmi', member]);
          await pullEachPlatform(alice, list, images);
        },
      );

      if (mode !== 'token') return;

      it('docker login with a personal access token; a pull-only token cannot push', T, async () => {
        const ci = await client('alice-pat');
        const pat = await reg.createPat('alice', 'alice/**:pull,push');
        assert.match((await ci.login(reg.host, 'alice', pat)).stdout, /Login Succeeded/);
        await ci.docker(['tag', app.configDigest, ref('alice/app', 'pat')]);
        const r = await ci.docker(['push', ref('alice/app', 'pat')]);
        assert.equal(pushedDigest(r.stdout, 'pat'), appDigest);
        assert.ok((await reg.tags('alice/app')).includes('pat'));

        const ro = await client('alice-readonly');
        assert.match(
          (await ro.login(reg.host, 'alice', await reg.createPat('alice', 'alice/**:pull'))).stdout,
          /Login Succeeded/,
        );
        await ro.docker(['pull', ref('alice/copy')]);
        await ro.docker(['tag', app.configDigest, ref('alice/readonly')]);
        const denied = await ro.dockerFails(['push', ref('alice/readonly')]);
        assert.match(denied.stderr, /denied|unauthorized|authentication required/i);
        assert.equal((await reg.manifest('alice/readonly', 'v1')).status, 404);
      });

      it('denied pull after logout', T, async () => {
        const r = await alice.docker(['logout', reg.host]);
        assert.match(r.stdout, /Removing login credentials/);
        const config = JSON.parse(await readFile(join(alice.configDir, 'config.json'), 'utf8'));
        assert.equal(config.auths?.[reg.host], undefined);
        await alice.docker(['rmi', '--force', app.configDigest]);
        const denied = await alice.dockerFails(['pull', ref('alice/app')]);
        assert.match(denied.stderr, /denied|unauthorized|authentication required/i);
        assert.equal(await alice.imageId(ref('alice/app')), undefined);
      });

      it('anonymous pull of a public repository (anonymous push refused)', T, async () => {
        const admin = await client('admin');
        await admin.login(reg.host, 'admin', reg.creds('admin')!.secret);
        const archive = join(work, 'public.tar');
        const image = await writeDockerArchive(archive, {
          layers: [randomLayer('public')],
          repoTags: [ref('public/tool')],
        });
        await admin.docker(['load', '-i', archive]);
        await admin.docker(['push', ref('public/tool')]);
        await admin.docker(['rmi', ref('public/tool')]);

        const anonymous = await client('anonymous');
        await anonymous.docker(['pull', ref('public/tool')]);
        assert.equal(await anonymous.imageId(ref('public/tool')), image.configDigest);
        await anonymous.docker(['tag', ref('public/tool'), ref('public/tool', 'mine')]);
        const denied = await anonymous.dockerFails(['push', ref('public/tool', 'mine')]);
        assert.match(denied.stderr, /denied|unauthorized|authentication required/i);
        assert.deepEqual(await reg.tags('public/tool'), ['v1']);
      });

      it('stowage login, then docker pull with the same DOCKER_CONFIG', T, async () => {
        const shared = await client('stowage-then-docker');
        await run(process.execPath, [CLI, 'login', reg.host, '-u', 'alice', '--password-stdin'], {
          env: shared.env,
          input: `${reg.creds('alice')!.secret}\n`,
        });
        const config = JSON.parse(await readFile(join(shared.configDir, 'config.json'), 'utf8'));
        assert.ok(config.auths?.[reg.host], `stowage saved credentials for ${reg.host}: ${JSON.stringify(config)}`);
        await shared.docker(['pull', ref('alice/app')]);
        assert.equal(await shared.imageId(ref('alice/app')), app.configDigest);
      });

      it('docker login, then stowage image pull with the same DOCKER_CONFIG', T, async () => {
        const shared = await client('docker-then-stowage');
        await shared.login(reg.host, 'alice', reg.creds('alice')!.secret);
        const out = join(dir, 'stowage-pulled.tar');
        await run(process.execPath, [CLI, 'image', 'pull', ref('alice/app'), '-o', out], { env: shared.env });
        const pulled = await readDockerArchive(out);
        assert.equal(pulled.configDigest, app.configDigest);
        assert.deepEqual(
          pulled.layerTars,
          app.layers.map((l) => l.tar),
        );
        // And without the login, stowage is refused like docker was.
        const anonymous = await client('stowage-anonymous');
        const denied = await run(
          process.execPath,
          [CLI, 'image', 'pull', ref('alice/app'), '-o', join(dir, 'denied.tar')],
          { env: anonymous.env, allowFailure: true },
        );
        assert.notEqual(denied.code, 0, denied.stdout);
      });
    });
  }
});
