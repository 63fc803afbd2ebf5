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
 *     - source: ghcr.io/acme/app                      # keyless: signed by this identity (cosign's names)
 *       destination: mirror/acme-app
 *       interval: 1h
 *       only_signed: true
 *       trusted_root: ./sigstore/trusted_root.json
 *       certificate_identity_regexp: ^https://github.com/acme/
 *       certificate_oidc_issuer: https://token.actions.githubusercontent.com
 *     - source: registry.example.com:5000/team/**     # a glob (or team/) : every match …
 *       destination: upstream                         # … below this local prefix
 *       interval: 15m
 *       username_env: TEAM_USER                       # credentials for the source (credential-source.ts):
 *       password_file: ./secrets/team-token           #  username(_env); password, password_env or password_file
 *       ca_file: ./certs/team-ca.pem                  # TLS as proxy: has it: extra CAs, or insecure: true
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
import { KEYLESS_FIELDS, SignaturesConfigError, parseKeyless, type KeylessIdentity } from './signatures-config.js';

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
  /** Public key files (cosign.pub) a signature may verify with. */
  keys: string[];
  /** Keyless: a Sigstore trusted root and who must have signed (either this or a key satisfies). */
  keyless?: KeylessIdentity;
  /** cosign's --insecure-ignore-tlog / --insecure-ignore-sct. */
  ignoreTlog: boolean;
  ignoreSct: boolean;
  /** Extra CA certificates (PEM file) trusted for the source. */
  caFile?: string;
  /** Plain HTTP, or HTTPS without verification, for the source. */
  insecure: boolean;
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
  ...Object.keys(KEYLESS_FIELDS),
  'insecure_ignore_tlog',
  'insecure_ignore_sct',
  'ca_file',
  'insecure',
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

function flag(v: unknown, what: string): boolean {
  if (v !== undefined && typeof v !== 'boolean') throw new MirrorsConfigError(`${what} must be true or false`);
  return v === true;
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
  const onlySigned = flag(m.only_signed, `${at}.only_signed`);
  if (m.keys !== undefined && (!Array.isArray(m.keys) || m.keys.some((k) => typeof k !== 'string' || k === '')))
    throw new MirrorsConfigError(`${at}.keys must be a list of public key files`);
  const keys = (m.keys as string[] | undefined) ?? [];
  let keyless: KeylessIdentity | undefined;
  try {
    keyless = parseKeyless(m, at);
  } catch (e) {
    if (e instanceof SignaturesConfigError) throw new MirrorsConfigError(e.message);
    throw e;
  }
  const ignoreTlog = flag(m.insecure_ignore_tlog, `${at}.insecure_ignore_tlog`);
  const ignoreSct = flag(m.insecure_ignore_sct, `${at}.insecure_ignore_sct`);
  const verifying = keys.length > 0 || keyless !== undefined;
  if (onlySigned && !verifying)
    throw new MirrorsConfigError(
      `${at}.only_signed needs keys (cosign public key files) or a keyless identity (trusted_root, certificate_identity[_regexp], certificate_oidc_issuer[_regexp])`,
    );
  if (!onlySigned && (verifying || ignoreTlog || ignoreSct))
    throw new MirrorsConfigError(`${at}: the verification settings need only_signed: true`);
  const caFile = text(m.ca_file, `${at}.ca_file`);
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
    ...(keyless ? { keyless } : {}),
    ignoreTlog,
    ignoreSct,
    ...(caFile !== undefined ? { caFile } : {}),
    insecure: flag(m.insecure, `${at}.insecure`),
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
