/**
 * The `metrics:` section (pure). Off by default.
 *
 *   metrics:
 *     enabled: true
 *     address: 127.0.0.1:9090        # optional: a separate listener serving only /metrics
 *     bearer_token_file: ./secrets/metrics-token   # optional (or bearer_token: …)
 *
 * Env: STOWAGE_METRICS_ENABLED, STOWAGE_METRICS_ADDRESS, STOWAGE_METRICS_BEARER_TOKEN,
 * STOWAGE_METRICS_BEARER_TOKEN_FILE, merged key by key over the file's section.
 */
export interface MetricsConfig {
  enabled: boolean;
  /** host:port of a separate listener; absent: `/metrics` on the registry's own address. */
  address?: string;
  /** Scrapers must send `Authorization: Bearer <token>`. */
  bearerToken?: string;
  /** Read at start; wins over nothing, conflicts with bearerToken. */
  bearerTokenFile?: string;
}

export const METRICS_OFF: MetricsConfig = { enabled: false };

export class MetricsConfigError extends Error {}

const KEYS: Record<string, keyof MetricsConfig> = {
  enabled: 'enabled',
  address: 'address',
  addr: 'address',
  bearer_token: 'bearerToken',
  bearerToken: 'bearerToken',
  bearer_token_file: 'bearerTokenFile',
  bearerTokenFile: 'bearerTokenFile',
};

const ENV: Record<string, keyof MetricsConfig> = {
  STOWAGE_METRICS_ENABLED: 'enabled',
  STOWAGE_METRICS_ADDRESS: 'address',
  STOWAGE_METRICS_BEARER_TOKEN: 'bearerToken',
  STOWAGE_METRICS_BEARER_TOKEN_FILE: 'bearerTokenFile',
};

export function readMetricsEnv(env: NodeJS.ProcessEnv): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const [name, key] of Object.entries(ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '') out[key] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** File section, then env, then flags, key by key. */
export function parseMetrics(...layers: unknown[]): MetricsConfig {
  const merged: Partial<Record<keyof MetricsConfig, unknown>> = {};
  for (const layer of layers) {
    if (layer === undefined || layer === null) continue;
    if (typeof layer === 'boolean') {
      merged.enabled = layer;
      continue;
    }
    if (typeof layer !== 'object' || Array.isArray(layer))
      throw new MetricsConfigError('metrics must be a mapping (enabled, address, bearer_token[_file])');
    for (const [k, v] of Object.entries(layer)) {
      const key =
        KEYS[k] ?? (Object.values(KEYS).includes(k as keyof MetricsConfig) ? (k as keyof MetricsConfig) : undefined);
      if (!key) throw new MetricsConfigError(`metrics: unknown setting "${k}"`);
      merged[key] = v;
    }
  }
  const enabled = merged.enabled === undefined ? Object.keys(merged).length > 0 : toBool(merged.enabled);
  const out: MetricsConfig = { enabled };
  for (const key of ['address', 'bearerToken', 'bearerTokenFile'] as const) {
    const v = merged[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v === '') throw new MetricsConfigError(`metrics.${key} must be a non-empty string`);
    out[key] = v;
  }
  if (out.bearerToken && out.bearerTokenFile)
    throw new MetricsConfigError('metrics: give bearer_token or bearer_token_file, not both');
  return out;
}

function toBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new MetricsConfigError('metrics.enabled must be true or false');
}
