/**
 * The registry client: one `RegistryClient` per process (it holds connections,
 * sessions and tokens), and a `Repository` per repository for the distribution API
 * — resolve, manifests, blobs, tags, referrers. Everything higher (image archives,
 * copy, artifacts for helm/flux/policies) is built from these calls.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { Readable } from 'node:stream';
import { digestBytes, isDigestLike, parseDigest, type Algorithm } from '../core/digest.js';
import { MANIFEST_MEDIA_TYPES, MT, bareMediaType, isManifestType } from '../core/media-types.js';
import { parseChallenges, pickChallenge } from './challenge.js';
import { DockerCredentialStore, type CredentialProvider } from './credentials.js';
import { MAX_MANIFEST_BYTES, readAll, type BlobSource, type ContentSource, type Descriptor } from './content.js';
import { skipBytes, verifiedStream } from './download.js';
import { type ClientError, clientError, isClientError } from './errors.js';
import { HttpTransport, type HttpResponse } from './http.js';
import { emitter, type ProgressListener } from './progress.js';
import { formatReference, normalizeRegistry, parseReference, type Reference } from './reference.js';
import {
  CATALOG_SCOPE,
  RegistrySession,
  errorDetail,
  repositoryScope,
  type LoginResult,
  type SessionRequest,
} from './session.js';
import { uploadBlob, type UploadResult } from './upload.js';

export interface ClientOptions {
  /** Where credentials come from (default: docker's config.json and helpers, helm's as fallback). */
  credentials?: CredentialProvider;
  /** Plain HTTP, or HTTPS without verification, for every registry. */
  insecure?: boolean;
  /** A PEM file of CA certificates to trust (on top of the system's). */
  caFile?: string;
  ca?: string | Buffer;
  /** PEM files of a client certificate and its key, for registries that require one (helm's --cert-file/--key-file). */
  certFile?: string;
  keyFile?: string;
  userAgent?: string;
  /** Retries of transient failures per request (default 4). */
  retries?: number;
  retryDelayMs?: number;
  /** Blobs up to this size are uploaded in one request; larger ones in chunks of it (default 16 MiB). */
  chunkSize?: number;
  /** Blob transfers in parallel (default 4). */
  concurrency?: number;
  onProgress?: ProgressListener;
  onWarning?: (message: string) => void;
}

/** The manifest types the client asks for, most specific first. */
export const MANIFEST_ACCEPT = [MT.ociIndex, MT.ociManifest, MT.dockerList, MT.dockerManifest].join(', ');

export interface FetchedManifest {
  descriptor: Descriptor;
  bytes: Buffer;
}

export interface PushedManifest {
  descriptor: Descriptor;
  /** The registry indexed the manifest's subject (it answered `OCI-Subject`). */
  subjectHandled: boolean;
}

export interface Referrers {
  manifests: Descriptor[];
  /** api: the referrers API; tag-schema: the `sha256-<hex>` fallback tag. */
  via: 'api' | 'tag-schema';
}

/**
 * What a manifest graph is written into (graph.ts, copy, mirror): a Repository of a
 * remote registry, or another implementation of the same few calls (`stowage serve`'s
 * scheduled mirrors write through the local registry's operations).
 */
export interface Destination {
  readonly registry: string;
  readonly name: string;
  readonly client: { readonly concurrency: number; readonly emit: ProgressListener };
  pushBlob(desc: Descriptor, source: BlobSource, opts?: { mountFrom?: readonly string[] }): Promise<UploadResult>;
  manifestExists(ref: string, opts?: { push?: boolean }): Promise<Descriptor | undefined>;
  pushManifest(bytes: Buffer, mediaType: string, ref?: string): Promise<PushedManifest>;
  referrers(digest: string, opts?: { artifactType?: string }): Promise<Referrers>;
  fetchManifest(ref: string, opts?: { accept?: string }): Promise<FetchedManifest>;
}

export class RegistryClient {
  readonly credentials: CredentialProvider;
  readonly chunkSize: number;
  readonly concurrency: number;
  readonly emit: ProgressListener;
  private readonly transport: HttpTransport;
  private readonly sessions = new Map<string, RegistrySession>();
  private readonly insecure: boolean;
  private readonly warn: (m: string) => void;

