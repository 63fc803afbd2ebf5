/** Registry to registry: copy (every platform, byte for byte) and tag. */
import type { Destination, RegistryClient, Repository } from '../client.js';
import type { Descriptor } from '../content.js';
import { clientError } from '../errors.js';
import { addToReferrersTag } from './artifact.js';
import { attachedNodes, attachedTree } from './attached.js';
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
  /** What travelled with it: referrers (signatures, attestations, SBOMs) and cosign's tags. */
  attached?: { referrers: string[]; tags: string[] };
}

/**
 * Copies everything attached to `subject`, all the way down (see attached.ts): referrers
 * and referrers of referrers (pushed by digest; the destination's referrers tag kept
 * when it has no API), cosign's `sha256-<hex>.sig|.att|.sbom` tags, and what hangs on
 * an index's platform manifests — so signatures of every level verify there too.
 * `onlyMissing` leaves out what the destination holds already; `dryRun` only lists.
 */
export async function copyAttached(
  from: Repository,
  to: Destination,
  subject: Descriptor,
  stats: PushStats,
  opts: { onlyMissing?: boolean; dryRun?: boolean } = {},
): Promise<{ referrers: string[]; tags: string[] }> {
  const referrers: string[] = [];
  const tags: string[] = [];
  const tree = await attachedTree(from, subject, { children: true });
  for (const { node, parent } of attachedNodes(tree)) {
    const d = { mediaType: node.descriptor.mediaType, digest: node.descriptor.digest, size: node.descriptor.size };
    // Incremental (mirror): what the destination already holds is left alone.
    if (opts.onlyMissing && node.relation !== 'child' && (await present(to, node.tag ?? d.digest, d.digest))) continue;
    if (opts.dryRun) {
      if (node.relation === 'referrer') referrers.push(d.digest);
      else if (node.relation === 'cosign-tag') tags.push(node.tag!);
      continue;
    }
    if (node.relation === 'referrer') {
      const pushed = await pushGraph(from, to, d);
      add(stats, pushed.stats);
      if (!pushed.subjectHandled) {
        const listed = await to.referrers(parent.descriptor.digest);
        if (listed.via !== 'api' || !listed.manifests.some((m) => m.digest === d.digest)) {
          await addToReferrersTag(to, parent.descriptor.digest, {
            ...d,
            ...(node.descriptor.artifactType ? { artifactType: node.descriptor.artifactType } : {}),
          });
        }
      }
      referrers.push(d.digest);
    } else if (node.relation === 'cosign-tag') {
      add(stats, (await pushGraph(from, to, d, { tags: [node.tag!] })).stats);
      tags.push(node.tag!);
    }
    // Index entries travelled with their index.
  }
  return { referrers, tags };
}

async function present(to: Destination, ref: string, digest: string): Promise<boolean> {
  return (await to.manifestExists(ref, { push: true }))?.digest === digest;
}

function add(total: PushStats, more: PushStats): void {
  total.uploaded += more.uploaded;
  total.mounted += more.mounted;
  total.existed += more.existed;
  total.uploadedBytes += more.uploadedBytes;
  total.manifests += more.manifests;
}

/**
 * Copies what `src` names — an image, an index with all its platforms, any artifact —
 * to `dst`. Manifests keep their bytes (so digests are equal on both sides); on the
 * same registry blobs are mounted rather than transferred, across registries they
 * stream from one to the other without touching the disk. `dst` without tag or digest
 * takes `src`'s tag. Signatures, attestations and SBOMs that refer to it travel with it
 * unless `referrers: false`.
 */
export async function copy(
  client: RegistryClient,
  src: Reference,
  dst: Reference,
  opts: { referrers?: boolean } = {},
): Promise<CopyResult> {
  const from = client.repository(src);
  const root = await from.resolve(manifestRef(src));
  if (dst.digest && dst.digest !== root.digest)
    throw clientError('DIGEST_REFERENCE_MISMATCH', { reference: formatReference(dst), actual: root.digest });
  const tag = dst.tag ?? (dst.digest ? undefined : src.tag);
  const to = client.repository(dst);
  const result = await pushGraph(from, to, root, { tags: tag ? [tag] : [] });
  const attached = opts.referrers === false ? undefined : await copyAttached(from, to, root, result.stats);
  return {
    source: formatReference({ ...src, digest: root.digest }),
    destination: formatReference({
      registry: dst.registry,
      repository: dst.repository,
      ...(tag ? { tag } : {}),
      digest: root.digest,
    }),
    digest: root.digest,
    mediaType: root.mediaType,
    size: root.size,
    ...(tag ? { tag } : {}),
    stats: result.stats,
    ...(attached ? { attached } : {}),
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
    reference: formatReference({
      registry: ref.registry,
      repository: ref.repository,
      tag: newTag,
      digest: descriptor.digest,
    }),
    digest: descriptor.digest,
    mediaType: descriptor.mediaType,
  };
}
