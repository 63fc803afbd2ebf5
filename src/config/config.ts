import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { AuthConfig } from '../auth/settings.js';
import { AuthConfigError, parseAuth, parseTls, type TlsConfig } from './auth-config.js';
import { SignaturesConfigError, parseSignatureRequirements, type SignatureRequirement } from './signatures-config.js';
import {
  GC_DEFAULTS,
  LifecycleConfigError,
  parseGc,
  parseImmutableTags,
  parseQuotas,
  parseRetention,
  type GcConfig,
} from './lifecycle-config.js';
import type { QuotaRule } from '../registry/quotas.js';
import type { ImmutableTagRule } from '../registry/immutable-tags.js';
import type { RetentionPolicy } from '../lifecycle/retention.js';
import { EVENTS_OFF, EventsConfigError, parseEvents, type EventsConfig } from './events-config.js';
import { AuditConfigError, parseAudit, type AuditConfig } from './audit-config.js';
import { UI_DEFAULTS, UiConfigError, parseUi, type UiConfig } from './ui-config.js';
import { METRICS_OFF, MetricsConfigError, parseMetrics, readMetricsEnv, type MetricsConfig } from './metrics-config.js';
import { ProxyConfigError, parseProxy } from './proxy-config.js';
import type { ProxyRule } from '../proxy/proxy-rule.js';
import {
  DEFAULT_STORAGE,
  StorageConfigError,
  mergeStorage,
  parseStorage,
  readStorageEnv,
  type StorageConfig,
} from '../storage/storage-config.js';

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
  /** The URL clients reach this registry at (`https://registry.example.com`): token realms are built from it, never from Host. */
  publicUrl?: string;
  /** Host headers (host or host:port) the realm may be built from; others get the first one. */
  allowedHosts: string[];
  /** A request body that sends no byte for this long is cut (the upload keeps what it had before that request). */
  bodyTimeoutSeconds: number;
  /** A connection must finish sending request headers within this long. */
  headersTimeoutSeconds: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutSeconds: number;
  /** Open connections at most; more are refused. */
  maxConnections: number;
  /** Open connections from one client address at most; more get 503. */
  maxConnectionsPerAddress: number;
  /** Upload session files kept open at most (the least recently used are closed and reopened on demand). */
  maxOpenUploadFiles: number;
  /** Open upload sessions at most, in all, per repository and per user (over → 429 TOOMANYREQUESTS). */
  maxUploads: number;
  maxUploadsPerRepository: number;
  maxUploadsPerUser: number;
  /** Online garbage collection: schedule and grace period (docs/gc.md). */
  gc: GcConfig;
  /** Retention rules per repository glob (absent: nothing tagged is ever removed). */
  retention?: RetentionPolicy[];
  /** Tags that cannot be moved or deleted once pushed (absent: none). */
  immutableTags?: ImmutableTagRule[];
  /** Storage quotas per namespace glob, tag/manifest limits per repository (absent: none). */
  quotas?: QuotaRule[];
  /** Where blobs and names live (storage-config.ts); default disk + SQLite under `data`. */
  storage: StorageConfig;
  /** Prometheus `/metrics` (metrics-config.ts); off by default. */
  metrics: MetricsConfig;
  /** Webhook endpoints and delivery (events-config.ts); none by default. */
  events: EventsConfig;
  /** The audit trail (audit-config.ts); off by default. */
  audit?: AuditConfig;
  /** The web UI and its JSON API under /api/v1 (ui-config.ts); on by default. */
  ui: UiConfig;
  /** The pull-through cache's upstreams, one per repository prefix (proxy-config.ts); none by default. */
  proxy?: ProxyRule[];
}

export const DEFAULTS: ServeConfig = {
  addr: 'localhost:5000',
  data: './data',
  logLevel: 'info',
  maxManifestBytes: 4 * 1024 * 1024,
  uploadTtlSeconds: 24 * 60 * 60,
  fsync: true,
  shutdownGraceSeconds: 30,
  allowedHosts: [],
  bodyTimeoutSeconds: 60,
  headersTimeoutSeconds: 30,
  keepAliveTimeoutSeconds: 65,
  maxConnections: 1024,
  maxConnectionsPerAddress: 256,
  maxOpenUploadFiles: 256,
  maxUploads: 10_000,
  maxUploadsPerRepository: 1_000,
  maxUploadsPerUser: 1_000,
  gc: GC_DEFAULTS,
  storage: DEFAULT_STORAGE,
  metrics: METRICS_OFF,
  events: EVENTS_OFF,
  ui: UI_DEFAULTS,
};

