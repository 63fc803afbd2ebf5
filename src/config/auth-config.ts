/**
 * The `auth:` and `tls:` sections of the config file: defaults and validation
 * (pure). Paths are taken as written (relative to the working directory, like
 * `data`); unset paths default to files under the data directory.
 *
 *   tls:
 *     cert: /etc/stowage/tls.crt
 *     key: /etc/stowage/tls.key
 *   auth:
 *     mode: token                # token | basic | none
 *     htpasswd: ./data/htpasswd
 *     policy: { admins: [...], groups: {...}, public: [...], rules: [...] }
 */
import { join } from 'node:path';
import { Policy, PolicyError, type PolicySpec } from '../auth/policy.js';
import type { AuthConfig, TrustedIssuerConfig } from '../auth/settings.js';

export class AuthConfigError extends Error {}

export interface TlsConfig {
  /** PEM certificate (chain) file. */
  cert: string;
  /** PEM private key file. */
  key: string;
}

type Raw = Record<string, unknown>;

/** `token_ttl_seconds` and `tokenTtlSeconds` both work, as at the top level. */
function normalise(raw: unknown, where: string, known: readonly string[]): Raw {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new AuthConfigError(`${where} must be a mapping`);
  const out: Raw = {};
  for (const [k, v] of Object.entries(raw)) {
    const key = k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!known.includes(key)) throw new AuthConfigError(`${where}: unknown setting "${k}"`);
    out[key] = v;
  }
  return out;
}

function str(r: Raw, k: string, where: string, fallback?: string): string {
  const v = r[k] ?? fallback;
  if (typeof v !== 'string' || v === '') throw new AuthConfigError(`${where}.${k} must be a non-empty string`);
  return v;
}

function int(r: Raw, k: string, where: string, fallback: number, min: number): number {
  const raw = r[k] ?? fallback;
  const v = typeof raw === 'string' ? Number(raw) : raw;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
    throw new AuthConfigError(`${where}.${k} must be an integer ≥ ${min}`);
  return v;
}

function strings(v: unknown, where: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw new AuthConfigError(`${where} must be a list of strings`);
  return v as string[];
}

export function parseTls(raw: unknown): TlsConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  const r = normalise(raw, 'tls', ['cert', 'key']);
  if (r.cert === undefined && r.key === undefined) return undefined;
  return { cert: str(r, 'cert', 'tls'), key: str(r, 'key', 'tls') };
}

const AUTH_KEYS = [
  'mode',
  'htpasswd',
  'realm',
  'service',
  'issuer',
  'signingKey',
  'signingKeyPem',
  'tokenTtlSeconds',
  'refreshTokenTtlSeconds',
  'trustedIssuers',
  'rateLimit',
  'credentialCacheSeconds',
  'policy',
] as const;

