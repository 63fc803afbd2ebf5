/**
 * `--verify-key` on `chart pull`, `artifact pull` and `policy pull`: unsigned or
 * wrongly signed content writes nothing; once signed, exactly the verified digest is
 * written (a chart version range is resolved first, then verified).
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeKeyPair } from '../../src/client/index.js';
import { generateKeyPair } from '../../src/sign/index.js';
import { stowage } from '../client/helpers.js';
import { startInProcess, type InProcessStowage } from '../helpers/server.js';
import { makeTempDir, removeDir, type RunResult } from '../helpers/tools.js';

describe('--verify-key on chart, artifact and policy pulls', { timeout: 120_000 }, () => {
  let reg: InProcessStowage;
  let work: string;
  let env: Record<string, string>;
  const file = (...p: string[]) => path.join(work, ...p);
  const run = (...args: string[]) => stowage(args, { env });
  const ok = (r: RunResult) => assert.equal(r.code, 0, `exit ${r.code}\n${r.stderr}\n${r.stdout}`);
  const sign = async (target: string, key = 'alice') =>
    ok(
      await stowage(['sign', `${reg.host}/${target}`, '--key', file(`${key}.key`)], {
        env: { ...env, COSIGN_PASSWORD: key },
      }),
    );
  /** Runs a pull that must be refused, and checks that its output directory stayed empty. */
  const refusedInto = async (dir: string, args: string[], why: RegExp) => {
    await mkdir(dir, { recursive: true });
    const r = await run(...args);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, why);
    assert.deepEqual(await readdir(dir), [], 'nothing written');
  };

  before(async () => {
    reg = await startInProcess({ fsync: false });
    work = await makeTempDir('sign-pulls');
    await mkdir(file('docker'));
    env = { DOCKER_CONFIG: file('docker'), HOME: work };
    for (const name of ['alice', 'bob'])
      await writeKeyPair(file(name), await generateKeyPair(Buffer.from(name), { N: 32768 }));
  });
  after(async () => {
    await reg?.stop();
    if (work) await removeDir(work);
  });

  it('chart pull', async () => {
    ok(await run('chart', 'create', file('demo')));
    ok(await run('chart', 'package', file('demo'), '-d', work));
    ok(await run('chart', 'push', file('demo-0.1.0.tgz'), `oci://${reg.host}/charts`));
    const pull = (dir: string, key: string, version = '0.1.0') => [
      'chart',
      'pull',
      `oci://${reg.host}/charts/demo`,
      '--version',
      version,
      '-d',
      dir,
      '--verify-key',
      file(`${key}.pub`),
    ];
    await refusedInto(file('c1'), pull(file('c1'), 'alice'), /no signatures found for .*charts\/demo:0\.1\.0@sha256:/);
    await sign('charts/demo:0.1.0');
    await refusedInto(file('c2'), pull(file('c2'), 'bob'), /does not verify with .*bob\.pub/);
    const r = await run(...pull(file('c3'), 'alice', '^0.1'), '--output', 'json');
    ok(r);
    assert.deepEqual(await readdir(file('c3')), ['demo-0.1.0.tgz']);
    assert.match(r.stderr, /verified .*charts\/demo:0\.1\.0@sha256:[0-9a-f]{64}: 2 signatures by key .*alice\.pub/);
    // Without --verify-key nothing changes.
    ok(await run('chart', 'pull', `oci://${reg.host}/charts/demo`, '--version', '0.1.0', '-d', file('c4')));
  });

  it('artifact pull', async () => {
    await mkdir(file('manifests'));
    await writeFile(file('manifests', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n');
    ok(
      await run(
        'artifact',
        'push',
        `oci://${reg.host}/flux/app:v1`,
        '--path',
        file('manifests'),
        '--source',
        'https://example.com/repo.git',
        '--revision',
        'main@sha1:0123456789abcdef0123456789abcdef01234567',
      ),
    );
    const pull = (dir: string) => [
      'artifact',
      'pull',
      `oci://${reg.host}/flux/app:v1`,
      '-o',
      dir,
      '--verify-key',
      file('alice.pub'),
    ];
    await refusedInto(file('a1'), pull(file('a1')), /no signatures found/);
    await sign('flux/app:v1', 'bob');
    await refusedInto(file('a2'), pull(file('a2')), /does not verify with .*alice\.pub/);
    await sign('flux/app:v1');
    ok(await run(...pull(file('a3'))));
    assert.deepEqual(await readdir(file('a3')), ['cm.yaml']);
  });

  it('policy pull', async () => {
    await mkdir(file('policy'));
    await writeFile(file('policy', 'main.rego'), 'package demo\n\nimport rego.v1\n\nallow if input.user == "admin"\n');
    ok(await run('policy', 'push', `oci://${reg.host}/policies/demo:v1`, '--path', file('policy')));
    const pull = (dir: string) => [
      'policy',
      'pull',
      `oci://${reg.host}/policies/demo:v1`,
      '-o',
      dir,
      '--verify-key',
      file('alice.pub'),
    ];
    await refusedInto(file('p1'), pull(file('p1')), /no signatures found/);
    await sign('policies/demo:v1');
    ok(await run(...pull(file('p2'))));
    assert.ok((await readdir(file('p2'))).includes('main.rego'));
  });
});
