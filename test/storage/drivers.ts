/**
 * Every storage driver, each as a factory of fresh, empty stores: the one place
 * that says which drivers the shared contract suites run against
 * (contracts.test.ts). A new driver is one entry here; its own specifics (on-disk
 * layout, schema version, replicas, …) stay in its own test file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DiskBlobStore } from '../../src/storage/disk/disk-blob-store.js';
import { MemoryBlobStore } from '../../src/storage/memory/memory-blob-store.js';
import { MemoryMetadataStore } from '../../src/storage/memory/memory-metadata-store.js';
import { PostgresMetadataStore } from '../../src/storage/postgres/postgres-metadata-store.js';
import { S3BlobStore, type S3BlobStoreOptions } from '../../src/storage/s3/s3-blob-store.js';
import { SqliteMetadataStore } from '../../src/storage/sqlite/sqlite-metadata-store.js';
import { freshPostgres, freshPrefix, s3Settings } from '../helpers/services.js';
import type { BlobStoreFactory } from './blob-store-suite.js';
import type { MetadataStoreFactory } from './metadata-store-suite.js';
import { reopenable } from './reopenable.js';

async function tempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Without persistence there is no reopen, so the restart cases report a skip with the reason. */
function inMemory<S extends { close(): Promise<void> }>(make: () => S) {
  return async () => {
    const store = make();
    return { store, cleanup: () => store.close() };
  };
}

/** Options for an S3 store over the test radosgw, under a prefix of its own. */
export async function s3Options(prefix = freshPrefix()): Promise<S3BlobStoreOptions> {
  const s = await s3Settings();
  return {
    endpoint: s.endpoint,
    region: s.region,
    bucket: s.bucket,
    accessKeyId: s.accessKeyId,
    secretAccessKey: s.secretAccessKey,
    pathStyle: true,
    prefix,
  };
}

/** Deletes every object under the store's prefix. */
export async function removeS3Objects(o: S3BlobStoreOptions): Promise<void> {
  const store = new S3BlobStore(o);
  try {
    for (;;) {
      const listed = await store.client.send(new ListObjectsV2Command({ Bucket: o.bucket, Prefix: o.prefix }));
      const keys = (listed.Contents ?? []).map((c) => ({ Key: c.Key! }));
      if (keys.length === 0) break;
      await store.client.send(new DeleteObjectsCommand({ Bucket: o.bucket, Delete: { Objects: keys, Quiet: true } }));
    }
  } finally {
    await store.close();
  }
}

export const blobStoreDrivers: Record<string, BlobStoreFactory> = {
  // The production configuration (fsync on).
  disk: async () => {
    const { dir, remove } = await tempDir('stowage-disk-');
    return reopenable(() => DiskBlobStore.open(dir, { fsync: true }), remove);
  },
  // Blob GETs as presigned redirects, the default.
  s3: async () => {
    const o = await s3Options();
    return reopenable(
      async () => new S3BlobStore(o),
      () => removeS3Objects(o),
    );
  },
  memory: inMemory(() => new MemoryBlobStore()),
};

export const metadataStoreDrivers: Record<string, MetadataStoreFactory> = {
  sqlite: async () => {
    const { dir, remove } = await tempDir('stowage-sqlite-');
    return reopenable(async () => new SqliteMetadataStore(join(dir, 'meta.db')), remove);
  },
  postgres: async () => {
    const { options, drop } = await freshPostgres();
    return reopenable(() => PostgresMetadataStore.open(options), drop);
  },
  memory: inMemory(() => new MemoryMetadataStore()),
};