  constructor(opts: ClientOptions = {}) {
    const warn = opts.onWarning ?? ((m: string) => emitter(opts.onProgress)({ type: 'warning', message: m }));
    this.warn = warn;
    this.credentials = opts.credentials ?? new DockerCredentialStore({ onWarning: warn });
    let ca = opts.ca;
    if (opts.caFile !== undefined) {
      try {
        ca = readFileSync(opts.caFile);
      } catch (e) {
        throw clientError('CA_FILE_UNREADABLE', { path: opts.caFile, detail: (e as Error).message });
      }
    }
    const clientCert = readClientCert(opts.certFile, opts.keyFile);
    this.transport = new HttpTransport({
      ...(ca !== undefined ? { ca } : {}),
      ...(clientCert ? { clientCert } : {}),
      userAgent: opts.userAgent ?? 'stowage/0.1',
      ...(opts.retries !== undefined ? { retries: opts.retries } : {}),
      ...(opts.retryDelayMs !== undefined ? { retryDelayMs: opts.retryDelayMs } : {}),
    });
    this.insecure = opts.insecure ?? false;
    this.chunkSize = opts.chunkSize ?? 16 * 1024 * 1024;
    this.concurrency = opts.concurrency ?? 4;
    this.emit = emitter(opts.onProgress);
  }

  /** The session (scheme, auth, tokens) for a registry, created on first use. */
  session(registry: string): RegistrySession {
    const key = normalizeRegistry(registry);
    let s = this.sessions.get(key);
    if (!s) {
      s = new RegistrySession(key, {
        transport: this.transport,
        credentials: this.credentials,
        insecure: this.insecure,
        onWarning: this.warn,
      });
      this.sessions.set(key, s);
    }
    return s;
  }

  /** A repository by reference ("host/name", or a Reference; tag and digest are ignored). */
  repository(ref: Reference | string): Repository {
    const r = typeof ref === 'string' ? parseReference(ref, { defaultTag: null }) : ref;
    return new Repository(this, r.registry, r.repository);
  }

  /** Pings the registry: how it is reached and how it wants to be authenticated. */
  async ping(registry: string): Promise<{ registry: string; url: string; auth: string }> {
    const s = this.session(registry);
    await s.ensureReady();
    return { registry: s.registry, url: s.baseUrl.toString(), auth: s.authMode.kind };
  }

  /** Verifies credentials against the registry (docker's login flow); stores nothing. */
  async login(registry: string, username: string, secret: string): Promise<LoginResult> {
    const s = new RegistrySession(normalizeRegistry(registry), {
      transport: this.transport,
      credentials: { get: async () => undefined },
      insecure: this.insecure,
      onWarning: this.warn,
    });
    return s.login(username, secret);
  }

  /** Every repository in the registry's catalog (following pages). */
  async catalog(registry: string, opts: { pageSize?: number } = {}): Promise<string[]> {
    const s = this.session(registry);
    const out: string[] = [];
    let next: string | undefined = `/v2/_catalog?n=${opts.pageSize ?? 1000}`;
    while (next) {
      const res = await s.request({ method: 'GET', url: next, scopes: [CATALOG_SCOPE] });
      if (res.status !== 200)
        await raiseFor(s, res, { operation: 'listing the catalog', what: 'the catalog (registry:catalog:*)' });
      const doc = await res.json<{ repositories?: string[] | null }>();
      out.push(...(doc.repositories ?? []));
      next = nextPage(res);
    }
    return out;
  }

  close(): void {
    this.transport.close();
  }
}

/** The `rel="next"` target of a Link header, relative to the registry. */
function nextPage(res: HttpResponse): string | undefined {
  const link = res.header('link');
  const m = link ? /<([^>]+)>\s*;\s*rel="?next"?/i.exec(link) : null;
  if (!m) return undefined;
  const u = new URL(m[1]!, res.url);
  if (u.origin !== res.url.origin) return undefined; // never follow a page to another host
  return `${u.pathname}${u.search}`;
}

interface RaiseContext {
  operation: string;
  /** For 401/403: what was attempted ("pulling team/app"). */
  what: string;
}

