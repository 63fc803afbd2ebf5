import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { acceptedTypes, acceptsManifest } from '../../src/core/negotiation.js';
import { MT } from '../../src/core/media-types.js';

// What real clients send (reference/clients.md §1, manifests.md §7).
const DOCKER_CLASSIC_LINES = [MT.ociIndex, MT.dockerManifest, MT.ociManifest, MT.dockerList];
const CONTAINERD = `${MT.dockerManifest}, ${MT.dockerList}, ${MT.ociManifest}, ${MT.ociIndex}, */*`;
const PODMAN_LINES = [
  MT.ociManifest,
  MT.ociIndex,
  MT.dockerManifest,
  MT.dockerList,
  MT.dockerSchema1Signed,
  MT.dockerSchema1,
];
const GGCR = [
  MT.ociManifest,
  MT.ociIndex,
  MT.dockerSchema1,
  MT.dockerSchema1Signed,
  MT.dockerManifest,
  MT.dockerList,
].join(',');
const ORAS = [MT.ociManifest, MT.ociIndex, MT.dockerManifest, MT.dockerList, MT.ociArtifactManifest].join(', ');
const ALL_STORED = [MT.ociManifest, MT.ociIndex, MT.dockerManifest, MT.dockerList];

describe('Accept parsing', () => {
  it('takes nothing from an absent or empty header', () => {
    assert.equal(acceptedTypes(undefined).size, 0);
    assert.equal(acceptedTypes('').size, 0);
    assert.equal(acceptedTypes([]).size, 0);
    assert.equal(acceptedTypes(' , ,').size, 0);
  });

  it('reads repeated header lines (docker classic, podman)', () => {
    assert.deepEqual(acceptedTypes(DOCKER_CLASSIC_LINES), new Set(DOCKER_CLASSIC_LINES));
    assert.deepEqual(acceptedTypes(PODMAN_LINES), new Set(PODMAN_LINES));
  });

  it('splits comma-joined lists with or without spaces (containerd, ggcr, oras)', () => {
    assert.deepEqual(
      acceptedTypes(CONTAINERD),
      new Set([MT.dockerManifest, MT.dockerList, MT.ociManifest, MT.ociIndex, '*/*']),
    );
    assert.equal(acceptedTypes(GGCR).size, 6);
    assert.ok(acceptedTypes(ORAS).has(MT.ociArtifactManifest));
  });

  it('mixes both: Node joins repeated lines with ", " and lines may already hold lists', () => {
    const joined = `${MT.ociManifest}, ${MT.ociIndex}`;
    assert.deepEqual(acceptedTypes([joined, `${MT.dockerManifest},${MT.dockerList}`]), new Set(ALL_STORED));
  });

  it('drops parameters and quality values, lowercases, trims', () => {
    const set = acceptedTypes(
      `  Application/VND.OCI.image.manifest.v1+JSON ;q=0.9 , application/json; charset=utf-8,*/*;q=0.1`,
    );
    assert.deepEqual(set, new Set([MT.ociManifest, MT.json, '*/*']));
  });
});

describe('Accept decision for a stored manifest', () => {
  it('serves every stored type to every mainstream client', () => {
    for (const accept of [DOCKER_CLASSIC_LINES, CONTAINERD, PODMAN_LINES, GGCR, ORAS] as const) {
      for (const stored of ALL_STORED) {
        assert.equal(acceptsManifest(acceptedTypes(accept), stored), true, `${String(accept)} → ${stored}`);
      }
    }
  });

  it('serves anything to no Accept, */* or application/* (curl)', () => {
    for (const stored of ALL_STORED) {
      assert.equal(acceptsManifest(new Set(), stored), true);
      assert.equal(acceptsManifest(acceptedTypes('*/*'), stored), true);
      assert.equal(acceptsManifest(acceptedTypes('application/*'), stored), true);
      assert.equal(acceptsManifest(acceptedTypes(`${MT.dockerManifest}, */*`), stored), true);
    }
  });

  it('refuses an explicit list of current types that does not name the stored one', () => {
    // A client that only knows Docker schema 2 asks for a tag that is an OCI index.
    assert.equal(acceptsManifest(acceptedTypes([MT.dockerManifest]), MT.ociIndex), false);
    assert.equal(acceptsManifest(acceptedTypes([MT.dockerManifest, MT.dockerList]), MT.ociManifest), false);
    assert.equal(acceptsManifest(acceptedTypes(MT.ociManifest), MT.dockerList), false);
    assert.equal(acceptsManifest(acceptedTypes(MT.ociIndex), MT.ociManifest), false);
    assert.equal(acceptsManifest(acceptedTypes(MT.ociArtifactManifest), MT.ociManifest), false);
  });

  it('is lenient with clients that only list legacy or generic types', () => {
    assert.equal(acceptsManifest(acceptedTypes(MT.json), MT.ociManifest), true);
    assert.equal(acceptsManifest(acceptedTypes([MT.dockerSchema1Signed, MT.json]), MT.dockerManifest), true);
    assert.equal(acceptsManifest(acceptedTypes('text/html'), MT.ociIndex), true);
  });
});
