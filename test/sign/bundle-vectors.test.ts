/**
 * The Sigstore bundle verifier against its vectors (shared/reference/vectors/sigstore:
 * sigstore-go's test data and examples, cosign's OCI attestation bundle) with the
 * outcome each origin's tests expect, the tampering list, the RFC 9162 Merkle
 * proof and the prehashed signature check, and `stowage verify-blob` end to end.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { artifactFromBytes, verifyBundle, type BundlePolicy } from '../../src/sign/bundle-verify.js';
import { parseBundle } from '../../src/sign/bundle.js';
import { parsePublicKey, publicKeyPem } from '../../src/sign/keys.js';
import { verifyDigestSignature } from '../../src/sign/prehashed.js';
import { verifyInclusion } from '../../src/sign/transparency-log.js';
import { parseTrustedRoot } from '../../src/sign/trusted-root.js';
import { stowage } from '../client/helpers.js';
import { sigstoreVectors } from './sigstore-vectors.js';

const base = sigstoreVectors();
const read = (f: string) => readFileSync(join(base, f));
const json = (f: string) => JSON.parse(read(f).toString('utf8')) as Record<string, any>;
const verifyJson = (doc: unknown, artifact: Parameters<typeof verifyBundle>[1], policy: BundlePolicy) =>
  verifyBundle(parseBundle(JSON.stringify(doc)), artifact, policy);

const SIGSTORE_JS_SHA512 =
  '46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c';
const NPM_SHA512 =
  '76176ffa33808b54602c7c35de5c6e9a4deb96066dba6533f50ac234f4f1f4c6b3527515dc17c06fbe2860030f410eee69ea20079bd3a2c6f3dcf3b329b10751';
const SIGSTORE_JS_RELEASE = {
  identity: 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main',
  issuer: 'https://token.actions.githubusercontent.com',
};

describe('sigstore-go vectors', () => {
  const publicGood = parseTrustedRoot(read('sigstore-go/trusted-roots/public-good.json'));

  it('sigstore.js provenance (v0.1, DSSE, intoto 0.0.2) verifies with its identity; another SAN or digest is refused', () => {
    const doc = json('sigstore-go/bundles/sigstore.js@2.0.0-provenance.sigstore.json');
    const r = verifyJson(
      doc,
      { digests: { sha512: SIGSTORE_JS_SHA512 } },
      { trustedRoot: publicGood, identity: SIGSTORE_JS_RELEASE },
    );
    assert.deepEqual(r.signer, {
      kind: 'certificate',
      identity: SIGSTORE_JS_RELEASE.identity,
      issuer: SIGSTORE_JS_RELEASE.issuer,
      ca: 'https://fulcio.sigstore.dev',
    });
    assert.equal(r.statement?.predicateType, 'https://slsa.dev/provenance/v1');
    assert.deepEqual(
      r.timestamps.map((t) => [t.source, t.authority]),
      [['tlog', 'https://rekor.sigstore.dev']],
    );
    assert.throws(
      () =>
        verifyJson(
          doc,
          { digests: { sha512: `56${SIGSTORE_JS_SHA512.slice(2)}` } },
          { trustedRoot: publicGood, identity: SIGSTORE_JS_RELEASE },
        ),
      /does not match any digest/,
    );
    assert.throws(
      () =>
        verifyJson(
          doc,
          { digests: { sha512: SIGSTORE_JS_SHA512 } },
          { trustedRoot: publicGood, identity: { ...SIGSTORE_JS_RELEASE, identity: 'https://github.com/other' } },
        ),
      /certificate identity/,
    );
  });

  it('a DSSE envelope with two signatures is refused', () => {
    assert.throws(() => parseBundle(read('sigstore-go/bundles/dsse-2sigs.sigstore.json')), /exactly one signature/);
  });

  it('an OtherName SAN (message signature over a digest only) matches foo!oidc.local, not foo@oidc.local', () => {
    const root = parseTrustedRoot(read('sigstore-go/trusted-roots/scaffolding.json'));
    const artifact = { digests: { sha256: 'bc103b4a84971ef6459b294a2b98568a2bfb72cded09d4acd1e16366a401f95b' } };
    const r = verifyJson(json('sigstore-go/bundles/othername.sigstore.json'), artifact, {
      trustedRoot: root,
      identity: { identity: 'foo!oidc.local', issuer: 'http://oidc.local:8080' },
    });
    assert.equal(r.signer.kind === 'certificate' && r.signer.identity, 'foo!oidc.local');
    assert.throws(
      () =>
        verifyJson(json('sigstore-go/bundles/othername.sigstore.json'), artifact, {
          trustedRoot: root,
          identity: { identity: 'foo@oidc.local', issuer: 'http://oidc.local:8080' },
        }),
      /identity/,
    );
  });

  it('a key-signed bundle with an RFC 3161 timestamp verifies with its key and the TSA root', () => {
    const key = parsePublicKey(
      read('sigstore-go/public-keys/public-key-validity.pem').toString(),
      'public-key-validity.pem',
    );
    const r = verifyJson(
      json('sigstore-go/bundles/public-key-validity.sigstore.json'),
      artifactFromBytes(read('sigstore-go/public-key-validity.artifact.txt')),
      {
        trustedRoot: parseTrustedRoot(read('sigstore-go/trusted-roots/public-key-validity.json')),
        keys: [key],
      },
    );
    assert.deepEqual(r.timestamps, [
      { source: 'tsa', time: '2026-06-04T17:43:29.000Z', authority: 'https://virtual.tsa.sigstore.dev' },
    ]);
    const other = parsePublicKey(
      publicKeyPem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey),
      'other.pub',
    );
    assert.throws(
      () =>
        verifyJson(
          json('sigstore-go/bundles/public-key-validity.sigstore.json'),
          artifactFromBytes(read('sigstore-go/public-key-validity.artifact.txt')),
          { keys: [other] },
        ),
      /does not verify with other\.pub/,
    );
  });

  it('the npm publish attestation (key-based DSSE, SET only) and the provenance example (full chain in the bundle) verify', () => {
    const key = parsePublicKey(read('sigstore-go/examples/publish_key.pub').toString(), 'publish_key.pub');
    const pub = verifyJson(
      json('sigstore-go/examples/bundle-publish.json'),
      { digests: { sha512: NPM_SHA512 } },
      { trustedRoot: publicGood, keys: [key] },
    );
    assert.equal(pub.tlogEntries, 1);
    const prov = verifyJson(
      json('sigstore-go/examples/bundle-provenance.json'),
      { digests: { sha512: NPM_SHA512 } },
      { trustedRoot: publicGood, identity: SIGSTORE_JS_RELEASE },
    );
    assert.equal(prov.statement?.subjects[0]?.name, 'pkg:npm/sigstore@1.3.0');
  });
});

describe('the cosign OCI attestation bundle and the tampering list', () => {
  const root = parseTrustedRoot(read('cosign/trusted_root_pgi.json'));
  const manifest = artifactFromBytes(read('cosign/subject-empty-image.manifest.json'));
  const any = { identityRegexp: '.*', issuerRegexp: '.*' };
  const bundle = () => json('cosign/oci-attestation.sigstore.json');

  it('verifies for the manifest it names, with the identity and issuer it carries', () => {
    const r = verifyJson(bundle(), manifest, { trustedRoot: root, identity: any });
    assert.deepEqual(r.signer, {
      kind: 'certificate',
      identity: 'cody@soyland.com',
      issuer: 'https://github.com/login/oauth',
      ca: 'https://fulcio.sigstore.dev',
    });
    assert.equal(r.statement?.predicateType, 'https://cosign.sigstore.dev/attestation/v1');
    assert.equal(
      r.statement?.subjects[0]?.digest.sha256,
      '732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4',
    );
    verifyJson(bundle(), manifest, {
      trustedRoot: root,
      identity: { identity: 'cody@soyland.com', issuer: 'https://github.com/login/oauth' },
    });
  });

  it('identity or issuer mismatch', () => {
    assert.throws(
      () =>
        verifyJson(bundle(), manifest, {
          trustedRoot: root,
          identity: { identityRegexp: 'wrong', issuerRegexp: '.*' },
        }),
      /does not match "wrong"/,
    );
    assert.throws(
      () =>
        verifyJson(bundle(), manifest, {
          trustedRoot: root,
          identity: { identity: 'cody@soyland.com', issuer: 'https://accounts.google.com' },
        }),
      /OIDC issuer/,
    );
  });

  it('another digest (the same bundle on another image)', () => {
    assert.throws(
      () =>
        verifyJson(bundle(), artifactFromBytes(read('cosign/subject-empty-image.config.json')), {
          trustedRoot: root,
          identity: any,
        }),
      /does not match any digest in the statement/,
    );
  });

  it('edited payload or signature', () => {
    const b = bundle();
    const statement = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString()) as Record<string, unknown>;
    b.dsseEnvelope.payload = Buffer.from(
      JSON.stringify({ ...statement, predicateType: 'https://example.com/other' }),
    ).toString('base64');
    assert.throws(
      () => verifyJson(b, manifest, { trustedRoot: root, identity: any }),
      /does not match the bundle|does not verify/,
    );
    const c = bundle();
    const sig = Buffer.from(c.dsseEnvelope.signatures[0].sig, 'base64');
    sig[sig.length - 1] = sig[sig.length - 1]! ^ 1;
    c.dsseEnvelope.signatures[0].sig = sig.toString('base64');
    assert.throws(() => verifyJson(c, manifest, { trustedRoot: root, identity: any }), /does not match the bundle/);
    const d = bundle();
    d.verificationMaterial.tlogEntries[0].integratedTime = String(
      Number(d.verificationMaterial.tlogEntries[0].integratedTime) + 60,
    );
    assert.throws(() => verifyJson(d, manifest, { trustedRoot: root, identity: any }), /signed entry timestamp/);
  });

  it('a certificate from another root', () => {
    const other = parseTrustedRoot(read('conformance/bundle-verify/intoto-with-custom-trust-root/trusted_root.json'));
    assert.throws(
      () =>
        verifyJson(bundle(), manifest, {
          trustedRoot: { ...root, certificateAuthorities: other.certificateAuthorities },
          identity: any,
        }),
      /not issued by a certificate authority of the trusted root/,
    );
  });

  it('an inclusion proof for another entry', () => {
    const b = bundle();
    const foreign = json('conformance/bundle-verify/happy-path-intoto-in-dsse-v3/bundle.sigstore.json');
    b.verificationMaterial.tlogEntries[0].inclusionProof = foreign.verificationMaterial.tlogEntries[0].inclusionProof;
    assert.throws(
      () => verifyJson(b, manifest, { trustedRoot: root, identity: any }),
      /inclusion proof does not verify/,
    );
  });

  it('an expired certificate without a valid timestamp', () => {
    // Without the log entry nothing proves when the 10-minute certificate signed.
    assert.throws(
      () =>
        verifyJson(
          { ...bundle(), verificationMaterial: { ...bundle().verificationMaterial, tlogEntries: [] } },
          manifest,
          { trustedRoot: root, identity: any, ignoreTlog: true },
        ),
      /no verified timestamp/,
    );
  });

  it('a key-signed bundle checked with a wrong key, and keyless flags on a key-signed bundle', () => {
    const dir = 'conformance/bundle-verify/managed-key-happy-path/';
    const a = artifactFromBytes(read('conformance/bundle-verify/a.txt'));
    const other = parsePublicKey(
      publicKeyPem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey),
      'other.pub',
    );
    assert.throws(() => verifyJson(json(`${dir}bundle.sigstore.json`), a, { keys: [other] }), /does not verify/);
    assert.throws(
      () => verifyJson(json(`${dir}bundle.sigstore.json`), a, { trustedRoot: root, identity: any }),
      /verify it with --key/,
    );
  });
});

describe('primitives', () => {
  it('RFC 9162 inclusion proofs: every leaf of a 7-leaf tree, and nothing else', () => {
    const h = (...b: Buffer[]) => createHash('sha256').update(Buffer.concat(b)).digest();
    const leaves = [...Array(7).keys()].map((i) => h(Buffer.from([0]), Buffer.from(`leaf ${i}`)));
    const root = (l: Buffer[]): Buffer => {
      if (l.length === 1) return l[0]!;
      const k = 2 ** Math.floor(Math.log2(l.length - 1));
      return h(Buffer.from([1]), root(l.slice(0, k)), root(l.slice(k)));
    };
    const proof = (i: number, l: Buffer[]): Buffer[] => {
      if (l.length === 1) return [];
      const k = 2 ** Math.floor(Math.log2(l.length - 1));
      return i < k
        ? [...proof(i, l.slice(0, k)), root(l.slice(k))]
        : [...proof(i - k, l.slice(k)), root(l.slice(0, k))];
    };
    const r = root(leaves);
    for (let i = 0; i < 7; i++) {
      assert.ok(verifyInclusion(BigInt(i), 7n, leaves[i]!, proof(i, leaves), r), `leaf ${i}`);
      assert.ok(
        !verifyInclusion(BigInt((i + 1) % 7), 7n, leaves[i]!, proof(i, leaves), r),
        `leaf ${i} at another index`,
      );
      const flipped = proof(i, leaves).map((p, j) =>
        j === 0 ? Buffer.from(p.map((b, k) => (k === 0 ? b ^ 1 : b))) : p,
      );
      assert.ok(!verifyInclusion(BigInt(i), 7n, leaves[i]!, flipped, r), `leaf ${i} with a corrupted proof`);
      assert.ok(
        !verifyInclusion(BigInt(i), 7n, leaves[i]!, proof(i, leaves).slice(1), r),
        `leaf ${i} with a short proof`,
      );
    }
  });

  it('signatures over a digest: ECDSA P-256/P-384/P-521 and RSA, refusing another digest', () => {
    for (const [curve, hash] of [
      ['P-256', 'sha256'],
      ['P-384', 'sha384'],
      ['P-521', 'sha512'],
    ] as const) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      const sig = sign(hash, Buffer.from('message'), privateKey);
      assert.ok(verifyDigestSignature(publicKey, hash, createHash(hash).update('message').digest(), sig), curve);
      assert.ok(
        !verifyDigestSignature(publicKey, hash, createHash(hash).update('other').digest(), sig),
        `${curve} other`,
      );
    }
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const sig = sign('sha256', Buffer.from('message'), privateKey);
    assert.ok(verifyDigestSignature(publicKey, 'sha256', createHash('sha256').update('message').digest(), sig));
    assert.ok(!verifyDigestSignature(publicKey, 'sha256', createHash('sha256').update('other').digest(), sig));
  });
});

describe('stowage verify-blob', () => {
  const cases = join(base, 'conformance/bundle-verify');
  const identity = [
    '--certificate-identity',
    'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
    '--certificate-oidc-issuer',
    'https://token.actions.githubusercontent.com',
  ];
  const root = ['--trusted-root', join(base, 'public-good/trusted_root.json')];

  it('keyless: verifies, says who signed, and exits 1 for another identity or artifact', async () => {
    const ok = await stowage([
      'verify-blob',
      join(cases, 'a.txt'),
      '--bundle',
      join(cases, 'happy-path-v0.3/bundle.sigstore.json'),
      ...root,
      ...identity,
      '--output',
      'json',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const doc = JSON.parse(ok.stdout) as { signer: { identity: string }; timestamps: unknown[] };
    assert.equal(doc.signer.identity, identity[1]);
    assert.equal(doc.timestamps.length, 1);
    const other = await stowage([
      'verify-blob',
      join(cases, 'a.txt'),
      '--bundle',
      join(cases, 'happy-path-v0.3/bundle.sigstore.json'),
      ...root,
      '--certificate-identity-regexp',
      '^https://github.com/someone-else/',
      '--certificate-oidc-issuer',
      identity[3]!,
    ]);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /does not match/);
    const wrongFile = await stowage([
      'verify-blob',
      join(cases, 'wrong-material_fail/artifact'),
      '--bundle',
      join(cases, 'happy-path-v0.3/bundle.sigstore.json'),
      ...root,
      ...identity,
    ]);
    assert.equal(wrongFile.code, 1);
  });

  it('with a key (Rekor v2 and TSA cases through the same flags), and usage errors for half a keyless policy', async () => {
    const key = await stowage([
      'verify-blob',
      join(cases, 'a.txt'),
      '--bundle',
      join(cases, 'managed-key-happy-path/bundle.sigstore.json'),
      '--key',
      join(cases, 'managed-key-happy-path/key.pub'),
      ...root,
    ]);
    assert.equal(key.code, 0, key.stderr);
    assert.match(key.stdout, /signed by key .*key\.pub/);
    const v2 = await stowage([
      'verify-blob',
      join(cases, 'a.txt'),
      '--bundle',
      join(cases, 'rekor2-happy-path/bundle.sigstore.json'),
      '--trusted-root',
      join(cases, 'rekor2-happy-path/trusted_root.json'),
      ...identity,
    ]);
    assert.equal(v2.code, 0, v2.stderr);
    assert.match(v2.stdout, /timestamp authority/);
    const half = await stowage([
      'verify-blob',
      join(cases, 'a.txt'),
      '--bundle',
      join(cases, 'happy-path-v0.3/bundle.sigstore.json'),
      ...root,
      '--certificate-identity',
      identity[1]!,
    ]);
    assert.equal(half.code, 2);
    assert.match(half.stderr, /--certificate-oidc-issuer/);
  });
});