async function raiseFor(s: RegistrySession, res: HttpResponse, ctx: RaiseContext): Promise<never> {
  const detail = res.status === 404 && res.headers['content-length'] === '0' ? {} : await errorDetail(res);
  const loggedIn = await s.hasCredentials().catch(() => false);
  const base = {
    registry: s.registry,
    what: ctx.what,
    loggedIn,
    ...(detail.message ? { detail: detail.message } : {}),
  };
  if (res.status === 401) {
    // A valid token that lacks the access (distribution's insufficient_scope): no login will fix that.
    const challenge = pickChallenge(parseChallenges(res.headerAll('www-authenticate')));
    if (loggedIn && challenge?.params.error === 'insufficient_scope')
      throw clientError('DENIED', base, { status: 401 });
    throw clientError('UNAUTHORIZED', base, { status: 401 });
  }
  if (res.status === 403) throw clientError('DENIED', base, { status: 403 });
  throw clientError(
    'REGISTRY_ERROR',
    {
      registry: s.registry,
      operation: ctx.operation,
      status: res.status,
      ...(detail.code ? { code: detail.code } : {}),
      ...(detail.message ? { detail: detail.message } : {}),
    },
    { status: res.status },
  );
}

/** One repository on one registry. */
export class Repository implements ContentSource, Destination {
  readonly origin: { registry: string; repository: string };
  private readonly session: RegistrySession;

  constructor(
    readonly client: RegistryClient,
    readonly registry: string,
    readonly name: string,
  ) {
    this.session = client.session(registry);
    this.origin = { registry: this.session.registry, repository: name };
  }

  /** "registry/name" */
  toString(): string {
    return `${this.registry}/${this.name}`;
  }

  reference(ref?: { tag?: string; digest?: string }): string {
    return formatReference({ registry: this.registry, repository: this.name, ...ref });
  }

  /** A request against this repository's registry, with the given access. */
  request(req: SessionRequest): Promise<HttpResponse> {
    return this.session.request(req);
  }

  async raise(res: HttpResponse, operation: string, what?: string): Promise<never> {
    return raiseFor(this.session, res, { operation, what: what ?? `${operation}` });
  }

  /** The access a request needs; checks made while pushing ask for push too (one token for the whole push). */
  private pullScope(push = false) {
    return [repositoryScope(this.name, ...(push ? ['pull', 'push'] : ['pull']))];
  }

  private intent(push = false): string {
    return push ? `pushing to ${this.name}` : `pulling ${this.name}`;
  }

  private refLabel(ref: string): string {
    return isDigestLike(ref) ? this.reference({ digest: ref }) : this.reference({ tag: ref });
  }

  /** MANIFEST_NOT_FOUND, listing the tags that exist when a tag was asked for. */
  private async notFound(ref: string): Promise<ClientError> {
    const reference = this.refLabel(ref);
    if (isDigestLike(ref)) return clientError('MANIFEST_NOT_FOUND', { reference, repository: this.toString() });
    try {
      const tags = await this.tags();
      return clientError(
        'MANIFEST_NOT_FOUND',
        { reference, repository: this.toString(), tag: ref, tags },
        { status: 404 },
      );
    } catch (e) {
      if (isClientError(e, 'REPOSITORY_NOT_FOUND'))
        return clientError('MANIFEST_NOT_FOUND', { reference, repository: this.toString(), tag: ref }, { status: 404 });
      return clientError('MANIFEST_NOT_FOUND', { reference, repository: this.toString() }, { status: 404 });
    }
  }

  /** The descriptor a tag or digest points at (HEAD, or GET when the HEAD says too little). */
  async resolve(ref: string, opts: { push?: boolean } = {}): Promise<Descriptor> {
    const res = await this.request({
      method: 'HEAD',
      url: `/v2/${this.name}/manifests/${ref}`,
      scopes: this.pullScope(opts.push),
      headers: { Accept: MANIFEST_ACCEPT },
    });
    await res.discard();
    if (res.status === 404) throw await this.notFound(ref);
    const digest = res.header('docker-content-digest');
    const size = Number(res.header('content-length'));
    const mediaType = bareMediaType(res.header('content-type'));
    if (
      res.status === 200 &&
      digest &&
      isDigestLike(digest) &&
      Number.isSafeInteger(size) &&
      isManifestType(mediaType)
    ) {
      if (isDigestLike(ref) && digest !== ref)
        throw clientError('DIGEST_MISMATCH', { what: this.refLabel(ref), expected: ref, actual: digest });
      return { mediaType, digest, size };
    }
    if (res.status === 401 || res.status === 403)
      await this.raise(res, `resolving ${this.refLabel(ref)}`, this.intent(opts.push));
    return (await this.fetchManifest(ref)).descriptor;
  }

