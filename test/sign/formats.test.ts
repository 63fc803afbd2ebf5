/**
 * The pure formats, byte for byte against cosign's own output: the simple-signing
 * payload (reproduced exactly from signatures cosign made), the encrypted key
 * (cosign's test keys decrypt; re-encrypting with their salt and nonce gives their
 * exact bytes), the signature image and referrer manifests, and the signature check.
 */
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { digestBytes } from '../../src/core/digest.js';
import { goJson, goMap } from '../../src/gocompat/json.js';
import {
  SIGNATURE_ARTIFACT_TYPE,
  buildPayload,
  checkSignature,
  decodePem,
  decryptKeyDocument,
  encodePem,
  encryptKeyDocument,
  generateKeyPair,
  isSignatureArtifact,
  openPrivateKey,
  parsePayload,
  parsePublicKey,
  parseSignatureManifest,
  publicKeyPem,
  signPayload,
  signatureConfig,
  signatureLayerDescriptor,
  signatureManifest,
  signatureReferrerManifest,
  signatureTag,
  verifyPayload,
  dockerReference,
  type TrustedKey,
} from '../../src/sign/index.js';
import {
  COSIGN_TEST_KEYS,
  COSIGN_TEST_PASSWORD,
  CONTAINERS_IMAGE_REKOR,
  SIGSTORE_RS_KEYED,
  SIGSTORE_RS_KEYLESS,
  SIGSTORE_RS_OTHER_KEY,
  fixturePublicKey,
} from './vectors.js';

const pw = Buffer.from(COSIGN_TEST_PASSWORD);
const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;

describe('Go JSON encoding', () => {
  it('escapes as encoding/json does (HTML-safe, \\b \\f, U+2028) and sorts map keys by bytes', () => {
    assert.equal(
      goJson('a&b<c>d"e\\f\n\t\r\b\f\u0001\u2028\u2029é'),
      '"a\\u0026b\\u003cc\\u003ed\\"e\\\\f\\n\\t\\r\\b\\f\\u0001\\u2028\\u2029é"',
    );
    assert.equal(goJson(goMap({ b: 1, a: 'x', B: null, é: true })), '{"B":null,"a":"x","b":1,"é":true}');
    assert.equal(goJson({ z: 1, a: [1, 'x'], skipped: undefined }), '{"z":1,"a":[1,"x"]}');
  });
});

describe('simple-signing payload', () => {
  for (const f of [SIGSTORE_RS_KEYED, SIGSTORE_RS_KEYLESS, CONTAINERS_IMAGE_REKOR]) {
    it(`reproduces cosign's bytes exactly (${f.source})`, () => {
      const bytes = buildPayload({ dockerReference: f.dockerReference, digest: f.digest });
      assert.equal(bytes.toString('utf8'), f.payload);
      // The signature cosign made covers exactly these bytes.
      assert.equal(verifyPayload(createPublicKey(fixturePublicKey(f)), bytes, f.signature), true);
      assert.deepEqual(parsePayload(bytes), {
        dockerReference: f.dockerReference,
        digest: f.digest,
        annotations: null,
      });
    });
  }

  it('annotations go in "optional", keys sorted, Go-escaped; none is null, not {}', () => {
    const p = buildPayload({
      dockerReference: 'localhost:5000/team/app',
      digest: D1,
      annotations: { z: '1', a: 'x&y' },
    });
    assert.equal(
      p.toString(),
      `{"critical":{"identity":{"docker-reference":"localhost:5000/team/app"},"image":{"docker-manifest-digest":"${D1}"},"type":"cosign container image signature"},"optional":{"a":"x\\u0026y","z":"1"}}`,
    );
    assert.deepEqual(parsePayload(p).annotations, { a: 'x&y', z: '1' });
    assert.match(buildPayload({ dockerReference: 'r/x', digest: D1, annotations: {} }).toString(), /"optional":null}$/);
  });

  it('names repositories as go-containerregistry does', () => {
    assert.equal(
      dockerReference({ registry: 'docker.io', repository: 'library/alpine' }),
      'index.docker.io/library/alpine',
    );
    assert.equal(dockerReference({ registry: '127.0.0.1:5000', repository: 'team/app' }), '127.0.0.1:5000/team/app');
  });

  it('refuses payloads that are not cosign image signatures, or are ambiguous', () => {
    const good = JSON.parse(buildPayload({ dockerReference: 'r/x', digest: D1 }).toString()) as {
      critical: Record<string, unknown>;
    };
    const variants: unknown[] = [
      { ...good, critical: { ...good.critical, type: 'atomic container signature' } },
      { ...good, critical: { ...good.critical, Image: { 'docker-manifest-digest': D2 } } },
      { ...good, critical: { ...good.critical, image: { 'docker-manifest-digest': 'not a digest' } } },
      {
        ...good,
        critical: { ...good.critical, image: { 'docker-manifest-digest': D1, 'Docker-manifest-digest': D2 } },
      },
      { ...good, Critical: good.critical },
      { optional: null },
      [],
    ];
    for (const v of variants)
      assert.throws(() => parsePayload(Buffer.from(JSON.stringify(v))), /payload|critical|ambiguous|unexpected/);
    assert.throws(() => parsePayload(Buffer.from('{not json')));
  });
});

