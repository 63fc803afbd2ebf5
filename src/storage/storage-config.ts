/**
 * The `storage:` section: which drivers hold blobs and names (pure: validation
 * and defaults; secret files are read here, once, at start).
 *
 *   storage:
 *     blobs:    { driver: s3, endpoint: http://127.0.0.1:7480, region: us-east-1, bucket: stowage,
 *                 access_key_id: …, secret_access_key: … (or secret_access_key_file), path_style: true,
 *                 prefix: "", redirect: true }
 *     metadata: { driver: postgres, url: postgres://stowage@127.0.0.1/stowage (or url_file), pool: 20 }
 *
 * Defaults: `blobs: {driver: disk}`, `metadata: {driver: sqlite}` under `data`.
 * Every key also comes from STOWAGE_* env (see STORAGE_ENV); secrets are never logged.
 */
import { readFileSync } from 'node:fs';

export class StorageConfigError extends Error {}

export type BlobsConfig =
  | { driver: 'disk' }
  | {
      driver: 's3';
      endpoint?: string;
      region: string;
      bucket: string;
      accessKeyId?: string;
      secretAccessKey?: string;
      pathStyle: boolean;
      prefix: string;
      /** Blob GETs answer 307 to a presigned URL (false: the registry streams the bytes). */
      redirect: boolean;
    };

export type MetadataConfig = { driver: 'sqlite' } | { driver: 'postgres'; url: string; pool: number };

export interface StorageConfig {
  blobs: BlobsConfig;
  metadata: MetadataConfig;
}

export const DEFAULT_STORAGE: StorageConfig = { blobs: { driver: 'disk' }, metadata: { driver: 'sqlite' } };

/** STOWAGE_* variables → [section, key] of the `storage:` section. */
export const STORAGE_ENV: Record<string, ['blobs' | 'metadata', string]> = {
  STOWAGE_BLOBS_DRIVER: ['blobs', 'driver'],
  STOWAGE_S3_ENDPOINT: ['blobs', 'endpoint'],
  STOWAGE_S3_REGION: ['blobs', 'region'],
  STOWAGE_S3_BUCKET: ['blobs', 'bucket'],
  STOWAGE_S3_ACCESS_KEY_ID: ['blobs', 'access_key_id'],
  STOWAGE_S3_SECRET_ACCESS_KEY: ['blobs', 'secret_access_key'],
  STOWAGE_S3_SECRET_ACCESS_KEY_FILE: ['blobs', 'secret_access_key_file'],
  STOWAGE_S3_PATH_STYLE: ['blobs', 'path_style'],
  STOWAGE_S3_PREFIX: ['blobs', 'prefix'],
  STOWAGE_S3_REDIRECT: ['blobs', 'redirect'],
  STOWAGE_METADATA_DRIVER: ['metadata', 'driver'],
  STOWAGE_POSTGRES_URL: ['metadata', 'url'],
  STOWAGE_POSTGRES_URL_FILE: ['metadata', 'url_file'],
  STOWAGE_POSTGRES_POOL: ['metadata', 'pool'],
};

type Raw = Record<string, unknown>;