  /** A manifest's bytes, exactly as stored, with its descriptor (digest verified when `ref` is one). */
  async fetchManifest(ref: string, opts: { accept?: string } = {}): Promise<FetchedManifest> {
    const res = await this.request({
      method: 'GET',
      url: `/v2/${this.name}/manifests/${ref}`,
      scopes: this.pullScope(),
      headers: { Accept: opts.accept ?? MANIFEST_ACCEPT },
    });
    if (res.status === 404) {
      await res.discard();
      throw await this.notFound(ref);
    }
    if (res.status !== 200)
      await this.raise(res, `fetching the manifest ${this.refLabel(ref)}`, `pulling ${this.name}`);
    let bytes: Buffer;
    try {
      bytes = await res.buffer(MAX_MANIFEST_BYTES);
    } catch (e) {
      if ((e as { code?: string }).code === 'ETOOBIG')
        throw clientError('MANIFEST_TOO_LARGE', { reference: this.refLabel(ref), limit: MAX_MANIFEST_BYTES });
      throw e;
    }
    const mediaType = manifestMediaType(res.header('content-type'), bytes);
    const algorithm: Algorithm = isDigestLike(ref) ? parseDigest(ref).algorithm : 'sha256';
    const digest = digestBytes(bytes, algorithm).value;
    if (isDigestLike(ref) && digest !== ref)
      throw clientError('DIGEST_MISMATCH', { what: `manifest ${this.refLabel(ref)}`, expected: ref, actual: digest });
    this.client.emit({ type: 'manifest', action: 'fetch', digest, mediaType, reference: ref });
    return { descriptor: { mediaType, digest, size: bytes.length }, bytes };
  }

  /** Does the repository hold this manifest? Its descriptor if so. */
  async manifestExists(ref: string, opts: { push?: boolean } = {}): Promise<Descriptor | undefined> {
    try {
      return await this.resolve(ref, opts);
    } catch (e) {
      if (isClientError(e, 'MANIFEST_NOT_FOUND')) return undefined;
      throw e;
    }
  }

  /** PUTs manifest bytes under a tag or their digest (default). */
  async pushManifest(bytes: Buffer, mediaType: string, ref?: string): Promise<PushedManifest> {
    const digest = digestBytes(bytes).value;
    const target = ref ?? digest;
    const res = await this.request({
      method: 'PUT',
      url: `/v2/${this.name}/manifests/${target}`,
      scopes: [repositoryScope(this.name, 'pull', 'push')],
      headers: { 'Content-Type': mediaType },
      body: bytes,
    });
    if (res.status < 200 || res.status >= 300)
      await this.raise(res, `pushing the manifest ${this.refLabel(target)}`, `pushing to ${this.name}`);
    await res.discard();
    this.client.emit({ type: 'manifest', action: 'push', digest, mediaType, reference: target });
    return {
      descriptor: { mediaType, digest, size: bytes.length },
      subjectHandled: res.header('oci-subject') !== undefined,
    };
  }

  async deleteManifest(digest: string): Promise<void> {
    const res = await this.request({
      method: 'DELETE',
      url: `/v2/${this.name}/manifests/${digest}`,
      scopes: [repositoryScope(this.name, 'delete')],
    });
    if (res.status === 404) {
      await res.discard();
      throw await this.notFound(digest);
    }
    if (res.status < 200 || res.status >= 300)
      await this.raise(res, `deleting ${this.refLabel(digest)}`, `deleting from ${this.name}`);
    await res.discard();
  }

