/**
 * Image references, as users type them and as docker reads them:
 *
 *   oci://host[:port]/path[:tag][@digest]      (helm style: the first part is always the host)
 *   host[:port]/path[:tag][@digest]            (docker style: see below)
 *   path[:tag][@digest]                        (Docker Hub)
 *
 * Docker's rules for the plain form: the first path component is a registry host when
 * it contains "." or ":", is "localhost", or has uppercase letters; otherwise the
 * reference is on Docker Hub ("docker.io", API at registry-1.docker.io), where
 * one-component names live under "library/". The tag defaults to "latest" unless a
 * digest is given. Repository, tag and digest grammars are core's.
 */
import { parseDigest } from '../core/digest.js';
import { isValidRepositoryName, isValidTag } from '../core/names.js';
import { clientError } from './errors.js';

export const DOCKER_HUB = 'docker.io';
/** Where Docker Hub's registry API answers. */
export const DOCKER_HUB_API = 'registry-1.docker.io';
/** The key docker writes Docker Hub credentials under in config.json. */
export const DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/';
const HUB_ALIASES = new Set([DOCKER_HUB, 'index.docker.io', DOCKER_HUB_API]);

export interface Reference {
  /** The registry as written (lowercase, with its port): "localhost:5000", "ghcr.io", "docker.io". */
  registry: string;
  /** The repository path: "team/app", "library/alpine". */
  repository: string;
  tag?: string;
  digest?: string;
}

export interface ParseOptions {
  /** Tag used when neither tag nor digest is given; `null` leaves both unset. Default "latest". */
  defaultTag?: string | null;
}

// host := label ("." label)* | "[" ipv6 "]", then an optional ":port".
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$/;

function invalid(input: string, reason: string) {
  return clientError('INVALID_REFERENCE', { input, reason });
}

/** Docker Hub's aliases become "docker.io"; hosts are lowercased. */
export function normalizeRegistry(host: string): string {
  const h = host.toLowerCase();
  return HUB_ALIASES.has(h) ? DOCKER_HUB : h;
}

export function isDockerHub(registry: string): boolean {
  return normalizeRegistry(registry) === DOCKER_HUB;
}

/** The host:port the registry API is served on. */
export function apiHost(registry: string): string {
  return isDockerHub(registry) ? DOCKER_HUB_API : registry;
}

function looksLikeHost(component: string): boolean {
  return (
    component.includes('.') ||
    component.includes(':') ||
    component === 'localhost' ||
    component.startsWith('[') ||
    component !== component.toLowerCase()
  );
}

/** Parses an image reference (see the module comment). */
export function parseReference(input: string, opts: ParseOptions = {}): Reference {
  const text = input.trim();
  if (text === '') throw invalid(input, 'it is empty');
  let rest = text;
  let explicitHost = false;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(rest);
  if (scheme) {
    if (!['oci', 'docker'].includes(scheme[1]!.toLowerCase()))
      throw invalid(input, `unknown scheme ${scheme[1]}:// (use oci:// or none)`);
    rest = rest.slice(scheme[0].length);
    explicitHost = true;
  }

  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    try {
      parseDigest(digest);
    } catch {
      throw invalid(input, `"${digest}" is not a valid sha256 or sha512 digest`);
    }
  }

  let registry: string;
  const slash = rest.indexOf('/');
  if (explicitHost) {
    if (slash <= 0) throw invalid(input, 'it names no repository after the host');
    registry = rest.slice(0, slash);
    rest = rest.slice(slash + 1);
  } else if (slash > 0 && looksLikeHost(rest.slice(0, slash))) {
    registry = rest.slice(0, slash);
    rest = rest.slice(slash + 1);
  } else {
    registry = DOCKER_HUB;
  }
  if (!HOST.test(registry)) throw invalid(input, `"${registry}" is not a valid host[:port]`);
  registry = normalizeRegistry(registry);

  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon !== -1) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isValidTag(tag))
      throw invalid(
        input,
        `"${tag}" is not a valid tag (letters, digits, _ . -, at most 128, not starting with . or -)`,
      );
  }

  let repository = rest;
  if (repository === '') throw invalid(input, 'it names no repository');
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (!isValidRepositoryName(repository)) {
    const reason =
      repository !== repository.toLowerCase()
        ? `repository names must be lowercase ("${repository}")`
        : `"${repository}" is not a valid repository name (lowercase letters, digits, separators . _ __ - and /)`;
    throw invalid(input, reason);
  }

  const defaultTag = opts.defaultTag === undefined ? 'latest' : opts.defaultTag;
  if (tag === undefined && digest === undefined && defaultTag !== null) tag = defaultTag;
  return { registry, repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** A repository without tag or digest (for `stowage tags`). */
export function parseRepository(input: string): Reference {
  const ref = parseReference(input, { defaultTag: null });
  if (ref.tag !== undefined || ref.digest !== undefined)
    throw invalid(input, 'expected a repository, without :tag or @digest');
  return ref;
}

/**
 * A registry host as given to `login`, `logout` and `catalog`: "host[:port]", also
 * accepting a scheme and trailing path ("https://ghcr.io/", docker's legacy keys).
 */
export function parseRegistryHost(input: string): string {
  let h = input.trim().replace(/^(?:https?|oci):\/\//i, '');
  const slash = h.indexOf('/');
  if (slash !== -1) h = h.slice(0, slash);
  if (h === '' || !HOST.test(h)) {
    throw clientError('INVALID_HOST', { input });
  }
  return normalizeRegistry(h);
}

/** `registry/repository[:tag][@digest]`, the canonical long form. */
export function formatReference(ref: Reference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The short name docker shows: "alpine:3", "user/app:v1", "localhost:5000/app:v1". */
export function familiarName(ref: Reference): string {
  let name = `${ref.registry}/${ref.repository}`;
  if (ref.registry === DOCKER_HUB) {
    name =
      ref.repository.startsWith('library/') && ref.repository.split('/').length === 2
        ? ref.repository.slice('library/'.length)
        : ref.repository;
  }
  return `${name}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** What a manifest request names: the digest when there is one, else the tag. */
export function manifestRef(ref: Reference): string {
  const r = ref.digest ?? ref.tag;
  if (r === undefined) throw invalid(formatReference(ref), 'it has neither a tag nor a digest');
  return r;
}

export function withTag(ref: Reference, tag: string): Reference {
  return { registry: ref.registry, repository: ref.repository, tag };
}

export function withDigest(ref: Reference, digest: string): Reference {
  return { registry: ref.registry, repository: ref.repository, digest };
}

function hostname(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  const colon = registry.lastIndexOf(':');
  return colon === -1 ? registry : registry.slice(0, colon);
}

/**
 * Hosts spoken to over plain HTTP without being asked (docker's default insecure
 * set): localhost, 127.0.0.0/8 and ::1.
 */
export function isLoopback(registry: string): boolean {
  const h = hostname(registry).toLowerCase();
  return (
    h === 'localhost' ||
    h.endsWith('.localhost') ||
    /^127(?:\.\d{1,3}){3}$/.test(h) ||
    h === '::1' ||
    h === '0:0:0:0:0:0:0:1'
  );
}
