/**
 * Logging in and using stored credentials for real: docker-registry with htpasswd
 * (Basic) and Stowage with token auth (Bearer, refresh tokens), through the CLI with
 * docker's config.json — shared with skopeo in both directions — and through a
 * credential helper.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/password.js';
import { RegistryClient, StaticCredentials, type ClientError } from '../../src/client/index.js';
import { PASSWORDS, startAuthInProcess, type AuthServer } from '../auth/helpers.js';
import { startDistribution, type DistributionHandle } from '../helpers/distribution.js';
import { createSimpleLayout } from '../helpers/oci-fixtures.js';
import {
  createContainersSandbox,
  makeTempDir,
  removeDir,
  requireTools,
  type ContainersSandbox,
} from '../helpers/tools.js';
import { stowage, writeFakeHelper } from './helpers.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('login and stored credentials', { timeout: 90_000 }, () => {
  let work: string;
  let dist: DistributionHandle;
  let auth: AuthServer;
  let sb: ContainersSandbox;
  let layout: string;
  let n = 0;

  /** A fresh DOCKER_CONFIG (and HOME, so no helm config of the machine leaks in). */
  const home = async (config?: unknown) => {
    const dir = path.join(work, `home-${n++}`);
    await mkdir(path.join(dir, 'docker'), { recursive: true });
    if (config) await writeFile(path.join(dir, 'docker', 'config.json'), JSON.stringify(config));
    const env = {
      DOCKER_CONFIG: path.join(dir, 'docker'),
      HOME: dir,
      XDG_CONFIG_HOME: path.join(dir, '.config'),
      DOCKER_AUTH_CONFIG: undefined,
      HELM_REGISTRY_CONFIG: undefined,
    };
    return { dir, env, config: path.join(dir, 'docker', 'config.json') };
  };

  before(async () => {
    requireTools('docker-registry', 'skopeo');
    work = await makeTempDir('client-auth');
    const htpasswd = path.join(work, 'htpasswd');
    await writeFile(htpasswd, `alice:${await hashPassword('alice-pw', 4)}\n`);
    [dist, auth] = await Promise.all([
      startDistribution({
        extraConfig: ['auth:', '  htpasswd:', '    realm: stowage-test', `    path: ${JSON.stringify(htpasswd)}`],
      }),
      startAuthInProcess({ mode: 'token' }),
    ]);
    sb = await createContainersSandbox('cl-auth');
    layout = path.join(work, 'layout');
    await createSimpleLayout(layout, { tag: 'v1' });
  });
  after(async () => {
    await Promise.allSettled([dist?.stop(), auth?.stop(), sb?.cleanup()]);
    if (work) await removeDir(work);
  });

  it('Basic (docker-registry htpasswd): login verifies before saving; docker’s file works both ways with skopeo', async () => {
    const h = await home();
    const bad = await stowage(['login', dist.host, '-u', 'alice', '--password-stdin'], {
      env: h.env,
      input: 'wrong\n',
    });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, new RegExp(`login to ${dist.host} failed`));
    await assert.rejects(readFile(h.config), /ENOENT/, 'nothing saved');

    const ok = await stowage(['login', dist.host, '-u', 'alice', '--password-stdin'], {
      env: h.env,
      input: 'alice-pw\n',
    });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Login Succeeded/);
    assert.deepEqual(JSON.parse(await readFile(h.config, 'utf8')).auths, {
      [dist.host]: { auth: b64('alice:alice-pw') },
    });

    const push = await stowage(['image', 'push', layout, `${dist.host}/alice/app:v1`, '--output', 'json'], {
      env: h.env,
    });
    assert.equal(push.code, 0, push.stderr);
    // skopeo reads the config.json stowage wrote…
    await sb.skopeo(['inspect', '--tls-verify=false', '--authfile', h.config, `docker://${dist.host}/alice/app:v1`]);
    // …and stowage reads one skopeo wrote.
    const other = await home();
    await sb.skopeo(
      ['login', '--tls-verify=false', '--authfile', other.config, '-u', 'alice', '--password-stdin', dist.host],
      { input: 'alice-pw' },
    );
    const tags = await stowage(['tags', `${dist.host}/alice/app`], { env: other.env });
    assert.equal(tags.stdout.trim(), 'v1', tags.stderr);

    const out = await stowage(['logout', dist.host], { env: h.env });
    assert.match(out.stdout, new RegExp(`Removed login credentials for ${dist.host}`));
    const anon = await stowage(['tags', `${dist.host}/alice/app`], { env: h.env });
    assert.equal(anon.code, 1);
    assert.match(anon.stderr, /requires authentication/);
    assert.match(anon.stderr, new RegExp(`hint: log in first: \`stowage login ${dist.host}`));
    assert.match((await stowage(['logout', dist.host], { env: h.env })).stdout, /Not logged in/);
  });

  it('Bearer (Stowage token auth): the refresh token goes to the credential helper and pushes use it', async () => {
    const h = await home({ credsStore: 'test' });
    const helper = await writeFakeHelper(path.join(h.dir, 'bin'));
    const env = { ...h.env, PATH: `${path.dirname(helper.bin)}:${process.env.PATH}` };
    const login = await stowage(['login', auth.host, '-u', 'alice', '--password-stdin', '--output', 'json'], {
      env,
      input: PASSWORDS.alice,
    });
    assert.equal(login.code, 0, login.stderr);
    const doc = JSON.parse(login.stdout) as {
      verified: boolean;
      auth: string;
      identityToken: boolean;
      stored: { helper: string };
    };
    assert.deepEqual([doc.verified, doc.auth, doc.identityToken, doc.stored.helper], [true, 'bearer', true, 'test']);
    const held = JSON.parse(await readFile(helper.store, 'utf8'))[auth.host] as { Username: string; Secret: string };
    assert.equal(held.Username, '<token>', 'an identity token, not the password');
    assert.notEqual(held.Secret, PASSWORDS.alice);
    assert.deepEqual(JSON.parse(await readFile(h.config, 'utf8')).auths, { [auth.host]: {} });

    const push = await stowage(['image', 'push', layout, `${auth.host}/alice/app:v1`], { env });
    assert.equal(push.code, 0, push.stderr);
    const tags = await stowage(['tags', `${auth.host}/alice/app`, '--output', 'json'], { env });
    assert.deepEqual(JSON.parse(tags.stdout).tags, ['v1']);
  });

  it('Bearer: another user is denied, anonymous is told to log in, a wrong password fails the login', async () => {
    const bob = await home();
    assert.equal(
      (await stowage(['login', auth.host, '-u', 'bob', '--password-stdin'], { env: bob.env, input: PASSWORDS.bob }))
        .code,
      0,
    );
    const denied = await stowage(['image', 'push', layout, `${auth.host}/alice/other:v1`], { env: bob.env });
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /denied/);
    assert.match(denied.stderr, /lacks this permission/);

    const anon = await home();
    const r = await stowage(['inspect', `${auth.host}/alice/app:v1`, '--output', 'json'], { env: anon.env });
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.stdout).error.code, 'UNAUTHORIZED');
    assert.match(r.stderr, new RegExp(`stowage login ${auth.host}`));

    const c = new RegistryClient({ credentials: new StaticCredentials({}) });
    try {
      await assert.rejects(
        c.login(auth.host, 'alice', 'not-her-password'),
        (e: ClientError) => e.code === 'LOGIN_FAILED',
      );
      assert.equal((await c.login(auth.host, 'alice', PASSWORDS.alice)).scheme, 'bearer');
    } finally {
      c.close();
    }
  });

  it('Basic (Stowage auth.mode basic): login, push and pull with the stored password', async () => {
    const basic = await startAuthInProcess({ mode: 'basic' });
    try {
      const h = await home();
      const login = await stowage(['login', basic.host, '-u', 'alice', '--password-stdin', '--output', 'json'], {
        env: h.env,
        input: PASSWORDS.alice,
      });
      assert.equal(login.code, 0, login.stderr);
      assert.deepEqual(JSON.parse(login.stdout).auth, 'basic');
      assert.equal((await stowage(['image', 'push', layout, `${basic.host}/alice/basic:v1`], { env: h.env })).code, 0);
      const pulled = await stowage(['image', 'pull', `${basic.host}/alice/basic:v1`, '-o', path.join(h.dir, 'b.tar')], {
        env: h.env,
      });
      assert.equal(pulled.code, 0, pulled.stderr);
      const bad = await stowage(['login', basic.host, '-u', 'alice', '--password-stdin'], {
        env: h.env,
        input: 'wrong',
      });
      assert.equal(bad.code, 1);
    } finally {
      await basic.stop();
    }
  });
});
