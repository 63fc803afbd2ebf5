/**
 * The `require_signatures` setting and the registry's pull check, without HTTP:
 * config parsing, which rule applies, unusable keys failing the start, and the
 * check over a Registry's own stores (signed, unsigned, signature material, a
 * child of a signed index, payload blobs the repository cannot see).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, resolveConfig } from '../../src/config/config.js';
import { digestBytes } from '../../src/core/digest.js';
import { MT } from '../../src/core/media-types.js';
import { Registry } from '../../src/registry/registry.js';
import { SignaturePolicy } from '../../src/registry/signature-policy.js';
import { loadSignatureRules } from '../../src/config/signature-keys.js';
import { SignaturesConfigError } from '../../src/config/signatures-config.js';
import {
  SIGNATURE_ARTIFACT_TYPE,
  buildPayload,
  generateKeyPair,
  openPrivateKey,
  signPayload,
  signatureConfig,
  signatureLayerDescriptor,
  signatureManifest,
  signatureReferrerManifest,
  signatureTag,
  type SigningKey,
} from '../../src/sign/index.js';
import { DiskBlobStore } from '../../src/storage/disk/disk-blob-store.js';
import { SqliteMetadataStore } from '../../src/storage/sqlite/sqlite-metadata-store.js';
import { makeTempDir, removeDir } from '../helpers/tools.js';
import { Readable } from 'node:stream';

describe('require_signatures config', () => {
  it('maps globs to key files (one or several), in file order; the list form works too', () => {
    const c = resolveConfig(
      { requireSignatures: { 'prod/**': '/k/a.pub', 'team/*': ['/k/a.pub', '/k/b.pub'] } },
      {},
      {},
    );
    assert.deepEqual(c.requireSignatures, [
      { repositories: 'prod/**', keys: ['/k/a.pub'] },
      { repositories: 'team/*', keys: ['/k/a.pub', '/k/b.pub'] },
    ]);
    const list = resolveConfig({ requireSignatures: [{ repositories: 'x/**', keys: '/k.pub' }] }, {}, {});
    assert.deepEqual(list.requireSignatures, [{ repositories: 'x/**', keys: ['/k.pub'] }]);
    assert.equal(resolveConfig({}, {}, {}).requireSignatures, undefined);
  });

  it('refuses bad globs and missing keys', () => {
    assert.throws(() => resolveConfig({ requireSignatures: { 'Prod/**': '/k.pub' } }, {}, {}), ConfigError);
    assert.throws(() => resolveConfig({ requireSignatures: { 'prod/**': [] } }, {}, {}), /needs a public key file/);
    assert.throws(() => resolveConfig({ requireSignatures: 'prod/**' }, {}, {}), /must map repository globs/);
  });
});

describe('the registry pull check', () => {
  let dir: string;
  let registry: Registry;
  let policy: SignaturePolicy;
  let alice: SigningKey;
  let bob: SigningKey;

  const put = async (repo: string, ref: string, doc: unknown, mediaType: string = MT.ociManifest) => {
    const bytes = Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc));
    const r = await registry.putManifest(repo, ref, mediaType, bytes);
    return { digest: r.digest, mediaType, size: bytes.length, content: bytes };
  };
  const blob = async (repo: string, bytes: Buffer, mediaType = 'application/octet-stream') => {
    const u = await registry.startUpload(repo, undefined);
    const d = digestBytes(bytes).value;
    await registry.completeUpload(repo, u.id, undefined, d, Readable.from([bytes]));
    return { mediaType, digest: d, size: bytes.length };
  };
  const image = async (repo: string, tag: string, seed: string) => {
    const config = await blob(
      repo,
      Buffer.from(
        JSON.stringify({ architecture: 'amd64', os: 'linux', seed, rootfs: { type: 'layers', diff_ids: [] } }),
      ),
      MT.ociConfig,
    );
    return put(repo, tag, { schemaVersion: 2, mediaType: MT.ociManifest, config, layers: [] });
  };
  const signTag = async (repo: string, subject: string, key: SigningKey, payloadDigest = subject) => {
    const payload = buildPayload({ dockerReference: `x/${repo}`, digest: payloadDigest });
    const layer = signatureLayerDescriptor(
      await blob(repo, payload, 'application/vnd.dev.cosign.simplesigning.v1+json'),
      signPayload(key, payload),
    );
    const config = await blob(repo, signatureConfig([layer.digest]), MT.ociConfig);
    return put(repo, signatureTag(subject), JSON.parse(signatureManifest(config, [layer]).toString()));
  };
  const check = (repo: string, m: { digest: string; mediaType: string; content: Buffer }) =>
    registry.assertPullable(repo, m);

  before(async () => {
    dir = await makeTempDir('sign-policy');
    const pairs = {
      alice: await generateKeyPair(Buffer.from('a'), { N: 32768 }),
      bob: await generateKeyPair(Buffer.from('b'), { N: 32768 }),
    };
    await writeFile(path.join(dir, 'alice.pub'), pairs.alice.publicPem);
    alice = await openPrivateKey(pairs.alice.privatePem, Buffer.from('a'), 'alice');
    bob = await openPrivateKey(pairs.bob.privatePem, Buffer.from('b'), 'bob');
    policy = new SignaturePolicy(
      await loadSignatureRules([{ repositories: 'prod/**', keys: [path.join(dir, 'alice.pub')] }]),
    );
    const blobs = await DiskBlobStore.open(path.join(dir, 'data'), { fsync: false });
    registry = new Registry(blobs, new SqliteMetadataStore(path.join(dir, 'data', 'stowage.db'), { fsync: false }), {
      pullCheck: policy,
    });
  });
  after(async () => {
    await registry?.close();
    if (dir) await removeDir(dir);
  });

  it('fails the start on an unreadable or unusable key', async () => {
    await assert.rejects(
      loadSignatureRules([{ repositories: 'a/**', keys: [path.join(dir, 'missing.pub')] }]),
      SignaturesConfigError,
    );
    await writeFile(path.join(dir, 'bad.pub'), 'not a key');
    await assert.rejects(
      loadSignatureRules([{ repositories: 'a/**', keys: [path.join(dir, 'bad.pub')] }]),
      /not a usable public key/,
    );
    assert.equal(policy.ruleFor('prod/app')?.pattern, 'prod/**');
    assert.equal(policy.ruleFor('dev/app'), undefined);
  });

  it('serves signed manifests, refuses unsigned and wrongly signed ones, leaves other repositories alone', async () => {
    const signed = await image('prod/app', 'v1', 'a');
    await assert.rejects(
      check('prod/app', signed),
      (e: Error & { code?: string }) => e.code === 'DENIED' && /no signature found/.test(e.message),
    );
    await signTag('prod/app', signed.digest, alice);
    await check('prod/app', signed);
    const byBob = await image('prod/app', 'v2', 'b');
    await signTag('prod/app', byBob.digest, bob);
    await assert.rejects(
      check('prod/app', byBob),
      /1 signature found, none verifies \(the signature does not verify with .*alice\.pub\)/,
    );
    const otherDigest = await image('prod/app', 'v3', 'c');
    await signTag('prod/app', otherDigest.digest, alice, signed.digest);
    await assert.rejects(check('prod/app', otherDigest), /but for sha256:.*, not/);
    await check('dev/app', await image('dev/app', 'v1', 'd'));
  });

  it('lets signature material through, and an index child when the index is signed', async () => {
    const sig = await signTag('prod/idx', (await image('prod/idx', 'other', 'e')).digest, bob);
    await check('prod/idx', sig);
    const amd = await image('prod/idx', 'amd', 'f');
    const index = await put(
      'prod/idx',
      'v1',
      {
        schemaVersion: 2,
        mediaType: MT.ociIndex,
        manifests: [
          {
            mediaType: MT.ociManifest,
            digest: amd.digest,
            size: amd.size,
            platform: { os: 'linux', architecture: 'amd64' },
          },
        ],
      },
      MT.ociIndex,
    );
    await assert.rejects(check('prod/idx', amd), /not signed/);
    await assert.rejects(check('prod/idx', index), /not signed/);
    // Signed as a referrer only (no .sig tag).
    const payload = buildPayload({ dockerReference: 'x/prod/idx', digest: index.digest });
    const layer = signatureLayerDescriptor(await blob('prod/idx', payload), signPayload(alice, payload));
    const config = await blob('prod/idx', signatureConfig([layer.digest]), SIGNATURE_ARTIFACT_TYPE);
    const referrer = await put(
      'prod/idx',
      digestBytes(signatureReferrerManifest(config, [layer], index)).value,
      JSON.parse(signatureReferrerManifest(config, [layer], index).toString()),
    );
    await check('prod/idx', referrer);
    await check('prod/idx', index);
    await check('prod/idx', amd);
  });

  it('reads payloads only from the repository itself', async () => {
    const target = await image('prod/iso', 'v1', 'g');
    // The payload blob lives in another repository only: not usable here.
    const payload = buildPayload({ dockerReference: 'x/prod/iso', digest: target.digest });
    const elsewhere = await blob('dev/other', payload);
    const layer = signatureLayerDescriptor(elsewhere, signPayload(alice, payload));
    const cfg = await blob('prod/iso', signatureConfig([layer.digest]), MT.ociConfig);
    // Registry refuses manifests referencing blobs it lacks; store the .sig directly in the metadata.
    const bytes = signatureManifest(cfg, [layer]);
    await registry.meta.putManifest(
      'prod/iso',
      { digest: digestBytes(bytes).value, mediaType: MT.ociManifest, size: bytes.length, content: bytes, createdAt: 1 },
      [],
      signatureTag(target.digest),
    );
    await assert.rejects(check('prod/iso', target), /is not in prod\/iso/);
  });
});
