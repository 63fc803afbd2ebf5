/**
 * The `mirrors:` section (pure): repositories `stowage serve` copies from other
 * registries into itself on a schedule, as `stowage mirror` does by hand.
 *
 *   mirrors:
 *     - source: registry-1.docker.io/library/alpine   # one repository …
 *       destination: mirror/alpine                    # … into this local repository
 *       interval: 1h
 *       include: "^3\\."                              # tag regex; exclude: likewise
 *       semver: ">=3.18"
 *       only_signed: true                             # copy only tags whose signature verifies …
 *       keys: [./keys/alpine.pub]                     # … with one of these cosign public keys
 *     - source: registry.example.com:5000/team/**     # a glob (or team/) : every match …
 *       destination: upstream                         # … below this local prefix
 *       interval: 15m
 *       username_env: TEAM_USER                       # credentials for the source (credential-source.ts):
 *       password_file: ./secrets/team-token           #  username(_env); password, password_env or password_file
 */
import { compileGlob, GlobError } from '../core/repository-glob.js';
import { parseConstraint, SemverError } from '../gocompat/semver.js';
import {
  CREDENTIAL_KEYS,
  CredentialSourceError,
  parseCredentialSource,
  type CredentialSource,
} from './credential-source.js';
import { parseDurationMs } from './lifecycle-config.js';

export interface MirrorSchedule {
  /** For logs and metrics: the source as written. */
  name: string;
  /** The source registry (host[:port]). */
  registry: string;
  /** One repository, or (glob set) a repository glob over the source's catalog. */
  repository?: string;
  glob?: string;
  /** The local repository (one repository) or prefix (glob; '' for the same names). */
  destination: string;
  intervalMs: number;
  include?: string;
  exclude?: string;
  semver?: string;
  onlySigned: boolean;
  /** Public key files (cosign.pub) a signature must verify with. */
  keys: string[];
  /** For the source registry (credential-source.ts). */
  credentials?: CredentialSource;
}

export class MirrorsConfigError extends Error {}

const KEYS = [
  'source',
  'destination',
  'interval',
  'include',
  'exclude',
  'semver',
  'only_signed',
  'keys',
  ...CREDENTIAL_KEYS,
];

/** Shortest interval: a schedule is not a busy loop against someone else's registry. */
const MIN_INTERVAL_MS = 1000;

function text(v: unknown, what: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new MirrorsConfigError(`${what} must be a non-empty string`);
  return v;
}

/** host[:port]/path → the host and the path; the host must look like one (a dot, a port, or localhost). */
function splitSource(source: string, at: string): { registry: string; path: string } {
  const slash = source.indexOf('/');
  const registry = slash < 0 ? source : source.slice(0, slash);
  if (!/[.:]/.test(registry) && registry !== 'localhost')
    throw new MirrorsConfigError(`${at}.source must start with the registry's host (host[:port]/repository)`);
  return { registry, path: slash < 0 ? '' : source.slice(slash + 1) };
}

function regex(v: unknown, what: string): string | undefined {
  const s = text(v, what);
  if (s === undefined) return undefined;
  try {
    new RegExp(s);
  } catch (e) {
    throw new MirrorsConfigError(`${what}: not a regular expression: ${(e as Error).message}`);
  }
  return s;
}

function parseOne(raw: unknown, i: number): MirrorSchedule {
  const at = `mirrors[${i}]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new MirrorsConfigError(`${at} must be a mapping`);
  const m = raw as Record<string, unknown>;
  for (const k of Object.keys(m))
    if (!KEYS.includes(k)) throw new MirrorsConfigError(`${at}: unknown setting "${k}" (allowed: ${KEYS.join(', ')})`);
  const source = text(m.source, `${at}.source`);
  if (source === undefined) throw new MirrorsConfigError(`${at} needs source (host[:port]/repository or a glob)`);
  const { registry, path } = splitSource(source, at);
  const glob = path === '' ? '**' : path.endsWith('/') ? `${path}**` : /[*?]/.test(path) ? path : undefined;
  try {
    compileGlob(glob ?? path);
  } catch (e) {
    if (e instanceof GlobError) throw new MirrorsConfigError(`${at}.source: ${e.message}`);
    throw e;
  }
  if (m.destination !== undefined && typeof m.destination !== 'string')
    throw new MirrorsConfigError(`${at}.destination must be a string`);
  const destination = ((m.destination as string | undefined) ?? (glob ? '' : path)).replace(/^\/+|\/+$/g, '');
  if (!glob && destination === '') throw new MirrorsConfigError(`${at}.destination must name the local repository`);
  if (destination !== '') {
    try {
      compileGlob(destination);
    } catch {
      throw new MirrorsConfigError(`${at}.destination "${destination}" is not a repository name`);
    }
    if (/[*?]/.test(destination))
      throw new MirrorsConfigError(`${at}.destination "${destination}" is a name or prefix, not a glob`);
  }
  if (m.interval === undefined) throw new MirrorsConfigError(`${at} needs interval (e.g. 1h, 15m)`);
  let intervalMs: number;
  try {
    intervalMs = parseDurationMs(m.interval, `${at}.interval`);
  } catch (e) {
    throw new MirrorsConfigError((e as Error).message);
  }
  if (intervalMs < MIN_INTERVAL_MS) throw new MirrorsConfigError(`${at}.interval must be at least 1s`);
  const semver = text(m.semver, `${at}.semver`);
  if (semver !== undefined) {
    try {
      parseConstraint(semver);
    } catch (e) {
      if (e instanceof SemverError) throw new MirrorsConfigError(`${at}.semver: ${e.message}`);
      throw e;
    }
  }
  if (m.only_signed !== undefined && typeof m.only_signed !== 'boolean')
    throw new MirrorsConfigError(`${at}.only_signed must be true or false`);
  const onlySigned = m.only_signed === true;
  if (m.keys !== undefined && (!Array.isArray(m.keys) || m.keys.some((k) => typeof k !== 'string' || k === '')))
    throw new MirrorsConfigError(`${at}.keys must be a list of public key files`);
  const keys = (m.keys as string[] | undefined) ?? [];
  if (onlySigned && keys.length === 0)
    throw new MirrorsConfigError(`${at}.only_signed needs keys (cosign public key files)`);
  if (!onlySigned && keys.length > 0) throw new MirrorsConfigError(`${at}.keys needs only_signed: true`);
  let credentials: CredentialSource | undefined;
  try {
    credentials = parseCredentialSource(m, at);
  } catch (e) {
    if (e instanceof CredentialSourceError) throw new MirrorsConfigError(e.message);
    throw e;
  }
  return {
    name: source,
    registry,
    ...(glob ? { glob } : { repository: path }),
    destination,
    intervalMs,
    ...(regex(m.include, `${at}.include`) !== undefined ? { include: m.include as string } : {}),
    ...(regex(m.exclude, `${at}.exclude`) !== undefined ? { exclude: m.exclude as string } : {}),
    ...(semver !== undefined ? { semver } : {}),
    onlySigned,
    keys,
    ...(credentials ? { credentials } : {}),
  };
}

/** The `mirrors:` list; undefined when absent. */
export function parseMirrors(raw: unknown): MirrorSchedule[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw new MirrorsConfigError('mirrors must be a list');
  const out = raw.map(parseOne);
  const seen = new Set<string>();
  for (const s of out) {
    const key = `${s.glob ? 'prefix' : 'repository'} ${s.destination}`;
    if (!s.glob && seen.has(key))
      throw new MirrorsConfigError(`mirrors: two entries write into the repository ${s.destination}`);
    seen.add(key);
  }
  return out.length > 0 ? out : undefined;
}