/** `storage:` from the file with env values merged key by key over it. */
export function readStorageEnv(env: NodeJS.ProcessEnv): Raw | undefined {
  const out: { blobs?: Raw; metadata?: Raw } = {};
  for (const [name, [section, key]] of Object.entries(STORAGE_ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '') (out[section] ??= {})[key] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export function mergeStorage(...parts: unknown[]): Raw | undefined {
  const present = parts.filter((p) => p !== undefined && p !== null);
  if (present.length === 0) return undefined;
  const out: { blobs?: Raw; metadata?: Raw } = {};
  for (const p of present) {
    if (typeof p !== 'object' || Array.isArray(p))
      throw new StorageConfigError('storage must be a mapping with blobs and metadata');
    for (const [k, v] of Object.entries(p as Raw)) {
      if (k !== 'blobs' && k !== 'metadata') throw new StorageConfigError(`storage: unknown setting "${k}"`);
      if (typeof v !== 'object' || v === null || Array.isArray(v))
        throw new StorageConfigError(`storage.${k} must be a mapping`);
      out[k] = { ...(out[k] ?? {}), ...(v as Raw) };
    }
  }
  return out;
}

export function parseStorage(raw: Raw | undefined): StorageConfig {
  if (!raw) return DEFAULT_STORAGE;
  return {
    blobs: parseBlobs((raw.blobs as Raw | undefined) ?? {}),
    metadata: parseMetadata((raw.metadata as Raw | undefined) ?? {}),
  };
}

function parseBlobs(r: Raw): BlobsConfig {
  const where = 'storage.blobs';
  const driver = r.driver ?? 'disk';
  if (driver === 'disk') {
    known(r, where, ['driver']);
    return { driver: 'disk' };
  }
  if (driver !== 's3') throw new StorageConfigError(`${where}.driver must be disk or s3`);
  known(r, where, [
    'driver',
    'endpoint',
    'region',
    'bucket',
    'access_key_id',
    'secret_access_key',
    'secret_access_key_file',
    'path_style',
    'prefix',
    'redirect',
  ]);
  const prefix = optStr(r, 'prefix', where) ?? '';
  if (prefix !== '' && !prefix.endsWith('/'))
    throw new StorageConfigError(`${where}.prefix must be empty or end with "/"`);
  const endpoint = optStr(r, 'endpoint', where);
  const accessKeyId = optStr(r, 'access_key_id', where);
  const secretAccessKey = secret(r, 'secret_access_key', where);
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined))
    throw new StorageConfigError(
      `${where} needs both access_key_id and secret_access_key, or neither (the AWS default chain)`,
    );
  return {
    driver: 's3',
    ...(endpoint ? { endpoint } : {}),
    region: optStr(r, 'region', where) ?? 'us-east-1',
    bucket: reqStr(r, 'bucket', where),
    ...(accessKeyId ? { accessKeyId } : {}),
    ...(secretAccessKey ? { secretAccessKey } : {}),
    pathStyle: bool(r, 'path_style', where, false),
    prefix,
    redirect: bool(r, 'redirect', where, true),
  };
}

function parseMetadata(r: Raw): MetadataConfig {
  const where = 'storage.metadata';
  const driver = r.driver ?? 'sqlite';
  if (driver === 'sqlite') {
    known(r, where, ['driver']);
    return { driver: 'sqlite' };
  }
  if (driver !== 'postgres') throw new StorageConfigError(`${where}.driver must be sqlite or postgres`);
  known(r, where, ['driver', 'url', 'url_file', 'pool']);
  const url = secret(r, 'url', where);
  if (!url) throw new StorageConfigError(`${where} needs url (or url_file)`);
  const pool = r.pool === undefined ? 20 : Number(r.pool);
  if (!Number.isSafeInteger(pool) || pool < 1) throw new StorageConfigError(`${where}.pool must be an integer ≥ 1`);
  return { driver: 'postgres', url, pool };
}

function known(r: Raw, where: string, keys: string[]): void {
  for (const k of Object.keys(r))
    if (!keys.includes(k)) throw new StorageConfigError(`${where}: unknown setting "${k}"`);
}

function optStr(r: Raw, k: string, where: string): string | undefined {
  const v = r[k];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new StorageConfigError(`${where}.${k} must be a string`);
  return v;
}

function reqStr(r: Raw, k: string, where: string): string {
  const v = optStr(r, k, where);
  if (v === undefined) throw new StorageConfigError(`${where}.${k} is required`);
  return v;
}

/** A secret given inline or as `<k>_file` (its content, trimmed), never both. */
function secret(r: Raw, k: string, where: string): string | undefined {
  const inline = optStr(r, k, where);
  const file = optStr(r, `${k}_file`, where);
  if (inline !== undefined && file !== undefined)
    throw new StorageConfigError(`${where}: give ${k} or ${k}_file, not both`);
  if (file === undefined) return inline;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new StorageConfigError(`${where}.${k}_file: ${(e as Error).message}`);
  }
}

function bool(r: Raw, k: string, where: string, dflt: boolean): boolean {
  const v = r[k];
  if (v === undefined) return dflt;
  if (v === true || v === 'true' || v === '1') return true;
  if (v === false || v === 'false' || v === '0') return false;
  throw new StorageConfigError(`${where}.${k} must be true or false`);
}

/** What may be logged about the storage: drivers and where, never keys or passwords. */
export function describeStorage(s: StorageConfig): Record<string, unknown> {
  const blobs =
    s.blobs.driver === 's3'
      ? {
          driver: 's3',
          endpoint: s.blobs.endpoint,
          bucket: s.blobs.bucket,
          prefix: s.blobs.prefix,
          redirect: s.blobs.redirect,
        }
      : { driver: 'disk' };
  let metadata: Record<string, unknown> = { driver: 'sqlite' };
  if (s.metadata.driver === 'postgres') {
    const u = new URL(s.metadata.url);
    metadata = { driver: 'postgres', host: u.host, database: u.pathname.slice(1) };
  }
  return { blobs, metadata };
}