  /** Every tag (following pages). */
  async tags(opts: { pageSize?: number } = {}): Promise<string[]> {
    const out: string[] = [];
    let next: string | undefined = `/v2/${this.name}/tags/list?n=${opts.pageSize ?? 1000}`;
    while (next) {
      const res = await this.request({ method: 'GET', url: next, scopes: this.pullScope() });
      if (res.status === 404) {
        const detail = await errorDetail(res);
        if (detail.code === 'NAME_UNKNOWN' || detail.code === undefined)
          throw clientError(
            'REPOSITORY_NOT_FOUND',
            { registry: this.registry, repository: this.name },
            { status: 404 },
          );
        throw clientError('REGISTRY_ERROR', {
          registry: this.registry,
          operation: `listing the tags of ${this.name}`,
          status: 404,
          code: detail.code,
          ...(detail.message ? { detail: detail.message } : {}),
        });
      }
      if (res.status !== 200) await this.raise(res, `listing the tags of ${this.name}`, `pulling ${this.name}`);
      const doc = await res.json<{ tags?: string[] | null }>();
      out.push(...(doc.tags ?? []));
      next = nextPage(res);
    }
    return out;
  }

  /**
   * Manifests whose subject is `digest`: the referrers API, or the `<alg>-<hex>` tag
   * (the spec's fallback) on registries without it. Filtered by artifactType here when
   * the registry did not.
   */
  async referrers(digest: string, opts: { artifactType?: string } = {}): Promise<Referrers> {
    const q = opts.artifactType ? `?${new URLSearchParams({ artifactType: opts.artifactType })}` : '';
    const res = await this.request({
      method: 'GET',
      url: `/v2/${this.name}/referrers/${digest}${q}`,
      scopes: this.pullScope(),
      headers: { Accept: MT.ociIndex },
    });
    const filter = (list: Descriptor[], filtered: boolean) =>
      opts.artifactType && !filtered ? list.filter((d) => d.artifactType === opts.artifactType) : list;
    if (res.status === 200 && bareMediaType(res.header('content-type')) === MT.ociIndex) {
      const doc = await res.json<{ manifests?: Descriptor[] | null }>(MAX_MANIFEST_BYTES);
      const filtered = /artifactType/i.test(res.header('oci-filters-applied') ?? '');
      return { manifests: filter(doc.manifests ?? [], filtered), via: 'api' };
    }
    if (res.status === 401 || res.status === 403)
      await this.raise(res, `listing referrers of ${digest}`, `pulling ${this.name}`);
    await res.discard();
    try {
      const { bytes } = await this.fetchManifest(referrersTag(digest), { accept: MT.ociIndex });
      const doc = JSON.parse(bytes.toString('utf8')) as { manifests?: Descriptor[] | null };
      return { manifests: filter(doc.manifests ?? [], false), via: 'tag-schema' };
    } catch (e) {
      if (isClientError(e, 'MANIFEST_NOT_FOUND')) return { manifests: [], via: 'tag-schema' };
      throw e;
    }
  }

  /** The blob's size when the repository has it. */
  async blobExists(digest: string, opts: { push?: boolean } = {}): Promise<number | undefined> {
    const res = await this.request({
      method: 'HEAD',
      url: `/v2/${this.name}/blobs/${digest}`,
      scopes: this.pullScope(opts.push),
    });
    await res.discard();
    if (res.status === 200) return Number(res.header('content-length') ?? 0);
    if (res.status === 404) return undefined;
    return this.raise(res, `checking for blob ${digest} in ${this.name}`, this.intent(opts.push));
  }

  /** The raw bytes of a blob from `offset` (ContentSource); callers verify. */
  async open(desc: Descriptor, offset = 0, useRange = true): Promise<Readable> {
    const ranged = offset > 0 && useRange;
    const res = await this.request({
      method: 'GET',
      url: `/v2/${this.name}/blobs/${desc.digest}`,
      scopes: this.pullScope(),
      headers: ranged ? { Range: `bytes=${offset}-` } : {},
    });
    if (res.status === 206 && ranged) {
      const m = /^bytes (\d+)-/.exec(res.header('content-range') ?? '');
      if (m && Number(m[1]) === offset) return res.body;
      res.body.destroy(); // a range we did not ask for: read from the start instead
      return this.open(desc, offset, false);
    }
    if (res.status === 200) return skipBytes(res.body, offset);
    if (res.status === 404) {
      await res.discard();
      throw clientError('BLOB_NOT_FOUND', { repository: this.toString(), digest: desc.digest }, { status: 404 });
    }
    return this.raise(res, `fetching blob ${desc.digest}`, `pulling ${this.name}`);
  }