/** The auth section, or undefined when absent or `mode: none` (open access). */
export function parseAuth(raw: unknown, data: string): AuthConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  const r = normalise(raw, 'auth', AUTH_KEYS);
  const mode = r.mode ?? 'token';
  if (mode === 'none') return undefined;
  if (mode !== 'token' && mode !== 'basic') throw new AuthConfigError('auth.mode must be token, basic or none');

  const rl =
    r.rateLimit === undefined
      ? {}
      : normalise(r.rateLimit, 'auth.rate_limit', ['windowSeconds', 'perAddress', 'perUser']);
  const trustedIssuers = (
    r.trustedIssuers === undefined ? [] : Array.isArray(r.trustedIssuers) ? r.trustedIssuers : [null]
  ).map((t, i) => {
    const where = `auth.trusted_issuers[${i}]`;
    const e = normalise(t, where, ['issuer', 'jwks', 'publicKey']);
    const out: TrustedIssuerConfig = { issuer: str(e, 'issuer', where) };
    if (e.jwks !== undefined) out.jwks = str(e, 'jwks', where);
    if (e.publicKey !== undefined) out.publicKey = str(e, 'publicKey', where);
    if ((out.jwks === undefined) === (out.publicKey === undefined))
      throw new AuthConfigError(`${where} needs exactly one of jwks or public_key`);
    return out;
  });

  const policy = parsePolicy(r.policy);
  const issuer = str(r, 'issuer', 'auth', 'stowage');
  if (trustedIssuers.some((t) => t.issuer === issuer)) {
    throw new AuthConfigError(
      `auth.trusted_issuers: "${issuer}" is Stowage's own issuer name; give the external service another`,
    );
  }
  const realm = r.realm === undefined ? undefined : str(r, 'realm', 'auth');
  if (mode === 'token' && realm !== undefined && !/^https?:\/\/[^/]/.test(realm)) {
    throw new AuthConfigError(
      'auth.realm must be an absolute http(s) URL of the token endpoint (clients ignore relative realms)',
    );
  }
  const tokenTtlSeconds = int(r, 'tokenTtlSeconds', 'auth', 300, 60);
  return {
    mode,
    htpasswd: str(r, 'htpasswd', 'auth', join(data, 'htpasswd')),
    ...(realm === undefined ? {} : { realm }),
    service: str(r, 'service', 'auth', 'stowage'),
    issuer,
    signingKey: str(r, 'signingKey', 'auth', join(data, 'auth', 'token-signing-key.pem')),
    ...(r.signingKeyPem === undefined ? {} : { signingKeyPem: pem(r.signingKeyPem) }),
    tokenTtlSeconds,
    refreshTokenTtlSeconds: int(r, 'refreshTokenTtlSeconds', 'auth', 30 * 24 * 3600, 0),
    trustedIssuers,
    rateLimit: {
      windowSeconds: int(rl, 'windowSeconds', 'auth.rate_limit', 60, 1),
      perAddress: int(rl, 'perAddress', 'auth.rate_limit', 30, 1),
      perUser: int(rl, 'perUser', 'auth.rate_limit', 10, 1),
    },
    credentialCacheSeconds: int(r, 'credentialCacheSeconds', 'auth', 30, 0),
    policy,
  };
}

function pem(v: unknown): string {
  // The message names the setting, never its content.
  if (typeof v !== 'string' || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(v))
    throw new AuthConfigError('auth.signing_key_pem (STOWAGE_AUTH_SIGNING_KEY) must be a PEM private key');
  return v;
}

function parsePolicy(raw: unknown): PolicySpec {
  if (raw === undefined || raw === null) return {};
  const p = normalise(raw, 'auth.policy', ['admins', 'groups', 'public', 'rules']);
  const spec: PolicySpec = {
    admins: strings(p.admins, 'auth.policy.admins'),
    public: strings(p.public, 'auth.policy.public'),
  };
  if (p.groups !== undefined) {
    if (typeof p.groups !== 'object' || p.groups === null || Array.isArray(p.groups))
      throw new AuthConfigError('auth.policy.groups must map group names to user lists');
    spec.groups = Object.fromEntries(
      Object.entries(p.groups).map(([g, m]) => [g, strings(m, `auth.policy.groups.${g}`)]),
    );
  }
  if (p.rules !== undefined) {
    if (!Array.isArray(p.rules)) throw new AuthConfigError('auth.policy.rules must be a list');
    spec.rules = p.rules.map((rule, i) => {
      const where = `auth.policy.rules[${i}]`;
      const r = normalise(rule, where, ['repositories', 'who', 'actions']);
      return {
        repositories: strings(r.repositories, `${where}.repositories`),
        who: strings(r.who, `${where}.who`),
        actions: strings(r.actions, `${where}.actions`),
      };
    });
  }
  try {
    Policy.compile(spec);
  } catch (e) {
    if (e instanceof PolicyError) throw new AuthConfigError(e.message);
    throw e;
  }
  return spec;
}
