/**
 * One `proxy:` entry, as the config parses it (src/config/proxy-config.ts): a repository
 * prefix of this registry whose content comes from upstream registries.
 */
export interface ProxyRule {
  /** Local repositories `PREFIX/name` are the upstream's `name`. */
  prefix: string;
  /** Upstream base URLs, tried in order (the next one on a connection error, 5xx or 429). */
  upstreams: string[];
  /** A cached tag is served without asking upstream for this long (digests never expire). */
  tagTtlSeconds: number;
  /** Where the upstream's credentials come from (read at start-up; never logged). */
  credentials?: UpstreamCredentialSource;
  /** Extra CA certificates (PEM file) trusted for the upstreams. */
  caFile?: string;
  /** Plain HTTP, or HTTPS without verification, for the upstreams. */
  insecure: boolean;
  /** Upstream repository names (without the prefix) that may be fetched; empty: all. */
  allow: string[];
  /** Upstream repository names that are never fetched (wins over allow). */
  deny: string[];
  /** Pushes and deletes under the prefix are refused (DENIED). */
  readOnly: boolean;
}

/** A username and a password, each given inline or by the name of an env variable or a file. */
export interface UpstreamCredentialSource {
  username?: string;
  usernameEnv?: string;
  password?: string;
  passwordEnv?: string;
  passwordFile?: string;
}

/** Credentials as loaded (src/config/proxy-credentials.ts). */
export interface UpstreamCredentials {
  username: string;
  password: string;
}

export const DEFAULT_TAG_TTL_SECONDS = 300;
