import type { UploadRecord } from './metadata-store.js';

/** An `uploads` row as both SQL drivers read it (the schemas name the columns alike). */
export interface UploadRow {
  id: string;
  repository: string;
  /** NULL for an anonymous session. */
  owner: string | null;
  created_at: number;
  updated_at: number;
}

export function toUpload(row: UploadRow): UploadRecord {
  return {
    id: row.id,
    repository: row.repository,
    ...(row.owner === null ? {} : { owner: row.owner }),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
