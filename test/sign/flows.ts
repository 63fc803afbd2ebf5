/**
 * Signing and verifying against one registry, through the CLI as a user meets it:
 * keys, sign (the digest, stored as cosign stores it, plus a referrer), verify,
 * accumulation, moved tags, `image pull --verify-key`, cosign's own fixtures, and
 * every tampering refused with nothing written. Run by stowage.test.ts and
 * distribution.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  LocalContent,
  RegistryClient,
  parseReference,
  pushGraph,
  pushImage,
  pushBundleReferrer,
  readSigningKey,
} from '../../src/client/index.js';
import { MT } from '../../src/core/media-types.js';
import {
  BUNDLE_ARTIFACT_TYPE,
  SIMPLE_SIGNING_MEDIA_TYPE,
  parseBundle,
  publicKeyHint,
  buildPayload,
  dockerReference,
  parseSignatureManifest,
  signPayload,
  signatureConfig,
  signatureLayerDescriptor,
  signatureManifest,
  signatureTag,
  type SigningKey,
} from '../../src/sign/index.js';
import { createSimpleLayout } from '../helpers/oci-fixtures.js';
import { makeTempDir, removeDir, type RunResult } from '../helpers/tools.js';
import { startTarget, stowage, type TargetRegistry } from '../client/helpers.js';
import { sigstoreVectors } from './sigstore-vectors.js';
import { COSIGN_TEST_KEYS, COSIGN_TEST_PASSWORD, SIGSTORE_RS_KEYED, SIGSTORE_RS_OTHER_KEY } from './vectors.js';

/** sha256 of go-containerregistry's empty image manifest, the cosign vector's subject. */
const COSIGN_VECTOR_DIGEST = 'sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4';

