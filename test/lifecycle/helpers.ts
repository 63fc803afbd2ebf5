/**
 * A registry over the real disk blob store and SQLite in a temp dir, plus push
 * helpers that go through the Registry API (no HTTP), for lifecycle tests.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Registry, type RegistryOptions } from '../../src/registry/registry.js';
import { DiskBlobStore } from '../../src/storage/disk/disk-blob-store.js';
import { SqliteMetadataStore } from '../../src/storage/sqlite/sqlite-metadata-store.js';
import { digestBytes } from '../../src/core/digest.js';
import { MT } from '../../src/core/media-types.js';

export const enc = (s: string) => Buffer.from(s, 'utf8');

export interface LifecycleEnv {
  dir: string;
  registry: Registry;
  blobs: DiskBlobStore;
  meta: SqliteMetadataStore;
}

export async function lifecycleEnv(t: TestContext, options: RegistryOptions = {}): Promise<LifecycleEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-lifecycle-'));
  const blobs = await DiskBlobStore.open(join(dir, 'storage'), { fsync: false });
  const meta = new SqliteMetadataStore(join(dir, 'meta.db'), { fsync: false });
  const registry = new Registry(blobs, meta, options);
  t.after(async () => {
    await registry.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, registry, blobs, meta };
}

export async function pushBlob(
  registry: Registry,
  repo: string,
  bytes: Buffer,
): Promise<{ digest: string; size: number }> {
  const { id } = await registry.startUpload(repo, undefined);
  return registry.completeUpload(repo, id, undefined, digestBytes(bytes).value, Readable.from([bytes]));
}

export interface Pushed {
  digest: string;
  size: number;
  mediaType: string;
  /** Blob digests it references (config and layers). */
  blobs: string[];
}

/** An OCI image with a config and the given layer contents; tagged when `tag` is given. */
export async function pushImage(
  registry: Registry,
  repo: string,
  tag: string | undefined,
  layers: string[],
  extra: Record<string, unknown> = {},
): Promise<Pushed> {
  const config = await pushBlob(registry, repo, enc(JSON.stringify({ architecture: 'amd64', os: 'linux', layers })));
  const ls = [];
  for (const l of layers) ls.push(await pushBlob(registry, repo, enc(l)));
  const body = enc(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: ls.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...l })),
      ...extra,
    }),
  );
  const { digest } = await registry.putManifest(repo, tag ?? digestBytes(body).value, MT.ociManifest, body);
  return { digest, size: body.length, mediaType: MT.ociManifest, blobs: [config.digest, ...ls.map((l) => l.digest)] };
}

export async function pushIndex(
  registry: Registry,
  repo: string,
  tag: string | undefined,
  children: Pushed[],
): Promise<Pushed> {
  const body = enc(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.ociIndex,
      manifests: children.map((c) => ({ mediaType: c.mediaType, digest: c.digest, size: c.size })),
    }),
  );
  const { digest } = await registry.putManifest(repo, tag ?? digestBytes(body).value, MT.ociIndex, body);
  return { digest, size: body.length, mediaType: MT.ociIndex, blobs: [] };
}

/** A cosign-style signature referrer of `subject` (by digest, no tag). */
export async function pushSignature(
  registry: Registry,
  repo: string,
  subject: Pushed,
  payload: string,
): Promise<Pushed> {
  const empty = await pushBlob(registry, repo, enc('{}'));
  const layer = await pushBlob(registry, repo, enc(payload));
  const body = enc(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.ociManifest,
      artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', ...empty },
      layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', ...layer }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    }),
  );
  const { digest } = await registry.putManifest(repo, digestBytes(body).value, MT.ociManifest, body);
  return { digest, size: body.length, mediaType: MT.ociManifest, blobs: [empty.digest, layer.digest] };
}

export async function assertBlobPresent(env: LifecycleEnv, repo: string, digest: string): Promise<void> {
  assert.ok(await env.meta.blobLink(repo, digest), `${repo} links ${digest}`);
  assert.ok(await env.blobs.stat(digest), `bytes of ${digest} exist`);
}

export async function storedDigests(env: LifecycleEnv): Promise<string[]> {
  const out: string[] = [];
  for await (const b of env.blobs.listBlobs()) out.push(b.digest);
  return out.sort();
}