/** Integer settings and their smallest allowed value. */
const INTEGER_MINIMUMS = {
  maxManifestBytes: 1024,
  uploadTtlSeconds: 1,
  shutdownGraceSeconds: 0,
  bodyTimeoutSeconds: 1,
  headersTimeoutSeconds: 1,
  keepAliveTimeoutSeconds: 1,
  maxConnections: 1,
  maxConnectionsPerAddress: 1,
  maxOpenUploadFiles: 1,
  maxUploads: 1,
  maxUploadsPerRepository: 1,
  maxUploadsPerUser: 1,
} as const satisfies Partial<Record<keyof ServeConfig, number>>;

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
  public_url: 'publicUrl',
  publicUrl: 'publicUrl',
  allowed_hosts: 'allowedHosts',
  allowedHosts: 'allowedHosts',
  body_timeout_seconds: 'bodyTimeoutSeconds',
  bodyTimeoutSeconds: 'bodyTimeoutSeconds',
  headers_timeout_seconds: 'headersTimeoutSeconds',
  headersTimeoutSeconds: 'headersTimeoutSeconds',
  keep_alive_timeout_seconds: 'keepAliveTimeoutSeconds',
  keepAliveTimeoutSeconds: 'keepAliveTimeoutSeconds',
  max_connections: 'maxConnections',
  maxConnections: 'maxConnections',
  max_connections_per_address: 'maxConnectionsPerAddress',
  maxConnectionsPerAddress: 'maxConnectionsPerAddress',
  max_open_upload_files: 'maxOpenUploadFiles',
  maxOpenUploadFiles: 'maxOpenUploadFiles',
  max_uploads: 'maxUploads',
  maxUploads: 'maxUploads',
  max_uploads_per_repository: 'maxUploadsPerRepository',
  maxUploadsPerRepository: 'maxUploadsPerRepository',
  max_uploads_per_user: 'maxUploadsPerUser',
  maxUploadsPerUser: 'maxUploadsPerUser',
  gc: 'gc',
  retention: 'retention',
  immutable_tags: 'immutableTags',
  quotas: 'quotas',
  storage: 'storage',
  metrics: 'metrics',
  events: 'events',
  audit: 'audit',
  ui: 'ui',
  proxy: 'proxy',
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
  STOWAGE_PUBLIC_URL: 'publicUrl',
  STOWAGE_ALLOWED_HOSTS: 'allowedHosts',
  STOWAGE_BODY_TIMEOUT_SECONDS: 'bodyTimeoutSeconds',
  STOWAGE_HEADERS_TIMEOUT_SECONDS: 'headersTimeoutSeconds',
  STOWAGE_KEEP_ALIVE_TIMEOUT_SECONDS: 'keepAliveTimeoutSeconds',
  STOWAGE_MAX_CONNECTIONS: 'maxConnections',
  STOWAGE_MAX_CONNECTIONS_PER_ADDRESS: 'maxConnectionsPerAddress',
  STOWAGE_MAX_OPEN_UPLOAD_FILES: 'maxOpenUploadFiles',
  STOWAGE_MAX_UPLOADS: 'maxUploads',
  STOWAGE_MAX_UPLOADS_PER_REPOSITORY: 'maxUploadsPerRepository',
  STOWAGE_MAX_UPLOADS_PER_USER: 'maxUploadsPerUser',
  STOWAGE_UI: 'ui',
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
  const signingKeyPem = signingKeyFromEnv(env);
  if (signingKeyPem !== undefined) out.auth = { signingKeyPem };
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
  let immutableTags: ImmutableTagRule[] | undefined;
  let quotas: QuotaRule[] | undefined;
  let storage: StorageConfig;
  let metrics: MetricsConfig;
  let events: EventsConfig;
  let audit: AuditConfig | undefined;
  let ui: UiConfig;
  let proxy: ProxyRule[] | undefined;
  try {
    ui = merged.ui === UI_DEFAULTS ? UI_DEFAULTS : parseUi(merged.ui);
    proxy = parseProxy(merged.proxy);
    audit = parseAudit(merged.audit);
    events = flags.events !== undefined ? parseEvents(flags.events) : parseEvents(file.events);
    metrics =
      file.metrics === undefined && env.metrics === undefined && flags.metrics === undefined
        ? METRICS_OFF
        : parseMetrics(file.metrics, env.metrics, flags.metrics);
    storage = parseStorage(mergeStorage(file.storage, env.storage, flags.storage));
    const tlsParts = [file.tls, env.tls, flags.tls].filter((t) => t !== undefined && t !== null);
    if (tlsParts.some((t) => typeof t !== 'object' || Array.isArray(t)))
      throw new ConfigError('tls must be a mapping with cert and key');
    tls = parseTls(tlsParts.length === 0 ? undefined : Object.assign({}, ...tlsParts));
    auth = parseAuth(authSection(file.auth, env.auth, flags.auth), data);
    requireSignatures = parseSignatureRequirements(merged.requireSignatures);
    gc = merged.gc === GC_DEFAULTS ? GC_DEFAULTS : parseGc(merged.gc);
    retention = parseRetention(merged.retention);
    immutableTags = parseImmutableTags(merged.immutableTags);
    quotas = parseQuotas(merged.quotas);
  } catch (e) {
    if (
      e instanceof AuthConfigError ||
      e instanceof SignaturesConfigError ||
      e instanceof LifecycleConfigError ||
      e instanceof StorageConfigError ||
      e instanceof MetricsConfigError ||
      e instanceof EventsConfigError ||
      e instanceof AuditConfigError ||
      e instanceof UiConfigError ||
      e instanceof ProxyConfigError
    ) {
      throw new ConfigError(e.message);
    }
    throw e;
  }
  const integers = Object.fromEntries(
    Object.entries(INTEGER_MINIMUMS).map(([k, min]) => [k, int(merged, k as keyof ServeConfig, min)]),
  ) as Record<keyof typeof INTEGER_MINIMUMS, number>;
  const addr = str(merged, 'addr');
  const publicUrl = merged.publicUrl === undefined ? undefined : parsePublicUrl(merged.publicUrl);
  const allowedHosts = hostList(merged.allowedHosts);
  // Beyond loopback a proxy may forward any Host: a realm built from it could send
  // clients' passwords to whoever the attacker names.
  if (
    auth?.mode === 'token' &&
    auth.realm === undefined &&
    publicUrl === undefined &&
    allowedHosts.length === 0 &&
    !isLoopback(parseAddr(addr).host)
  ) {
    throw new ConfigError(
      `listening on ${addr} (beyond loopback) with token auth needs to know its public address: set public_url (STOWAGE_PUBLIC_URL, e.g. https://registry.example.com), ` +
        'auth.realm (the token endpoint URL), or allowed_hosts (STOWAGE_ALLOWED_HOSTS, the Host names clients use); the token realm is never built from an unchecked Host header',
    );
  }
  return {
    addr,
    data,
    logLevel: str(merged, 'logLevel'),
    fsync: bool(merged, 'fsync'),
    ...integers,
    allowedHosts,
    ...(publicUrl ? { publicUrl } : {}),
    ...(tls ? { tls } : {}),
    ...(auth ? { auth } : {}),
    ...(requireSignatures ? { requireSignatures } : {}),
    gc,
    ...(retention ? { retention } : {}),
    ...(immutableTags ? { immutableTags } : {}),
    ...(quotas ? { quotas } : {}),
    storage,
    metrics,
    events,
    ...(audit ? { audit } : {}),
    ui,
    ...(proxy ? { proxy } : {}),
  };
}

