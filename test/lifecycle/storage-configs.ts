/**
 * The two storage configurations lifecycle work must hold for, as Registry
 * instances over real drivers (disk + SQLite in a temp dir; S3 on the test
 * radosgw + PostgreSQL in a fresh schema), with the means to damage each the way
 * only a bug, a crash of an older version or a hand edit could (fsck tests).
 */
import type { TestContext } from 'node:test';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Registry, type RegistryOptions } from '../../src/registry/registry.js';
import type { BlobStore } from '../../src/storage/blob-store.js';
import type { MetadataStore } from '../../src/storage/metadata-store.js';
import { DiskBlobStore } from '../../src/storage/disk/disk-blob-store.js';
import { DiskLayout } from '../../src/storage/disk/layout.js';
import { S3BlobStore } from '../../src/storage/s3/s3-blob-store.js';
import { S3Layout } from '../../src/storage/s3/layout.js';
import { SqliteMetadataStore } from '../../src/storage/sqlite/sqlite-metadata-store.js';
import { PostgresMetadataStore } from '../../src/storage/postgres/postgres-metadata-store.js';
import { freshPostgres } from '../helpers/services.js';
import { execSqlite, removeS3Objects, s3Options } from '../storage/drivers.js';

export interface StorageEnv {
  registry: Registry;
  blobs: BlobStore;
  meta: MetadataStore;
  /** Writes bytes under a digest's key directly (damaged content, or orphans), dated an hour ago where the store allows. */
  writeBytes(digest: string, bytes: Buffer): Promise<void>;
  /** Raw SQL on the metadata database (literals inline). */
  sql(statement: string): Promise<void>;
  /** The SQL literal of some bytes, in this database's dialect. */
  bytesLiteral(bytes: Buffer): string;
}

export type StorageConfigName = 'disk+sqlite' | 's3+postgres';

export const STORAGE_CONFIGS: readonly StorageConfigName[] = ['disk+sqlite', 's3+postgres'];

export async function storageEnv(
  t: TestContext,
  config: StorageConfigName,
  options: RegistryOptions = {},
): Promise<StorageEnv> {
  if (config === 'disk+sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-lifecycle-'));
    const blobs = await DiskBlobStore.open(join(dir, 'storage'), { fsync: false });
    const dbPath = join(dir, 'meta.db');
    const meta = new SqliteMetadataStore(dbPath, { fsync: false });
    const registry = new Registry(blobs, meta, options);
    t.after(async () => {
      await registry.close();
      await rm(dir, { recursive: true, force: true });
    });
    const layout = new DiskLayout(join(dir, 'storage'));
    return {
      registry,
      blobs,
      meta,
      async writeBytes(digest, bytes) {
        const path = layout.blobPath(digest);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, bytes);
        const hourAgo = new Date(Date.now() - 3_600_000);
        await utimes(path, hourAgo, hourAgo);
      },
      sql: async (statement) => execSqlite(dbPath, statement),
      bytesLiteral: (bytes) => `X'${bytes.toString('hex')}'`,
    };
  }
  const s3 = await s3Options();
  const pg = await freshPostgres();
  const blobs = new S3BlobStore(s3);
  const meta = await PostgresMetadataStore.open(pg.options);
  const registry = new Registry(blobs, meta, options);
  t.after(async () => {
    await registry.close();
    await removeS3Objects(s3);
    await pg.drop();
  });
  const layout = new S3Layout(s3.prefix ?? '');
  return {
    registry,
    blobs,
    meta,
    async writeBytes(digest, bytes) {
      await blobs.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: layout.blobKey(digest), Body: bytes }));
    },
    async sql(statement) {
      await meta.db.query(statement);
    },
    bytesLiteral: (bytes) => `'\\x${bytes.toString('hex')}'::bytea`,
  };
}
