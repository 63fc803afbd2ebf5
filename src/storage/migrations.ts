import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { StorageConfig } from './storage-config.js';
import { Database as Postgres } from './postgres/database.js';
import { SCHEMA_VERSION } from './sqlite/schema.js';
import { SqliteMetadataStore } from './sqlite/sqlite-metadata-store.js';

/** Schema versions the configured metadata database has not applied yet (nothing is changed to find out). */
export async function pendingMigrations(storage: StorageConfig, data: string): Promise<number[]> {
  if (storage.metadata.driver === 'postgres') {
    const db = new Postgres({ url: storage.metadata.url, pool: 1 });
    try {
      return await db.pendingMigrations();
    } finally {
      await db.close();
    }
  }
  const path = join(data, 'stowage.db');
  let current = 0;
  if (existsSync(path)) {
    const db = new Database(path, { readonly: true });
    try {
      current = db.pragma('user_version', { simple: true }) as number;
    } finally {
      db.close();
    }
  }
  return Array.from({ length: Math.max(0, SCHEMA_VERSION - current) }, (_, i) => current + i + 1);
}

/** Applies them (what `stowage serve` does at start, under the same advisory lock). */
export async function applyMigrations(storage: StorageConfig, data: string): Promise<number[]> {
  const pending = await pendingMigrations(storage, data);
  if (storage.metadata.driver === 'postgres') {
    const db = new Postgres({ url: storage.metadata.url, pool: 1 });
    try {
      return await db.migrate();
    } finally {
      await db.close();
    }
  }
  await new SqliteMetadataStore(join(data, 'stowage.db')).close();
  return pending;
}
