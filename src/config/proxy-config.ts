/**
 * The `proxy:` section (pure): the pull-through cache's upstreams. See the README's
 * "Pull-through cache" section.
 *
 *   proxy:
 *     - prefix: hub
 *       upstreams: [https://registry-1.docker.io, https://mirror.gcr.io]
 *       tag_ttl_seconds: 300
 *     - prefix: ghcr
 *       upstreams: [https://ghcr.io]
 *       username_env: GHCR_USER
 *       password_file: ./secrets/ghcr-token
 */
import { CredentialSourceError, parseCredentialSource } from './credential-source.js';
import { GlobError, compileGlob } from '../core/repository-glob.js';
import { isValidRepositoryName } from '../core/names.js';
import { DEFAULT_TAG_TTL_SECONDS, type ProxyRule, type UpstreamCredentialSource } from '../proxy/proxy-rule.js';

export class ProxyConfigError extends Error {}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

const KEYS = [
  'prefix',
  'upstreams',
  'tag_ttl_seconds',
  'username',
  'username_env',
  'password',
  'password_env',
  'password_file',
  'ca_file',
  'insecure',
  'allow',
  'deny',
  'read_only',
];

/** Undefined when the section is absent; every problem names the entry and the setting. */
export function parseProxy(raw: unknown): ProxyRule[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw new ProxyConfigError('proxy must be a list of { prefix, upstreams, … } entries');
  const rules = raw.map((entry, i) => parseRule(entry, `proxy[${i}]`));
  for (const [i, a] of rules.entries()) {
    for (const b of rules.slice(i + 1)) {
      if (a.prefix === b.prefix || b.prefix.startsWith(`${a.prefix}/`) || a.prefix.startsWith(`${b.prefix}/`))
        throw new ProxyConfigError(
          `proxy: the prefixes "${a.prefix}" and "${b.prefix}" overlap; give each upstream its own`,
        );
    }
  }
  return rules;
}

function parseRule(raw: unknown, what: string): ProxyRule {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ProxyConfigError(`${what} must be a mapping`);
  const m = raw as Record<string, unknown>;
  for (const k of Object.keys(m))
    if (!KEYS.includes(k)) throw new ProxyConfigError(`${what}: unknown setting "${k}" (allowed: ${KEYS.join(', ')})`);
  const prefix = m.prefix;
  if (typeof prefix !== 'string' || !isValidRepositoryName(prefix))
    throw new ProxyConfigError(
      `${what}.prefix must be a repository name like "hub" or "mirror/ghcr", got ${JSON.stringify(prefix)}`,
    );
  const at = `${what} (prefix ${prefix})`;
  const upstreams = Array.isArray(m.upstreams)
    ? m.upstreams
    : typeof m.upstreams === 'string'
      ? [m.upstreams]
      : undefined;
  if (!upstreams || upstreams.length === 0)
    throw new ProxyConfigError(`${at}: upstreams must list at least one URL like https://registry-1.docker.io`);
  const tagTtlSeconds = m.tag_ttl_seconds ?? DEFAULT_TAG_TTL_SECONDS;
  if (typeof tagTtlSeconds !== 'number' || !Number.isSafeInteger(tagTtlSeconds) || tagTtlSeconds < 0)
    throw new ProxyConfigError(
      `${at}: tag_ttl_seconds must be an integer ≥ 0, got ${JSON.stringify(m.tag_ttl_seconds)}`,
    );
  const credentials = parseCredentials(m, at);
  const insecure = flag(m.insecure, false, `${at}: insecure`);
  const urls = upstreams.map((u) => parseUpstreamUrl(u, at));
  // The client reaches hosts beyond loopback over verified HTTPS unless told otherwise.
  const plain = urls.find((u) => u.startsWith('http:') && !LOOPBACK.test(new URL(u).hostname));
  if (plain && !insecure)
    throw new ProxyConfigError(`${at}: the plain-HTTP upstream ${plain} needs insecure: true (or use https://)`);
  return {
    prefix,
    upstreams: urls,
    tagTtlSeconds,
    ...(credentials ? { credentials } : {}),
    ...(m.ca_file !== undefined ? { caFile: nonEmpty(m.ca_file, `${at}: ca_file`) } : {}),
    insecure,
    allow: globs(m.allow, `${at}: allow`),
    deny: globs(m.deny, `${at}: deny`),
    readOnly: flag(m.read_only, true, `${at}: read_only`),
  };
}

/** An http(s) origin, optionally with a path prefix; credentials belong in username/password_*, not the URL. */
function parseUpstreamUrl(v: unknown, at: string): string {
  let url: URL;
  try {
    if (typeof v !== 'string') throw new Error();
    url = new URL(v);
  } catch {
    throw new ProxyConfigError(`${at}: upstream ${JSON.stringify(v)} is not an absolute URL like https://ghcr.io`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ProxyConfigError(`${at}: upstream ${v} must be http:// or https://`);
  if (url.username || url.password)
    throw new ProxyConfigError(
      `${at}: upstream URLs carry no credentials; use username/username_env and password_env/password_file`,
    );
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash)
    throw new ProxyConfigError(`${at}: upstream ${v} must be a registry's base URL (no path, query or fragment)`);
  return url.origin;
}

/** The shared credential keys (credential-source.ts), with this section's error type. */
function parseCredentials(m: Record<string, unknown>, at: string): UpstreamCredentialSource | undefined {
  try {
    return parseCredentialSource(m, at);
  } catch (e) {
    if (e instanceof CredentialSourceError) throw new ProxyConfigError(e.message);
    throw e;
  }
}

function nonEmpty(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new ProxyConfigError(`${what} must be a non-empty string`);
  return v;
}

function flag(v: unknown, fallback: boolean, what: string): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new ProxyConfigError(`${what} must be true or false`);
  return v;
}

function globs(v: unknown, what: string): string[] {
  if (v === undefined) return [];
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.some((g) => typeof g !== 'string'))
    throw new ProxyConfigError(`${what} must be a list of repository globs`);
  for (const g of list as string[]) {
    try {
      compileGlob(g);
    } catch (e) {
      if (e instanceof GlobError) throw new ProxyConfigError(`${what}: ${e.message}`);
      throw e;
    }
  }
  return list as string[];
}
