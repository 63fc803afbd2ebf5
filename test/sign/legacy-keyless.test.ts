/**
 * Keyless cosign v2 layers — `.sig` signatures and `.att` attestations carrying a Fulcio
 * certificate and a Rekor bundle in their annotations — verified offline against a
 * trusted root with cosign's identity flags:
 *   - a real layer cosign wrote in 2021 (sigstore-rs fixture, rekord entry) against the
 *     public-good root, and every tampering of it refused;
 *   - layers of a private Sigstore instance (test/sign/private-sigstore.ts) through
 *     `stowage verify`, `image pull`, and `require_signatures` on Stowage and Debian's
 *     docker-registry, and after a copy Stowage → docker-registry → Stowage.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegistryClient, parseReference, pushImage } from '../../src/client/index.js';
import { MT } from '../../src/core/media-types.js';
import { buildPayload, parseTrustedRoot } from '../../src/sign/index.js';
import { checkLegacyLayer, type LegacyPolicy } from '../../src/sign/legacy-layer.js';
import { startTarget, stowage, type TargetRegistry } from '../client/helpers.js';
import { createSimpleLayout } from '../helpers/oci-fixtures.js';
import { startStowage, type StowageProcess } from '../helpers/server.js';
import { makeTempDir, removeDir, type RunResult } from '../helpers/tools.js';
import { pushLegacyImage, statement, type LegacyLayer } from './legacy-layers.js';
import { privateSigstore } from './private-sigstore.js';
import { sigstoreVectors } from './sigstore-vectors.js';

const REAL = JSON.parse(
  readFileSync(new URL('../../../test/sign/fixtures/legacy-keyless-sigstore-rs.json', import.meta.url), 'utf8'),
) as { subject: string; identity: string; payload: string; annotations: Record<string, string> };
const SIG = 'application/vnd.dev.cosign.simplesigning.v1+json';
const ISSUER = 'https://issuer.example';
const PREDICATE = 'https://slsa.dev/provenance/v0.2';

const check = (l: LegacyLayer, digest: string, policy: LegacyPolicy, type?: string) =>
  checkLegacyLayer(
    { mediaType: l.mediaType, digest: 'sha256:x', size: l.blob.length, annotations: l.annotations },
    l.blob,
    digest,
    policy,
    type,
  );
const refused = (r: ReturnType<typeof check>, why: RegExp) => {
  assert.equal(typeof r, 'string', 'refused');
  assert.match(r as string, why);
};

describe('legacy keyless layers (pure)', () => {
  const publicGood = parseTrustedRoot(readFileSync(path.join(sigstoreVectors(), 'public-good/trusted_root.json')));
  const real: LegacyLayer = { mediaType: SIG, blob: Buffer.from(REAL.payload), annotations: REAL.annotations };
  const realPolicy: LegacyPolicy = {
    trustedRoot: publicGood,
    identity: { identity: REAL.identity, issuerRegexp: '.*' },
    ignoreSct: true, // a 2021 certificate: no embedded SCT yet
  };

  it('a signature cosign wrote keyless verifies against the public-good root; each tampering is refused', () => {
    const ok = check(real, REAL.subject, realPolicy);
    assert.ok(typeof ok !== 'string', String(ok));
    assert.deepEqual(
      [ok.signer, ok.timestamps[0]?.time],
      [
        { kind: 'certificate', identity: REAL.identity, issuer: '', ca: 'https://fulcio.sigstore.dev' },
        '2021-10-20T07:25:17.000Z',
      ],
    );
    refused(check(real, REAL.subject, { ...realPolicy, ignoreSct: false }), /no SCT/);
    refused(
      check(real, REAL.subject, { ...realPolicy, identity: { identity: 'eve@example.com', issuerRegexp: '.*' } }),
      /identity/,
    );
    refused(check(real, `sha256:${'0'.repeat(64)}`, realPolicy), /but for sha256:5f48/);
    const edited = { ...real, blob: Buffer.from(REAL.payload.replace('nodeport', 'nodeporT')) };
    refused(check(edited, REAL.subject, realPolicy), /does not verify|log entry/);
    const bundle = JSON.parse(REAL.annotations['dev.sigstore.cosign/bundle']!) as {
      SignedEntryTimestamp: string;
      Payload: { integratedTime: number };
    };
    const badSet = { ...bundle, SignedEntryTimestamp: bundle.SignedEntryTimestamp.replace('MEUCID', 'MEUCIE') };
    refused(
      check(
        { ...real, annotations: { ...real.annotations, 'dev.sigstore.cosign/bundle': JSON.stringify(badSet) } },
        REAL.subject,
        realPolicy,
      ),
      /signed entry timestamp/,
    );
    const moved = { ...bundle, Payload: { ...bundle.Payload, integratedTime: bundle.Payload.integratedTime + 3600 } };
    refused(
      check(
        { ...real, annotations: { ...real.annotations, 'dev.sigstore.cosign/bundle': JSON.stringify(moved) } },
        REAL.subject,
        realPolicy,
      ),
      /signed entry timestamp/,
    );
    const noBundle = { ...real.annotations };
    delete noBundle['dev.sigstore.cosign/bundle'];
    refused(check({ ...real, annotations: noBundle }, REAL.subject, realPolicy), /no transparency log entry/);
    const other = parseTrustedRoot(Buffer.from(privateSigstore().trustedRoot()));
    refused(
      check(real, REAL.subject, { ...realPolicy, trustedRoot: other }),
      /not in the trusted root|certificate authority/,
    );
  });

  it('a private instance: identities, issuers, roots, validity, entries and attestations', () => {
    const ca = privateSigstore();
    const root = parseTrustedRoot(Buffer.from(ca.trustedRoot()));
    const dev = ca.issue({ email: 'dev@example.com', issuer: ISSUER });
    const digest = `sha256:${'ab'.repeat(32)}`;
    const payload = buildPayload({ dockerReference: 'r/app', digest });
    const layer = ca.signatureLayer(dev, payload);
    const policy: LegacyPolicy = { trustedRoot: root, identity: { identity: 'dev@example.com', issuer: ISSUER } };
    assert.ok(typeof check(layer, digest, policy) !== 'string');
    assert.ok(
      typeof check(layer, digest, {
        trustedRoot: root,
        identity: { identityRegexp: '@example\\.com$', issuerRegexp: '^https://issuer' },
      }) !== 'string',
    );
    refused(
      check(layer, digest, { ...policy, identity: { identity: 'ops@example.com', issuer: ISSUER } }),
      /identity is "dev@example.com", not "ops@example.com"/,
    );
    refused(
      check(layer, digest, { ...policy, identity: { identity: 'dev@example.com', issuer: 'https://other' } }),
      /OIDC issuer/,
    );
    // Another instance's root does not vouch for it.
    refused(
      check(layer, digest, { ...policy, trustedRoot: parseTrustedRoot(Buffer.from(privateSigstore().trustedRoot())) }),
      /not in the trusted root/,
    );
    // Signed (per the log) after the certificate expired, and no other timestamp.
    const old = ca.issue({ email: 'dev@example.com', issuer: ISSUER, at: new Date(Date.now() - 50 * 60_000) });
    const late = ca.signatureLayer(old, payload, { integratedTime: new Date(old.notBefore.getTime() + 20 * 60_000) });
    refused(check(late, digest, policy), /not valid at/);
    // The log entry of another signature.
    const otherPayload = ca.signatureLayer(
      dev,
      buildPayload({ dockerReference: 'r/app', digest: `sha256:${'cd'.repeat(32)}` }),
    );
    const swapped = {
      ...layer,
      annotations: {
        ...layer.annotations,
        'dev.sigstore.cosign/bundle': otherPayload.annotations['dev.sigstore.cosign/bundle']!,
      },
    };
    refused(check(swapped, digest, policy), /log entry does not match/);
    // A certificate swapped for another identity's.
    const eve = ca.issue({ email: 'eve@example.com', issuer: ISSUER });
    refused(
      check(
        { ...layer, annotations: { ...layer.annotations, 'dev.sigstore.cosign/certificate': eve.certificate } },
        digest,
        { ...policy, identity: { identity: 'eve@example.com', issuer: ISSUER } },
      ),
      /log entry does not match|does not verify/,
    );

    const att = ca.attestationLayer(dev, statement(digest, PREDICATE, { builder: 'ci' }), PREDICATE);
    const verified = check(att, digest, policy, PREDICATE);
    assert.ok(typeof verified !== 'string', String(verified));
    assert.equal(verified.statement?.predicateType, PREDICATE);
    refused(check(att, digest, policy, 'https://spdx.dev/Document'), /predicate type is/);
    refused(check(att, `sha256:${'cd'.repeat(32)}`, policy, PREDICATE), /does not match any digest in the statement/);
    const env = JSON.parse(att.blob.toString()) as { payload: string };
    const forged = Buffer.from(
      JSON.stringify({
        ...JSON.parse(att.blob.toString()),
        payload: statement(digest, PREDICATE, { builder: 'eve' }).toString('base64'),
      }),
    );
    assert.notEqual(env.payload, JSON.parse(forged.toString()).payload);
    refused(check({ ...att, blob: forged }, digest, policy, PREDICATE), /does not verify|log entry/);
  });
});

describe('legacy keyless layers on registries', { timeout: 600_000 }, () => {
  let a: TargetRegistry;
  let b: TargetRegistry;
  let enforcing: StowageProcess;
  let work: string;
  let client: RegistryClient;
  const ca = privateSigstore();
  const dev = ca.issue({ email: 'dev@example.com', issuer: ISSUER });
  const file = (n: string) => path.join(work, n);
  const run = (args: string[]) => stowage(args, { env: { HOME: work, DOCKER_CONFIG: work } });
  const ok = (r: RunResult) => assert.equal(r.code, 0, `exit ${r.code}\n${r.stderr}\n${r.stdout}`);
  const keyless = (identity = 'dev@example.com') => [
    '--trusted-root',
    file('trusted_root.json'),
    '--certificate-identity',
    identity,
    '--certificate-oidc-issuer',
    ISSUER,
  ];

  /** An image in `repo` signed keyless the cosign v2 way (.sig) and attested (.att). */
  async function pushSigned(host: string, repo: string, tag: string): Promise<string> {
    await createSimpleLayout(file(`img-${tag}`), { tag: 'v1', layerCount: 1 });
    const { digest } = await pushImage(client, file(`img-${tag}`), parseReference(`${host}/${repo}:${tag}`));
    const r = client.repository(parseReference(`${host}/${repo}`));
    const hex = digest.slice(7);
    await pushLegacyImage(r, `sha256-${hex}.sig`, [
      ca.signatureLayer(dev, buildPayload({ dockerReference: `${host}/${repo}`, digest })),
    ]);
    await pushLegacyImage(r, `sha256-${hex}.att`, [ca.attestationLayer(dev, statement(digest, PREDICATE), PREDICATE)]);
    return digest;
  }

  async function verifies(host: string, repo: string, digest: string): Promise<void> {
    const v = await run(['verify', `${host}/${repo}@${digest}`, ...keyless(), '--output', 'json']);
    ok(v);
    const sigs = (JSON.parse(v.stdout) as { signatures: { format: string; signer: { identity: string } }[] })
      .signatures;
    assert.deepEqual(
      sigs.map((s) => [s.format, s.signer.identity]),
      [['simple-signing', 'dev@example.com']],
    );
    ok(await run(['verify', `${host}/${repo}@${digest}`, ...keyless(), '--type', 'slsaprovenance']));
    const wrong = await run(['verify', `${host}/${repo}@${digest}`, ...keyless('eve@example.com')]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /not "eve@example\.com"/);
  }

  before(async () => {
    work = await makeTempDir('sign-legacy-keyless');
    await writeFile(file('trusted_root.json'), ca.trustedRoot());
    await writeFile(
      file('config.yaml'),
      [
        'require_signatures:',
        '  "keyless/**":',
        `    trusted_root: ${JSON.stringify(file('trusted_root.json'))}`,
        '    certificate_identity: dev@example.com',
        `    certificate_oidc_issuer: ${ISSUER}`,
        '  "others/**":',
        `    trusted_root: ${JSON.stringify(file('trusted_root.json'))}`,
        '    certificate_identity_regexp: ^ops@',
        '    certificate_oidc_issuer_regexp: .*',
        '',
      ].join('\n'),
    );
    [a, b, enforcing] = await Promise.all([
      startTarget('stowage'),
      startTarget('distribution'),
      startStowage({ args: ['--config', file('config.yaml')] }),
    ]);
    client = new RegistryClient({ credentials: { get: async () => undefined } });
  });
  after(async () => {
    client?.close();
    await Promise.all([a?.stop(), b?.stop(), enforcing?.stop()]);
    if (work) await removeDir(work);
  });

  it('verify and pulls on Stowage and docker-registry; nothing written for another identity', async () => {
    for (const reg of [a, b]) {
      const digest = await pushSigned(reg.host, 'team/app', 'v1');
      await verifies(reg.host, 'team/app', digest);
      const dir = file(`pull-${reg.name}`);
      await mkdir(dir);
      const bad = await run([
        'image',
        'pull',
        `${reg.host}/team/app:v1`,
        '-o',
        path.join(dir, 'x.tar'),
        ...keyless('eve@example.com'),
      ]);
      assert.equal(bad.code, 1, bad.stderr);
      assert.deepEqual(await readdir(dir), []);
      ok(await run(['image', 'pull', `${reg.host}/team/app:v1`, '-o', path.join(dir, 'x.tar'), ...keyless()]));
    }
  });

  it('copy Stowage → docker-registry → Stowage keeps keyless verification', async () => {
    const digest = await pushSigned(a.host, 'src/app', 'v2');
    ok(await run(['copy', `${a.host}/src/app:v2`, `${b.host}/mirror/app:v2`]));
    await verifies(b.host, 'mirror/app', digest);
    ok(await run(['copy', `${b.host}/mirror/app:v2`, `${a.host}/back/app:v2`]));
    await verifies(a.host, 'back/app', digest);
  });

  it('require_signatures keyless rules accept a legacy keyless signature for the identity, refuse others', async () => {
    const get = (repo: string, ref: string) =>
      fetch(`${enforcing.url}/v2/${repo}/manifests/${ref}`, {
        headers: { Accept: `${MT.ociManifest}, ${MT.dockerManifest}` },
      });
    const digest = await pushSigned(enforcing.host, 'keyless/app', 'v1');
    for (const ref of ['v1', digest]) assert.equal((await get('keyless/app', ref)).status, 200);
    const other = await pushSigned(enforcing.host, 'others/app', 'v1');
    const r = await get('others/app', other);
    assert.equal(r.status, 403);
    assert.match(await r.text(), /DENIED.*dev@example\.com.*does not match/);
    await createSimpleLayout(file('unsigned'), { tag: 'v1', layerCount: 1 });
    const plain = await pushImage(client, file('unsigned'), parseReference(`${enforcing.host}/keyless/app:plain`));
    assert.equal((await get('keyless/app', plain.digest)).status, 403);
  });
});
