/**
 * The one catalog of client-side failures. Every error the client library (and so
 * every `stowage` client command) reports is a ClientError built here: a stable
 * code, a message saying what went wrong, and a hint saying what to do about it.
 * Parameters are typed per code, so a call site cannot forget the facts a
 * message needs (which registry, which tags exist, …).
 */

export interface ErrorText {
  message: string;
  hint?: string;
  /** A usage error (bad argument or flag): the CLI exits 2 instead of 1. */
  usage?: boolean;
}

const list = (items: readonly string[], max = 20): string =>
  items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')}, … (${items.length - max} more)`;

const CONNECTION_HINTS: Record<string, string> = {
  ECONNREFUSED: 'nothing listens there: is the registry running, and is the host:port right?',
  ENOTFOUND: 'the host name does not resolve: check its spelling (and your DNS)',
  EAI_AGAIN: 'the host name could not be resolved right now: check your network and DNS',
  ETIMEDOUT: 'the registry did not answer in time: check the network path (proxy, firewall) and retry',
  ECONNRESET:
    'the connection was dropped: retry; if it persists, check for a proxy or a TLS/plain-HTTP mismatch (--insecure)',
  EHOSTUNREACH: 'the host is unreachable from here: check the network',
};

const CATALOG = {
  INVALID_REFERENCE: (p: { input: string; reason: string }): ErrorText => ({
    message: `invalid reference "${p.input}": ${p.reason}`,
    hint: 'references look like [oci://]host[:port]/repository[:tag][@sha256:…], e.g. localhost:5000/team/app:v1',
    usage: true,
  }),
  INVALID_ARGUMENT: (p: { message: string; hint?: string }): ErrorText => ({
    message: p.message,
    ...(p.hint ? { hint: p.hint } : {}),
    usage: true,
  }),
  INVALID_HOST: (p: { input: string }): ErrorText => ({
    message: `"${p.input}" is not a registry host`,
    hint: 'give host[:port], e.g. localhost:5000 or ghcr.io',
    usage: true,
  }),
  INVALID_PLATFORM: (p: { input: string }): ErrorText => ({
    message: `"${p.input}" is not a platform`,
    hint: 'write os/architecture[/variant], e.g. linux/amd64 or linux/arm64/v8',
    usage: true,
  }),
  CA_FILE_UNREADABLE: (p: { path: string; detail: string }): ErrorText => ({
    message: `cannot read the CA file ${p.path}: ${p.detail}`,
    usage: true,
  }),
  CLIENT_CERT_UNREADABLE: (p: { path: string; detail: string }): ErrorText => ({
    message: `cannot use the client certificate or key ${p.path}: ${p.detail}`,
    hint: 'give PEM files: --cert-file with the certificate (chain), --key-file with its private key',
    usage: true,
  }),
  OPTIONS_CONFLICT: (p: { options: readonly string[]; why?: string }): ErrorText => ({
    message: `${p.options.join(' and ')} cannot be used together${p.why ? `: ${p.why}` : ''}`,
    usage: true,
  }),
  USERNAME_REQUIRED: (): ErrorText => ({
    message: 'no user name',
    hint: 'give it with -u USER (there is no terminal to ask on)',
    usage: true,
  }),
  USERNAME_INVALID: (): ErrorText => ({ message: 'the user name must not be empty or contain ":"', usage: true }),
  OUTPUT_IS_TERMINAL: (): ErrorText => ({
    message: 'refusing to write an archive to a terminal',
    hint: 'redirect standard output, or give a file with -o FILE',
    usage: true,
  }),

  UNAUTHORIZED: (p: { registry: string; what: string; loggedIn: boolean; detail?: string }): ErrorText =>
    p.loggedIn
      ? {
          message: `${p.registry} refused the stored credentials for ${p.what}${p.detail ? ` (${p.detail})` : ''}`,
          hint: `they may have expired or been revoked: log in again with \`stowage login ${p.registry} -u USER\``,
        }
      : {
          message: `${p.registry} requires authentication for ${p.what}${p.detail ? ` (${p.detail})` : ''}`,
          hint: `log in first: \`stowage login ${p.registry} -u USER\` (or \`docker login ${p.registry}\`: stowage reads the same config.json)`,
        },
  DENIED: (p: { registry: string; what: string; loggedIn: boolean; detail?: string }): ErrorText => ({
    message: `${p.registry} denied ${p.what}${p.detail ? ` (${p.detail})` : ''}`,
    hint: p.loggedIn
      ? 'the account you are logged in with lacks this permission: ask the registry administrator, or log in as another user'
      : `you are not logged in: \`stowage login ${p.registry} -u USER\``,
  }),
  LOGIN_FAILED: (p: { registry: string; detail?: string }): ErrorText => ({
    message: `login to ${p.registry} failed: ${p.detail ?? 'incorrect username or password'}`,
    hint: 'check the user name and the password or access token; nothing was saved',
  }),
  TOKEN_FAILED: (p: { registry: string; realm: string; status?: number; detail: string }): ErrorText => ({
    message: `could not get a token for ${p.registry} from ${p.realm}: ${p.detail}${p.status ? ` (HTTP ${p.status})` : ''}`,
    hint: 'the registry’s token service is failing or unreachable; retry, or ask the registry administrator',
  }),

  MANIFEST_NOT_FOUND: (p: {
    reference: string;
    repository: string;
    tag?: string;
    tags?: readonly string[];
  }): ErrorText => ({
    message: `${p.reference} not found`,
    ...(p.tag === undefined
      ? {}
      : p.tags === undefined
        ? { hint: `the repository ${p.repository} does not exist (or you may not see it)` }
        : p.tags.length === 0
          ? { hint: `${p.repository} has no tags` }
          : {
              hint: `${p.repository} has ${p.tags.length === 1 ? 'the tag' : 'these tags'}: ${list([...p.tags].sort())}`,
            }),
  }),
  REPOSITORY_NOT_FOUND: (p: { registry: string; repository: string }): ErrorText => ({
    message: `repository ${p.repository} not found on ${p.registry}`,
    hint: `list the repositories with \`stowage catalog ${p.registry}\``,
  }),
  BLOB_NOT_FOUND: (p: { repository: string; digest: string }): ErrorText => ({
    message: `blob ${p.digest} not found in ${p.repository}`,
    hint: 'the manifest references content the registry does not have; it may have been garbage-collected',
  }),
  DIGEST_MISMATCH: (p: { what: string; expected: string; actual: string }): ErrorText => ({
    message: `${p.what}: content digest is ${p.actual}, expected ${p.expected}`,
    hint: 'the content was corrupted in transit or at rest; retry, and if it persists the source is damaged',
  }),
  SIZE_MISMATCH: (p: { what: string; expected: number; actual: number }): ErrorText => ({
    message: `${p.what}: got ${p.actual} bytes, expected ${p.expected}`,
    hint: 'the transfer was truncated or the source is damaged; retry',
  }),
  MANIFEST_TOO_LARGE: (p: { reference: string; limit: number }): ErrorText => ({
    message: `the manifest of ${p.reference} is larger than ${p.limit} bytes`,
  }),
  UNSUPPORTED_MANIFEST: (p: { reference: string; mediaType: string }): ErrorText => ({
    message: `${p.reference} is a ${p.mediaType || 'document of unknown type'}, which stowage cannot handle here`,
    hint: 'Docker schema 1 manifests are obsolete: re-push the image with a current client',
  }),
  NOT_AN_IMAGE: (p: { reference: string; type: string }): ErrorText => ({
    message: `${p.reference} is not a container image (its config is ${p.type})`,
    hint: 'pull it with `--format oci`, which keeps any artifact as it is',
  }),
  PLATFORM_NOT_FOUND: (p: { reference: string; platform: string; available: readonly string[] }): ErrorText => ({
    message: `${p.reference} has no image for ${p.platform}`,
    hint: p.available.length
      ? `choose one with --platform: ${list(p.available)}`
      : 'the index lists no platform images',
  }),
  DIGEST_REFERENCE_MISMATCH: (p: { reference: string; actual: string }): ErrorText => ({
    message: `${p.reference} names a digest, but the content to push has digest ${p.actual}`,
    hint: 'drop the @digest part, or push the content that has that digest',
  }),

  CONNECTION_FAILED: (p: { url: string; code?: string; detail: string }): ErrorText => ({
    message: `cannot reach ${p.url}: ${p.detail}`,
    ...(p.code && CONNECTION_HINTS[p.code] ? { hint: CONNECTION_HINTS[p.code] } : {}),
  }),
  TLS_FAILED: (p: { registry: string; detail: string }): ErrorText => ({
    message: `TLS connection to ${p.registry} failed: ${p.detail}`,
    hint: `trust the registry’s CA with --ca-file FILE, or (for test setups only) skip verification or use plain HTTP with --insecure`,
  }),
  NOT_A_REGISTRY: (p: { url: string; status: number }): ErrorText => ({
    message: `${p.url} does not answer like an OCI registry (GET /v2/ returned HTTP ${p.status})`,
    hint: 'check the host and port',
  }),
  REGISTRY_ERROR: (p: {
    registry: string;
    operation: string;
    status: number;
    code?: string;
    detail?: string;
  }): ErrorText => ({
    message: `${p.registry} failed ${p.operation}: ${p.code ? `${p.code}: ` : ''}${p.detail || `HTTP ${p.status}`}${p.code || p.detail ? ` (HTTP ${p.status})` : ''}`,
    ...(p.status === 429
      ? { hint: 'the registry is rate-limiting you: wait a moment and retry' }
      : p.status >= 500
        ? { hint: 'the registry has a problem (retried already): try again later or ask its administrator' }
        : {}),
  }),
  UPLOAD_FAILED: (p: { repository: string; digest: string; detail: string }): ErrorText => ({
    message: `upload of ${p.digest} to ${p.repository} failed: ${p.detail}`,
    hint: 'run the command again: blobs already uploaded are skipped',
  }),

  CREDENTIALS_INVALID: (p: { path: string; detail: string }): ErrorText => ({
    message: `cannot read credentials from ${p.path}: ${p.detail}`,
    hint: 'fix or remove the file (docker and stowage share it)',
  }),
  CREDENTIAL_HELPER_FAILED: (p: { helper: string; action: string; detail: string }): ErrorText => ({
    message: `credential helper docker-credential-${p.helper} failed to ${p.action}: ${p.detail}`,
    hint: `check that docker-credential-${p.helper} is installed and on PATH, or change "credsStore"/"credHelpers" in your docker config.json`,
  }),

  ARCHIVE_INVALID: (p: { path: string; detail: string }): ErrorText => ({
    message: `${p.path} is not a usable image archive: ${p.detail}`,
    hint: 'expected a `docker save` tar (optionally gzip- or zstd-compressed), or an OCI image layout (directory or tar)',
  }),
  ARCHIVE_AMBIGUOUS: (p: { path: string; names: readonly string[] }): ErrorText => ({
    message: `${p.path} holds ${p.names.length} images: ${list(p.names)}`,
    hint: 'choose one with --image NAME',
    usage: true,
  }),
  ARCHIVE_IMAGE_NOT_FOUND: (p: { path: string; name: string; names: readonly string[] }): ErrorText => ({
    message: `${p.path} has no image named ${p.name}`,
    hint: p.names.length ? `it holds: ${list(p.names)}` : 'it holds no named images; omit --image',
    usage: true,
  }),
  // Flux artifacts and policy bundles (src/flux, src/policy): content that is not what it should be.
  ARTIFACT_INVALID: (p: { reference: string; detail: string; hint?: string }): ErrorText => ({
    message: `${p.reference}: ${p.detail}`,
    ...(p.hint ? { hint: p.hint } : {}),
  }),
  OUTPUT_FAILED: (p: { path: string; detail: string }): ErrorText => ({
    message: `cannot write ${p.path}: ${p.detail}`,
  }),

  // Signing (src/sign): keys and cosign signatures.
  KEY_UNREADABLE: (p: { path: string; detail: string }): ErrorText => ({
    message: `cannot read the key ${p.path}: ${p.detail}`,
    usage: true,
  }),
  KEY_INVALID: (p: { path: string; detail: string }): ErrorText => ({
    message: `${p.path} is not a usable cosign key: ${p.detail}`,
    hint: 'sign with a cosign.key from `stowage key generate` or `cosign generate-key-pair`; verify with its cosign.pub',
  }),
  KEY_PASSWORD_WRONG: (p: { path: string }): ErrorText => ({
    message: `cannot decrypt ${p.path}: wrong password`,
    hint: 'the password comes from COSIGN_PASSWORD, else the prompt (or standard input when it is not a terminal)',
  }),
  KEY_EXISTS: (p: { path: string }): ErrorText => ({
    message: `${p.path} already exists`,
    hint: 'choose another --output-key-prefix, or overwrite it with --force',
    usage: true,
  }),
  TRUSTED_ROOT_INVALID: (p: { path: string; detail: string }): ErrorText => ({
    message: `${p.path} is not a usable Sigstore trusted root: ${p.detail}`,
    hint: "give a trusted_root.json in the Sigstore format (e.g. from `cosign trusted-root create`, or the TUF repository's trusted_root.json)",
    usage: true,
  }),
  SIGNATURE_NOT_FOUND: (p: { reference: string; digest: string }): ErrorText => ({
    message: `no signatures found for ${p.reference}`,
    hint: 'looked for the sha256-<hex>.sig tag and OCI referrers: sign it with `stowage sign REF --key cosign.key`',
  }),
  SIGNATURE_INVALID: (p: { reference: string; digest: string; reasons: readonly string[] }): ErrorText => ({
    message: `no signature of ${p.reference} verifies: ${p.reasons.slice(0, 5).join('; ')}${p.reasons.length > 5 ? `; … (${p.reasons.length - 5} more)` : ''}`,
    hint: 'check that the key is the public half of the key that signed this digest',
  }),

  // Helm charts (src/chart, src/client/ops/chart-*.ts).
  CHART_INVALID: (p: { chart: string; problems: readonly { message: string; hint?: string }[] }): ErrorText => ({
    message:
      p.problems.length === 1
        ? `${p.chart}: ${p.problems[0]!.message}`
        : `${p.chart} has ${p.problems.length} problems:\n${p.problems.map((x) => `  - ${x.message}`).join('\n')}`,
    ...(p.problems.some((x) => x.hint)
      ? { hint: [...new Set(p.problems.filter((x) => x.hint).map((x) => x.hint!))].join('; ') }
      : {}),
  }),
  CHART_LOAD_FAILED: (p: { chart: string; detail: string; hint?: string }): ErrorText => ({
    message: `cannot load the chart ${p.chart}: ${p.detail}`,
    ...(p.hint ? { hint: p.hint } : {}),
  }),
  CHART_NAME_INVALID: (p: { name: string; detail: string }): ErrorText => ({
    message: `invalid chart name "${p.name}": ${p.detail}`,
    hint: 'use letters, digits, ".", "_" and "-" (lowercase if it is to be pushed to an OCI registry)',
    usage: true,
  }),
  CHART_NOT_PACKAGED: (p: { path: string }): ErrorText => ({
    message: `${p.path} is a directory; only packaged charts (.tgz) can be pushed`,
    hint: `package it first: \`stowage chart package ${p.path}\``,
    usage: true,
  }),
  CHART_VERSION_MISMATCH: (p: { reference: string; tag: string; version: string }): ErrorText => ({
    message: `chart reference and version mismatch: ${p.reference} names ${p.tag}, --version asks for ${p.version}`,
    hint: 'give the version either as :TAG in the reference or with --version, not both',
    usage: true,
  }),
  CHART_CONSTRAINT_INVALID: (p: { constraint: string; detail: string }): ErrorText => ({
    message: `invalid version constraint "${p.constraint}": ${p.detail}`,
    hint: 'write an exact version (1.2.3) or a range such as ^1.2, ~1.4.0, ">=1.0.0 <2.0.0" or 1.x',
    usage: true,
  }),
  CHART_VERSION_NOT_FOUND: (p: { repository: string; constraint: string; versions: readonly string[] }): ErrorText => ({
    message: `no version of ${p.repository} matches ${p.constraint ? `"${p.constraint}"` : 'a stable release'}`,
    hint: p.versions.length
      ? `it has: ${list(p.versions)}`
      : `${p.repository} has no SemVer tags (tags are versions with "+" written as "_")`,
  }),
  NOT_A_CHART: (p: { reference: string; detail: string }): ErrorText => ({
    message: `${p.reference} is not a Helm chart: ${p.detail}`,
    hint: 'look at it with `stowage inspect`; images are pulled with `stowage image pull`',
  }),
  CHART_TARGET_EXISTS: (p: { path: string }): ErrorText => ({
    message: `${p.path} already exists`,
    hint: 'remove it, or choose another directory with -d',
  }),
} satisfies Record<string, (p: never) => ErrorText>;

