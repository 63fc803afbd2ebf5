import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DockerCredentialStore,
  defaultDockerConfigPath,
  defaultHelmConfigPath,
  type ClientError,
} from '../../src/client/index.js';
import { makeTempDir, removeDir } from '../helpers/tools.js';
import { writeFakeHelper } from './helpers.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('docker config.json credentials', () => {
  let dir: string;
  let n = 0;
  /** A fresh config dir; PATH holds only the fake helper (and node, for its shebang). */
  const setup = async (config?: unknown, helm?: unknown) => {
    const d = path.join(dir, `case-${n++}`);
    await mkdir(d, { recursive: true });
    const dockerConfig = path.join(d, 'docker', 'config.json');
    const helmConfig = path.join(d, 'helm', 'config.json');
    if (config !== undefined) {
      await mkdir(path.dirname(dockerConfig), { recursive: true });
      await writeFile(dockerConfig, typeof config === 'string' ? config : JSON.stringify(config));
    }
    if (helm !== undefined) {
      await mkdir(path.dirname(helmConfig), { recursive: true });
      await writeFile(helmConfig, JSON.stringify(helm));
    }
    const bin = path.join(d, 'bin');
    const helper = await writeFakeHelper(bin);
    const warnings: string[] = [];
    const env = { PATH: bin, HOME: d };
    const store = new DockerCredentialStore({ dockerConfig, helmConfig, env, onWarning: (m) => warnings.push(m) });
    const read = async () => JSON.parse(await readFile(dockerConfig, 'utf8')) as Record<string, any>;
    return { d, dockerConfig, helmConfig, store, helper, warnings, read, env };
  };

  before(async () => {
    dir = await makeTempDir('client-creds');
  });
  after(async () => {
    await removeDir(dir);
  });

  it('reads auths entries: base64 auth, user/password fields, tokens, legacy keys, Docker Hub’s key', async () => {
    const { store } = await setup({
      auths: {
        'localhost:5000': { auth: b64('alice:s3cret:with:colons') },
        'https://legacy.example.com/v1/': { auth: b64('bob:pw') },
        'fields.example.com': { username: 'carol', password: 'pw2' },
        'ghcr.io': { auth: b64('dave:'), identitytoken: 'refresh-123' },
        'quay.io': { registrytoken: 'bearer-xyz' },
        'https://index.docker.io/v1/': { auth: b64('hubuser:hubpw') },
        'empty.example.com': {},
      },
      HttpHeaders: { 'X-Meta': 'kept' },
    });
    assert.deepEqual(await store.get('localhost:5000'), { username: 'alice', password: 's3cret:with:colons' });
    assert.deepEqual(await store.get('legacy.example.com'), { username: 'bob', password: 'pw' });
    assert.deepEqual(await store.get('fields.example.com'), { username: 'carol', password: 'pw2' });
    assert.deepEqual(await store.get('ghcr.io'), { username: 'dave', identityToken: 'refresh-123' });
    assert.deepEqual(await store.get('quay.io'), { registryToken: 'bearer-xyz' });
    assert.deepEqual(await store.get('docker.io'), { username: 'hubuser', password: 'hubpw' });
    assert.equal(await store.get('empty.example.com'), undefined);
    assert.equal(await store.get('unknown.example.com'), undefined);
  });

  it('treats a missing file as no credentials and a broken one as an error naming the file', async () => {
    const none = await setup();
    assert.equal(await none.store.get('localhost:5000'), undefined);
    const broken = await setup('{"auths": {');
    await assert.rejects(
      broken.store.get('localhost:5000'),
      (e: ClientError) => e.code === 'CREDENTIALS_INVALID' && e.message.includes(broken.dockerConfig),
    );
  });

  it('stores like docker: base64 auth, other settings kept, 0600, legacy duplicates replaced; identity tokens drop the password', async () => {
    const { store, read, dockerConfig } = await setup({
      auths: { 'https://localhost:5000/v1/': { auth: b64('old:old') }, 'other.io': { auth: b64('o:p') } },
      HttpHeaders: { 'X-Meta': 'kept' },
      credHelpers: { 'ecr.example.com': 'ecr-login' },
    });
    const r = await store.store('localhost:5000', { username: 'alice', password: 'pw' });
    assert.deepEqual(r, { file: dockerConfig });
    const doc = await read();
    assert.deepEqual(doc.auths, { 'other.io': { auth: b64('o:p') }, 'localhost:5000': { auth: b64('alice:pw') } });
    assert.deepEqual(doc.HttpHeaders, { 'X-Meta': 'kept' });
    assert.deepEqual(doc.credHelpers, { 'ecr.example.com': 'ecr-login' });
    assert.equal((await stat(dockerConfig)).mode & 0o777, 0o600);
    await store.store('docker.io', { username: 'hub', identityToken: 'refresh-abc' });
    assert.deepEqual((await read()).auths['https://index.docker.io/v1/'], {
      auth: b64('hub:'),
      identitytoken: 'refresh-abc',
    });
    assert.deepEqual(await store.get('docker.io'), { username: 'hub', identityToken: 'refresh-abc' });
  });

  it('creates the config directory and file when there is none', async () => {
    const { store, read } = await setup();
    await store.store('localhost:5000', { username: 'u', password: 'p' });
    assert.deepEqual((await read()).auths, { 'localhost:5000': { auth: b64('u:p') } });
  });

  it('erases from auths; erasing what is not there says so', async () => {
    const { store, read } = await setup({
      auths: { 'localhost:5000': { auth: b64('a:b') }, 'https://localhost:5000': { auth: b64('a:b') } },
    });
    assert.equal((await store.erase('localhost:5000')).removed, true);
    assert.deepEqual((await read()).auths, {});
    assert.equal((await store.erase('localhost:5000')).removed, false);
  });

  it('goes through credsStore: the helper holds the secret, auths gets a {} marker', async () => {
    const { store, read, helper } = await setup({
      credsStore: 'test',
      auths: { 'localhost:5000': { auth: b64('stale:stale') } },
    });
    const r = await store.store('localhost:5000', { username: 'alice', password: 'pw' });
    assert.equal(r.helper, 'test');
    assert.deepEqual((await read()).auths, { 'localhost:5000': {} });
    assert.deepEqual(JSON.parse(await readFile(helper.store, 'utf8')), {
      'localhost:5000': { ServerURL: 'localhost:5000', Username: 'alice', Secret: 'pw' },
    });
    assert.deepEqual(await store.get('localhost:5000'), { username: 'alice', password: 'pw' });
    // Identity tokens: Username "<token>".
    await store.store('docker.io', { username: 'hub', identityToken: 'tok' });
    assert.deepEqual(JSON.parse(await readFile(helper.store, 'utf8'))['https://index.docker.io/v1/'], {
      ServerURL: 'https://index.docker.io/v1/',
      Username: '<token>',
      Secret: 'tok',
    });
    assert.deepEqual(await store.get('docker.io'), { identityToken: 'tok' });
    assert.equal((await store.erase('localhost:5000')).removed, true);
    assert.equal(await store.get('localhost:5000'), undefined);
    assert.deepEqual(await helper.calls(), [
      'store localhost:5000',
      'get localhost:5000',
      'store https://index.docker.io/v1/',
      'get https://index.docker.io/v1/',
      'erase localhost:5000',
      'get localhost:5000',
    ]);
  });

  it('prefers credHelpers over credsStore; a missing helper warns and falls back to the file on reads, fails on writes', async () => {
    const { store, warnings } = await setup({
      credsStore: 'missing',
      credHelpers: { 'localhost:5000': 'test' },
      auths: { 'other.io': { auth: b64('o:p') } },
    });
    await store.store('localhost:5000', { username: 'alice', password: 'pw' });
    assert.deepEqual(await store.get('localhost:5000'), { username: 'alice', password: 'pw' });
    assert.deepEqual(await store.get('other.io'), { username: 'o', password: 'p' });
    assert.match(warnings.join('\n'), /docker-credential-missing/);
    await assert.rejects(
      store.store('other.io', { username: 'x', password: 'y' }),
      (e: ClientError) => e.code === 'CREDENTIAL_HELPER_FAILED' && /docker-credential-missing/.test(e.message),
    );
  });

  it('honours DOCKER_AUTH_CONFIG first, then docker’s file, then helm’s registry config', async () => {
    const c = await setup(
      { auths: { 'a.io': { auth: b64('docker:1') } } },
      { auths: { 'a.io': { auth: b64('helm:1') }, 'b.io': { auth: b64('helm:2') } } },
    );
    assert.deepEqual(await c.store.get('a.io'), { username: 'docker', password: '1' });
    assert.deepEqual(await c.store.get('b.io'), { username: 'helm', password: '2' });
    const withEnv = new DockerCredentialStore({
      dockerConfig: c.dockerConfig,
      helmConfig: c.helmConfig,
      env: { ...c.env, DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { 'a.io': { auth: b64('env:0') } } }) },
    });
    assert.deepEqual(await withEnv.get('a.io'), { username: 'env', password: '0' });
  });

  it('finds the files where docker and helm keep them', () => {
    assert.equal(defaultDockerConfigPath({ DOCKER_CONFIG: '/x/docker' }), '/x/docker/config.json');
    assert.equal(defaultDockerConfigPath({ HOME: '/home/u' }), '/home/u/.docker/config.json');
    assert.equal(defaultHelmConfigPath({ HELM_REGISTRY_CONFIG: '/h/r.json' }), '/h/r.json');
    assert.equal(defaultHelmConfigPath({ HOME: '/home/u' }), '/home/u/.config/helm/registry/config.json');
    assert.equal(defaultHelmConfigPath({ HOME: '/home/u', XDG_CONFIG_HOME: '/xdg' }), '/xdg/helm/registry/config.json');
  });
});
