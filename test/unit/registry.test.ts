/**
 * Registry operations called directly (no HTTP), over the real disk blob store and
 * SQLite metadata store in a temp dir. The HTTP layer only maps onto these.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Registry, type RegistryOptions } from '../../src/registry/registry.js';
import { DiskBlobStore } from '../../src/storage/disk/disk-blob-store.js';
import { SqliteMetadataStore } from '../../src/storage/sqlite/sqlite-metadata-store.js';
import type { MetadataStore } from '../../src/storage/metadata-store.js';
import { digestBytes } from '../../src/core/digest.js';
import { MT } from '../../src/core/media-types.js';
import { acceptedTypes } from '../../src/core/negotiation.js';
import { rejectsCode, rejectsMany } from '../helpers/registry-error.js';
import { ALPINE_AMD64, EMPTY_JSON_SHA256, EMPTY_SHA256, HELM_SIGNTEST } from './vectors.js';

const enc = (s: string) => Buffer.from(s, 'utf8');
const json = (v: unknown) => enc(JSON.stringify(v));
const ALL = new Set<string>();
const T0 = 1_700_000_000_000;
const TTL = 60_000;

interface Env {
  registry: Registry;
  blobs: DiskBlobStore;
  meta: SqliteMetadataStore;
  /** Moves the injected clock forward. */
  advance(ms: number): void;
}

