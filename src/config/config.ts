import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { AuthConfigError, parseAuth, parseTls, type AuthConfig, type TlsConfig } from './auth-config.js';
import { SignaturesConfigError, parseSignatureRequirements, type SignatureRequirement } from './signatures-config.js';
import { GC_DEFAULTS, LifecycleConfigError, parseGc, parseRetention, type GcConfig } from './lifecycle-config.js';
import type { RetentionPolicy } from '../lifecycle/retention.js';
import { METRICS_OFF, MetricsConfigError, parseMetrics, readMetricsEnv, type MetricsConfig } from './metrics-config.js';
import {
  DEFAULT_STORAGE,
  StorageConfigError,
  mergeStorage,
  parseStorage,
  readStorageEnv,
  type StorageConfig,
} from './storage-config.js';

/** Every setting `stowage serve` takes, with its defaults. */
export interface ServeConfig {
  /** host:port to listen on. */
  addr: string;
  /** Data directory: blobs, uploads and the database. */
  data: string;
  logLevel: string;
  /** Largest manifest accepted, bytes. */
  maxManifestBytes: number;
  /** Idle upload sessions are removed after this many seconds. */
  uploadTtlSeconds: number;
  /** fsync blobs and metadata before acknowledging (turn off only for throwaway data). */
  fsync: boolean;
  /** Seconds SIGTERM waits for in-flight requests before closing them. */
  shutdownGraceSeconds: number;
  /** Serve HTTPS with this certificate and key (absent: plain HTTP). */
  tls?: TlsConfig;
  /** Authentication and the access policy (absent: open access). */
  auth?: AuthConfig;
  /** Repositories whose manifests are served only when a cosign signature verifies (signatures-config.ts). */
  requireSignatures?: SignatureRequirement[];
  /** Online garbage collection: schedule and grace period (docs/gc.md). */
  gc: GcConfig;
  /** Retention rules per repository glob (absent: nothing tagged is ever removed). */
  retention?: RetentionPolicy[];
  /** Where blobs and names live (storage-config.ts); default disk + SQLite under `data`. */
  storage: StorageConfig;
  /** Prometheus `/metrics` (metrics-config.ts); off by default. */
  metrics: MetricsConfig;
}

export const DEFAULTS: ServeConfig = {
  addr: 'localhost:5000',
  data: './data',
  logLevel: 'info',
  maxManifestBytes: 4 * 1024 * 1024,
  uploadTtlSeconds: 24 * 60 * 60,
  fsync: true,
  shutdownGraceSeconds: 30,
  gc: GC_DEFAULTS,
  storage: DEFAULT_STORAGE,
  metrics: METRICS_OFF,
};

type Source = Partial<Record<keyof ServeConfig, unknown>>;

/** The YAML file's keys, as written by people: `max_manifest_bytes` or `maxManifestBytes`. */
const FILE_KEYS: Record<string, keyof ServeConfig> = {
  addr: 'addr',
  data: 'data',
  log_level: 'logLevel',
  logLevel: 'logLevel',
  max_manifest_bytes: 'maxManifestBytes',
  maxManifestBytes: 'maxManifestBytes',
  upload_ttl_seconds: 'uploadTtlSeconds',
  uploadTtlSeconds: 'uploadTtlSeconds',
  fsync: 'fsync',
  shutdown_grace_seconds: 'shutdownGraceSeconds',
  shutdownGraceSeconds: 'shutdownGraceSeconds',
  tls: 'tls',
  auth: 'auth',
  require_signatures: 'requireSignatures',
  requireSignatures: 'requireSignatures',
  gc: 'gc',
  retention: 'retention',
  storage: 'storage',
  metrics: 'metrics',
};

/** `STOWAGE_ADDR`, `STOWAGE_DATA`, … */
const ENV_KEYS: Record<string, keyof ServeConfig> = {
  STOWAGE_ADDR: 'addr',
  STOWAGE_DATA: 'data',
  STOWAGE_LOG_LEVEL: 'logLevel',
  STOWAGE_MAX_MANIFEST_BYTES: 'maxManifestBytes',
  STOWAGE_UPLOAD_TTL_SECONDS: 'uploadTtlSeconds',
  STOWAGE_FSYNC: 'fsync',
  STOWAGE_SHUTDOWN_GRACE_SECONDS: 'shutdownGraceSeconds',
};

/** Single TLS settings from env or flags, merged key by key over the file's `tls:`. */
const TLS_ENV_KEYS: Record<string, 'cert' | 'key'> = {
  STOWAGE_TLS_CERT: 'cert',
  STOWAGE_TLS_KEY: 'key',
};

