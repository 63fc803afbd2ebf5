import type { BlobBody, BodyRequest } from '../storage/blob-store.js';

/**
 * The pull-through cache (src/proxy/) as the registry consults it: repositories under a
 * proxied prefix get what they miss from upstream, and it is stored as ordinary content
 * through the registry's own operations (cacheManifest, cacheBlob), so GC, retention,
 * quotas and the pull check treat it like anything pushed.
 */
export interface UpstreamSource {
  /** The proxied prefix's settings for a repository, or undefined for a local repository. */
  covers(repository: string): { readOnly: boolean } | undefined;
  /**
   * Makes sure the manifest `reference` names is stored (fetched when missing, or when a
   * tag's TTL is over and upstream names another digest): the digest to serve, and
   * `stale` when upstream could not be asked and a cached tag answers.
   */
  manifest(repository: string, reference: string): Promise<{ digest: string; stale: boolean }>;
  /** The size of a blob that is not cached yet (asked upstream). */
  blobSize(repository: string, digest: string): Promise<number>;
  /** The bytes of a blob that is not cached yet, streamed to the client while they are stored. */
  blobBody(repository: string, digest: string, size: number, request: BodyRequest): Promise<BlobBody>;
  /** Counts a blob found cached (the registry asks for nothing else then). */
  blobHit?(): void;
  /** Caches the upstream's referrers of `subject` (when upstream fails, the cached ones answer). */
  referrers(repository: string, subject: string): Promise<void>;
}