async function setup(
  t: TestContext,
  options: RegistryOptions = {},
  wrapMeta?: (m: MetadataStore) => MetadataStore,
): Promise<Env> {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-registry-'));
  const blobs = await DiskBlobStore.open(join(dir, 'storage'), { fsync: false });
  const meta = new SqliteMetadataStore(join(dir, 'meta.db'), { fsync: false });
  let clock = T0;
  const registry = new Registry(blobs, wrapMeta ? wrapMeta(meta) : meta, {
    now: () => clock,
    uploadTtlMs: TTL,
    ...options,
  });
  t.after(async () => {
    await registry.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { registry, blobs, meta, advance: (ms) => (clock += ms) };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(parts);
}

/** POST + PUT with the whole body (containerd, oras, helm). */
async function pushBlob(registry: Registry, repo: string, bytes: Buffer): Promise<{ digest: string; size: number }> {
  const { id } = await registry.startUpload(repo, undefined);
  const d = digestBytes(bytes).value;
  const done = await registry.completeUpload(repo, id, undefined, d, Readable.from([bytes]));
  assert.deepEqual(done, { digest: d, size: bytes.length });
  return done;
}

function desc(mediaType: string, bytes: Buffer) {
  return { mediaType, digest: digestBytes(bytes).value, size: bytes.length };
}

/** An OCI image (config + layers) whose blobs are pushed to `repo`. */
async function pushImage(registry: Registry, repo: string, name: string, tag?: string) {
  const config = enc(`{"architecture":"amd64","os":"linux","name":"${name}"}`);
  const layer = enc(`layer of ${name}`);
  await pushBlob(registry, repo, config);
  await pushBlob(registry, repo, layer);
  const body = json({
    schemaVersion: 2,
    mediaType: MT.ociManifest,
    config: desc(MT.ociConfig, config),
    layers: [desc('application/vnd.oci.image.layer.v1.tar+gzip', layer)],
  });
  const { digest } = await registry.putManifest(repo, tag ?? digestBytes(body).value, MT.ociManifest, body);
  return { digest, body, config, layer, descriptor: { mediaType: MT.ociManifest, digest, size: body.length } };
}

describe('Registry: blob push', () => {
  it('pushes the real Helm chart (chunked, streamed and monolithic) and its 742-byte manifest', async (t) => {
    const { registry } = await setup(t);
    const repo = 'charts/signtest';
    const chart = Buffer.from(HELM_SIGNTEST.chartBase64, 'base64');
    const prov = Buffer.from(HELM_SIGNTEST.provBase64, 'base64');
    assert.equal(chart.length, HELM_SIGNTEST.chartSize);

    // Config: POST then PUT with the body (what Helm/oras do).
    assert.equal((await pushBlob(registry, repo, enc(HELM_SIGNTEST.config))).digest, HELM_SIGNTEST.configDigest);

    // Provenance: streamed PATCH without Content-Range, then an empty PUT.
    const s1 = await registry.startUpload(repo, undefined);
    assert.deepEqual(s1, { id: s1.id, repository: repo, size: 0 });
    assert.deepEqual(await registry.appendUpload(repo, s1.id, undefined, Readable.from([prov])), {
      id: s1.id,
      repository: repo,
      size: 695,
    });
    assert.deepEqual(await registry.completeUpload(repo, s1.id, undefined, HELM_SIGNTEST.provDigest), {
      digest: HELM_SIGNTEST.provDigest,
      size: 695,
    });

    // Chart: two chunked PATCHes with Content-Range and Content-Length, a status check, then PUT.
    const s2 = await registry.startUpload(repo, undefined);
    assert.equal(
      (await registry.appendUpload(repo, s2.id, undefined, Readable.from([chart.subarray(0, 500)]), '0-499', 500)).size,
      500,
    );
    assert.equal((await registry.uploadStatus(repo, s2.id, undefined)).size, 500);
    assert.equal(
      (await registry.appendUpload(repo, s2.id, undefined, Readable.from([chart.subarray(500)]), '500-972', 473)).size,
      973,
    );
    assert.deepEqual(await registry.completeUpload(repo, s2.id, undefined, HELM_SIGNTEST.chartDigest), {
      digest: HELM_SIGNTEST.chartDigest,
      size: 973,
    });

    for (const [d, size] of [
      [HELM_SIGNTEST.configDigest, 99],
      [HELM_SIGNTEST.provDigest, 695],
      [HELM_SIGNTEST.chartDigest, 973],
    ] as const) {
      assert.deepEqual(await registry.statBlob(repo, d), { digest: d, size });
    }
    assert.ok((await readAll(await registry.readBlob(repo, HELM_SIGNTEST.chartDigest))).equals(chart));
    assert.ok(
      (await readAll(await registry.readBlob(repo, HELM_SIGNTEST.chartDigest, { start: 0, end: 1 }))).equals(
        Buffer.from([0x1f, 0x8b]),
      ),
    );

    // Helm pushes the manifest without a mediaType field, Content-Type set.
    const manifest = enc(HELM_SIGNTEST.manifest);
    const put = await registry.putManifest(repo, '0.1.0', MT.ociManifest, manifest);
    assert.deepEqual(put, { digest: HELM_SIGNTEST.manifestDigest, subject: undefined });

    const orasAccept = acceptedTypes(
      [MT.ociManifest, MT.ociIndex, MT.dockerManifest, MT.dockerList, MT.ociArtifactManifest].join(', '),
    );
    for (const ref of ['0.1.0', HELM_SIGNTEST.manifestDigest]) {
      const got = await registry.getManifest(repo, ref, orasAccept);
      assert.equal(got.digest, HELM_SIGNTEST.manifestDigest);
      assert.equal(got.mediaType, MT.ociManifest);
      assert.equal(got.size, 742);
      assert.ok(got.content.equals(manifest), 'served byte-for-byte');
    }
    assert.deepEqual(await registry.listTags(repo, {}), { items: ['0.1.0'] });
    assert.deepEqual(await registry.catalog({}), { items: [repo] });
    // Pushing the same bytes again is a no-op.
    assert.deepEqual(await registry.putManifest(repo, '0.1.0', MT.ociManifest, manifest), put);
  });

  it('the zero-length blob via an empty PUT', async (t) => {
    const { registry } = await setup(t);
    const { id } = await registry.startUpload('app', undefined);
    assert.deepEqual(await registry.completeUpload('app', id, undefined, EMPTY_SHA256), {
      digest: EMPTY_SHA256,
      size: 0,
    });
    assert.deepEqual(await registry.statBlob('app', EMPTY_SHA256), { digest: EMPTY_SHA256, size: 0 });
    assert.equal((await readAll(await registry.readBlob('app', EMPTY_SHA256))).length, 0);
  });

  it('final chunk on the PUT, with a Content-Range', async (t) => {
    const { registry } = await setup(t);
    const bytes = enc('first|last');
    const { id } = await registry.startUpload('app', undefined);
    await registry.appendUpload('app', id, undefined, Readable.from([bytes.subarray(0, 6)]));
    const d = digestBytes(bytes).value;
    assert.deepEqual(
      await registry.completeUpload('app', id, undefined, d, Readable.from([bytes.subarray(6)]), '6-9', 4),
      { digest: d, size: 10 },
    );
  });

  it('blobs are visible per repository only', async (t) => {
    const { registry } = await setup(t);
    const { digest } = await pushBlob(registry, 'team-a/app', enc('private layer'));
    await rejectsCode(registry.statBlob('team-b/app', digest), 'BLOB_UNKNOWN', (e) => assert.equal(e.status, 404));
    await rejectsCode(registry.readBlob('team-b/app', digest), 'BLOB_UNKNOWN');
    await rejectsCode(registry.statBlob('team-a/app', digestBytes(enc('other')).value), 'BLOB_UNKNOWN');
  });

  it('the same blob pushed concurrently into two repositories', async (t) => {
    const { registry } = await setup(t);
    const bytes = Buffer.alloc(300_000, 7);
    const [a, b] = await Promise.all([pushBlob(registry, 'a', bytes), pushBlob(registry, 'b', bytes)]);
    assert.equal(a.digest, b.digest);
    assert.deepEqual(await registry.statBlob('a', a.digest), a);
    assert.deepEqual(await registry.statBlob('b', b.digest), b);
  });

  it('a missing digest on the final PUT is DIGEST_INVALID and cancels the session', async (t) => {
    const { registry, blobs, meta } = await setup(t);
    for (const digest of [undefined, '', 'sha256:nothex', `md5:${'0'.repeat(32)}`]) {
      const { id } = await registry.startUpload('app', undefined);
      await registry.appendUpload('app', id, undefined, Readable.from([enc('data')]));
      await rejectsCode(
        registry.completeUpload('app', id, undefined, digest, Readable.from([enc('more')])),
        'DIGEST_INVALID',
      );
      await rejectsCode(registry.uploadStatus('app', id, undefined), 'BLOB_UPLOAD_UNKNOWN');
      assert.equal(await meta.getUpload(id), undefined);
      assert.equal(await blobs.uploadSize(id), undefined);
    }
  });

  it('a digest that does not match is DIGEST_INVALID; the session is gone and nothing is linked', async (t) => {
    const { registry, blobs, meta } = await setup(t);
    const { id } = await registry.startUpload('app', undefined);
    await registry.appendUpload('app', id, undefined, Readable.from([enc('actual')]));
    const claimed = digestBytes(enc('claimed')).value;
    await rejectsCode(registry.completeUpload('app', id, undefined, claimed), 'DIGEST_INVALID', (e) =>
      assert.equal(e.status, 400),
    );
    assert.equal(await meta.getUpload(id), undefined);
    assert.equal(await blobs.uploadSize(id), undefined);
    await rejectsCode(registry.statBlob('app', claimed), 'BLOB_UNKNOWN');
    await rejectsCode(registry.statBlob('app', digestBytes(enc('actual')).value), 'BLOB_UNKNOWN');
    await rejectsCode(registry.uploadStatus('app', id, undefined), 'BLOB_UPLOAD_UNKNOWN');
  });

  it('chunk errors: out of order is RANGE_INVALID with a resync Range, a length mismatch is SIZE_INVALID', async (t) => {
    const { registry } = await setup(t);
    const { id } = await registry.startUpload('app', undefined);
    await registry.appendUpload('app', id, undefined, Readable.from([enc('0123456789')]), '0-9', 10);
    await rejectsCode(
      registry.appendUpload('app', id, undefined, Readable.from([enc('x')]), '0-0', 1),
      'RANGE_INVALID',
      (e) => {
        assert.equal(e.status, 416);
        assert.equal(e.headers.Range, '0-9');
      },
    );
    await rejectsCode(
      registry.appendUpload('app', id, undefined, Readable.from([enc('x')]), '11-11', 1),
      'RANGE_INVALID',
    );
    await rejectsCode(
      registry.appendUpload('app', id, undefined, Readable.from([enc('xy')]), '10-11', 3),
      'SIZE_INVALID',
    );
    await rejectsCode(
      registry.appendUpload('app', id, undefined, Readable.from([enc('x')]), 'ten-eleven'),
      'RANGE_INVALID',
    );
    assert.equal((await registry.uploadStatus('app', id, undefined)).size, 10);
    // The session is still good.
    const d = digestBytes(enc('0123456789ab')).value;
    assert.equal(
      (await registry.completeUpload('app', id, undefined, d, Readable.from([enc('ab')]), '10-11', 2)).size,
      12,
    );
  });

  it('sessions belong to their repository; unknown and malformed ids are BLOB_UPLOAD_UNKNOWN', async (t) => {
    const { registry } = await setup(t);
    const { id } = await registry.startUpload('app', undefined);
    await rejectsCode(registry.uploadStatus('other', id, undefined), 'BLOB_UPLOAD_UNKNOWN');
    await rejectsCode(registry.appendUpload('other', id, undefined, Readable.from([enc('x')])), 'BLOB_UPLOAD_UNKNOWN');
    await rejectsCode(registry.completeUpload('other', id, undefined, EMPTY_SHA256), 'BLOB_UPLOAD_UNKNOWN');
    await rejectsCode(registry.cancelUpload('other', id, undefined), 'BLOB_UPLOAD_UNKNOWN');
    for (const bad of [randomUUID(), '../../etc/passwd', 'x', '', id.toUpperCase()]) {
      await rejectsCode(registry.uploadStatus('app', bad, undefined), 'BLOB_UPLOAD_UNKNOWN');
    }
    assert.equal((await registry.uploadStatus('app', id, undefined)).size, 0);
    await registry.cancelUpload('app', id, undefined);
    await rejectsCode(registry.uploadStatus('app', id, undefined), 'BLOB_UPLOAD_UNKNOWN');
    await rejectsCode(registry.cancelUpload('app', id, undefined), 'BLOB_UPLOAD_UNKNOWN');
  });

  it('validates names and digests before touching storage', async (t) => {
    const { registry } = await setup(t);
    await rejectsCode(registry.startUpload('Bad/Name', undefined), 'NAME_INVALID');
    await rejectsCode(registry.statBlob('app', 'sha256:short'), 'DIGEST_INVALID');
    await rejectsCode(registry.statBlob('UPPER', EMPTY_SHA256), 'NAME_INVALID');
    await rejectsCode(registry.deleteBlob('app', 'nope'), 'DIGEST_INVALID');
  });
});

describe('Registry: cross-repository mount', () => {
  it('links a blob the caller may read from another repository', async (t) => {
    const { registry } = await setup(t);
    const bytes = enc('base layer');
    const { digest } = await pushBlob(registry, 'library/base', bytes);
    const asked: string[] = [];
    const mounted = await registry.mountBlob('team/app', digest, 'library/base', async (repo) => {
      asked.push(repo);
      return true;
    });
    assert.deepEqual(mounted, { digest, size: bytes.length });
    assert.deepEqual(asked, ['library/base']);
    assert.deepEqual(await registry.statBlob('team/app', digest), { digest, size: bytes.length });
    assert.ok((await readAll(await registry.readBlob('team/app', digest))).equals(bytes));
    // Mounting again is harmless.
    assert.deepEqual(await registry.mountBlob('team/app', digest, 'library/base', async () => true), mounted);
  });

  it('falls back (undefined) when it cannot mount, so the caller starts an upload', async (t) => {
    const { registry, blobs } = await setup(t);
    const { digest } = await pushBlob(registry, 'src', enc('layer'));
    const yes = async () => true;
    assert.equal(await registry.mountBlob('dst', digest, undefined, yes), undefined, 'no from');
    assert.equal(await registry.mountBlob('dst', digest, 'src', async () => false), undefined, 'may not read from');
    assert.equal(await registry.mountBlob('dst', digest, 'nowhere', yes), undefined, 'unknown repository');
    assert.equal(
      await registry.mountBlob('dst', digestBytes(enc('other')).value, 'src', yes),
      undefined,
      'blob not in from',
    );
    await rejectsCode(registry.statBlob('dst', digest), 'BLOB_UNKNOWN');
    // A link whose bytes were collected is not mounted.
    await blobs.deleteBlobs([digest]);
    assert.equal(await registry.mountBlob('dst', digest, 'src', yes), undefined, 'bytes gone');
  });

  it('refuses malformed names and digests', async (t) => {
    const { registry } = await setup(t);
    await rejectsCode(
      registry.mountBlob('dst', 'sha256:x', 'src', async () => true),
      'DIGEST_INVALID',
    );
    await rejectsCode(
      registry.mountBlob('dst', EMPTY_SHA256, 'Src', async () => true),
      'NAME_INVALID',
    );
    await rejectsCode(
      registry.mountBlob('-dst', EMPTY_SHA256, 'src', async () => true),
      'NAME_INVALID',
    );
  });
});

describe('Registry: manifest push checks', () => {
  it('one MANIFEST_BLOB_UNKNOWN per missing digest (Docker Hub alpine into an empty repository)', async (t) => {
    const { registry } = await setup(t);
    const errors = await rejectsMany(
      registry.putManifest('library/alpine', 'latest', MT.dockerManifest, enc(ALPINE_AMD64.text)),
    );
    assert.deepEqual(
      errors.map((e) => [e.code, e.status, e.detail]),
      [
        ['MANIFEST_BLOB_UNKNOWN', 400, ALPINE_AMD64.configDigest],
        ['MANIFEST_BLOB_UNKNOWN', 400, ALPINE_AMD64.layerDigest],
      ],
    );
    await rejectsCode(registry.getManifest('library/alpine', ALPINE_AMD64.digest, ALL), 'MANIFEST_UNKNOWN');
    await rejectsCode(registry.getManifest('library/alpine', 'latest', ALL), 'NAME_UNKNOWN');
    assert.deepEqual(await registry.catalog({}), { items: [] });
  });

  it('reports only the missing ones, once each, and size mismatches as MANIFEST_INVALID', async (t) => {
    const { registry } = await setup(t);
    const config = enc('{"config":true}');
    const present = enc('present layer');
    const wrong = enc('wrong size layer');
    await pushBlob(registry, 'app', config);
    await pushBlob(registry, 'app', present);
    await pushBlob(registry, 'app', wrong);
    const missing1 = desc('application/vnd.oci.image.layer.v1.tar+gzip', enc('missing one'));
    const missing2 = desc('application/vnd.oci.image.layer.v1.tar+gzip', enc('missing two'));
    const body = json({
      schemaVersion: 2,
      mediaType: MT.ociManifest,
      config: desc(MT.ociConfig, config),
      layers: [
        missing1,
        desc('application/vnd.oci.image.layer.v1.tar+gzip', present),
        missing2,
        missing1,
        { ...desc('application/vnd.oci.image.layer.v1.tar+gzip', wrong), size: wrong.length + 1 },
      ],
    });
    const errors = await rejectsMany(registry.putManifest('app', 'v1', MT.ociManifest, body));
    assert.deepEqual(
      errors.map((e) => e.code),
      ['MANIFEST_BLOB_UNKNOWN', 'MANIFEST_BLOB_UNKNOWN', 'MANIFEST_INVALID'],
    );
    assert.deepEqual(
      errors.slice(0, 2).map((e) => e.detail),
      [missing1.digest, missing2.digest],
    );
    await rejectsCode(registry.getManifest('app', 'v1', ALL), 'MANIFEST_UNKNOWN');
  });

  it('an artifact using the empty blob as config and layer needs it once', async (t) => {
    const { registry } = await setup(t);
    const empty = { mediaType: MT.ociEmpty, digest: EMPTY_JSON_SHA256, size: 2 };
    const body = json({
      schemaVersion: 2,
      mediaType: MT.ociManifest,
      artifactType: 'application/vnd.example.note',
      config: empty,
      layers: [empty],
      annotations: { note: 'hello' },
    });
    const errors = await rejectsMany(registry.putManifest('notes', 'hello', MT.ociManifest, body));
    assert.deepEqual(
      errors.map((e) => e.detail),
      [EMPTY_JSON_SHA256],
    );
    await pushBlob(registry, 'notes', enc('{}'));
    assert.equal((await registry.putManifest('notes', 'hello', MT.ociManifest, body)).digest, digestBytes(body).value);
  });

  it('foreign layers with urls are not checked', async (t) => {
    const { registry } = await setup(t);
    const config = enc('{"os":"windows"}');
    await pushBlob(registry, 'win', config);
    const body = json({
      schemaVersion: 2,
      mediaType: MT.dockerManifest,
      config: desc(MT.dockerConfig, config),
      layers: [
        {
          mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
          digest: digestBytes(enc('servercore')).value,
          size: 1_000_000_000,
          urls: ['https://mcr.microsoft.com/v2/windows/servercore/blobs/x'],
        },
      ],
    });
    await registry.putManifest('win', 'ltsc2022', MT.dockerManifest, body);
  });

  it('index children must be manifests in the repository; BuildKit cache indexes may name blobs', async (t) => {
    const { registry } = await setup(t);
    const amd64 = await pushImage(registry, 'multi', 'amd64');
    const arm64Config = enc('{"architecture":"arm64"}');
    const arm64Body = json({
      schemaVersion: 2,
      mediaType: MT.ociManifest,
      config: desc(MT.ociConfig, arm64Config),
      layers: [],
    });
    const arm64 = {
      mediaType: MT.ociManifest,
      digest: digestBytes(arm64Body).value,
      size: arm64Body.length,
      platform: { architecture: 'arm64', os: 'linux' },
    };
    const index = json({
      schemaVersion: 2,
      mediaType: MT.ociIndex,
      manifests: [{ ...amd64.descriptor, platform: { architecture: 'amd64', os: 'linux' } }, arm64],
    });

    const errors = await rejectsMany(registry.putManifest('multi', 'latest', MT.ociIndex, index));
    assert.deepEqual(
      errors.map((e) => [e.code, e.detail]),
      [['MANIFEST_BLOB_UNKNOWN', arm64.digest]],
    );
    // Children pushed by digest (as every client does), then the index by tag.
    await pushBlob(registry, 'multi', arm64Config);
    await registry.putManifest('multi', arm64.digest, MT.ociManifest, arm64Body);
    const { digest } = await registry.putManifest('multi', 'latest', MT.ociIndex, index);
    assert.equal((await registry.getManifest('multi', 'latest', ALL)).digest, digest);
    // Strict refusal only for a client that names other current types and no wildcard.
    await rejectsCode(registry.getManifest('multi', 'latest', acceptedTypes([MT.dockerManifest])), 'MANIFEST_UNKNOWN');
    assert.equal(
      (await registry.getManifest('multi', 'latest', acceptedTypes(`${MT.dockerManifest}, */*`))).mediaType,
      MT.ociIndex,
    );

    // BuildKit `--cache-to type=registry` (no image-manifest=true).
    const layer = enc('cached layer');
    const cacheConfig = enc('{"layers":[],"records":[]}');
    const cacheIndex = json({
      schemaVersion: 2,
      mediaType: MT.ociIndex,
      manifests: [
        {
          ...desc('application/vnd.oci.image.layer.v1.tar+gzip', layer),
          annotations: { 'buildkit/createdat': '2024-05-01T10:00:00Z' },
        },
        desc('application/vnd.buildkit.cacheconfig.v0', cacheConfig),
      ],
    });
    assert.equal((await rejectsMany(registry.putManifest('cache', 'buildcache', MT.ociIndex, cacheIndex))).length, 2);
    await pushBlob(registry, 'cache', layer);
    await pushBlob(registry, 'cache', cacheConfig);
    await registry.putManifest('cache', 'buildcache', MT.ociIndex, cacheIndex);
  });

  it('by digest: the reference must be the body\u2019s digest (sha256 or sha512); no tag is made', async (t) => {
    const { registry } = await setup(t);
    const img = await pushImage(registry, 'app', 'x');
    await rejectsCode(
      registry.putManifest('app', digestBytes(enc('other')).value, MT.ociManifest, img.body),
      'DIGEST_INVALID',
    );
    await rejectsCode(registry.putManifest('app', 'sha256:abc', MT.ociManifest, img.body), 'DIGEST_INVALID');
    const d512 = digestBytes(img.body, 'sha512').value;
    assert.equal((await registry.putManifest('app', d512, MT.ociManifest, img.body)).digest, d512);
    assert.ok((await registry.getManifest('app', d512, ALL)).content.equals(img.body));
    assert.deepEqual(await registry.listTags('app', {}), { items: [] });
  });

  it('refuses bad tags, names, bodies and oversized manifests', async (t) => {
    const { registry } = await setup(t, { maxManifestBytes: 1024 });
    const img = enc(HELM_SIGNTEST.manifest);
    await rejectsCode(registry.putManifest('app', '-bad', MT.ociManifest, img), 'TAG_INVALID');
    await rejectsCode(registry.putManifest('App', 'v1', MT.ociManifest, img), 'NAME_INVALID');
    await rejectsCode(registry.putManifest('app', 'v1', MT.ociManifest, enc('{')), 'MANIFEST_INVALID');
    await rejectsCode(
      registry.putManifest('app', 'v1', MT.dockerSchema1Signed, json({ schemaVersion: 1 })),
      'MANIFEST_INVALID',
    );
    const big = json({
      schemaVersion: 2,
      mediaType: MT.ociIndex,
      manifests: [],
      annotations: { pad: 'x'.repeat(1024) },
    });
    await rejectsCode(registry.putManifest('app', 'v1', MT.ociIndex, big), 'MANIFEST_TOO_LARGE', (e) => {
      assert.equal(e.status, 413);
      assert.equal(e.wireCode, 'MANIFEST_INVALID');
    });
    assert.equal(registry.maxManifestBytes, 1024);
  });

  it('a manifest is also readable through the blob API, whole or ranged', async (t) => {
    const { registry } = await setup(t);
    const img = await pushImage(registry, 'app', 'x', 'v1');
    const stat = await registry.statBlob('app', img.digest);
    assert.deepEqual({ digest: stat.digest, size: stat.size }, { digest: img.digest, size: img.body.length });
    assert.ok(stat.manifest?.content.equals(img.body), 'found as a manifest: a GET serves it without looking again');
    assert.ok((await readAll(await registry.readBlob('app', img.digest))).equals(img.body));
    assert.ok(
      (await readAll(await registry.readBlob('app', img.digest, { start: 2, end: 16 }))).equals(
        img.body.subarray(2, 17),
      ),
    );
  });
});

describe('Registry: manifest reads and discovery', () => {
  it('NAME_UNKNOWN for an unknown repository, MANIFEST_UNKNOWN for an unknown tag or digest', async (t) => {
    const { registry } = await setup(t);
    await pushImage(registry, 'app', 'x', 'v1');
    await rejectsCode(registry.getManifest('nowhere', 'latest', ALL), 'NAME_UNKNOWN');
    await rejectsCode(registry.getManifest('app', 'latest', ALL), 'MANIFEST_UNKNOWN');
    await rejectsCode(registry.getManifest('app', EMPTY_SHA256, ALL), 'MANIFEST_UNKNOWN');
    await rejectsCode(registry.getManifest('app', 'sha256:zz', ALL), 'DIGEST_INVALID');
    await rejectsCode(registry.getManifest('app', '.bad', ALL), 'MANIFEST_UNKNOWN');
    await rejectsCode(registry.getManifest('app', '.INVALID_MANIFEST_NAME', ALL), 'MANIFEST_UNKNOWN');
    await rejectsCode(registry.listTags('nowhere', {}), 'NAME_UNKNOWN');
  });

  it('tags and catalog page through in byte order', async (t) => {
    const { registry } = await setup(t);
    const img = await pushImage(registry, 'app', 'x');
    for (const tag of ['v2', 'v10', 'latest', 'V1']) await registry.putManifest('app', tag, MT.ociManifest, img.body);
    assert.deepEqual(await registry.listTags('app', {}), { items: ['V1', 'latest', 'v10', 'v2'] });
    assert.deepEqual(await registry.listTags('app', { n: 2 }), { items: ['V1', 'latest'], next: 'latest' });
    assert.deepEqual(await registry.listTags('app', { n: 2, last: 'latest' }), { items: ['v10', 'v2'] });
    await pushImage(registry, 'a/b', 'y', 'v1');
    assert.deepEqual(await registry.catalog({ n: 1 }), { items: ['a/b'], next: 'a/b' });
    assert.deepEqual(await registry.catalog({ n: 1, last: 'a/b' }), { items: ['app'] });
  });

  it('referrers: subject never checked, OCI-Subject returned, descriptors newest first, artifactType filter', async (t) => {
    const { registry, advance } = await setup(t);
    const subjectDigest = digestBytes(enc('image not pushed yet')).value;
    const subject = { mediaType: MT.ociManifest, digest: subjectDigest, size: 20 };
    await pushBlob(registry, 'app', enc('{}'));
    const sigLayer = enc('signature payload');
    await pushBlob(registry, 'app', sigLayer);
    const empty = { mediaType: MT.ociEmpty, digest: EMPTY_JSON_SHA256, size: 2 };

    const sig = json({
      schemaVersion: 2,
      mediaType: MT.ociManifest,
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      config: empty,
      layers: [desc('application/vnd.dev.sigstore.bundle.v0.3+json', sigLayer)],
      subject,
      annotations: { 'dev.sigstore.bundle.predicateType': 'x' },
    });
    const put = await registry.putManifest('app', digestBytes(sig).value, MT.ociManifest, sig);
    assert.equal(put.subject, subjectDigest);
    advance(1000);
    // An old-style artifact without artifactType: the config type stands in.
    const cfg = enc('{"sbom":true}');
    await pushBlob(registry, 'app', cfg);
    const sbom = json({
      schemaVersion: 2,
      mediaType: MT.ociManifest,
      config: desc('application/vnd.example.sbom.config', cfg),
      layers: [],
      subject,
    });
    await registry.putManifest('app', digestBytes(sbom).value, MT.ociManifest, sbom);
    advance(1000);
    const idx = json({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [], subject });
    await registry.putManifest('app', digestBytes(idx).value, MT.ociIndex, idx);

    const all = await registry.referrers('app', subjectDigest);
    assert.deepEqual(all, [
      { mediaType: MT.ociIndex, digest: digestBytes(idx).value, size: idx.length },
      {
        mediaType: MT.ociManifest,
        digest: digestBytes(sbom).value,
        size: sbom.length,
        artifactType: 'application/vnd.example.sbom.config',
      },
      {
        mediaType: MT.ociManifest,
        digest: put.digest,
        size: sig.length,
        artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        annotations: { 'dev.sigstore.bundle.predicateType': 'x' },
      },
    ]);
    assert.deepEqual(
      (await registry.referrers('app', subjectDigest, 'application/vnd.example.sbom.config')).map((d) => d.digest),
      [digestBytes(sbom).value],
    );
    assert.deepEqual(await registry.referrers('app', EMPTY_SHA256), []);
    assert.deepEqual(await registry.referrers('nowhere', subjectDigest), []);
    await rejectsCode(registry.referrers('app', 'sha256:bad'), 'DIGEST_INVALID');
  });
});

describe('Registry: deletes', () => {
  it('by tag removes only the tag; by digest removes the manifest and every tag', async (t) => {
    const { registry } = await setup(t);
    const img = await pushImage(registry, 'app', 'x', 'v1');
    await registry.putManifest('app', 'latest', MT.ociManifest, img.body);
    await registry.putManifest('app', 'stable', MT.ociManifest, img.body);

    await registry.deleteManifest('app', 'stable');
    await rejectsCode(registry.getManifest('app', 'stable', ALL), 'MANIFEST_UNKNOWN');
    assert.equal((await registry.getManifest('app', img.digest, ALL)).digest, img.digest);
    await rejectsCode(registry.deleteManifest('app', 'stable'), 'MANIFEST_UNKNOWN');

    await registry.deleteManifest('app', img.digest);
    for (const ref of ['v1', 'latest', img.digest])
      await rejectsCode(registry.getManifest('app', ref, ALL), 'MANIFEST_UNKNOWN');
    assert.deepEqual(await registry.listTags('app', {}), { items: [] });
    await rejectsCode(registry.deleteManifest('app', img.digest), 'MANIFEST_UNKNOWN');
    await rejectsCode(registry.deleteManifest('app', '-x'), 'TAG_INVALID');
    await rejectsCode(registry.deleteManifest('app', 'sha256:x'), 'DIGEST_INVALID');
    // The repository drops out of the catalog with its last manifest.
    assert.deepEqual(await registry.catalog({}), { items: [] });
  });

  it('a blob a manifest still uses cannot be deleted; afterwards it can, and the bytes stay for GC', async (t) => {
    const { registry, blobs } = await setup(t);
    const img = await pushImage(registry, 'app', 'x', 'v1');
    const layerDigest = digestBytes(img.layer).value;
    await rejectsCode(registry.deleteBlob('app', layerDigest), 'BLOB_REFERENCED', (e) => {
      assert.equal(e.status, 405);
      assert.equal(e.wireCode, 'UNSUPPORTED');
    });
    await registry.deleteManifest('app', img.digest);
    await registry.deleteBlob('app', layerDigest);
    await rejectsCode(registry.statBlob('app', layerDigest), 'BLOB_UNKNOWN');
    await rejectsCode(registry.deleteBlob('app', layerDigest), 'BLOB_UNKNOWN');
    assert.deepEqual(await blobs.stat(layerDigest), { size: img.layer.length }, 'unlink is not garbage collection');
    await rejectsCode(registry.deleteBlob('nowhere', layerDigest), 'BLOB_UNKNOWN');
  });

  it('deleting a referrer drops it from the list; deleting the subject keeps its referrers', async (t) => {
    const { registry } = await setup(t);
    const img = await pushImage(registry, 'app', 'x', 'v1');
    await pushBlob(registry, 'app', enc('{}'));
    const empty = { mediaType: MT.ociEmpty, digest: EMPTY_JSON_SHA256, size: 2 };
    const mk = (n: string) =>
      json({
        schemaVersion: 2,
        mediaType: MT.ociManifest,
        artifactType: `application/vnd.example.${n}`,
        config: empty,
        layers: [empty],
        subject: img.descriptor,
      });
    const a = mk('a');
    const b = mk('b');
    const da = (await registry.putManifest('app', digestBytes(a).value, MT.ociManifest, a)).digest;
    const db = (await registry.putManifest('app', digestBytes(b).value, MT.ociManifest, b)).digest;
    await registry.deleteManifest('app', da);
    assert.deepEqual(
      (await registry.referrers('app', img.digest)).map((r) => r.digest),
      [db],
    );
    await registry.deleteManifest('app', img.digest);
    assert.deepEqual(
      (await registry.referrers('app', img.digest)).map((r) => r.digest),
      [db],
    );
  });
});

describe('Registry: upload expiry', () => {
  it('removes sessions idle past the TTL and session files no record owns', async (t) => {
    const { registry, blobs, meta, advance } = await setup(t);
    const idle = await registry.startUpload('app', undefined);
    const active = await registry.startUpload('app', undefined);
    await registry.appendUpload('app', idle.id, undefined, Readable.from([enc('abandoned')]));
    advance(50_000);
    await registry.appendUpload('app', active.id, undefined, Readable.from([enc('still going')]));
    // A session file whose record never made it (crash between the two writes).
    const orphan = randomUUID();
    await blobs.createUpload(orphan);
    // A record whose bytes are already gone.
    const hollow = randomUUID();
    await meta.createUpload({ id: hollow, repository: 'app', createdAt: T0 - 1, updatedAt: T0 - 1 });

    advance(20_000); // idle: 70 s since last touch; active: 20 s.
    assert.equal(await registry.expireUploads(), 3);
    await rejectsCode(registry.uploadStatus('app', idle.id, undefined), 'BLOB_UPLOAD_UNKNOWN');
    assert.equal(await meta.getUpload(idle.id), undefined);
    assert.equal(await meta.getUpload(hollow), undefined);
    assert.deepEqual(await blobs.listUploads(), [active.id]);
    assert.equal((await registry.uploadStatus('app', active.id, undefined)).size, 11);
    // Nothing left to do; the survivor still completes.
    assert.equal(await registry.expireUploads(), 0);
    const d = digestBytes(enc('still going')).value;
    assert.deepEqual(await registry.completeUpload('app', active.id, undefined, d), { digest: d, size: 11 });
  });

  it('a session exactly at the TTL survives; one millisecond later it is gone', async (t) => {
    const { registry, advance } = await setup(t);
    const { id } = await registry.startUpload('app', undefined);
    advance(TTL);
    assert.equal(await registry.expireUploads(), 0);
    advance(1);
    assert.equal(await registry.expireUploads(), 1);
    await rejectsCode(registry.uploadStatus('app', id, undefined), 'BLOB_UPLOAD_UNKNOWN');
  });

  it('does not sweep a session that is still being created (metadata write in flight)', async (t) => {
    // With a networked metadata driver (the PostgreSQL driver the interfaces are
    // shaped for), startUpload's record insert takes a round trip. startUpload writes
    // the session file first, so a sweep running in that window sees an "orphan"
    // file and deletes it: the client's next PATCH then gets BLOB_UPLOAD_UNKNOWN.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inFlight!: () => void;
    const started = new Promise<void>((r) => (inFlight = r));
    const slowCreate = (m: MetadataStore): MetadataStore =>
      new Proxy(m, {
        get(target, prop, receiver) {
          if (prop === 'createUpload') {
            return async (...args: Parameters<MetadataStore['createUpload']>) => {
              inFlight();
              await gate;
              return target.createUpload(...args);
            };
          }
          const v = Reflect.get(target, prop, receiver) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    const { registry } = await setup(t, {}, slowCreate);
    const starting = registry.startUpload('app', undefined);
    await started;
    await registry.expireUploads();
    release();
    const { id } = await starting;
    assert.equal((await registry.uploadStatus('app', id, undefined)).size, 0);
  });
});
