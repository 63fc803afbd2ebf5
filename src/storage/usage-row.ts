import type { StorageStats } from './metadata-store.js';

/** A `namespace_usage` row, in both databases (PostgreSQL's BIGINTs arrive as strings). */
export interface NamespaceUsageRow {
  namespace: string;
  blob_links: number | string;
  blob_bytes: number | string;
  manifests: number | string;
  manifest_bytes: number | string;
}

export function toStorageStats(
  rows: NamespaceUsageRow[],
  totals: { blobs: number | string; bytes: number | string },
): StorageStats {
  return {
    namespaces: rows.map((r) => ({
      namespace: r.namespace,
      blobLinks: Number(r.blob_links),
      blobBytes: Number(r.blob_bytes),
      manifests: Number(r.manifests),
      manifestBytes: Number(r.manifest_bytes),
    })),
    blobs: Number(totals.blobs),
    blobBytes: Number(totals.bytes),
  };
}
