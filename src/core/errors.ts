/**
 * The one catalog of OCI error codes Stowage answers with. Every failure the
 * registry reports is a RegistryError carrying one of these codes; the HTTP layer
 * turns it into `{"errors":[…]}` with the status declared here.
 */
export const ERROR_CODES = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a blob unknown to the repository' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  TAG_INVALID: { status: 400, message: 'manifest tag did not match URI' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  TOKEN_REQUEST_INVALID: { status: 400, message: 'invalid token request' },
  PAGINATION_NUMBER_INVALID: { status: 400, message: 'invalid number of results requested' },
  RANGE_INVALID: { status: 416, message: 'invalid content range' },
  MANIFEST_TOO_LARGE: { status: 413, message: 'manifest too large' },
  // The spec lets a registry refuse a blob DELETE with 400 or 405 only (not 409).
  BLOB_REFERENCED: { status: 405, message: 'blob is referenced by a manifest' },
  NOT_FOUND: { status: 404, message: 'route not found' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'method not allowed' },
  // Stowage's own JSON API (src/api) only.
  BAD_REQUEST: { status: 400, message: 'bad request' },
  CSRF: { status: 403, message: 'this request needs the X-Stowage-CSRF header of the session' },
  TOO_LARGE: { status: 413, message: 'too large to show' },
  UNKNOWN: { status: 500, message: 'unknown error' },
  UNAVAILABLE: { status: 503, message: 'service unavailable' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Codes that are Stowage's own names for a situation; on the wire they are sent as
 * the spec code a client understands.
 */
const WIRE_CODE: Partial<Record<ErrorCode, ErrorCode>> = {
  MANIFEST_TOO_LARGE: 'MANIFEST_INVALID',
  BLOB_REFERENCED: 'UNSUPPORTED',
  NOT_FOUND: 'UNSUPPORTED',
  METHOD_NOT_ALLOWED: 'UNSUPPORTED',
  TOKEN_REQUEST_INVALID: 'UNSUPPORTED',
  BAD_REQUEST: 'UNSUPPORTED',
  CSRF: 'DENIED',
  TOO_LARGE: 'UNSUPPORTED',
};

export class RegistryError extends Error {
  readonly code: ErrorCode;
  readonly detail: unknown;
  /** Extra response headers the error needs (e.g. Content-Range on a 416). */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message?: string, detail?: unknown, headers: Record<string, string> = {}) {
    super(message ?? ERROR_CODES[code].message);
    this.name = 'RegistryError';
    this.code = code;
    this.detail = detail;
    this.headers = headers;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  get wireCode(): ErrorCode {
    return WIRE_CODE[this.code] ?? this.code;
  }
}

/** Several errors answered together (one MANIFEST_BLOB_UNKNOWN per missing digest). */
export class RegistryErrors extends Error {
  readonly errors: RegistryError[];
  constructor(errors: RegistryError[]) {
    super(errors.map((e) => e.message).join('; '));
    this.name = 'RegistryErrors';
    this.errors = errors;
  }
  get status(): number {
    return this.errors[0]?.status ?? 500;
  }
}

/**
 * System and database error codes meaning the machine ran out of something the
 * server needs (descriptors, memory, disk): a state to wait out, never a bug or the
 * client's fault, so 503 with a Retry-After rather than 500.
 */
const EXHAUSTION: Record<string, { what: string; retryAfterSeconds: number }> = {
  EMFILE: { what: 'open files', retryAfterSeconds: 5 },
  ENFILE: { what: 'open files (system-wide)', retryAfterSeconds: 5 },
  ENOMEM: { what: 'memory', retryAfterSeconds: 5 },
  ENOBUFS: { what: 'buffer space', retryAfterSeconds: 5 },
  EAGAIN: { what: 'a system resource', retryAfterSeconds: 5 },
  ENOSPC: { what: 'disk space', retryAfterSeconds: 60 },
  EDQUOT: { what: 'disk quota', retryAfterSeconds: 60 },
  SQLITE_FULL: { what: 'disk space for the database', retryAfterSeconds: 60 },
  SQLITE_NOMEM: { what: 'memory for the database', retryAfterSeconds: 5 },
  SQLITE_IOERR_NOMEM: { what: 'memory for the database', retryAfterSeconds: 5 },
};

/** The UNAVAILABLE error for a resource-exhaustion failure (its code, or its cause's), else undefined. */
export function exhaustionError(e: unknown): RegistryError | undefined {
  for (let cause = e, depth = 0; cause instanceof Error && depth < 4; cause = cause.cause, depth++) {
    const code = (cause as Error & { code?: unknown }).code;
    const known = typeof code === 'string' ? EXHAUSTION[code] : undefined;
    if (known) {
      return new RegistryError('UNAVAILABLE', `the registry is out of ${known.what}; retry later`, undefined, {
        'Retry-After': String(known.retryAfterSeconds),
      });
    }
  }
  return undefined;
}

export function isRegistryError(e: unknown): e is RegistryError {
  return e instanceof RegistryError;
}
