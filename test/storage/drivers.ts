/**
 * Every storage driver, each as a factory of fresh, empty stores: the one place
 * that says which drivers the shared contract suites run against
 * (contracts.test.ts). A new driver is one entry here; its own specifics (on-disk
 * layout, schema version, replicas, …) stay in its own test file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskBlobStore } from '../../src/storage/disk/disk-blob-store.js';
import { MemoryBlobStore } from '../../src/storage/memory/memory-blob-store.js';
import { MemoryMetadataStore } from '../../src/storage/memory/memory-metadata-store.js';
import { PostgresMetadataStore } from '../../src/storage/postgres/postgres-metadata-store.js';
import { SqliteMetadataStore } from '../../src/storage/sqlite/sqlite-metadata-store.js';
import { freshPostgres } from '../helpers/services.js';
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

export const blobStoreDrivers: Record<string, BlobStoreFactory> = {
  // The production configuration (fsync on).
  disk: async () => {
    const { dir, remove } = await tempDir('stowage-disk-');
    return reopenable(() => DiskBlobStore.open(dir, { fsync: true }), remove);
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