  /** A small blob (config), read whole and verified. */
  async read(desc: Descriptor, limit = MAX_MANIFEST_BYTES): Promise<Buffer> {
    if (isManifestType(desc.mediaType)) return (await this.fetchManifest(desc.digest)).bytes;
    return readAll(this.fetchBlob(desc), limit, `blob ${desc.digest}`);
  }

  /** A blob as a stream that resumes after dropped connections and fails unless the bytes match the descriptor. */
  fetchBlob(desc: Descriptor): Readable {
    return verifiedStream(desc, (offset) => this.open(desc, offset), {
      what: `blob ${desc.digest} of ${this}`,
      onProgress: this.client.emit,
    });
  }

  /** Uploads a blob unless the repository has it, mounting it from `mountFrom` repositories when possible. */
  pushBlob(desc: Descriptor, source: BlobSource, opts: { mountFrom?: readonly string[] } = {}): Promise<UploadResult> {
    return uploadBlob(this, desc, source, {
      chunkSize: this.client.chunkSize,
      onProgress: this.client.emit,
      ...(opts.mountFrom ? { mountFrom: opts.mountFrom } : {}),
    });
  }

  /** Uploads bytes held in memory (configs, small artifacts); returns their descriptor. */
  async pushBlobBytes(bytes: Buffer, mediaType: string): Promise<Descriptor> {
    const desc: Descriptor = { mediaType, digest: digestBytes(bytes).value, size: bytes.length };
    await this.pushBlob(desc, { size: bytes.length, open: async (offset) => Readable.from([bytes.subarray(offset)]) });
    return desc;
  }
}

/** The referrers tag schema's tag for a subject: `sha256-<hex>`. */
export function referrersTag(digest: string): string {
  const i = digest.indexOf(':');
  return `${digest.slice(0, i).slice(0, 32)}-${digest.slice(i + 1).slice(0, 64)}`.replace(/[^a-zA-Z0-9._-]/g, '-');
}

/** The manifest's media type: the Content-Type when it names one, else the body's, else its shape. */
export function manifestMediaType(contentType: string | undefined, bytes: Buffer): string {
  const header = bareMediaType(contentType);
  if (MANIFEST_MEDIA_TYPES.includes(header) || header === MT.dockerSchema1 || header === MT.dockerSchema1Signed)
    return header;
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as {
      mediaType?: unknown;
      manifests?: unknown;
      config?: { mediaType?: unknown };
      schemaVersion?: unknown;
    };
    if (typeof doc.mediaType === 'string' && doc.mediaType) return doc.mediaType;
    if (doc.schemaVersion === 1) return MT.dockerSchema1Signed;
    if (Array.isArray(doc.manifests)) return MT.ociIndex;
    if (doc.config && typeof doc.config === 'object')
      return doc.config.mediaType === MT.dockerConfig ? MT.dockerManifest : MT.ociManifest;
  } catch {
    /* not JSON: keep the header */
  }
  return header || MT.ociManifest;
}

/** Both files or neither; each read and checked as a certificate/key pair up front, so a bad one fails before any request. */
function readClientCert(certFile?: string, keyFile?: string): { cert: Buffer; key: Buffer } | undefined {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined)
    throw clientError('INVALID_ARGUMENT', {
      message: '--cert-file and --key-file go together',
      hint: 'give the client certificate with --cert-file and its private key with --key-file',
    });
  const read = (path: string) => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw clientError('CLIENT_CERT_UNREADABLE', { path, detail: (e as Error).message });
    }
  };
  const pair = { cert: read(certFile), key: read(keyFile) };
  try {
    createSecureContext(pair);
  } catch (e) {
    throw clientError('CLIENT_CERT_UNREADABLE', { path: `${certFile} / ${keyFile}`, detail: (e as Error).message });
  }
  return pair;
}
