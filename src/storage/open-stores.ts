import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { StorageConfig } from '../config/storage-config.js';
import type { BlobStore } from './blob-store.js';
import type { MetadataStore } from './metadata-store.js';
import { DiskBlobStore } from './disk/disk-blob-store.js';
import { SqliteMetadataStore } from './sqlite/sqlite-metadata-store.js';
import { PostgresMetadataStore } from './postgres/postgres-metadata-store.js';
import { S3BlobStore } from './s3/s3-blob-store.js';

export interface Stores {
  blobs: BlobStore;
  meta: MetadataStore;
}

/** Opens the configured drivers: disk and SQLite under `data` by default, S3 and PostgreSQL when configured. */
export async function openStores(storage: StorageConfig, data: string, fsync: boolean): Promise<Stores> {
  if (storage.blobs.driver === 'disk' || storage.metadata.driver === 'sqlite') await mkdir(data, { recursive: true });
  const blobs: BlobStore =
    storage.blobs.driver === 's3'
      ? new S3BlobStore({
          ...(storage.blobs.endpoint ? { endpoint: storage.blobs.endpoint } : {}),
          region: storage.blobs.region,
          bucket: storage.blobs.bucket,
          ...(storage.blobs.accessKeyId ? { accessKeyId: storage.blobs.accessKeyId, secretAccessKey: storage.blobs.secretAccessKey! } : {}),
          pathStyle: storage.blobs.pathStyle,
          prefix: storage.blobs.prefix,
          redirect: storage.blobs.redirect,
        })
      : await DiskBlobStore.open(data, { fsync });
  try {
    const meta: MetadataStore =
      storage.metadata.driver === 'postgres'
        ? await PostgresMetadataStore.open({ url: storage.metadata.url, pool: storage.metadata.pool })
        : new SqliteMetadataStore(join(data, 'stowage.db'), { fsync });
    return { blobs, meta };
  } catch (e) {
    await blobs.close();
    throw e;
  }
}
