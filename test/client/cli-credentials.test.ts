/**
 * Credentials and TLS options as flux and helm users pass them on the command
 * line (`--creds USER:PASSWORD`, `--insecure-registry`; `--username/--password`,
 * `--plain-http`), against a registry with token auth: used instead of stored
 * logins, nothing written to the docker config.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PASSWORDS, startAuthProcess, type AuthProcess } from '../auth/helpers.js';
import { makeTempDir, removeDir } from '../helpers/tools.js';
import { stowage } from './helpers.js';

describe('flux and helm credential flags', { timeout: 240_000 }, () => {
  let reg: AuthProcess;
  let work: string;
  let env: Record<string, string>;
  const run = (...args: string[]) => stowage(args, { env });

  before(async () => {
    reg = await startAuthProcess({ mode: 'token' });
    work = await makeTempDir('cli-creds');
    await mkdir(path.join(work, 'docker'));
    await mkdir(path.join(work, 'tree'));
    await writeFile(path.join(work, 'tree', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n');
    env = { DOCKER_CONFIG: path.join(work, 'docker'), HOME: work, XDG_CONFIG_HOME: path.join(work, '.config') };
  });
  after(async () => {
    await reg?.stop();
    await removeDir(work);
  });

  it('artifact push/list/pull with --creds and --insecure-registry; without them 401', async () => {
    const url = `oci://${reg.host}/alice/manifests:v1`;
    const push = [
      'artifact',
      'push',
      url,
      '-f',
      path.join(work, 'tree'),
      '--source',
      'git@example:x',
      '--revision',
      'main@sha1:1',
    ];
    const anonymous = await run(...push);
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /stowage login/);
    const ok = await run(...push, '--creds', `alice:${PASSWORDS.alice}`, '--insecure-registry');
    assert.equal(ok.code, 0, ok.stderr);
    const list = await run(
      'artifact',
      'list',
      `oci://${reg.host}/alice/manifests`,
      '--creds',
      `alice:${PASSWORDS.alice}`,
      '-o',
      'json',
    );
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(
      (JSON.parse(list.stdout) as { tag: string }[]).map((a) => a.tag),
      ['v1'],
    );
    const wrong = await run(
      'artifact',
      'list',
      `oci://${reg.host}/alice/manifests`,
      '--creds',
      'alice:not-the-password',
    );
    assert.equal(wrong.code, 1);
    const pulled = await run(
      'artifact',
      'pull',
      url,
      '-o',
      path.join(work, 'back'),
      '--creds',
      `alice:${PASSWORDS.alice}`,
    );
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.deepEqual(await readdir(path.join(work, 'back')), ['cm.yaml']);
    assert.deepEqual(await readdir(path.join(work, 'docker')), [], 'nothing stored');
    const provider = await run('artifact', 'list', `oci://${reg.host}/alice/manifests`, '--provider', 'aws');
    assert.equal(provider.code, 2);
    assert.match(provider.stderr, /cloud provider logins are not supported/);
    assert.equal(
      (
        await run(
          'artifact',
          'list',
          `oci://${reg.host}/alice/manifests`,
          '--provider',
          'generic',
          '--creds',
          `alice:${PASSWORDS.alice}`,
        )
      ).code,
      0,
    );
  });

  it('chart pull/show take helm --username/--password and --plain-http', async () => {
    const chartDir = path.join(work, 'demo');
    assert.equal((await run('chart', 'create', chartDir)).code, 0);
    const pkg = await run('chart', 'package', chartDir, '-d', work);
    assert.equal(pkg.code, 0, pkg.stderr);
    const creds = ['--username', 'alice', '--password', PASSWORDS.alice, '--plain-http'];
    const push = await run(
      'chart',
      'push',
      path.join(work, 'demo-0.1.0.tgz'),
      `oci://${reg.host}/alice/charts`,
      ...creds,
    );
    assert.equal(push.code, 0, push.stderr);
    const show = await run('chart', 'show', 'chart', `oci://${reg.host}/alice/charts/demo`, ...creds);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^apiVersion: v2/);
    const denied = await run(
      'chart',
      'show',
      'chart',
      `oci://${reg.host}/alice/charts/demo`,
      '--username',
      'alice',
      '--password',
      'wrong-password',
    );
    assert.equal(denied.code, 1);
    const noUser = await run('chart', 'show', 'chart', `oci://${reg.host}/alice/charts/demo`, '--password', 'x');
    assert.equal(noUser.code, 2);
  });
});
