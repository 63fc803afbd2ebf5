/** Registry to registry: copy (every platform, byte for byte) and tag. */
import type { RegistryClient } from '../client.js';
import { clientError } from '../errors.js';
import { pushGraph, type PushStats } from '../graph.js';
import { formatReference, manifestRef, type Reference } from '../reference.js';

export interface CopyResult {
  source: string;
  destination: string;
  digest: string;
  mediaType: string;
  size: number;
  tag?: string;
  stats: PushStats;
}

/**
 * Copies what `src` names — an image, an index with all its platforms, any artifact —
 * to `dst`. Manifests keep their bytes (so digests are equal on both sides); on the
 * same registry blobs are mounted rather than transferred, across registries they
 * stream from one to the other without touching the disk. `dst` without tag or digest
 * takes `src`'s tag.
 */
export async function copy(client: RegistryClient, src: Reference, dst: Reference): Promise<CopyResult> {
  const from = client.repository(src);
  const root = await from.resolve(manifestRef(src));
  if (dst.digest && dst.digest !== root.digest) throw clientError('DIGEST_REFERENCE_MISMATCH', { reference: formatReference(dst), actual: root.digest });
  const tag = dst.tag ?? (dst.digest ? undefined : src.tag);
  const result = await pushGraph(from, client.repository(dst), root, { tags: tag ? [tag] : [] });
  return {
    source: formatReference({ ...src, digest: root.digest }),
    destination: formatReference({ registry: dst.registry, repository: dst.repository, ...(tag ? { tag } : {}), digest: root.digest }),
    digest: root.digest,
    mediaType: root.mediaType,
    size: root.size,
    ...(tag ? { tag } : {}),
    stats: result.stats,
  };
}

export interface TagResult {
  source: string;
  reference: string;
  digest: string;
  mediaType: string;
}

/** Points a new tag of the same repository at what `ref` names (the manifest bytes are re-sent unchanged). */
export async function tag(client: RegistryClient, ref: Reference, newTag: string): Promise<TagResult> {
  const repo = client.repository(ref);
  const { descriptor, bytes } = await repo.fetchManifest(manifestRef(ref));
  await repo.pushManifest(bytes, descriptor.mediaType, newTag);
  return {
    source: formatReference(ref),
    reference: formatReference({ registry: ref.registry, repository: ref.repository, tag: newTag, digest: descriptor.digest }),
    digest: descriptor.digest,
    mediaType: descriptor.mediaType,
  };
}
