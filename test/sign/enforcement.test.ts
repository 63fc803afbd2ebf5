/**
 * Registry-side enforcement: `stowage serve` with `require_signatures` refuses to
 * serve the content of unsigned or wrongly signed manifests in matching repositories
 * (skopeo pulls refused, then allowed once `stowage sign` has signed), while pushes,
 * HEAD, signature artifacts, referrers and other repositories stay untouched.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MT } from '../../src/core/media-types.js';
import { RegistryClient, parseReference, writeKeyPair } from '../../src/client/index.js';
import { generateKeyPair, signatureTag } from '../../src/sign/index.js';
import { stowage } from '../client/helpers.js';
import { dockerRef, inspectRaw, skopeoCopy, skopeoCopyDigest } from '../helpers/interop.js';
import { createMultiArchLayout, createSimpleLayout } from '../helpers/oci-fixtures.js';
import { startStowage, type StowageProcess } from '../helpers/server.js';
import {
  createContainersSandbox,
  makeTempDir,
  removeDir,
  requireTools,
  type ContainersSandbox,
  type RunResult,
} from '../helpers/tools.js';

describe('stowage serve with require_signatures', { timeout: 120_000 }, () => {
  let reg: StowageProcess;
  let sb: ContainersSandbox;
  let work: string;
  let env: Record<string, string>;
  let client: RegistryClient;
  const file = (name: string) => path.join(work, name);
  const ok = (r: RunResult) => assert.equal(r.code, 0, `exit ${r.code}\n${r.stderr}\n${r.stdout}`);
  const sign = (target: string, key: string) =>
    stowage(['sign', `${reg.host}/${target}`, '--key', file(`${key}.key`)], {
      env: { ...env, COSIGN_PASSWORD: `${key}-pw` },
    });
  let layouts = 0;
  /** Pushes a fresh single image with skopeo (pushes are never refused); returns its digest. */
  const pushImage = async (repo: string, tag: string) => {
    const dir = file(`layout-${++layouts}`);
    await createSimpleLayout(dir, { tag: 'v1', layerCount: 1 });
    return skopeoCopyDigest(sb, `oci:${dir}:v1`, dockerRef(reg.host, repo, tag));
  };
  const pull = (repo: string, ref: string, args: string[] = []) =>
    skopeoCopy(sb, dockerRef(reg.host, repo, ref), `oci:${file(`out-${++layouts}`)}:x`, args, { allowFailure: true });
  const refused = (r: RunResult) => {
    assert.notEqual(r.code, 0, `expected a refusal:\n${r.stdout}`);
    assert.match(r.stderr, /denied|not signed/i);
  };

  before(async () => {
    requireTools('skopeo');
    work = await makeTempDir('sign-enforce');
    sb = await createContainersSandbox('sign-enforce');
    await mkdir(file('docker'));
    env = { DOCKER_CONFIG: file('docker'), HOME: work };
    for (const name of ['alice', 'bob'])
      await writeKeyPair(file(name), await generateKeyPair(Buffer.from(`${name}-pw`)));
    const config = file('config.yaml');
    await writeFile(
      config,
      [
        'require_signatures:',
        `  "prod/**": ${JSON.stringify(file('alice.pub'))}`,
        `  "team/app": [${JSON.stringify(file('bob.pub'))}, ${JSON.stringify(file('alice.pub'))}]`,
        '',
      ].join('\n'),
    );
    reg = await startStowage({ args: ['--config', config] });
    client = new RegistryClient({ credentials: { get: async () => undefined } });
  });
  after(async () => {
    client?.close();
    await reg?.stop();
    await sb?.cleanup();
    if (work) await removeDir(work);
  });

  it('refuses an unsigned image to skopeo and to stowage; HEAD, pushes and other repositories are unaffected', async () => {
    const digest = await pushImage('prod/app', 'v1');
    refused(await pull('prod/app', 'v1'));
    refused(await pull('prod/app', digest));
    const s = await stowage(['image', 'pull', `${reg.host}/prod/app:v1`, '-o', file('never.tar')], { env });
    assert.equal(s.code, 1);
    assert.match(
      s.stderr,
      new RegExp(
        `denied .*prod/app@${digest} is not signed by a signer this registry trusts for prod/\\*\\* \\(.*alice\\.pub\\): no signature found`,
      ),
    );

    const head = await fetch(`${reg.url}/v2/prod/app/manifests/v1`, {
      method: 'HEAD',
      headers: { Accept: MT.ociManifest },
    });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('docker-content-digest'), digest);
    const get = await fetch(`${reg.url}/v2/prod/app/manifests/v1`, { headers: { Accept: MT.ociManifest } });
    assert.equal(get.status, 403);
    assert.equal(((await get.json()) as { errors: { code: string }[] }).errors[0]!.code, 'DENIED');
    // The manifest's bytes through the blobs endpoint are refused too.
    assert.equal((await fetch(`${reg.url}/v2/prod/app/blobs/${digest}`)).status, 403);

    const devDigest = await pushImage('dev/app', 'v1');
    ok(await pull('dev/app', 'v1'));
    assert.equal(
      (await fetch(`${reg.url}/v2/dev/app/manifests/${devDigest}`, { headers: { Accept: MT.ociManifest } })).status,
      200,
    );
  });

  it('serves it once signed; signatures and referrers stay readable', async () => {
    const digest = await pushImage('prod/signed', 'v1');
    refused(await pull('prod/signed', 'v1'));
    ok(await sign('prod/signed:v1', 'alice'));
    ok(await pull('prod/signed', 'v1'));
    ok(await pull('prod/signed', digest));
    ok(
      await stowage(
        ['image', 'pull', `${reg.host}/prod/signed:v1`, '--verify-key', file('alice.pub'), '-o', file('signed.tar')],
        { env },
      ),
    );
    // What verifiers read: the .sig image, its payload, the referrers.
    const sig = await inspectRaw(sb, dockerRef(reg.host, 'prod/signed', signatureTag(digest)));
    assert.match(sig.toString(), /dev\.cosignproject\.cosign\/signature/);
    const referrers = (await (await fetch(`${reg.url}/v2/prod/signed/referrers/${digest}`)).json()) as {
      manifests: { digest: string }[];
    };
    assert.equal(referrers.manifests.length, 1);
    assert.equal(
      (
        await fetch(`${reg.url}/v2/prod/signed/manifests/${referrers.manifests[0]!.digest}`, {
          headers: { Accept: MT.ociManifest },
        })
      ).status,
      200,
    );
  });

  it('refuses wrongly signed content: another key, a moved signature, a deleted signature', async () => {
    await pushImage('prod/bob', 'v1');
    ok(await sign('prod/bob:v1', 'bob'));
    const r = await pull('prod/bob', 'v1');
    refused(r);
    // team/app accepts either key: bob's signature is enough there.
    await pushImage('team/app', 'v1');
    refused(await pull('team/app', 'v1'));
    ok(await sign('team/app:v1', 'bob'));
    ok(await pull('team/app', 'v1'));

    // A valid signature of one image, tagged for another.
    const signed = await pushImage('prod/moved', 'signed');
    ok(
      await stowage(['sign', `${reg.host}/prod/moved:signed`, '--key', file('alice.key'), '--no-referrer'], {
        env: { ...env, COSIGN_PASSWORD: 'alice-pw' },
      }),
    );
    const other = await pushImage('prod/moved', 'other');
    const repo = client.repository(parseReference(`${reg.host}/prod/moved`));
    const sigBytes = (await repo.fetchManifest(signatureTag(signed))).bytes;
    await repo.pushManifest(sigBytes, MT.ociManifest, signatureTag(other));
    ok(await pull('prod/moved', 'signed'));
    refused(await pull('prod/moved', 'other'));

    // Removing the signature takes the permission away again (nothing stale is served).
    await repo.deleteManifest((await repo.resolve(signatureTag(signed))).digest);
    refused(await pull('prod/moved', 'signed'));
  });

  it('a signed multi-platform index serves its platform manifests; an unsigned one serves nothing', async () => {
    const platforms = [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
    ];
    const { index } = await createMultiArchLayout(file('multi'), platforms, { tag: 'v1' });
    ok(
      await skopeoCopy(sb, `oci:${file('multi')}:v1`, dockerRef(reg.host, 'prod/multi', 'v1'), ['--all'], {
        allowFailure: true,
      }),
    );
    refused(await pull('prod/multi', 'v1', ['--all']));
    const child = index.images[0]!.digest;
    assert.equal(
      (await fetch(`${reg.url}/v2/prod/multi/manifests/${child}`, { headers: { Accept: MT.ociManifest } })).status,
      403,
    );
    ok(await sign('prod/multi:v1', 'alice'));
    ok(await pull('prod/multi', 'v1', ['--all']));
    assert.equal(
      (await fetch(`${reg.url}/v2/prod/multi/manifests/${child}`, { headers: { Accept: MT.ociManifest } })).status,
      200,
    );
  });
});
