/**
 * artifactKind: each kind from the manifests the tools that make it push
 * (docker/buildx, helm, flux, opa/conftest, cosign legacy and v3, syft/trivy via
 * oras, notation), and the cases that must not be mistaken for another kind.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { artifactKind, formatPlatform, indexPlatforms, isArtifactKind } from '../../src/core/artifact-kind.js';

const D = (n: number) => `sha256:${String(n).padStart(64, '0')}`;
const EMPTY_OBJECT = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
const OCI = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';

function manifest(
  config: Record<string, unknown>,
  layers: Record<string, unknown>[],
  extra: Record<string, unknown> = {},
) {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI,
    config: { size: 10, digest: D(1), ...config },
    layers: layers.map((l, i) => ({ size: 5, digest: D(10 + i), ...l })),
    ...extra,
  });
}

describe('artifactKind', () => {
  it('an OCI image and a Docker image', () => {
    assert.equal(
      artifactKind(
        manifest({ mediaType: 'application/vnd.oci.image.config.v1+json' }, [
          { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' },
          { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' },
        ]),
        OCI,
      ),
      'image',
    );
    const docker = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 1, digest: D(1) },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 1, digest: D(2) }],
    });
    assert.equal(artifactKind(docker, 'application/vnd.docker.distribution.manifest.v2+json'), 'image');
  });

  it('an index and a Docker manifest list; an index with an artifactType is that kind', () => {
    const index = JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [] });
    assert.equal(artifactKind(index, INDEX), 'index');
    assert.equal(artifactKind(index, 'application/vnd.docker.distribution.manifest.list.v2+json'), 'index');
    const sbomIndex = JSON.stringify({
      schemaVersion: 2,
      mediaType: INDEX,
      artifactType: 'application/spdx+json',
      manifests: [],
    });
    assert.equal(artifactKind(sbomIndex, INDEX), 'sbom');
  });

  it('a Helm chart, by its config type (and by its layer when the config is generic)', () => {
    assert.equal(
      artifactKind(
        manifest({ mediaType: 'application/vnd.cncf.helm.config.v1+json' }, [
          { mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip' },
        ]),
        OCI,
      ),
      'helm-chart',
    );
    assert.equal(
      artifactKind(
        manifest({ mediaType: 'application/vnd.oci.empty.v1+json' }, [
          { mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip' },
        ]),
        OCI,
      ),
      'helm-chart',
    );
  });

  it('a Flux artifact', () => {
    assert.equal(
      artifactKind(
        manifest({ mediaType: 'application/vnd.cncf.flux.config.v1+json' }, [
          { mediaType: 'application/vnd.cncf.flux.content.v1.tar+gzip' },
        ]),
        OCI,
      ),
      'flux-artifact',
    );
  });

  it('an OPA bundle: `{}` image config with one tar+gzip layer, or the openpolicyagent types', () => {
    assert.equal(
      artifactKind(
        manifest({ mediaType: 'application/vnd.oci.image.config.v1+json', digest: EMPTY_OBJECT, size: 2 }, [
          {
            mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
            annotations: { 'org.opencontainers.image.title': 'bundle.tar.gz' },
          },
        ]),
        OCI,
      ),
      'opa-bundle',
    );
    assert.equal(
      artifactKind(
        manifest({ mediaType: 'application/vnd.cncf.openpolicyagent.config.v1+json' }, [
          { mediaType: 'application/vnd.cncf.openpolicyagent.policy.layer.v1+rego' },
        ]),
        OCI,
      ),
      'opa-bundle',
    );
    // A real image config (not `{}`) with one gzip layer stays an image.
    assert.equal(
      artifactKind(
        manifest({ mediaType: 'application/vnd.oci.image.config.v1+json', size: 900 }, [
          { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' },
        ]),
        OCI,
      ),
      'image',
    );
  });

  it('cosign signatures: legacy .sig manifests, v3 bundles of the sign predicate, Notary', () => {
    const legacy = manifest({ mediaType: 'application/vnd.oci.image.config.v1+json' }, [
      {
        mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
        annotations: { 'dev.cosignproject.cosign/signature': 'MEUC' },
      },
    ]);
    assert.equal(artifactKind(legacy, OCI), 'signature');
    const bundle = manifest(
      { mediaType: 'application/vnd.oci.empty.v1+json' },
      [{ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }],
      {
        artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        annotations: { 'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1' },
        subject: { mediaType: OCI, digest: D(99), size: 1 },
      },
    );
    assert.equal(artifactKind(bundle, OCI), 'signature');
    const notary = manifest(
      { mediaType: 'application/vnd.oci.empty.v1+json' },
      [{ mediaType: 'application/jose+json' }],
      { artifactType: 'application/vnd.cncf.notary.signature' },
    );
    assert.equal(artifactKind(notary, OCI), 'signature');
  });

  it('attestations, and SBOMs among them by predicate type', () => {
    const slsa = manifest(
      { mediaType: 'application/vnd.oci.empty.v1+json' },
      [{ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }],
      {
        artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        annotations: { 'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1' },
      },
    );
    assert.equal(artifactKind(slsa, OCI), 'attestation');
    const spdxBundle = manifest(
      { mediaType: 'application/vnd.oci.empty.v1+json' },
      [{ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }],
      {
        artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        annotations: { 'dev.sigstore.bundle.predicateType': 'https://spdx.dev/Document/v2.3' },
      },
    );
    assert.equal(artifactKind(spdxBundle, OCI), 'sbom');
    // cosign legacy .att: DSSE layers carrying the predicate type.
    const att = manifest({ mediaType: 'application/vnd.oci.image.config.v1+json' }, [
      {
        mediaType: 'application/vnd.dsse.envelope.v1+json',
        annotations: { predicateType: 'https://cosign.sigstore.dev/attestation/vuln/v1' },
      },
    ]);
    assert.equal(artifactKind(att, OCI), 'attestation');
    // BuildKit's attestation manifest inside an index: in-toto layers, SBOM predicate.
    const buildkit = manifest({ mediaType: 'application/vnd.oci.image.config.v1+json' }, [
      {
        mediaType: 'application/vnd.in-toto+json',
        annotations: { 'in-toto.io/predicate-type': 'https://spdx.dev/Document' },
      },
    ]);
    assert.equal(artifactKind(buildkit, OCI), 'sbom');
  });

  it('SBOM documents pushed with oras (artifactType or layer type)', () => {
    assert.equal(
      artifactKind(
        manifest({ mediaType: 'application/vnd.oci.empty.v1+json' }, [{ mediaType: 'application/json' }], {
          artifactType: 'application/vnd.cyclonedx+json',
        }),
        OCI,
      ),
      'sbom',
    );
    assert.equal(
      artifactKind(
        manifest({ mediaType: 'application/vnd.oci.empty.v1+json' }, [{ mediaType: 'application/spdx+json' }]),
        OCI,
      ),
      'sbom',
    );
  });

  it('anything else is an artifact; so are bytes that are not a JSON object', () => {
    assert.equal(
      artifactKind(manifest({ mediaType: 'application/vnd.oci.empty.v1+json' }, [{ mediaType: 'text/plain' }]), OCI),
      'artifact',
    );
    assert.equal(
      artifactKind(
        manifest({ mediaType: 'application/vnd.example.thing.v1+json' }, [{ mediaType: 'application/octet-stream' }]),
        OCI,
      ),
      'artifact',
    );
    assert.equal(artifactKind('not json', OCI), 'artifact');
    assert.equal(artifactKind('[1]', OCI), 'artifact');
    assert.equal(
      artifactKind(
        new TextEncoder().encode(manifest({ mediaType: 'application/vnd.oci.image.config.v1+json' }, [])),
        OCI,
      ),
      'image',
    );
  });

  it('isArtifactKind names exactly the kinds', () => {
    assert.ok(isArtifactKind('helm-chart'));
    assert.ok(!isArtifactKind('chart'));
  });
});

describe('indexPlatforms', () => {
  it('lists os/arch[/variant] once each, without BuildKit attestation entries', () => {
    const index = JSON.stringify({
      schemaVersion: 2,
      manifests: [
        { mediaType: OCI, digest: D(1), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: OCI, digest: D(2), size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
        { mediaType: OCI, digest: D(3), size: 1, platform: { os: 'unknown', architecture: 'unknown' } },
        { mediaType: OCI, digest: D(4), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: OCI, digest: D(5), size: 1 },
      ],
    });
    assert.deepEqual(indexPlatforms(index), ['linux/amd64', 'linux/arm/v7']);
    assert.deepEqual(indexPlatforms('{}'), []);
    assert.equal(formatPlatform({ os: 'windows', architecture: 'amd64', variant: '' }), 'windows/amd64');
  });
});
