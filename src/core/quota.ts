/**
 * Quota limits as a metadata store enforces them (pure): checked in the same
 * transaction as the write that would exceed them, so two pushes that each fit
 * cannot both be committed when together they do not. The refusals are built here,
 * one wording for every driver and for the registry's early checks.
 */
import { RegistryError } from './errors.js';

/** The limits that bind one write into a repository (from the first matching quota rule). */
export interface QuotaLimits {
  /** The repository's namespace (its first path component), whose bytes count each blob once. */
  namespace: string;
  bytes?: number;
  manifestsPerRepository?: number;
  tagsPerRepository?: number;
}

/** DENIED: `needed` more bytes would put the namespace over `limit`. */
export function bytesQuotaExceeded(namespace: string, usage: number, limit: number, needed: number): RegistryError {
  return new RegistryError(
    'DENIED',
    `storage quota of namespace ${namespace} exceeded: ${usage} of ${limit} bytes used, this push needs ${needed} more`,
    { namespace, usage, limit, needed },
  );
}

export function manifestLimitReached(repository: string, usage: number, limit: number): RegistryError {
  return new RegistryError('DENIED', `manifest limit of ${repository} reached: ${usage} of ${limit} manifests`, {
    repository,
    usage,
    limit,
  });
}

export function tagLimitReached(repository: string, usage: number, limit: number): RegistryError {
  return new RegistryError('DENIED', `tag limit of ${repository} reached: ${usage} of ${limit} tags`, {
    repository,
    usage,
    limit,
  });
}

/**
 * The check every driver runs inside its transaction: `added` is what the write
 * would add (bytes new to the namespace, a manifest or a tag new to the repository),
 * `usage` reads the current totals only when a limit needs them (synchronous: SQLite's
 * writes run inside one synchronous transaction; PostgreSQL reads them first, under its lock).
 */
export function assertWithinQuota(
  quota: QuotaLimits | undefined,
  repository: string,
  added: { bytes: number; manifest: boolean; tag: boolean },
  usage: { namespaceBytes: () => number; manifests: () => number; tags: () => number },
): void {
  if (!quota) return;
  if (added.manifest && quota.manifestsPerRepository !== undefined) {
    const n = usage.manifests();
    if (n + 1 > quota.manifestsPerRepository) throw manifestLimitReached(repository, n, quota.manifestsPerRepository);
  }
  if (added.tag && quota.tagsPerRepository !== undefined) {
    const n = usage.tags();
    if (n + 1 > quota.tagsPerRepository) throw tagLimitReached(repository, n, quota.tagsPerRepository);
  }
  if (added.bytes > 0 && quota.bytes !== undefined) {
    const used = usage.namespaceBytes();
    if (used + added.bytes > quota.bytes) throw bytesQuotaExceeded(quota.namespace, used, quota.bytes, added.bytes);
  }
}