describe('encrypted private keys (cosign.key)', () => {
  for (const [name, v] of Object.entries(COSIGN_TEST_KEYS)) {
    if (name === 'pemcosigneckey') continue;
    it(`cosign's ${name} (${v.label}, N=${v.scryptN}) opens with "hello" and matches its public key`, async () => {
      const k = await openPrivateKey(v.key, pw, name);
      assert.equal(publicKeyPem(k.publicKey), v.pub);
      assert.equal(parsePublicKey(v.pub, 'pub').hint, v.hint);
      // Byte level: the same plaintext, salt and nonce give cosign's exact document.
      const block = decodePem(v.key);
      const doc = JSON.parse(block.bytes.toString()) as {
        kdf: { salt: string; params: { N: number } };
        cipher: { nonce: string };
      };
      const plaintext = await decryptKeyDocument(block.bytes, pw);
      assert.equal(plaintext.length, 138);
      assert.deepEqual(
        plaintext,
        k.privateKey.export({ type: 'pkcs8', format: 'der' }),
        'PKCS#8 bytes as Go marshals them',
      );
      const again = await encryptKeyDocument(plaintext, pw, {
        N: doc.kdf.params.N,
        salt: Buffer.from(doc.kdf.salt, 'base64'),
        nonce: Buffer.from(doc.cipher.nonce, 'base64'),
      });
      assert.deepEqual(again, block.bytes);
      assert.equal(encodePem(block.label, again), v.key);
    });
  }

  it('refuses pemcosigneckey (a SEC1 key inside), as cosign does', async () => {
    await assert.rejects(
      openPrivateKey(COSIGN_TEST_KEYS.pemcosigneckey.key, pw, 'eckey'),
      (e: Error & { kind?: string }) => e.kind === 'format' && /PKCS#8/.test(e.message),
    );
  });

  it('refuses a wrong password, tampered documents and foreign parameters', async () => {
    const v = COSIGN_TEST_KEYS.pemsigstorekey;
    await assert.rejects(
      openPrivateKey(v.key, Buffer.from('hellO'), 'k'),
      (e: Error & { kind?: string }) => e.kind === 'password',
    );
    const doc = JSON.parse(decodePem(v.key).bytes.toString()) as Record<string, Record<string, unknown>>;
    const tamper = (f: (d: typeof doc) => void) => {
      const d = structuredClone(doc);
      f(d);
      return encodePem(v.label, Buffer.from(JSON.stringify(d)));
    };
    await assert.rejects(
      openPrivateKey(
        tamper((d) => (d.kdf!.params = { N: 1024, r: 8, p: 1 })),
        pw,
        'k',
      ),
      /unsupported scrypt parameters/,
    );
    await assert.rejects(
      openPrivateKey(
        tamper((d) => (d.cipher!.name = 'aes')),
        pw,
        'k',
      ),
      /unknown cipher/,
    );
    const ct = Buffer.from(doc.ciphertext as unknown as string, 'base64');
    ct[20] = ct[20]! ^ 1;
    await assert.rejects(
      openPrivateKey(
        tamper((d) => ((d as Record<string, unknown>).ciphertext = ct.toString('base64'))),
        pw,
        'k',
      ),
      (e: Error & { kind?: string }) => e.kind === 'password',
    );
    await assert.rejects(openPrivateKey(v.pub, pw, 'k'), /unsupported pem type: PUBLIC KEY/);
  });

  it('generates cosign keys: sigstore label, N=65536, P-256 PKCS#8, 64-column PEM', async () => {
    const pair = await generateKeyPair(Buffer.from('s3cret'));
    assert.match(
      pair.privatePem,
      /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n([A-Za-z0-9+/=]{64}\n)+[A-Za-z0-9+/=]{1,64}\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n$/,
    );
    assert.match(pair.publicPem, /^-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE/);
    const doc = decodePem(pair.privatePem).bytes.toString();
    assert.match(
      doc,
      /^\{"kdf":\{"name":"scrypt","params":\{"N":65536,"r":8,"p":1\},"salt":"[A-Za-z0-9+/]{43}="\},"cipher":\{"name":"nacl\/secretbox","nonce":"[A-Za-z0-9+/]{32}"\},"ciphertext":"[A-Za-z0-9+/=]+"\}$/,
    );
    const k = await openPrivateKey(pair.privatePem, Buffer.from('s3cret'), 'new');
    assert.equal(publicKeyPem(k.publicKey), pair.publicPem);
    assert.equal(k.privateKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });
});

describe('signature documents', () => {
  const payload = buildPayload({ dockerReference: 'localhost:5000/team/app', digest: D1 });
  const payloadDesc = { digest: digestBytes(payload).value, size: payload.length };

  it('the .sig tag, config and referrer manifests, in go-containerregistry field order', () => {
    assert.equal(signatureTag(D1), `sha256-${'a'.repeat(64)}.sig`);
    const layer = signatureLayerDescriptor(payloadDesc, 'MEUCIQ==');
    const config = signatureConfig([payloadDesc.digest]);
    assert.equal(
      config.toString(),
      `{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["${payloadDesc.digest}"]},"config":{}}`,
    );
    const configDesc = {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: digestBytes(config).value,
      size: config.length,
    };
    assert.equal(
      signatureManifest(configDesc, [layer]).toString(),
      `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":${config.length},"digest":"${configDesc.digest}"},` +
        `"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":${payload.length},"digest":"${payloadDesc.digest}","annotations":{"dev.cosignproject.cosign/signature":"MEUCIQ=="}}]}`,
    );
    const subject = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: D1, size: 123 };
    const referrer = signatureReferrerManifest(configDesc, [layer], subject).toString();
    assert.match(
      referrer,
      /"config":\{"mediaType":"application\/vnd\.dev\.cosign\.artifact\.sig\.v1\+json","size":\d+,"digest":"sha256:[0-9a-f]{64}"\}/,
    );
    assert.ok(
      referrer.endsWith(
        `,"subject":{"mediaType":"application/vnd.oci.image.index.v1+json","size":123,"digest":"${D1}"},"artifactType":"${SIGNATURE_ARTIFACT_TYPE}"}`,
      ),
    );
    const parsed = parseSignatureManifest(Buffer.from(referrer));
    assert.equal(parsed?.subject?.digest, D1);
    assert.deepEqual(
      parsed?.signatures.map((s) => s.signature),
      ['MEUCIQ=='],
    );
  });

  it('tells signature material from content that must be signed', () => {
    const layer = signatureLayerDescriptor(payloadDesc, 'x');
    const cfg = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D2, size: 2 };
    assert.equal(
      isSignatureArtifact(signatureManifest(cfg, [layer]), 'application/vnd.oci.image.manifest.v1+json'),
      true,
    );
    const image = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        config: cfg,
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D1, size: 1 }],
        subject: { mediaType: 'x/y', digest: D2, size: 1 },
      }),
    );
    assert.equal(
      isSignatureArtifact(image, 'application/vnd.oci.image.manifest.v1+json'),
      false,
      'a subject does not make an image signature material',
    );
    const mixed = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        config: cfg,
        layers: [layer, { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: D1, size: 1 }],
      }),
    );
    assert.equal(isSignatureArtifact(mixed, 'application/vnd.oci.image.manifest.v1+json'), false);
    const referrersList = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: D1,
            size: 1,
            artifactType: SIGNATURE_ARTIFACT_TYPE,
          },
        ],
      }),
    );
    assert.equal(isSignatureArtifact(referrersList, 'application/vnd.oci.image.index.v1+json'), true);
    const multiArch = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: D1,
            size: 1,
            platform: { os: 'linux', architecture: 'amd64' },
          },
        ],
      }),
    );
    assert.equal(isSignatureArtifact(multiArch, 'application/vnd.oci.image.index.v1+json'), false);
  });
});