/**
 * The token signing key from env, so replicas share one from a secret without a
 * shared disk: the PEM itself (STOWAGE_AUTH_SIGNING_KEY) or a file holding it
 * (STOWAGE_AUTH_SIGNING_KEY_FILE, read once, here; it must exist). It takes the
 * place of the file's key but never turns auth on by itself.
 */
function signingKeyFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const inline = env.STOWAGE_AUTH_SIGNING_KEY || undefined;
  const file = env.STOWAGE_AUTH_SIGNING_KEY_FILE || undefined;
  if (inline !== undefined && file !== undefined)
    throw new ConfigError('give STOWAGE_AUTH_SIGNING_KEY or STOWAGE_AUTH_SIGNING_KEY_FILE, not both');
  if (file === undefined) return inline;
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`STOWAGE_AUTH_SIGNING_KEY_FILE: ${(e as Error).message}`);
  }
}

const SIGNING_KEY_SETTINGS = ['signing_key', 'signingKey', 'signing_key_pem', 'signingKeyPem'];

/** The `auth:` section given last, with a signing key from env in place of the one it names. */
function authSection(file: unknown, env: unknown, flags: unknown): unknown {
  const base = flags ?? file;
  if (env === undefined || typeof base !== 'object' || base === null || Array.isArray(base)) return base;
  const rest = Object.entries(base).filter(([k]) => !SIGNING_KEY_SETTINGS.includes(k));
  return { ...Object.fromEntries(rest), ...(env as Record<string, string>) };
}

/** An absolute http(s) URL without path, query or credentials; kept without a trailing slash. */
function parsePublicUrl(v: unknown): string {
  let url: URL;
  try {
    if (typeof v !== 'string') throw new Error();
    url = new URL(v);
  } catch {
    throw new ConfigError(`publicUrl must be an absolute http(s) URL, got ${JSON.stringify(v)}`);
  }
  if (
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.username ||
    url.password ||
    url.search ||
    url.hash ||
    (url.pathname !== '/' && url.pathname !== '')
  ) {
    throw new ConfigError(
      `publicUrl must be an http(s) origin like https://registry.example.com, got ${JSON.stringify(v)}`,
    );
  }
  return url.origin;
}

const HOST_ENTRY = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;

/** A YAML list, or a comma-separated string from the environment; lower-cased. */
function hostList(v: unknown): string[] {
  const items = typeof v === 'string' ? v.split(',') : v;
  if (!Array.isArray(items) || items.some((h) => typeof h !== 'string'))
    throw new ConfigError('allowedHosts must be a list of host or host:port names');
  const hosts = (items as string[]).map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
  for (const h of hosts)
    if (!HOST_ENTRY.test(h)) throw new ConfigError(`allowedHosts: "${h}" is not a host or host:port`);
  return hosts;
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