export type ClientErrorCode = keyof typeof CATALOG;
export type ClientErrorParams<C extends ClientErrorCode> = Parameters<(typeof CATALOG)[C]>[0];

export interface ClientErrorOptions {
  cause?: unknown;
  status?: number;
  retryAfter?: string | undefined;
}

export class ClientError extends Error {
  readonly code: ClientErrorCode;
  readonly hint: string | undefined;
  readonly usage: boolean;
  readonly params: unknown;
  /** The HTTP status that caused it, when a registry answered. */
  readonly status: number | undefined;
  /** The answer's Retry-After (a 429 or 503), as sent. */
  readonly retryAfter: string | undefined;

  constructor(code: ClientErrorCode, text: ErrorText, params: unknown, options: ClientErrorOptions = {}) {
    super(text.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClientError';
    this.code = code;
    this.hint = text.hint;
    this.usage = text.usage ?? false;
    this.params = params;
    this.status = options.status;
    this.retryAfter = options.retryAfter;
  }

  toJSON(): { code: string; message: string; hint?: string } {
    return { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) };
  }
}

/** Builds the catalog's error for `code`. */
export function clientError<C extends ClientErrorCode>(
  code: C,
  params: ClientErrorParams<C>,
  options: ClientErrorOptions = {},
): ClientError {
  const text = (CATALOG[code] as (p: ClientErrorParams<C>) => ErrorText)(params);
  return new ClientError(code, text, params, options);
}

export function isClientError(e: unknown, code?: ClientErrorCode): e is ClientError {
  return e instanceof ClientError && (code === undefined || e.code === code);
}
