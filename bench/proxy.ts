/**
 * The pull-through-cache scenarios' images and client: an image of one large
 * layer and two small ones, pushed to a registry (the upstream, or a registry
 * directly for the local comparison), and pulled as a client pulls it: the
 * manifest by tag, then its config and each layer, on kept-alive connections.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { deterministicBytes, KiB, MiB, sha256, type StampedBody } from './data.js';
import type { DistributionStorage } from './dist-layout.js';
import { BenchError, type BodyCounter, type Client, pullBlob, pushMonolithic } from './load.js';

/** Besides the large layer, every image has these (a real image has a few small layers too). */
const SMALL_LAYERS = [1 * MiB, 16 * KiB];
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const ACCEPT = `${OCI_MANIFEST}, application/vnd.oci.image.index.v1+json`;
const IMAGE_TAG = 'v1';

/** Where the pull-through scenarios find the upstream, and how a cache names its repositories. */
export interface ProxySetup {
  /** The upstream both caches are in front of (the load generator seeds it). */
  upstreamUrl: string;
  /** The repository prefix mapped to the upstream: `up/` for Stowage, empty for Distribution's proxy mode. */
  prefix: string;
  /** Distribution's proxy-mode storage: where to see that a blob it fetched is stored. */
  cacheLayout?: DistributionStorage;
}

export interface PushedImage {
  manifest: Buffer;
  blobs: { digest: string; size: number }[];
  /** Manifest, config and layers: what one pull moves. */
  bytes: number;
}

/**
 * Pushes an image (tag IMAGE_TAG) whose every blob and manifest is distinct per
 * `label`: the large layer is `big` stamped with it (no re-hash), the small
 * layers and the config are generated from it.
 */
export async function pushImage(client: Client, repo: string, big: StampedBody, label: string): Promise<PushedImage> {
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { bench: label } },
      rootfs: { type: 'layers', diff_ids: [] },
    }),
  );
  const bigDigest = big.stamp(label);
  await pushMonolithic(client, repo, big.bytes, bigDigest);
  const layers = [{ digest: bigDigest, size: big.bytes.length }];
  for (const size of SMALL_LAYERS) {
    const bytes = deterministicBytes(size, `stowage-bench-proxy-${label}-${size}`);
    const digest = sha256(bytes);
    await pushMonolithic(client, repo, bytes, digest);
    layers.push({ digest, size });
  }
  const configDigest = sha256(config);
  await pushMonolithic(client, repo, config, configDigest);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...l })),
    }),
  );
  await client.request({
    method: 'PUT',
    path: `/v2/${repo}/manifests/${IMAGE_TAG}`,
    headers: { 'Content-Type': OCI_MANIFEST },
    body: manifest,
    expect: [201],
  });
  const blobs = [{ digest: configDigest, size: config.length }, ...layers];
  return { manifest, blobs, bytes: manifest.length + blobs.reduce((n, b) => n + b.size, 0) };
}

/**
 * One pull as a client does it: GET the manifest by tag, then each blob it
 * names, config first. Checks the manifest is the one pushed and every body's
 * length; bytes are counted, not hashed (the client must not be the limit).
 */
export async function pullImage(
  client: Client,
  counter: BodyCounter,
  repo: string,
  expected: PushedImage,
): Promise<void> {
  const a = await client.request({
    method: 'GET',
    path: `/v2/${repo}/manifests/${IMAGE_TAG}`,
    headers: { Accept: ACCEPT },
    keepBody: true,
    expect: [200],
  });
  if (!a.body!.equals(expected.manifest))
    throw new BenchError(`${repo}:${IMAGE_TAG}: not the manifest pushed upstream`);
  const doc = JSON.parse(a.body!.toString('utf8')) as { config: Blob; layers: Blob[] };
  for (const b of [doc.config, ...doc.layers]) await pullBlob(counter, repo, b.digest, b.size);
}

interface Blob {
  digest: string;
  size: number;
}

/**
 * Waits until Distribution's proxy mode has stored every blob of `image` in
 * `repo`: it streams a miss to the client and stores it in a goroutine of its
 * own, so a pull right after the first can be a second miss. Its repository
 * links (2.8's layout, see dist-layout.ts) appear once a blob is committed.
 */
export async function storedByDistribution(
  layout: DistributionStorage,
  repo: string,
  image: PushedImage,
): Promise<void> {
  if (layout.kind !== 'filesystem') throw new Error('the pull-through scenarios run on the embedded storage only');
  const links = image.blobs.map((b) =>
    path.join(layout.root, 'docker/registry/v2/repositories', repo, '_layers', ...b.digest.split(':'), 'link'),
  );
  const deadline = Date.now() + 120_000;
  for (const link of links) {
    for (;;) {
      if (
        await access(link).then(
          () => true,
          () => false,
        )
      )
        break;
      if (Date.now() > deadline)
        throw new BenchError(`Distribution did not store ${link} within 120 s of the first pull`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
