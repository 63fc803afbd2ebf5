/**
 * Manifest and config bytes as flux (go-containerregistry) writes them, annotations,
 * and the semver filter of `artifact list`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AnnotationError,
  FLUX_CONFIG_MEDIA_TYPE,
  FLUX_CONTENT_MEDIA_TYPE,
  REPRODUCIBLE_CREATED,
  fluxAnnotations,
  fluxConfigBytes,
  fluxManifestBytes,
  gitRevision,
  goJSONString,
  isCosignTag,
  parseAnnotations,
  parseTagVersion,
  sortTagsDescending,
} from '../../src/flux/artifact.js';

describe('flux manifest and config bytes', () => {
  it('the manifest is go-containerregistry’s compact JSON: the example of flux RFC-0003, byte for byte', () => {
    // fluxcd/flux2 rfcs/0003-kubernetes-oci/README.md shows this manifest pretty-printed;
    // ggcr writes it compact with the same member order.
    const rfc = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.cncf.flux.config.v1+json',
        size: 233,
        digest: 'sha256:1b80ecb1c04d4a9718a6094a00ed17b76ea8ff2bb846695fa38e7492d34f505c',
      },
      layers: [
        {
          mediaType: 'application/vnd.cncf.flux.content.v1.tar+gzip',
          size: 19081,
          digest: 'sha256:46c2b334705cd08db1a6fa46f860cd3364fc1a3636eea37a9b35537549086a1c',
        },
      ],
      annotations: {
        'org.opencontainers.image.created': '2023-02-10T09:06:09Z',
        'org.opencontainers.image.revision': 'sha1:6ea3e5b4da159fcb4a1288f072d34c3315644bcc',
        'org.opencontainers.image.source': 'https://github.com/fluxcd/flux2',
      },
    };
    const ours = fluxManifestBytes(rfc.config, rfc.layers[0]!, {
      'org.opencontainers.image.source': 'https://github.com/fluxcd/flux2',
      'org.opencontainers.image.revision': 'sha1:6ea3e5b4da159fcb4a1288f072d34c3315644bcc',
      'org.opencontainers.image.created': '2023-02-10T09:06:09Z',
    });
    assert.equal(ours.toString(), JSON.stringify(rfc));
  });

  it('the config is ggcr’s empty image config after one layer: 233 bytes with the tar digest as diff_id', () => {
    const diffId = 'sha256:0f7805c833c622c5478622c2751315bb20c78b8f04a333526acb8bad61b3e4c4';
    const cfg = fluxConfigBytes(diffId);
    // The bytes Go's encoding/json writes for go-containerregistry's v1.ConfigFile with
    // History [{}] and RootFS.DiffIDs [diffId] (checked with Go 1.19 and ggcr's struct tags).
    assert.equal(
      cfg.toString(),
      `{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["${diffId}"]},"config":{}}`,
    );
    assert.equal(cfg.length, 233);
    assert.equal(FLUX_CONFIG_MEDIA_TYPE, 'application/vnd.cncf.flux.config.v1+json');
    assert.equal(FLUX_CONTENT_MEDIA_TYPE, 'application/vnd.cncf.flux.content.v1.tar+gzip');
  });

  it('annotation keys sort bytewise and strings are HTML-escaped like Go', () => {
    const b = fluxManifestBytes(
      { mediaType: 'c', size: 1, digest: 'sha256:a' },
      { mediaType: 'l', size: 2, digest: 'sha256:b' },
      { b: '<x & y>', A: '\u2028' },
    );
    assert.equal(
      b.toString(),
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"c","size":1,"digest":"sha256:a"},"layers":[{"mediaType":"l","size":2,"digest":"sha256:b"}],"annotations":{"A":"\\u2028","b":"\\u003cx \\u0026 y\\u003e"}}',
    );
    assert.equal(goJSONString('é'), '"é"');
  });
});

describe('flux annotations', () => {
  it('created, source, revision, then --annotations (which win)', () => {
    const a = fluxAnnotations(
      {
        source: 'https://x/app.git',
        revision: 'main@sha1:abc',
        annotations: { 'org.opencontainers.image.source': 'override', team: 'a' },
      },
      new Date('2026-01-02T03:04:05.678Z'),
    );
    assert.deepEqual(a, {
      'org.opencontainers.image.created': '2026-01-02T03:04:05Z',
      'org.opencontainers.image.source': 'override',
      'org.opencontainers.image.revision': 'main@sha1:abc',
      team: 'a',
    });
    assert.equal(REPRODUCIBLE_CREATED, '1970-01-01T00:00:00Z');
    assert.throws(
      () =>
        fluxAnnotations({
          source: 's',
          revision: 'r',
          annotations: { 'org.opencontainers.image.created': 'yesterday' },
        }),
      AnnotationError,
    );
  });

  it('--annotations must be key=value with exactly one "="', () => {
    assert.deepEqual(parseAnnotations(['a=b', 'c=']), { a: 'b', c: '' });
    assert.throws(() => parseAnnotations(['a=b=c']), /must be in the format key=value/);
    assert.throws(() => parseAnnotations(['novalue']), AnnotationError);
  });

  it('revisions in flux’s <ref>@sha1:<commit> form', () => {
    assert.equal(gitRevision('main', 'a'.repeat(40)), `main@sha1:${'a'.repeat(40)}`);
    assert.equal(gitRevision(undefined, 'b'.repeat(40)), `sha1:${'b'.repeat(40)}`);
  });
});

describe('artifact list filtering (flux list artifacts)', () => {
  it('sorts tags descending as strings and drops cosign tags', () => {
    assert.deepEqual(sortTagsDescending(['v1.10.0', 'v1.9.0', 'latest', 'v1.2.0']), [
      'v1.9.0',
      'v1.2.0',
      'v1.10.0',
      'latest',
    ]);
    assert.ok(isCosignTag('sha256-abc.sig') && isCosignTag('x.att') && isCosignTag('x.sbom') && !isCosignTag('v1'));
  });

  it('parses tags as strict X.Y.Z after leading v', () => {
    assert.ok(parseTagVersion('v1.2.3'));
    assert.ok(parseTagVersion('1.2.3-rc.1+build.5'));
    for (const bad of ['1.2', 'v1', 'latest', '01.2.3', '1.2.3.4']) assert.equal(parseTagVersion(bad), undefined, bad);
  });
});
