/**
 * `require_signatures` with Sigstore bundles: a keyless rule (trusted root + identity +
 * issuer) serves the cosign v3 vector's image only while its bundle referrer verifies
 * for that identity; a key rule accepts what `stowage sign` writes as a bundle alone
 * (no legacy .sig); everything else answers 403 DENIED.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MT } from '../../src/core/media-types.js';
import { RegistryClient, parseReference, pushImage, pushBundleReferrer, writeKeyPair } from '../../src/client/index.js';
import { generateKeyPair } from '../../src/sign/index.js';
import { stowage } from '../client/helpers.js';
import { createSimpleLayout } from '../helpers/oci-fixtures.js';
import { startStowage, type StowageProcess } from '../helpers/server.js';
import { makeTempDir, removeDir } from '../helpers/tools.js';
import { sigstoreVectors } from './sigstore-vectors.js';

describe('require_signatures with Sigstore bundles', { timeout: 180_000 }, () => {
  let reg: StowageProcess;
  let work: string;
  let client: RegistryClient;
  const v = sigstoreVectors();
  const file = (name: string) => path.join(work, name);
  const vector = (name: string) => readFile(path.join(v, 'cosign', name));
  const get = (repo: string, ref: string) =>
    fetch(`${reg.url}/v2/${repo}/manifests/${ref}`, { headers: { Accept: `${MT.ociManifest}, ${MT.dockerManifest}` } });

  /** The cosign vector's image and its bundle, pushed as cosign pushes them. */
  async function pushVector(repo: string): Promise<string> {
    const r = client.repository(parseReference(`${reg.host}/${repo}`));
    await r.pushBlobBytes(await vector('subject-empty-image.config.json'), MT.dockerConfig);
    const subject = (await r.pushManifest(await vector('subject-empty-image.manifest.json'), MT.dockerManifest, 'v1'))
      .descriptor;
    await pushBundleReferrer(r, subject, await vector('oci-attestation.sigstore.json'), {
      predicateType: 'https://cosign.sigstore.dev/attestation/v1',
      content: 'dsse-envelope',
    });
    return subject.digest;
  }

  before(async () => {
    work = await makeTempDir('sign-enforce-bundles');
    await writeKeyPair(file('alice'), await generateKeyPair(Buffer.from('alice-pw')));
    const root = JSON.stringify(path.join(v, 'cosign/trusted_root_pgi.json'));
    await writeFile(
      file('config.yaml'),
      [
        'require_signatures:',
        '  "keyless/cody":',
        `    trusted_root: ${root}`,
        '    certificate_identity: cody@soyland.com',
        '    certificate_oidc_issuer: https://github.com/login/oauth',
        '  "keyless/other":',
        `    trusted_root: ${root}`,
        '    certificate_identity_regexp: ^https://github.com/acme/',
        '    certificate_oidc_issuer_regexp: .*',
        `  "keyed/**": ${JSON.stringify(file('alice.pub'))}`,
        '',
      ].join('\n'),
    );
    reg = await startStowage({ args: ['--config', file('config.yaml')] });
    client = new RegistryClient({ credentials: { get: async () => undefined } });
  });
  after(async () => {
    client?.close();
    await reg?.stop();
    if (work) await removeDir(work);
  });

  it('a keyless rule serves the image its bundle verifies for, and refuses another identity', async () => {
    const digest = await pushVector('keyless/cody');
    for (const ref of ['v1', digest]) assert.equal((await get('keyless/cody', ref)).status, 200);
    await pushVector('keyless/other');
    const refused = await get('keyless/other', digest);
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /DENIED.*cody@soyland\.com.*does not match/);
    // An unsigned image under the keyless rule.
    await createSimpleLayout(file('plain'), { tag: 'v1', layerCount: 1 });
    const plain = await pushImage(client, file('plain'), parseReference(`${reg.host}/keyless/cody:plain`));
    const unsigned = await get('keyless/cody', plain.digest);
    assert.equal(unsigned.status, 403);
    assert.match(await unsigned.text(), /no signature found/);
  });

  it("the web UI's API shows the bundle verified for the keyless rule's identity", async () => {
    // The vector pushed by the first test; its attestation bundle is what require_signatures accepted.
    const res = await fetch(`${reg.url}/api/v1/repositories/keyless/cody/-/manifests/v1/referrers`);
    assert.equal(res.status, 200);
    const items = ((await res.json()) as { items: { verification: { status: string; signer: string | null } }[] })
      .items;
    assert.deepEqual(
      items.map((i) => i.verification),
      [
        {
          status: 'verified',
          signer: 'cody@soyland.com (issuer https://github.com/login/oauth)',
          message: 'the bundle verifies',
        },
      ],
    );
  });

  it('a key rule accepts a bundle-only signature by stowage sign', async () => {
    await createSimpleLayout(file('keyed'), { tag: 'v1', layerCount: 1 });
    const pushed = await pushImage(client, file('keyed'), parseReference(`${reg.host}/keyed/app:v1`));
    assert.equal((await get('keyed/app', 'v1')).status, 403);
    const s = await stowage(['sign', `${reg.host}/keyed/app:v1`, '--key', file('alice.key'), '--no-legacy'], {
      env: { COSIGN_PASSWORD: 'alice-pw', HOME: work, DOCKER_CONFIG: work },
    });
    assert.equal(s.code, 0, s.stderr);
    assert.equal((await get('keyed/app', pushed.digest)).status, 200);
  });
});
