/**
 * The seed walkthrough, end to end, with `stowage` alone against a Stowage
 * registry with token auth on: create a token, log in with it, push an image
 * archive, create/package/push a Helm chart, push a folder of manifests with its
 * Git source and revision, list, then pull each back and compare. Every
 * `stowage` command the README's walkthrough shows is run here.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { CLI, startStowage, type StowageProcess } from '../helpers/server.js';
import { makeTempDir, removeDir, run } from '../helpers/tools.js';
import { randomLayer, readDockerArchive, writeDockerArchive } from '../helpers/oci-fixtures.js';

let dir: string;
let registry: StowageProcess;
let env: Record<string, string>;

/** Runs the CLI as a user would, with its own docker config. */
function stowage(args: string[], input?: string) {
  return run(process.execPath, [CLI, ...args], { env, cwd: dir, ...(input === undefined ? {} : { input }) });
}

async function listFiles(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(root, p), (await readFile(p)).toString('base64'));
    }
  };
  await walk(root);
  return out;
}

before(async () => {
  dir = await makeTempDir('stowage-seed-');
  env = { DOCKER_CONFIG: join(dir, 'docker'), HELM_REGISTRY_CONFIG: join(dir, 'helm', 'config.json') };
  const config = join(dir, 'stowage.yaml');
  // The shipped example, with its paths moved into this test's folder.
  const example = await readFile(new URL('../../../examples/auth.yaml', import.meta.url), 'utf8');
  await writeFile(config, example.replace(/\.\/data/g, join(dir, 'data')));
  await stowage(['user', 'add', '--config', config, 'alice', '--password-stdin'], 'correct horse battery staple\n');
  registry = await startStowage({ dataDir: join(dir, 'data'), args: ['--config', config] });
});

after(async () => {
  await registry?.stop();
  await removeDir(dir);
});

test('the seed walkthrough with stowage alone, auth on', async (t) => {
  const host = registry.host;
  const config = join(dir, 'stowage.yaml');

  // 1. A personal access token, and a login with it (as `docker login --password <TOKEN>`).
  const created = await stowage([
    'token',
    'create',
    '--config',
    config,
    '--user',
    'alice',
    '--scope',
    'alice/**:pull,push',
    '--expires',
    '1d',
  ]);
  const token = created.stdout.trim().split('\n')[0]!;
  assert.match(token, /^stw_/);
  const login = await stowage(['login', host, '-u', 'alice', '--password-stdin'], `${token}\n`);
  assert.match(login.stdout + login.stderr, /Login Succeeded/i);
  const dockerConfig = JSON.parse(await readFile(join(dir, 'docker', 'config.json'), 'utf8')) as {
    auths: Record<string, unknown>;
  };
  assert.ok(dockerConfig.auths[host], 'credentials saved where docker reads them');

  await t.test('a container image from a docker save archive', async () => {
    const archive = join(dir, 'app.tar');
    const saved = await writeDockerArchive(archive, {
      layers: [randomLayer('app/bin', 8192), randomLayer('app/etc', 2048)],
      repoTags: ['app:v1'],
    });
    const push = await stowage(['image', 'push', archive, `${host}/alice/app:v1`, '--output', 'json']);
    const pushed = JSON.parse(push.stdout) as { digest: string };
    assert.match(pushed.digest, /^sha256:/);
    const back = join(dir, 'app-back.tar');
    await stowage(['image', 'pull', `${host}/alice/app:v1`, '-o', back]);
    const pulled = await readDockerArchive(back);
    assert.equal(pulled.configDigest, saved.configDigest, 'same image ID after the round trip');
    assert.deepEqual(
      pulled.layerTars.map((l) => l.toString('base64')),
      saved.layers.map((l) => l.tar.toString('base64')),
    );
  });

  await t.test('a Helm chart: create, package, push, pull', async () => {
    await stowage(['chart', 'create', 'hello']);
    const pkg = await stowage(['chart', 'package', 'hello', '-d', 'charts']);
    assert.match(pkg.stdout, /hello-0\.1\.0\.tgz/);
    const push = await stowage(['chart', 'push', join('charts', 'hello-0.1.0.tgz'), `oci://${host}/alice/charts`]);
    assert.match(push.stdout, new RegExp(`Pushed: ${host.replace(/\./g, '\\.')}/alice/charts/hello:0\\.1\\.0`));
    assert.match(push.stdout, /Digest: sha256:[a-f0-9]{64}/);
    await stowage(['chart', 'pull', `oci://${host}/alice/charts/hello`, '--version', '0.1.0', '-d', 'pulled']);
    const original = await readFile(join(dir, 'charts', 'hello-0.1.0.tgz'));
    const pulled = await readFile(join(dir, 'pulled', 'hello-0.1.0.tgz'));
    assert.ok(original.equals(pulled), 'the chart comes back byte for byte');
  });

  await t.test('manifests as a Flux artifact, with source and revision from git', async () => {
    const repo = join(dir, 'gitops');
    await mkdir(join(repo, 'deploy'), { recursive: true });
    await writeFile(
      join(repo, 'deploy', 'deployment.yaml'),
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n',
    );
    await writeFile(join(repo, 'deploy', 'kustomization.yaml'), 'resources:\n  - deployment.yaml\n');
    const git = (args: string[]) =>
      run('git', args, {
        cwd: repo,
        env: {
          GIT_AUTHOR_NAME: 'a',
          GIT_AUTHOR_EMAIL: 'a@example.com',
          GIT_COMMITTER_NAME: 'a',
          GIT_COMMITTER_EMAIL: 'a@example.com',
        },
      });
    await git(['init', '-q', '-b', 'main']);
    await git(['add', '.']);
    await git(['commit', '-q', '-m', 'deploy']);
    await git(['remote', 'add', 'origin', 'https://github.com/alice/gitops']);
    const sha = (await git(['rev-parse', 'HEAD'])).stdout.trim();
    const source = (await git(['remote', 'get-url', 'origin'])).stdout.trim();
    const branch = (await git(['rev-parse', '--abbrev-ref', 'HEAD'])).stdout.trim();

    const push = await stowage([
      'artifact',
      'push',
      `oci://${host}/alice/manifests:v1`,
      '--path',
      join(repo, 'deploy'),
      '--source',
      source,
      '--revision',
      `${branch}@sha1:${sha}`,
    ]);
    assert.match(
      push.stdout,
      new RegExp(`artifact successfully pushed to ${host.replace(/\./g, '\\.')}/alice/manifests@sha256:[a-f0-9]{64}`),
    );
    const list = await stowage(['artifact', 'list', `oci://${host}/alice/manifests`, '--output', 'json']);
    const entries = JSON.parse(list.stdout) as { tag?: string; source_url?: string; source_revision?: string }[];
    const v1 = entries.find((e) => e.tag === 'v1');
    assert.ok(v1, list.stdout);
    assert.equal(v1.source_url, source);
    assert.equal(v1.source_revision, `${branch}@sha1:${sha}`);
    await stowage(['artifact', 'pull', `oci://${host}/alice/manifests:v1`, '--output', join(dir, 'manifests-back')]);
    assert.deepEqual(await listFiles(join(dir, 'manifests-back')), await listFiles(join(repo, 'deploy')));
  });

  await t.test("nothing of alice's is readable anonymously", async () => {
    const anonymous = { ...env, DOCKER_CONFIG: join(dir, 'nobody') };
    const r = await run(process.execPath, [CLI, 'tags', `${host}/alice/app`], {
      env: anonymous,
      cwd: dir,
      allowFailure: true,
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /log in|login|unauthorized|denied/i);
  });
});
