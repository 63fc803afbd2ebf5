/**
 * Scheduled mirrors with keyless verification (`mirrors:` with trusted_root and a
 * certificate identity): the cosign v3 vector's image, with its Sigstore bundle as a
 * referrer in Debian's docker-registry (the referrers tag: Distribution 2.8 has no
 * referrers API), is copied by the entry naming its signer and kept out by the entry
 * naming another; an unsigned tag stays out of both. Polled, never timed.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MT } from '../../src/core/media-types.js';
import {
  RegistryClient,
  StaticCredentials,
  parseReference,
  pushBundleReferrer,
  pushImage,
} from '../../src/client/index.js';
import { startDistribution, type DistributionHandle } from '../helpers/distribution.js';
import { createSimpleLayout } from '../helpers/oci-fixtures.js';
import { startStowage, type StowageProcess } from '../helpers/server.js';
import { makeTempDir, removeDir, requireTools } from '../helpers/tools.js';
import { sigstoreVectors } from '../sign/sigstore-vectors.js';

describe('scheduled mirrors: keyless only_signed', { timeout: 180_000 }, () => {
  let src: DistributionHandle;
  let serve: StowageProcess;
  let work: string;
  let client: RegistryClient;
  let signed: string;
  const vectors = sigstoreVectors();
  const vector = (name: string) => readFile(path.join(vectors, 'cosign', name));
  const tags = async (repo: string) =>
    (
      await client
        .repository(parseReference(`${serve.host}/${repo}`, { defaultTag: null }))
        .tags()
        .catch(() => [] as string[])
    )
      .filter((t) => !t.startsWith('sha256-'))
      .sort();
  /** The finished runs of the entry writing into `destination`, as logged. */
  const runs = (destination: string) =>
    serve.logs
      .filter((l) => l.includes('"mirror run finished"'))
      .map((l) => JSON.parse(l) as { destination: string; copied: number; skipped: number; failed: number })
      .filter((r) => r.destination === `stowage.local/${destination}`);
  const eventually = async (what: string, check: () => boolean | Promise<boolean>) => {
    while (!(await check())) {
      if (serve.child.exitCode !== null)
        assert.fail(`serve exited while waiting for ${what}: ${serve.logs.slice(-5).join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  before(async () => {
    requireTools('docker-registry');
    work = await makeTempDir('mirror-keyless');
    src = await startDistribution();
    client = new RegistryClient({ credentials: new StaticCredentials({}) });
    // The vector's image as cosign pushed it, and its bundle as a referrer.
    const repo = client.repository(parseReference(`${src.host}/keyless/app`));
    await repo.pushBlobBytes(await vector('subject-empty-image.config.json'), MT.dockerConfig);
    const subject = (
      await repo.pushManifest(await vector('subject-empty-image.manifest.json'), MT.dockerManifest, 'v1')
    ).descriptor;
    signed = subject.digest;
    await pushBundleReferrer(repo, subject, await vector('oci-attestation.sigstore.json'), {
      predicateType: 'https://cosign.sigstore.dev/attestation/v1',
      content: 'dsse-envelope',
    });
    await createSimpleLayout(path.join(work, 'plain'), { tag: 'plain', layerCount: 1 });
    await pushImage(client, path.join(work, 'plain'), parseReference(`${src.host}/keyless/app:plain`));
    const keyless = (identity: Record<string, string>) => ({
      source: `${src.host}/keyless/app`,
      interval: '1s',
      only_signed: true,
      trusted_root: path.join(vectors, 'cosign/trusted_root_pgi.json'),
      ...identity,
    });
    await writeFile(
      path.join(work, 'stowage.yaml'),
      JSON.stringify({
        mirrors: [
          {
            ...keyless({
              certificate_identity: 'cody@soyland.com',
              certificate_oidc_issuer: 'https://github.com/login/oauth',
            }),
            destination: 'cody/app',
          },
          {
            ...keyless({
              certificate_identity_regexp: '^https://github.com/acme/',
              certificate_oidc_issuer_regexp: '.*',
            }),
            destination: 'acme/app',
          },
        ],
      }),
    );
    serve = await startStowage({ args: ['--config', path.join(work, 'stowage.yaml')] });
  });
  after(async () => {
    client?.close();
    await serve?.stop();
    await src?.stop();
    if (work) await removeDir(work);
  });

  it('copies the tag its signer matches, with the bundle, and not the unsigned one', async () => {
    // A run that copied the tag (visible before its referrers are copied: wait for the run's end).
    await eventually('a run that copied v1', () => runs('cody/app').some((r) => r.copied === 1));
    const local = await client.repository(parseReference(`${serve.host}/cody/app`, { defaultTag: null })).resolve('v1');
    assert.equal(local.digest, signed);
    // The bundle came along: the referrers API here lists it.
    const res = await fetch(`${serve.url}/v2/cody/app/referrers/${signed}`);
    const index = (await res.json()) as { manifests: { artifactType?: string }[] };
    assert.ok(
      index.manifests.some((m) => m.artifactType === 'application/vnd.dev.sigstore.bundle.v0.3+json'),
      JSON.stringify(index),
    );
    // Later runs find nothing new; the unsigned tag stays out.
    const seen = runs('cody/app').length;
    await eventually('another run', () => runs('cody/app').length > seen);
    assert.deepEqual(await tags('cody/app'), ['v1']);
  });

  it('copies nothing for an identity that did not sign', async () => {
    await eventually('two finished runs', () => runs('acme/app').length >= 2);
    assert.ok(runs('acme/app').every((r) => r.copied === 0 && r.failed === 0 && r.skipped >= 2));
    assert.deepEqual(await tags('acme/app'), []);
  });
});
