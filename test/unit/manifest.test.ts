import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifest, resolveManifestMediaType, type ParsedManifest } from '../../src/core/manifest.js';
import {
  MT,
  bareMediaType,
  isIndexType,
  isImageManifestType,
  isManifestType,
  isValidMediaType,
} from '../../src/core/media-types.js';
import { digestBytes } from '../../src/core/digest.js';
import { registryError, throwsCode } from '../helpers/registry-error.js';
import { ALPINE_AMD64, EMPTY_JSON_SHA256, HELM_SIGNTEST, OPA_SIGNED } from './vectors.js';

const utf8 = (s: string) => Buffer.from(s, 'utf8');
const json = (v: unknown) => utf8(JSON.stringify(v));

/** A descriptor of real bytes (digest and size agree with the content). */
function desc(mediaType: string, content: string, extra: Record<string, unknown> = {}) {
  return { mediaType, digest: digestBytes(utf8(content)).value, size: Buffer.byteLength(content), ...extra };
}

const LAYER_GZ = 'application/vnd.oci.image.layer.v1.tar+gzip';
const config = desc(MT.ociConfig, '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
const layer = desc(LAYER_GZ, 'layer-bytes');
const emptyDesc = { mediaType: MT.ociEmpty, digest: EMPTY_JSON_SHA256, size: 2, data: 'e30=' };

function ociManifest(extra: Record<string, unknown> = {}) {
  return { schemaVersion: 2, mediaType: MT.ociManifest, config, layers: [layer], ...extra };
}

function expectInvalid(body: Uint8Array, contentType: string | undefined, message?: RegExp, label?: string): void {
  assert.throws(
    () => parseManifest(body, contentType),
    registryError('MANIFEST_INVALID', (e) => {
      assert.equal(e.status, 400);
      if (message) assert.match(e.message, message, label);
    }),
    label,
  );
}

function refDigests(p: ParsedManifest): string[] {
  return p.references.map((r) => r.digest);
}

describe('manifest parsing: real-world bytes', () => {
  it('Docker Hub alpine (Docker schema 2, 528 bytes)', () => {
    const bytes = utf8(ALPINE_AMD64.text);
    assert.equal(digestBytes(bytes).value, ALPINE_AMD64.digest);
    for (const ct of [MT.dockerManifest, undefined, '', MT.json, `${MT.dockerManifest}; charset=utf-8`]) {
      const p = parseManifest(bytes, ct);
      assert.equal(p.mediaType, MT.dockerManifest);
      assert.deepEqual(p.references, [
        { digest: ALPINE_AMD64.configDigest, size: 1509, mediaType: MT.dockerConfig, role: 'config' },
        {
          digest: ALPINE_AMD64.layerDigest,
          size: 2797541,
          mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
          role: 'layer',
        },
      ]);
      assert.equal(p.subject, undefined);
      // Referrers fall back to the config type for images.
      assert.equal(p.artifactType, MT.dockerConfig);
    }
  });

  it('Helm chart manifest without mediaType (742 bytes) by header and by sniffing', () => {
    const bytes = utf8(HELM_SIGNTEST.manifest);
    for (const ct of [MT.ociManifest, undefined, MT.octetStream]) {
      const p = parseManifest(bytes, ct);
      assert.equal(p.mediaType, MT.ociManifest);
      assert.deepEqual(refDigests(p), [
        HELM_SIGNTEST.configDigest,
        HELM_SIGNTEST.provDigest,
        HELM_SIGNTEST.chartDigest,
      ]);
      assert.deepEqual(
        p.references.map((r) => r.role),
        ['config', 'layer', 'layer'],
      );
      assert.equal(p.artifactType, HELM_SIGNTEST.configMediaType);
      assert.equal(p.annotations?.['org.opencontainers.image.title'], 'signtest');
      assert.equal(p.annotations?.['org.opencontainers.image.version'], '0.1.0');
    }
  });

  it('OPA policy bundle manifest (no mediaType, `{}` config, layer annotations)', () => {
    const p = parseManifest(utf8(OPA_SIGNED.text), undefined);
    assert.equal(p.mediaType, MT.ociManifest);
    assert.deepEqual(
      p.references.map((r) => [r.digest, r.size, r.role]),
      [
        [EMPTY_JSON_SHA256, 2, 'config'],
        ['sha256:7fccf82798e6e627afd04144889570d966583788473db2888f0d0d325904d273', 764, 'layer'],
      ],
    );
  });

  it('Docker manifest list with escaped slashes and non-Go key order', () => {
    const text =
      '{"manifests":[{"digest":"sha256:a15790640a6690aa1730c38cf0a440e2aa44aaca9b0e8931a9f2b0d7cc90fd65","mediaType":"application\\/vnd.docker.distribution.manifest.v2+json","platform":{"architecture":"amd64","os":"linux"},"size":528},' +
      '{"digest":"sha256:71465c7d45a086a2181ce33bb47f7eaef5c233eace65704da0c5e5454a79cee5","mediaType":"application\\/vnd.docker.distribution.manifest.v2+json","platform":{"architecture":"arm","os":"linux","variant":"v6"},"size":528}],' +
      '"mediaType":"application\\/vnd.docker.distribution.manifest.list.v2+json","schemaVersion":2}';
    for (const ct of [MT.dockerList, undefined]) {
      const p = parseManifest(utf8(text), ct);
      assert.equal(p.mediaType, MT.dockerList);
      assert.deepEqual(
        p.references.map((r) => [r.digest, r.size, r.mediaType, r.role]),
        [
          [ALPINE_AMD64.digest, 528, MT.dockerManifest, 'manifest'],
          [
            'sha256:71465c7d45a086a2181ce33bb47f7eaef5c233eace65704da0c5e5454a79cee5',
            528,
            MT.dockerManifest,
            'manifest',
          ],
        ],
      );
      assert.equal(p.artifactType, undefined);
    }
  });
});

describe('manifest parsing: OCI image manifest and artifacts', () => {
  it('references config then layers, in order, with their roles', () => {
    const l2 = desc('application/vnd.oci.image.layer.v1.tar+zstd', 'second');
    const p = parseManifest(json(ociManifest({ layers: [layer, l2] })), MT.ociManifest);
    assert.deepEqual(p.references, [
      { digest: config.digest, size: config.size, mediaType: MT.ociConfig, role: 'config' },
      { digest: layer.digest, size: layer.size, mediaType: LAYER_GZ, role: 'layer' },
      { digest: l2.digest, size: l2.size, mediaType: l2.mediaType, role: 'layer' },
    ]);
    assert.equal(p.artifactType, MT.ociConfig);
  });

  it('accepts `layers: []` and a missing `layers` for OCI (conformance pushes both shapes)', () => {
    assert.deepEqual(refDigests(parseManifest(json(ociManifest({ layers: [] })), MT.ociManifest)), [config.digest]);
    const { layers: _omit, ...noLayers } = ociManifest();
    assert.deepEqual(refDigests(parseManifest(json(noLayers), MT.ociManifest)), [config.digest]);
  });

  it('requires `layers` for Docker schema 2', () => {
    expectInvalid(
      json({ schemaVersion: 2, mediaType: MT.dockerManifest, config: { ...config, mediaType: MT.dockerConfig } }),
      MT.dockerManifest,
      /layers/,
    );
  });

  it('artifact: artifactType with the empty config wins over the config type', () => {
    const sbom = desc('application/spdx+json', '{"spdxVersion":"SPDX-2.3"}');
    const body = {
      schemaVersion: 2,
      mediaType: MT.ociManifest,
      artifactType: 'application/vnd.example.sbom.v1',
      config: emptyDesc,
      layers: [sbom],
      annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
    };
    const p = parseManifest(json(body), MT.ociManifest);
    assert.equal(p.artifactType, 'application/vnd.example.sbom.v1');
    assert.deepEqual(refDigests(p), [EMPTY_JSON_SHA256, sbom.digest]);
    assert.deepEqual(p.annotations, { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' });
  });

  it('artifact with no content: empty config and empty layer both listed (the registry dedupes)', () => {
    const body = {
      schemaVersion: 2,
      mediaType: MT.ociManifest,
      artifactType: 'application/vnd.example.note',
      config: emptyDesc,
      layers: [emptyDesc],
      annotations: { note: 'hi' },
    };
    const p = parseManifest(json(body), undefined);
    assert.deepEqual(
      p.references.map((r) => [r.digest, r.role]),
      [
        [EMPTY_JSON_SHA256, 'config'],
        [EMPTY_JSON_SHA256, 'layer'],
      ],
    );
  });

  it('an unknown config type is accepted as opaque (BuildKit cache with image-manifest=true)', () => {
    const cacheConfig = desc('application/vnd.buildkit.cacheconfig.v0', '{"layers":[]}');
    const p = parseManifest(
      json({ schemaVersion: 2, mediaType: MT.ociManifest, config: cacheConfig, layers: [layer] }),
      MT.ociManifest,
    );
    assert.equal(p.artifactType, 'application/vnd.buildkit.cacheconfig.v0');
  });

  it('an empty artifactType falls back to the config media type, as the referrers API does', () => {
    // manifests.md / distribution-spec.md §6.3: "artifactType = the referrer's artifactType,
    // or (image manifests only) its config.mediaType when artifactType is absent/empty".
    // manifest.ts already has the `!== ''` fallback, but the validation above it refuses "".
    const p = parseManifest(json(ociManifest({ artifactType: '' })), MT.ociManifest);
    assert.equal(p.artifactType, MT.ociConfig);
  });

  it('keeps the subject out of the references (it is never existence-checked)', () => {
    const subject = { mediaType: MT.ociManifest, digest: ALPINE_AMD64.digest, size: 528 };
    const sig = desc('application/vnd.dev.cosign.simplesigning.v1+json', '{"critical":{}}');
    const body = {
      schemaVersion: 2,
      mediaType: MT.ociManifest,
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      config: emptyDesc,
      layers: [sig],
      subject,
    };
    const p = parseManifest(json(body), MT.ociManifest);
    assert.deepEqual(p.subject, subject);
    assert.ok(!refDigests(p).includes(ALPINE_AMD64.digest));
  });

  it('skips foreign layers that carry urls, but checks layers with an empty urls list', () => {
    const foreign = {
      mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
      size: 1_433_335_462,
      digest: 'sha256:8a2f4f8c0a4c2e6d11a53a3b5bbc53b1a0d41bc5ab30d4e3f1fa95cf4f0f1d5e',
      urls: [
        'https://mcr.microsoft.com/v2/windows/servercore/blobs/sha256:8a2f4f8c0a4c2e6d11a53a3b5bbc53b1a0d41bc5ab30d4e3f1fa95cf4f0f1d5e',
      ],
    };
    const local = desc('application/vnd.docker.image.rootfs.diff.tar.gzip', 'app layer');
    const dockerConfig = { ...config, mediaType: MT.dockerConfig };
    const body = { schemaVersion: 2, mediaType: MT.dockerManifest, config: dockerConfig, layers: [foreign, local] };
    const p = parseManifest(json(body), MT.dockerManifest);
    assert.deepEqual(refDigests(p), [dockerConfig.digest, local.digest]);

    const withEmptyUrls = { ...local, urls: [] };
    const p2 = parseManifest(json({ ...body, layers: [withEmptyUrls] }), MT.dockerManifest);
    assert.deepEqual(refDigests(p2), [dockerConfig.digest, local.digest]);
  });

  it('a layer whose type is a manifest type is a manifest reference', () => {
    const child = { mediaType: MT.ociManifest, digest: ALPINE_AMD64.digest, size: 528 };
    const p = parseManifest(json(ociManifest({ layers: [child] })), MT.ociManifest);
    assert.equal(p.references[1]?.role, 'manifest');
  });

  it('preserves unknown descriptor fields and platform/data without complaint', () => {
    const l = {
      ...layer,
      data: Buffer.from('layer-bytes').toString('base64'),
      'x-vendor': { any: ['thing'] },
      annotations: { 'org.opencontainers.image.title': 'a.txt' },
    };
    const p = parseManifest(json(ociManifest({ layers: [l], 'x-top': 1 })), MT.ociManifest);
    assert.equal(p.references.length, 2);
  });
});

describe('manifest parsing: OCI index and Docker list', () => {
  const amd64 = {
    mediaType: MT.ociManifest,
    digest: digestBytes(utf8('amd64')).value,
    size: 5,
    platform: { architecture: 'amd64', os: 'linux' },
  };
  const arm64 = {
    mediaType: MT.ociManifest,
    digest: digestBytes(utf8('arm64')).value,
    size: 5,
    platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
  };
  const attestation = {
    mediaType: MT.ociManifest,
    digest: digestBytes(utf8('att')).value,
    size: 3,
    platform: { architecture: 'unknown', os: 'unknown' },
    annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': amd64.digest },
  };

  it('lists every child as a manifest reference', () => {
    const p = parseManifest(
      json({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [amd64, arm64, attestation] }),
      MT.ociIndex,
    );
    assert.equal(p.mediaType, MT.ociIndex);
    assert.deepEqual(
      p.references.map((r) => [r.digest, r.role]),
      [
        [amd64.digest, 'manifest'],
        [arm64.digest, 'manifest'],
        [attestation.digest, 'manifest'],
      ],
    );
    assert.equal(p.artifactType, undefined, 'an index without artifactType has none (no config fallback)');
  });

  it('accepts nested indexes, Docker children, empty `manifests` and an artifactType', () => {
    const nested = { mediaType: MT.ociIndex, digest: digestBytes(utf8('nested')).value, size: 6 };
    const docker = { mediaType: MT.dockerManifest, digest: ALPINE_AMD64.digest, size: 528 };
    const p = parseManifest(
      json({
        schemaVersion: 2,
        mediaType: MT.ociIndex,
        artifactType: 'application/vnd.example.bundle',
        manifests: [nested, docker],
      }),
      MT.ociIndex,
    );
    assert.deepEqual(
      p.references.map((r) => r.role),
      ['manifest', 'manifest'],
    );
    assert.equal(p.artifactType, 'application/vnd.example.bundle');
    assert.deepEqual(
      parseManifest(json({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [] }), undefined).references,
      [],
    );
  });

  it('sniffs an index without mediaType from `manifests`', () => {
    assert.equal(parseManifest(json({ schemaVersion: 2, manifests: [amd64] }), undefined).mediaType, MT.ociIndex);
    assert.equal(parseManifest(json({ schemaVersion: 2, manifests: [amd64] }), MT.ociIndex).mediaType, MT.ociIndex);
  });

  it('BuildKit registry cache index: layer and cache-config blobs as children are blob references', () => {
    const cacheLayer = desc(LAYER_GZ, 'cached layer', {
      annotations: {
        'buildkit/createdat': '2024-05-01T10:00:00Z',
        'containerd.io/uncompressed': digestBytes(utf8('x')).value,
      },
    });
    const cacheConfig = desc('application/vnd.buildkit.cacheconfig.v0', '{"layers":[{"blob":"x"}],"records":[]}');
    const p = parseManifest(
      json({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [cacheLayer, cacheConfig] }),
      MT.ociIndex,
    );
    assert.deepEqual(
      p.references.map((r) => [r.digest, r.role]),
      [
        [cacheLayer.digest, 'layer'],
        [cacheConfig.digest, 'layer'],
      ],
    );
  });

  it('an index with a subject is a referrer too', () => {
    const subject = { mediaType: MT.ociManifest, digest: amd64.digest, size: 5 };
    const p = parseManifest(json({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [], subject }), MT.ociIndex);
    assert.equal(p.subject?.digest, amd64.digest);
  });

  it('refuses `config` or `layers` in an index and a non-array `manifests`', () => {
    expectInvalid(
      json({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [amd64], config }),
      MT.ociIndex,
      /config/,
    );
    expectInvalid(
      json({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [amd64], layers: [layer] }),
      MT.ociIndex,
      /layers/,
    );
    expectInvalid(json({ schemaVersion: 2, mediaType: MT.dockerList, manifests: [amd64], config }), undefined);
    expectInvalid(json({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: {} }), MT.ociIndex, /manifests/);
    expectInvalid(json({ schemaVersion: 2, mediaType: MT.ociIndex }), MT.ociIndex, /manifests/);
    // Header says index, body is shaped like an image: still refused.
    expectInvalid(json({ schemaVersion: 2, config, layers: [layer] }), MT.ociIndex);
  });
});

describe('manifest parsing: media type resolution', () => {
  it('follows header, then body mediaType, then structure', () => {
    assert.equal(resolveManifestMediaType(MT.ociIndex, { manifests: [] }), MT.ociIndex);
    assert.equal(resolveManifestMediaType(undefined, { mediaType: MT.dockerList }), MT.dockerList);
    assert.equal(resolveManifestMediaType(MT.json, { mediaType: MT.ociIndex }), MT.ociIndex);
    assert.equal(
      resolveManifestMediaType(MT.octetStream, { config: { mediaType: MT.dockerConfig } }),
      MT.dockerManifest,
    );
    assert.equal(resolveManifestMediaType('text/plain', { config: { mediaType: MT.ociConfig } }), MT.ociManifest);
    assert.equal(
      resolveManifestMediaType(undefined, { config: { mediaType: 'application/vnd.cncf.flux.config.v1+json' } }),
      MT.ociManifest,
    );
    assert.equal(resolveManifestMediaType(undefined, { manifests: [] }), MT.ociIndex);
    assert.equal(
      resolveManifestMediaType('Application/VND.OCI.Image.Manifest.v1+JSON ; charset=utf-8', {}),
      MT.ociManifest,
    );
  });

  it('refuses a header and a body mediaType that disagree', () => {
    const body = json(ociManifest());
    expectInvalid(body, MT.dockerManifest, /does not match/);
    expectInvalid(body, MT.ociIndex, /does not match/);
    expectInvalid(json({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [] }), MT.ociManifest, /does not match/);
    expectInvalid(json({ schemaVersion: 2, mediaType: MT.dockerList, manifests: [] }), MT.ociIndex, /does not match/);
  });

  it('refuses Docker schema 1 whichever way it arrives', () => {
    const schema1 = json({
      schemaVersion: 1,
      name: 'library/hello-world',
      tag: 'latest',
      architecture: 'amd64',
      fsLayers: [{ blobSum: 'sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4' }],
      history: [{ v1Compatibility: '{}' }],
      signatures: [{ header: { alg: 'ES256' }, signature: 'x', protected: 'y' }],
    });
    expectInvalid(schema1, MT.dockerSchema1Signed, /schema 1/);
    expectInvalid(schema1, MT.dockerSchema1, /schema 1/);
    expectInvalid(schema1, undefined, /schema 1/);
    expectInvalid(schema1, MT.json, /schema 1/);
    expectInvalid(json({ schemaVersion: 2, config, layers: [] }), MT.dockerSchema1Signed, /schema 1/);
    expectInvalid(json({ schemaVersion: 1, mediaType: MT.dockerSchema1Signed }), undefined);
  });

  it('refuses unknown manifest types, including the withdrawn OCI artifact manifest', () => {
    const artifact = json({ mediaType: MT.ociArtifactManifest, artifactType: 'application/x', blobs: [] });
    expectInvalid(artifact, MT.ociArtifactManifest, /unsupported manifest media type/);
    expectInvalid(artifact, undefined, /unsupported manifest media type/);
    expectInvalid(json(ociManifest()), 'application/vnd.example.thing', /unsupported manifest media type/);
    expectInvalid(
      json({ ...ociManifest(), mediaType: 'application/vnd.example.thing' }),
      undefined,
      /unsupported manifest media type/,
    );
  });

  it('refuses a body whose type cannot be determined', () => {
    expectInvalid(json({ schemaVersion: 2 }), undefined, /cannot determine/);
    expectInvalid(json({ schemaVersion: 2, layers: [layer] }), MT.json, /cannot determine/);
    expectInvalid(json({ schemaVersion: 2, mediaType: 7 }), undefined, /mediaType/);
  });
});

describe('manifest parsing: malformed documents', () => {
  it('refuses non-JSON, non-objects and invalid UTF-8', () => {
    expectInvalid(utf8(''), MT.ociManifest);
    expectInvalid(utf8('not json'), MT.ociManifest);
    expectInvalid(utf8(`${JSON.stringify(ociManifest())} trailing`), MT.ociManifest);
    expectInvalid(utf8('[]'), MT.ociManifest, /object/);
    expectInvalid(utf8('null'), MT.ociManifest, /object/);
    expectInvalid(utf8('"manifest"'), MT.ociManifest, /object/);
    expectInvalid(utf8('2'), MT.ociManifest, /object/);
    const latin1 = Buffer.concat([utf8('{"schemaVersion":2,"annotations":{"a":"'), Buffer.from([0xe9]), utf8('"}}')]);
    expectInvalid(latin1, MT.ociManifest, /UTF-8/);
  });

  it('requires schemaVersion 2', () => {
    for (const v of [undefined, 3, '2', 2.0000001, null]) {
      expectInvalid(json(ociManifest({ schemaVersion: v })), MT.ociManifest, /schemaVersion/);
    }
  });

  it('refuses a `manifests` key in an image manifest (CVE-2021-41190)', () => {
    expectInvalid(json(ociManifest({ manifests: [] })), MT.ociManifest, /manifests/);
    expectInvalid(json(ociManifest({ manifests: [{ ...config, mediaType: MT.ociManifest }] })), undefined, /manifests/);
    // No mediaType, no header, both shapes present: sniffed as an image, then refused.
    const { mediaType: _m, ...ambiguous } = ociManifest({ manifests: [] });
    expectInvalid(json(ambiguous), undefined, /manifests/);
    expectInvalid(
      json({ schemaVersion: 2, mediaType: MT.dockerManifest, config, layers: [], manifests: [] }),
      MT.dockerManifest,
      /manifests/,
    );
  });

  it('refuses bad descriptors, naming where they are', () => {
    const bad: Array<[string, unknown]> = [
      ['missing mediaType', { digest: layer.digest, size: 1 }],
      ['empty mediaType', { ...layer, mediaType: '' }],
      ['mediaType without subtype', { ...layer, mediaType: 'application' }],
      ['mediaType with spaces', { ...layer, mediaType: 'application/x y' }],
      ['numeric mediaType', { ...layer, mediaType: 5 }],
      ['missing digest', { mediaType: LAYER_GZ, size: 1 }],
      ['numeric digest', { ...layer, digest: 12 }],
      ['uppercase digest', { ...layer, digest: layer.digest.toUpperCase() }],
      ['short digest', { ...layer, digest: layer.digest.slice(0, -1) }],
      ['unknown algorithm', { ...layer, digest: `md5:${'0'.repeat(32)}` }],
      ['missing size', { mediaType: LAYER_GZ, digest: layer.digest }],
      ['negative size', { ...layer, size: -1 }],
      ['fractional size', { ...layer, size: 1.5 }],
      ['string size', { ...layer, size: '11' }],
      ['unsafe size', { ...layer, size: 2 ** 53 }],
      ['null', null],
      ['array', [layer]],
      ['string', layer.digest],
      ['urls not an array', { ...layer, urls: 'https://example.com/x' }],
      ['urls with a number', { ...layer, urls: [1] }],
      ['annotations with a number value', { ...layer, annotations: { n: 1 } }],
      ['annotations as an array', { ...layer, annotations: ['a'] }],
      ['artifactType not a string', { ...layer, artifactType: 1 }],
    ];
    for (const [what, d] of bad) {
      expectInvalid(json(ociManifest({ layers: [layer, d] })), MT.ociManifest, /layers\[1\]/, what);
    }
    expectInvalid(json(ociManifest({ config: { ...config, size: -2 } })), MT.ociManifest, /config/);
    expectInvalid(json(ociManifest({ config: undefined })), MT.ociManifest, /config/);
    expectInvalid(json(ociManifest({ layers: 'x' })), MT.ociManifest, /layers/);
    expectInvalid(
      json({
        schemaVersion: 2,
        mediaType: MT.ociIndex,
        manifests: [{ mediaType: MT.ociManifest, digest: 'sha256:x', size: 1 }],
      }),
      MT.ociIndex,
      /manifests\[0\]/,
    );
  });

  it('refuses a malformed subject, artifactType or annotations', () => {
    expectInvalid(
      json(ociManifest({ subject: { mediaType: MT.ociManifest, digest: 'sha256:abc', size: 1 } })),
      MT.ociManifest,
      /subject/,
    );
    expectInvalid(json(ociManifest({ subject: 'sha256:abc' })), MT.ociManifest, /subject/);
    expectInvalid(json(ociManifest({ artifactType: 5 })), MT.ociManifest, /artifactType/);
    expectInvalid(json(ociManifest({ artifactType: 'not a media type' })), MT.ociManifest, /artifactType/);
    expectInvalid(json(ociManifest({ annotations: { a: 1 } })), MT.ociManifest, /annotations/);
    expectInvalid(json(ociManifest({ annotations: 'x' })), MT.ociManifest, /annotations/);
  });

  it('keeps the echoed digest short in error messages', () => {
    throwsCode(
      () =>
        parseManifest(
          json(ociManifest({ layers: [{ ...layer, digest: `sha256:${'z'.repeat(10_000)}` }] })),
          MT.ociManifest,
        ),
      'MANIFEST_INVALID',
      (e) => {
        assert.ok(e.message.length < 300, `message is ${e.message.length} chars`);
      },
    );
  });
});

describe('media types', () => {
  it('classifies the four manifest types', () => {
    assert.deepEqual([MT.ociManifest, MT.dockerManifest].map(isImageManifestType), [true, true]);
    assert.deepEqual([MT.ociIndex, MT.dockerList].map(isIndexType), [true, true]);
    for (const t of [MT.dockerSchema1, MT.dockerSchema1Signed, MT.ociArtifactManifest, MT.ociConfig, MT.json, '']) {
      assert.equal(isManifestType(t), false, t);
    }
  });

  it('bareMediaType strips parameters and case', () => {
    assert.equal(bareMediaType(undefined), '');
    assert.equal(bareMediaType(''), '');
    assert.equal(bareMediaType('  Application/JSON ; charset=utf-8'), 'application/json');
    assert.equal(bareMediaType(`${MT.ociIndex};q=0.9`), MT.ociIndex);
  });

  it('isValidMediaType follows RFC 6838 names', () => {
    for (const ok of [
      'application/vnd.oci.image.layer.v1.tar+gzip',
      'application/vnd.cncf.helm.chart.provenance.v1.prov',
      'text/plain',
      'application/vnd.dev.sigstore.bundle.v0.3+json',
      'application/spdx+json',
    ]) {
      assert.equal(isValidMediaType(ok), true, ok);
    }
    for (const bad of [
      '',
      'application',
      '/json',
      'application/',
      'application/json; charset=utf-8',
      'a/b/c',
      'application/x y',
      `application/${'x'.repeat(128)}`,
    ]) {
      assert.equal(isValidMediaType(bad), false, bad);
    }
  });
});
