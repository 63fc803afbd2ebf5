import type { ManifestSummary } from './metadata-store.js';

/** A `manifests` row as both SQL drivers read it (the schemas name the columns alike). */
export interface ManifestRow {
  digest: string;
  media_type: string;
  size: number;
  content: Buffer;
  subject: string | null;
  artifact_type: string | null;
  /** SQLite keeps JSON text; PostgreSQL's JSONB arrives parsed. */
  annotations: string | Record<string, string> | null;
  created_at: number;
}

export function toSummary(row: Omit<ManifestRow, 'content'>): ManifestSummary {
  return {
    digest: row.digest,
    mediaType: row.media_type,
    size: row.size,
    subject: row.subject ?? undefined,
    artifactType: row.artifact_type ?? undefined,
    annotations:
      typeof row.annotations === 'string'
        ? (JSON.parse(row.annotations) as Record<string, string>)
        : (row.annotations ?? undefined),
    createdAt: row.created_at,
  };
}