describe('checking a signature', () => {
  const trusted = (pem: string, source: string): TrustedKey => parsePublicKey(pem, source);

  it('accepts cosign-made signatures for their digest, and nothing else', () => {
    const f = SIGSTORE_RS_KEYED;
    const key = trusted(f.publicKey!, 'rs.pub');
    const payload = Buffer.from(f.payload);
    const ok = checkSignature(payload, f.signature, [key], f.digest);
    assert.equal(ok.ok, true);
    // other digest (the signature moved to another manifest)
    assert.match(
      (checkSignature(payload, f.signature, [key], D1) as { reason: string }).reason,
      /for sha256:f3cf.*not sha256:aaaa/,
    );
    // wrong key
    assert.match(
      (
        checkSignature(payload, f.signature, [trusted(SIGSTORE_RS_OTHER_KEY, 'other.pub')], f.digest) as {
          reason: string;
        }
      ).reason,
      /does not verify with other\.pub/,
    );
    // a second, right key among wrong ones
    assert.equal(
      checkSignature(payload, f.signature, [trusted(SIGSTORE_RS_OTHER_KEY, 'other.pub'), key], f.digest).ok,
      true,
    );
    // edited payload
    const edited = Buffer.from(f.payload.replace('busybox', 'busybax'));
    assert.equal(checkSignature(edited, f.signature, [key], f.digest).ok, false);
    // truncated, padded, re-encoded signatures
    for (const sig of [
      f.signature.slice(0, -4),
      f.signature.slice(0, 40),
      `${f.signature}=`,
      f.signature.replace(/=+$/, ''),
      '',
      '!!!!',
    ]) {
      assert.equal(checkSignature(payload, sig, [key], f.digest).ok, false, sig);
    }
    // required annotations (cosign verify -a)
    assert.match(
      (checkSignature(payload, f.signature, [key], f.digest, { env: 'prod' }) as { reason: string }).reason,
      /annotation env=prod/,
    );
  });

  it('signs with P-256/SHA-256 DER and verifies its own signatures; P-384 uses SHA-384', () => {
    for (const curve of ['P-256', 'P-384']) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      const payload = buildPayload({ dockerReference: 'r/x', digest: D1 });
      const sig = signPayload({ privateKey, publicKey, source: 'k' }, payload);
      const der = Buffer.from(sig, 'base64');
      assert.equal(der[0], 0x30, 'ASN.1 SEQUENCE');
      assert.equal(verifyPayload(publicKey, payload, sig), true);
      assert.equal(checkSignature(payload, sig, [{ key: publicKey, source: 'k', hint: '' }], D1).ok, true);
    }
  });
});
