import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { StorageConfig } from './storage-config.js';
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

/**
 * The configured metadata store (SQLite under `data` by default, PostgreSQL when
 * configured). The server and the account commands (`stowage token`) open it alike.
 */
export async function openMetadataStore(storage: StorageConfig, data: string, fsync: boolean): Promise<MetadataStore> {
  if (storage.metadata.driver === 'postgres')
    return PostgresMetadataStore.open({ url: storage.metadata.url, pool: storage.metadata.pool });
  await mkdir(data, { recursive: true });
  return new SqliteMetadataStore(join(data, 'stowage.db'), { fsync });
}

/** Opens the configured drivers: disk and SQLite under `data` by default, S3 and PostgreSQL when configured. */
export async function openStores(
  storage: StorageConfig,
  data: string,
  fsync: boolean,
  limits: { maxOpenUploadFiles?: number } = {},
): Promise<Stores> {
  if (storage.blobs.driver === 'disk') await mkdir(data, { recursive: true });
  const blobs: BlobStore =
    storage.blobs.driver === 's3'
      ? new S3BlobStore({
          ...(storage.blobs.endpoint ? { endpoint: storage.blobs.endpoint } : {}),
          region: storage.blobs.region,
          bucket: storage.blobs.bucket,
          ...(storage.blobs.accessKeyId
            ? { accessKeyId: storage.blobs.accessKeyId, secretAccessKey: storage.blobs.secretAccessKey! }
            : {}),
          pathStyle: storage.blobs.pathStyle,
          prefix: storage.blobs.prefix,
          redirect: storage.blobs.redirect,
        })
      : await DiskBlobStore.open(data, {
          fsync,
          ...(limits.maxOpenUploadFiles === undefined ? {} : { maxOpenFiles: limits.maxOpenUploadFiles }),
        });
  try {
    return { blobs, meta: await openMetadataStore(storage, data, fsync) };
  } catch (e) {
    await blobs.close();
    throw e;
  }
}
