/**
 * Every storage driver, each as a factory of fresh, empty stores: the one place
 * that says which drivers the shared contract suites run against
 * (contracts.test.ts). A new driver is one entry here; its own specifics (on-disk
 * layout, schema version, …) stay in its own test file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskBlobStore } from '../../src/storage/disk/disk-blob-store.js';
import { MemoryBlobStore } from '../../src/storage/memory/memory-blob-store.js';
import { MemoryMetadataStore } from '../../src/storage/memory/memory-metadata-store.js';
import { SqliteMetadataStore } from '../../src/storage/sqlite/sqlite-metadata-store.js';
import type { BlobStoreFactory } from './blob-store-suite.js';
import type { MetadataStoreFactory } from './metadata-store-suite.js';

/** Opens instances over one temporary directory; cleanup closes them all and removes it. */
async function overTempDir<S extends { close(): Promise<void> }>(prefix: string, open: (dir: string) => Promise<S>) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const opened: S[] = [];
  const reopen = async () => {
    const s = await open(dir);
    opened.push(s);
    return s;
  };
  return {
    store: await reopen(),
    reopen,
    cleanup: async () => {
      for (const s of opened) await s.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Without persistence: no reopen, so the restart cases report a skip with the reason. */
function inMemory<S extends { close(): Promise<void> }>(make: () => S) {
  return async () => {
    const store = make();
    return { store, cleanup: () => store.close() };
  };
}

export const blobStoreDrivers: Record<string, BlobStoreFactory> = {
  // The production configuration (fsync on).
  disk: () => overTempDir('stowage-disk-', (dir) => DiskBlobStore.open(dir, { fsync: true })),
  memory: inMemory(() => new MemoryBlobStore()),
};

export const metadataStoreDrivers: Record<string, MetadataStoreFactory> = {
  sqlite: () => overTempDir('stowage-sqlite-', async (dir) => new SqliteMetadataStore(join(dir, 'meta.db'))),
  memory: inMemory(() => new MemoryMetadataStore()),
};