export function defineSignFlows(targetName: TargetRegistry['name']): void {
  describe(`sign and verify on ${targetName}`, { timeout: 600_000 }, () => {
    let reg: TargetRegistry;
    let work: string;
    let env: Record<string, string>;
    let client: RegistryClient;
    let alice: SigningKey;
    let bob: SigningKey;
    const file = (name: string) => path.join(work, name);
    const run = (args: string[], extra: Record<string, string> = {}) => stowage(args, { env: { ...env, ...extra } });
    const ok = (r: RunResult) => assert.equal(r.code, 0, `exit ${r.code}\n${r.stderr}\n${r.stdout}`);
    const ref = (repo: string, tagOrDigest = '') =>
      `${reg.host}/${repo}${tagOrDigest.startsWith('sha256:') ? `@${tagOrDigest}` : tagOrDigest ? `:${tagOrDigest}` : ''}`;

    /** A fresh single-image repository tag (random layers: a digest of its own). */
    let images = 0;
    async function pushFreshImage(repo: string, tag: string): Promise<string> {
      const { image } = await createSimpleLayout(file(`layout-${++images}`), { tag: 'v1', layerCount: 1 });
      const r = await pushImage(client, file(`layout-${images}`), parseReference(ref(repo, tag)));
      assert.equal(r.digest, image.digest);
      return r.digest;
    }

    /** Pushes a `.sig` image of these (payload, signature) layers for `subject`, as cosign would lay it out. */
    async function pushSignatures(
      repo: string,
      subject: string,
      layers: { payload: Buffer; signature: string }[],
    ): Promise<void> {
      const content = new LocalContent();
      const descs = layers.map((l) =>
        signatureLayerDescriptor(content.addBytes(l.payload, SIMPLE_SIGNING_MEDIA_TYPE), l.signature),
      );
      const config = content.addBytes(signatureConfig(descs.map((d) => d.digest)), MT.ociConfig);
      const manifest = content.addBytes(signatureManifest(config, descs), MT.ociManifest);
      await pushGraph(content, client.repository(parseReference(ref(repo))), manifest, {
        tags: [signatureTag(subject)],
      });
    }

    /** `stowage verify` and `image pull --verify-key` both refuse; the pull writes nothing. */
    async function assertRefused(repo: string, digest: string, why: RegExp): Promise<void> {
      const v = await run(['verify', ref(repo, digest), '--key', file('alice.pub')]);
      assert.equal(v.code, 1, v.stderr);
      assert.match(v.stderr, why);
      const dir = file(`refused-${digest.slice(7, 19)}`);
      await mkdir(dir, { recursive: true });
      const p = await run([
        'image',
        'pull',
        ref(repo, digest),
        '--verify-key',
        file('alice.pub'),
        '-o',
        path.join(dir, 'image.tar'),
      ]);
      assert.equal(p.code, 1, p.stderr);
      assert.match(p.stderr, why);
      assert.deepEqual(await readdir(dir), [], 'nothing written');
    }

    before(async () => {
      reg = await startTarget(targetName);
      work = await makeTempDir(`sign-${targetName}`);
      await mkdir(file('docker'));
      env = { DOCKER_CONFIG: file('docker'), HOME: work };
      client = new RegistryClient({ credentials: { get: async () => undefined } });
      for (const name of ['alice', 'bob'])
        ok(await run(['key', 'generate', '--output-key-prefix', file(name)], { COSIGN_PASSWORD: `${name}-pw` }));
      alice = await readSigningKey(file('alice.key'), Buffer.from('alice-pw'));
      bob = await readSigningKey(file('bob.key'), Buffer.from('bob-pw'));
    });
    after(async () => {
      client?.close();
      await reg?.stop();
      if (work) await removeDir(work);
    });

    it('signs the digest a tag names, stored as cosign stores it and as a referrer; verify finds it both ways', async () => {
      const digest = await pushFreshImage('team/app', 'v1');
      const signed = await run(['sign', ref('team/app', 'v1'), '--key', file('alice.key'), '--output', 'json'], {
        COSIGN_PASSWORD: 'alice-pw',
      });
      ok(signed);
      const r = JSON.parse(signed.stdout) as {
        digest: string;
        tag: string;
        signatures: number;
        referrer: { digest: string; via: string; bundleSize: number };
      };
      assert.equal(r.digest, digest);
      assert.equal(r.tag, signatureTag(digest));
      assert.equal(r.signatures, 1);
      assert.equal(r.referrer.via, targetName === 'stowage' ? 'api' : 'tag-schema');

      // The .sig image, byte for byte what cosign writes.
      const repo = client.repository(parseReference(ref('team/app')));
      const sig = await repo.fetchManifest(signatureTag(digest));
      const parsed = parseSignatureManifest(sig.bytes)!;
      assert.equal(sig.descriptor.mediaType, MT.ociManifest);
      assert.equal(parsed.config?.mediaType, MT.ociConfig);
      assert.equal(parsed.signatures.length, 1);
      const payload = await repo.read(parsed.signatures[0]!.descriptor);
      assert.deepEqual(
        payload,
        buildPayload({ dockerReference: dockerReference(parseReference(ref('team/app'))), digest }),
      );
      assert.deepEqual(await repo.read(parsed.config!), signatureConfig([parsed.signatures[0]!.descriptor.digest]));
      assert.deepEqual(sig.bytes, signatureManifest(parsed.config!, parsed.layers));
      // The referrer: a Sigstore bundle in cosign v3's layout, listed for the digest.
      const referrers = await repo.referrers(digest);
      assert.deepEqual(
        referrers.manifests.map((m) => [m.digest, m.artifactType]),
        [[r.referrer.digest, BUNDLE_ARTIFACT_TYPE]],
      );
      const referrerBytes = (await repo.fetchManifest(r.referrer.digest)).bytes;
      const referrer = JSON.parse(referrerBytes.toString()) as {
        config: { mediaType: string; digest: string; artifactType: string };
        layers: { mediaType: string; digest: string }[];
        annotations: Record<string, string>;
        subject: { digest: string };
        artifactType: string;
      };
      assert.deepEqual(Object.keys(referrer), [
        'schemaVersion',
        'mediaType',
        'config',
        'layers',
        'annotations',
        'subject',
        'artifactType',
      ]);
      assert.deepEqual(
        [referrer.config.mediaType, referrer.config.artifactType, referrer.artifactType],
        [MT.ociEmpty, BUNDLE_ARTIFACT_TYPE, BUNDLE_ARTIFACT_TYPE],
      );
      assert.equal(referrer.subject.digest, digest);
      assert.equal(referrer.annotations['dev.sigstore.bundle.content'], 'dsse-envelope');
      assert.equal(referrer.annotations['dev.sigstore.bundle.predicateType'], 'https://sigstore.dev/cosign/sign/v1');
      assert.match(referrer.annotations['org.opencontainers.image.created']!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.deepEqual(
        await repo.read({ mediaType: MT.ociEmpty, digest: referrer.config.digest, size: 2 }),
        Buffer.from('{}'),
      );
      const bundle = parseBundle(
        await repo.read({
          mediaType: BUNDLE_ARTIFACT_TYPE,
          digest: referrer.layers[0]!.digest,
          size: r.referrer.bundleSize,
        }),
      );
      assert.deepEqual(bundle.key, { kind: 'publicKey', hint: alice.publicKey && publicKeyHint(alice.publicKey) });
      const statement = JSON.parse(
        bundle.content.kind === 'dsseEnvelope' ? bundle.content.envelope.payload.toString() : '{}',
      ) as Record<string, unknown>;
      assert.deepEqual(statement, {
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ digest: { sha256: digest.slice(7) } }],
        predicateType: 'https://sigstore.dev/cosign/sign/v1',
        predicate: {},
      });

      for (const target of [ref('team/app', 'v1'), ref('team/app', digest)]) {
        const v = await run(['verify', target, '--key', file('alice.pub')]);
        ok(v);
        assert.match(v.stdout, /verified 2 signatures:/);
        assert.match(
          v.stdout,
          new RegExp(
            `Sigstore bundle \\(https://sigstore.dev/cosign/sign/v1\\) signed by key ${file('alice.pub').replace(/[.]/g, '\\.')} \\(found in referrer ${r.referrer.digest}\\)`,
          ),
        );
        assert.match(
          v.stdout,
          new RegExp(
            `signed by key ${file('alice.pub').replace(/[.]/g, '\\.')} \\(found in tag ${signatureTag(digest)}\\)`,
          ),
        );
      }
      const json = JSON.parse(
        (await run(['verify', ref('team/app', 'v1'), '--key', file('alice.pub'), '--output', 'json'])).stdout,
      ) as { digest: string; signatures: { format: string; payload?: { digest: string } }[] };
      assert.deepEqual(
        json.signatures.map((x) => x.format),
        ['sigstore-bundle', 'simple-signing'],
      );
      assert.equal(json.signatures[1]!.payload!.digest, digest);
      const bob = await run(['verify', ref('team/app', 'v1'), '--key', file('bob.pub')]);
      assert.equal(bob.code, 1);
      assert.match(bob.stderr, /bundle sha256:.*does not verify with .*bob\.pub/);

      // Found by either mechanism alone: the bundle without the tag, the tag without the bundle.
      await repo.deleteManifest(sig.descriptor.digest);
      const only = await run(['verify', ref('team/app', 'v1'), '--key', file('alice.pub')]);
      ok(only);
      assert.match(only.stdout, /verified 1 signature:/);
      const legacyOnly = await pushFreshImage('team/app', 'legacy');
      ok(
        await run(['sign', ref('team/app', 'legacy'), '--key', file('alice.key'), '--no-referrer'], {
          COSIGN_PASSWORD: 'alice-pw',
        }),
      );
      assert.deepEqual((await repo.referrers(legacyOnly)).manifests, []);
      ok(await run(['verify', ref('team/app', 'legacy'), '--key', file('alice.pub')]));
      const bundleOnly = await pushFreshImage('team/app', 'bundle');
      ok(
        await run(['sign', ref('team/app', 'bundle'), '--key', file('alice.key'), '--no-legacy'], {
          COSIGN_PASSWORD: 'alice-pw',
        }),
      );
      assert.equal(await repo.manifestExists(signatureTag(bundleOnly)), undefined);
      ok(await run(['verify', ref('team/app', 'bundle'), '--key', file('alice.pub')]));
    });

    it('attest: a signed in-toto attestation, verified by predicate type', async () => {
      const digest = await pushFreshImage('team/attested', 'v1');
      await writeFile(
        file('provenance.json'),
        JSON.stringify({ buildType: 'https://example.com/build', builder: { id: 'ci' } }),
      );
      const a = await run(
        [
          'attest',
          ref('team/attested', 'v1'),
          '--key',
          file('alice.key'),
          '--predicate',
          file('provenance.json'),
          '--type',
          'slsaprovenance',
          '--output',
          'json',
        ],
        { COSIGN_PASSWORD: 'alice-pw' },
      );
      ok(a);
      assert.equal(
        (JSON.parse(a.stdout) as { predicateType: string }).predicateType,
        'https://slsa.dev/provenance/v0.2',
      );
      const v = await run([
        'verify',
        ref('team/attested', digest),
        '--key',
        file('alice.pub'),
        '--type',
        'slsaprovenance',
        '--output',
        'json',
      ]);
      ok(v);
      assert.equal(
        (JSON.parse(v.stdout) as { signatures: { predicateType: string }[] }).signatures[0]!.predicateType,
        'https://slsa.dev/provenance/v0.2',
      );
      const spdx = await run(['verify', ref('team/attested', digest), '--key', file('alice.pub'), '--type', 'spdx']);
      assert.equal(spdx.code, 1);
      assert.match(
        spdx.stderr,
        /predicate type is https:\/\/slsa.dev\/provenance\/v0.2, not https:\/\/spdx.dev\/Document/,
      );
      const badType = await run(
        [
          'attest',
          ref('team/attested', 'v1'),
          '--key',
          file('alice.key'),
          '--predicate',
          file('provenance.json'),
          '--type',
          'not a uri',
        ],
        { COSIGN_PASSWORD: 'alice-pw' },
      );
      assert.equal(badType.code, 2);
    });

    it('the cosign v3 attestation vector, pushed as cosign pushes it, verifies keyless offline — and only for its image and identity', async () => {
      const v = sigstoreVectors();
      const manifestBytes = await readFile(path.join(v, 'cosign/subject-empty-image.manifest.json'));
      const repo = client.repository(parseReference(ref('team/cosign')));
      await repo.pushBlobBytes(await readFile(path.join(v, 'cosign/subject-empty-image.config.json')), MT.dockerConfig);
      const subject = (await repo.pushManifest(manifestBytes, MT.dockerManifest, 'empty')).descriptor;
      assert.equal(subject.digest, COSIGN_VECTOR_DIGEST);
      const pushed = await pushBundleReferrer(
        repo,
        subject,
        await readFile(path.join(v, 'cosign/oci-attestation.sigstore.json')),
        {
          predicateType: 'https://cosign.sigstore.dev/attestation/v1',
          content: 'dsse-envelope',
          created: new Date('2025-02-28T19:18:11Z'),
        },
      );
      // Byte for byte the manifest cosign writes (and, without the API, go-containerregistry's fallback index).
      assert.deepEqual(
        (await repo.fetchManifest(pushed.digest)).bytes,
        await readFile(path.join(v, 'cosign/referrer-manifest.example.json')),
      );
      if (targetName === 'distribution')
        assert.deepEqual(
          (await repo.fetchManifest(`sha256-${COSIGN_VECTOR_DIGEST.slice(7)}`)).bytes.toString(),
          (await readFile(path.join(v, 'cosign/referrers-fallback-index.example.json'))).toString(),
        );
      const keyless = [
        '--trusted-root',
        path.join(v, 'cosign/trusted_root_pgi.json'),
        '--certificate-oidc-issuer-regexp',
        '.*',
      ];
      const good = await run([
        'verify',
        ref('team/cosign', COSIGN_VECTOR_DIGEST),
        ...keyless,
        '--certificate-identity-regexp',
        '.*',
      ]);
      ok(good);
      assert.match(
        good.stdout,
        /signed by certificate identity cody@soyland\.com \(issuer https:\/\/github\.com\/login\/oauth\)/,
      );
      ok(
        await run([
          'verify',
          ref('team/cosign', 'empty'),
          ...keyless,
          '--certificate-identity',
          'cody@soyland.com',
          '--type',
          'custom',
        ]),
      );
      const wrong = await run([
        'verify',
        ref('team/cosign', COSIGN_VECTOR_DIGEST),
        ...keyless,
        '--certificate-identity-regexp',
        'wrong',
      ]);
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /does not match "wrong"/);
      const slsa = await run([
        'verify',
        ref('team/cosign', COSIGN_VECTOR_DIGEST),
        ...keyless,
        '--certificate-identity-regexp',
        '.*',
        '--type',
        'slsaprovenance',
      ]);
      assert.equal(slsa.code, 1);
      // The same bundle attached to another image.
      const other = await pushFreshImage('team/cosign', 'other');
      await pushBundleReferrer(
        repo,
        await repo.resolve(other),
        await readFile(path.join(v, 'cosign/oci-attestation.sigstore.json')),
        { predicateType: 'https://cosign.sigstore.dev/attestation/v1', content: 'dsse-envelope' },
      );
      const moved = await run(['verify', ref('team/cosign', other), ...keyless, '--certificate-identity-regexp', '.*']);
      assert.equal(moved.code, 1);
      assert.match(moved.stderr, /does not match any digest in the statement/);
      // And a pull with the same flags writes the image only when it verifies.
      const out = file('cosign-pull');
      await mkdir(out);
      const refused = await run([
        'image',
        'pull',
        ref('team/cosign', other),
        ...keyless,
        '--certificate-identity-regexp',
        '.*',
        '-o',
        path.join(out, 'other.tar'),
      ]);
      assert.equal(refused.code, 1);
      assert.deepEqual(await readdir(out), []);
    });

    it('signatures accumulate in one .sig image; the same key is not added twice; annotations are signed', async () => {
      const digest = await pushFreshImage('team/multi', 'v1');
      ok(await run(['sign', ref('team/multi', 'v1'), '--key', file('alice.key')], { COSIGN_PASSWORD: 'alice-pw' }));
      ok(
        await run(['sign', ref('team/multi', digest), '--key', file('bob.key'), '-a', 'env=prod'], {
          COSIGN_PASSWORD: 'bob-pw',
        }),
      );
      const again = await run(['sign', ref('team/multi', 'v1'), '--key', file('alice.key'), '--output', 'json'], {
        COSIGN_PASSWORD: 'alice-pw',
      });
      ok(again);
      assert.equal((JSON.parse(again.stdout) as { alreadySigned: boolean }).alreadySigned, true);
      const repo = client.repository(parseReference(ref('team/multi')));
      assert.equal(
        parseSignatureManifest((await repo.fetchManifest(signatureTag(digest))).bytes)!.signatures.length,
        2,
      );
      assert.equal((await repo.referrers(digest)).manifests.length, 2);
      ok(await run(['verify', ref('team/multi', 'v1'), '--key', file('bob.pub'), '-a', 'env=prod']));
      const both = await run(['verify', ref('team/multi', 'v1'), '--key', file('alice.pub'), '--key', file('bob.pub')]);
      ok(both);
      assert.match(both.stdout, /verified 4 signatures/); // a bundle and a .sig layer each
      const wrongAnnotation = await run([
        'verify',
        ref('team/multi', 'v1'),
        '--key',
        file('alice.pub'),
        '-a',
        'env=prod',
      ]);
      assert.equal(wrongAnnotation.code, 1);
      assert.match(wrongAnnotation.stderr, /without the annotation env=prod/);
    });

    it('a tag moved to unsigned content no longer verifies; the signed digest still does', async () => {
      const first = await pushFreshImage('team/moving', 'v1');
      ok(await run(['sign', ref('team/moving', 'v1'), '--key', file('alice.key')], { COSIGN_PASSWORD: 'alice-pw' }));
      const second = await pushFreshImage('team/moving', 'v1');
      const moved = await run(['verify', ref('team/moving', 'v1'), '--key', file('alice.pub')]);
      assert.equal(moved.code, 1);
      assert.match(moved.stderr, new RegExp(`no signatures found for .*${second}`));
      ok(await run(['verify', ref('team/moving', first), '--key', file('alice.pub')]));
    });

    it('image pull --verify-key writes the verified digest, and nothing without a valid signature', async () => {
      const digest = await pushFreshImage('team/pull', 'v1');
      await assertRefused('team/pull', digest, /no signatures found/);
      ok(await run(['sign', ref('team/pull', 'v1'), '--key', file('alice.key')], { COSIGN_PASSWORD: 'alice-pw' }));
      const out = file('pulled.tar');
      const p = await run([
        'image',
        'pull',
        ref('team/pull', 'v1'),
        '--verify-key',
        file('bob.pub'),
        '--verify-key',
        file('alice.pub'),
        '-o',
        out,
        '--output',
        'json',
      ]);
      ok(p);
      assert.equal((JSON.parse(p.stdout) as { digest: string }).digest, digest);
      assert.match(p.stderr, /verified .* 2 signatures by key .*alice\.pub/);
      const wrong = await run([
        'image',
        'pull',
        ref('team/pull', 'v1'),
        '--verify-key',
        file('bob.pub'),
        '-o',
        file('never.tar'),
      ]);
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /does not verify with .*bob\.pub/);
      assert.ok(!(await readdir(work)).includes('never.tar'));
    });

    it('refuses every tampering, and writes nothing', async () => {
      const repo = 'team/tamper';
      const payloadFor = (d: string) =>
        buildPayload({ dockerReference: dockerReference(parseReference(ref(repo))), digest: d });

      // Edited payload: the signature covered other bytes.
      const a = await pushFreshImage(repo, 'edited');
      const edited = Buffer.from(payloadFor(a).toString().replace(reg.host, 'evil.example.com'));
      await pushSignatures(repo, a, [{ payload: edited, signature: signPayload(alice, payloadFor(a)) }]);
      await assertRefused(repo, a, /does not verify with/);

      // A valid signature by the right key, for another digest.
      const b = await pushFreshImage(repo, 'other-digest');
      const other = `sha256:${'0'.repeat(64)}`;
      await pushSignatures(repo, b, [{ payload: payloadFor(other), signature: signPayload(alice, payloadFor(other)) }]);
      await assertRefused(repo, b, new RegExp(`for ${other}, not ${b}`));

      // Signed, but by another key.
      const c = await pushFreshImage(repo, 'wrong-key');
      await pushSignatures(repo, c, [{ payload: payloadFor(c), signature: signPayload(bob, payloadFor(c)) }]);
      await assertRefused(repo, c, /does not verify with .*alice\.pub/);

      // A real signature of one image, moved to another.
      const signedImage = await pushFreshImage(repo, 'signed');
      ok(
        await run(['sign', ref(repo, 'signed'), '--key', file('alice.key'), '--no-referrer'], {
          COSIGN_PASSWORD: 'alice-pw',
        }),
      );
      const d = await pushFreshImage(repo, 'moved');
      const sigBytes = (await client.repository(parseReference(ref(repo))).fetchManifest(signatureTag(signedImage)))
        .bytes;
      await client.repository(parseReference(ref(repo))).pushManifest(sigBytes, MT.ociManifest, signatureTag(d));
      await assertRefused(repo, d, new RegExp(`for ${signedImage}, not ${d}`));

      // A truncated signature.
      const e = await pushFreshImage(repo, 'truncated');
      await pushSignatures(repo, e, [
        { payload: payloadFor(e), signature: signPayload(alice, payloadFor(e)).slice(0, 40) },
      ]);
      await assertRefused(repo, e, /does not verify/);

      // A bad key password: nothing is signed, nothing pushed.
      const f = await pushFreshImage(repo, 'bad-password');
      const tagsBefore = await client.repository(parseReference(ref(repo))).tags();
      const bad = await run(['sign', ref(repo, 'bad-password'), '--key', file('alice.key')], {
        COSIGN_PASSWORD: 'not-alice-pw',
      });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /cannot decrypt .*alice\.key: wrong password/);
      assert.deepEqual(await client.repository(parseReference(ref(repo))).tags(), tagsBefore);
      assert.deepEqual((await client.repository(parseReference(ref(repo))).referrers(f)).manifests, []);
      await assertRefused(repo, f, /no signatures found/);
    });

    it("cosign's test keys sign and verify; pemcosigneckey is refused as cosign refuses it", async () => {
      for (const [name, v] of Object.entries(COSIGN_TEST_KEYS)) {
        await writeFile(file(`${name}.key`), v.key);
        await writeFile(file(`${name}.pub`), v.pub);
      }
      const digest = await pushFreshImage('team/vectors', 'v1');
      for (const name of ['pemsigstorekey', 'pemcosignkey']) {
        ok(
          await run(['sign', ref('team/vectors', 'v1'), '--key', file(`${name}.key`)], {
            COSIGN_PASSWORD: COSIGN_TEST_PASSWORD,
          }),
        );
        ok(await run(['verify', ref('team/vectors', digest), '--key', file(`${name}.pub`)]));
      }
      const ec = await run(['sign', ref('team/vectors', 'v1'), '--key', file('pemcosigneckey.key')], {
        COSIGN_PASSWORD: COSIGN_TEST_PASSWORD,
      });
      assert.equal(ec.code, 1);
      assert.match(ec.stderr, /pemcosigneckey\.key is not a usable cosign key: .*not PKCS#8/);
      const pub = await run(['key', 'public', '--key', file('pemsigstorekey.key')], {
        COSIGN_PASSWORD: COSIGN_TEST_PASSWORD,
      });
      ok(pub);
      assert.equal(`${pub.stdout}`, COSIGN_TEST_KEYS.pemsigstorekey.pub);
    });

    it('verifies a signature cosign made (sigstore-rs fixture) from the registry, and refuses it elsewhere', async () => {
      const f = SIGSTORE_RS_KEYED;
      await writeFile(file('rs.pub'), f.publicKey!);
      await writeFile(file('rs-other.pub'), SIGSTORE_RS_OTHER_KEY);
      const repo = 'fixtures/busybox';
      await pushSignatures(repo, f.digest, [{ payload: Buffer.from(f.payload), signature: f.signature }]);
      // As cosign: a digest is verified as given (the signed image itself need not be here).
      const v = await run(['verify', ref(repo, f.digest), '--key', file('rs.pub'), '--output', 'json']);
      ok(v);
      const doc = JSON.parse(v.stdout) as { signatures: { payload: { dockerReference: string } }[] };
      assert.equal(doc.signatures[0]!.payload.dockerReference, f.dockerReference);
      const wrongKey = await run(['verify', ref(repo, f.digest), '--key', file('rs-other.pub')]);
      assert.equal(wrongKey.code, 1);
      // Moved to an image that is here: the claim names another digest.
      const here = await pushFreshImage(repo, 'v1');
      await pushSignatures(repo, here, [{ payload: Buffer.from(f.payload), signature: f.signature }]);
      const moved = await run(['verify', ref(repo, 'v1'), '--key', file('rs.pub')]);
      assert.equal(moved.code, 1);
      assert.match(moved.stderr, new RegExp(`for ${f.digest}, not ${here}`));
    });
  });
}