export class ConfigError extends Error {}

export function readConfigFile(path: string): Source {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(`cannot read config ${path}: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`config ${path} must be a YAML mapping`);
  const out: Source = {};
  for (const [k, v] of Object.entries(doc)) {
    const key = FILE_KEYS[k];
    if (!key) throw new ConfigError(`config ${path}: unknown setting "${k}"`);
    out[key] = v;
  }
  return out;
}

export function readEnv(env: NodeJS.ProcessEnv): Source {
  const out: Source = {};
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    if (env[name] !== undefined && env[name] !== '') out[key] = env[name];
  }
  const tls: Record<string, string> = {};
  for (const [name, key] of Object.entries(TLS_ENV_KEYS)) {
    if (env[name] !== undefined && env[name] !== '') tls[key] = env[name];
  }
  if (Object.keys(tls).length > 0) out.tls = tls;
  const storage = readStorageEnv(env);
  if (storage) out.storage = storage;
  const metrics = readMetricsEnv(env);
  if (metrics) out.metrics = metrics;
  return out;
}

/** Flags win over env, env over the file, the file over defaults. */
export function resolveConfig(file: Source, env: Source, flags: Source): ServeConfig {
  const merged: Source = { ...DEFAULTS, ...file, ...env, ...flags };
  const data = str(merged, 'data');
  let tls: TlsConfig | undefined;
  let auth: AuthConfig | undefined;
  let requireSignatures: SignatureRequirement[] | undefined;
  let gc: GcConfig;
  let retention: RetentionPolicy[] | undefined;
  let storage: StorageConfig;
  let metrics: MetricsConfig;
  try {
    metrics =
      file.metrics === undefined && env.metrics === undefined && flags.metrics === undefined
        ? METRICS_OFF
        : parseMetrics(file.metrics, env.metrics, flags.metrics);
    storage = parseStorage(mergeStorage(file.storage, env.storage, flags.storage));
    const tlsParts = [file.tls, env.tls, flags.tls].filter((t) => t !== undefined && t !== null);
    if (tlsParts.some((t) => typeof t !== 'object' || Array.isArray(t)))
      throw new ConfigError('tls must be a mapping with cert and key');
    tls = parseTls(tlsParts.length === 0 ? undefined : Object.assign({}, ...tlsParts));
    auth = parseAuth(merged.auth, data);
    requireSignatures = parseSignatureRequirements(merged.requireSignatures);
    gc = merged.gc === GC_DEFAULTS ? GC_DEFAULTS : parseGc(merged.gc);
    retention = parseRetention(merged.retention);
  } catch (e) {
    if (
      e instanceof AuthConfigError ||
      e instanceof SignaturesConfigError ||
      e instanceof LifecycleConfigError ||
      e instanceof StorageConfigError ||
      e instanceof MetricsConfigError
    ) {
      throw new ConfigError(e.message);
    }
    throw e;
  }
  return {
    addr: str(merged, 'addr'),
    data,
    logLevel: str(merged, 'logLevel'),
    maxManifestBytes: int(merged, 'maxManifestBytes', 1024),
    uploadTtlSeconds: int(merged, 'uploadTtlSeconds', 1),
    fsync: bool(merged, 'fsync'),
    shutdownGraceSeconds: int(merged, 'shutdownGraceSeconds', 0),
    ...(tls ? { tls } : {}),
    ...(auth ? { auth } : {}),
    ...(requireSignatures ? { requireSignatures } : {}),
    gc,
    ...(retention ? { retention } : {}),
    storage,
    metrics,
  };
}

function str(s: Source, k: keyof ServeConfig): string {
  const v = s[k];
  if (typeof v !== 'string' || v === '') throw new ConfigError(`${k} must be a non-empty string`);
  return v;
}

function int(s: Source, k: keyof ServeConfig, min: number): number {
  const v = typeof s[k] === 'string' ? Number(s[k]) : s[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
    throw new ConfigError(`${k} must be an integer ≥ ${min}`);
  return v;
}

function bool(s: Source, k: keyof ServeConfig): boolean {
  const v = s[k];
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new ConfigError(`${k} must be true or false`);
}

/** Splits `host:port` (and `[v6]:port`); port 0 picks a free port. */
export function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr);
  if (!m) throw new ConfigError(`addr must be HOST:PORT, got "${addr}"`);
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(`port out of range in "${addr}"`);
  return { host: m[1] ?? m[2] ?? '', port };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
