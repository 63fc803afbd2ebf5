/**
 * The pull-through cache: repositories under a `proxy:` prefix get what they miss from
 * the entry's upstreams, stored as ordinary content through the registry's operations
 * (README, "Pull-through cache").
 *
 * - Manifests by digest never expire; a cached tag is served without asking upstream
 *   for `tag_ttl_seconds` after upstream last confirmed it, then re-checked with a HEAD
 *   (a GET only when it names another digest). Index children and referrers come on demand.
 * - Blobs are fetched when a client asks for one, and streamed to it while they are
 *   stored (hashed on the way; visible only once verified and durable). A client that
 *   goes away does not stop the fetch: it finishes and the blob is cached, or fails and
 *   nothing is linked. A range of a blob not cached yet is asked upstream (Range) while the
 *   whole blob is fetched for the cache, so a ranged client waits for its bytes only.
 * - When upstream last confirmed a tag is kept in the metadata store
 *   (upstreamConfirmedAt / confirmUpstream), so replicas sharing it and a restarted
 *   process agree on every tag's TTL: a tag confirmed by one replica is a hit on all.
 * - Concurrent first pulls of one manifest or blob fetch it once (SingleFlight, per
 *   repository and digest or tag). This holds within one process: replicas sharing the
 *   storage each fetch on their own first miss, and the second commit of the same digest
 *   is idempotent (content-addressed), so the cost is upstream traffic, never corruption.
 *   A lock across replicas (the store's runExclusive) was not taken: it would put a
 *   database round trip and a lease on every miss, and its waiters would need to poll for
 *   the blob, for a gain only when replicas miss the same digest at the same moment.
 * - When no upstream answers (down, 5xx, rate-limited), cached content is served; a tag
 *   upstream could not confirm is answered with `Stowage-Cache: stale` and logged. With
 *   nothing cached: 429 with the earliest Retry-After when every URL is rate-limited,
 *   else 503.
 */
import { PassThrough, Readable } from 'node:stream';
import type { Logger } from 'pino';
import { MANIFEST_ACCEPT, manifestMediaType, referrersTag } from '../client/index.js';
import type { HttpResponse } from '../client/http.js';
import { repositoryScope } from '../client/session.js';
import { RegistryError } from '../core/errors.js';
import { digestBytes, isDigestLike, parseDigest } from '../core/digest.js';
import type { ByteRange } from '../core/ranges.js';
import { MT } from '../core/media-types.js';
import { compileGlob } from '../core/repository-glob.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Registry } from '../registry/registry.js';
import type { UpstreamSource } from '../registry/upstream.js';
import type { BlobBody, BodyRequest } from '../storage/blob-store.js';
import { SingleFlight } from '../util/single-flight.js';
import type { ProxyRule, UpstreamCredentials } from './proxy-rule.js';
import { UpstreamPool, UpstreamUnavailable } from './upstream-pool.js';

export interface ProxyEntry {
  rule: ProxyRule;
  credentials?: UpstreamCredentials;
}

export interface PullThroughOptions {
  log: Pick<Logger, 'warn' | 'info' | 'error'>;
  metrics?: Metrics;
  now?: () => number;
}

interface Entry {
  rule: ProxyRule;
  pool: UpstreamPool;
  allow: RegExp[];
  deny: RegExp[];
  /** Docker Hub's official images live under `library/` (`hub/alpine` is `library/alpine`). */
  officialImages: boolean;
}

const DOCKER_HUB_HOSTS = new Set(['registry-1.docker.io', 'docker.io', 'index.docker.io']);

interface Route {
  entry: Entry;
  /** The repository's name upstream (without the prefix). */
  name: string;
}

type ManifestOutcome = { digest: string; stale: boolean };

export class PullThroughCache implements UpstreamSource {
  private readonly entries: Entry[];
  private readonly now: () => number;
  private readonly manifestFlights = new SingleFlight<ManifestOutcome>();
  private readonly blobFlights = new SingleFlight<void>();
  private readonly referrerFlights = new SingleFlight<void>();

  constructor(
    private readonly registry: Registry,
    entries: readonly ProxyEntry[],
    private readonly options: PullThroughOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.entries = entries.map(({ rule, credentials }) => ({
      rule,
      pool: new UpstreamPool(rule, credentials, {
        error: (upstream, reason, detail) => {
          options.metrics?.proxyUpstreamErrors.inc({ upstream, reason });
          options.log.warn({ prefix: rule.prefix, upstream, reason, detail }, 'upstream request failed');
        },
      }),
      allow: rule.allow.map(compileGlob),
      deny: rule.deny.map(compileGlob),
      officialImages: rule.upstreams.some((u) => DOCKER_HUB_HOSTS.has(new URL(u).host)),
    }));
    registry.useUpstream(this);
  }

  covers(repository: string): { readOnly: boolean } | undefined {
    const entry = this.entryFor(repository);
    return entry && { readOnly: entry.rule.readOnly };
  }

  private entryFor(repository: string): Entry | undefined {
    return this.entries.find((e) => repository.startsWith(`${e.rule.prefix}/`));
  }

  /** The entry and upstream name; DENIED when the entry's allow/deny lists exclude the name. */
  private route(repository: string): Route {
    const entry = this.entryFor(repository)!;
    const rest = repository.slice(entry.rule.prefix.length + 1);
    const name = entry.officialImages && !rest.includes('/') ? `library/${rest}` : rest;
    const allowed =
      (entry.allow.length === 0 || entry.allow.some((g) => g.test(name))) && !entry.deny.some((g) => g.test(name));
    if (!allowed)
      throw new RegistryError(
        'DENIED',
        `${name} is not among the repositories the proxy entry "${entry.rule.prefix}" may fetch (its allow/deny lists)`,
        { name: repository },
      );
    return { entry, name };
  }

  private count(kind: 'manifest' | 'blob' | 'referrers', result: 'hit' | 'miss' | 'stale'): void {
    this.options.metrics?.proxyRequests.inc({ kind, result });
  }

  /** Counts a blob the registry found cached (it asks the cache only for what it misses). */
  blobHit(): void {
    this.count('blob', 'hit');
  }

  // ---- manifests ------------------------------------------------------------

  async manifest(repository: string, reference: string): Promise<ManifestOutcome> {
    const route = this.route(repository);
    if (isDigestLike(reference)) {
      const digest = parseDigest(reference).value;
      if (await this.registry.meta.getManifest(repository, digest)) {
        this.count('manifest', 'hit');
        return { digest, stale: false };
      }
      return this.manifestFlights.run(`${repository}@${digest}`, async () => {
        const stored = await this.fetchManifest(route, repository, digest, undefined).catch((e: unknown) => {
          throw this.unavailable(e);
        });
        this.count('manifest', 'miss');
        return { digest: stored, stale: false };
      }).promise;
    }
    const key = `${repository}:${reference}`;
    const [cached, at] = await Promise.all([
      this.registry.meta.resolveTag(repository, reference),
      this.registry.meta.upstreamConfirmedAt(repository, reference),
    ]);
    if (cached && at !== undefined && this.now() - at < route.entry.rule.tagTtlSeconds * 1000) {
      this.count('manifest', 'hit');
      return { digest: cached, stale: false };
    }
    return this.manifestFlights.run(key, () => this.revalidateTag(route, repository, reference, cached)).promise;
  }

  /** Asks upstream what the tag names now (HEAD), fetching the manifest when it is new to the cache. */
  private async revalidateTag(
    route: Route,
    repository: string,
    tag: string,
    cached: string | undefined,
  ): Promise<ManifestOutcome> {
    const asked = this.now();
    try {
      const { res } = await route.entry.pool.send(route.name, {
        method: 'HEAD',
        url: `/v2/${route.name}/manifests/${tag}`,
        scopes: [repositoryScope(route.name, 'pull')],
        headers: { Accept: MANIFEST_ACCEPT },
      });
      await res.discard();
      if (res.status !== 200) throw this.refusal(res, route, `${route.name}:${tag}`);
      const digest = res.header('docker-content-digest');
      if (cached !== undefined && digest === cached) {
        await this.registry.meta.confirmUpstream(repository, tag, asked);
        this.count('manifest', 'hit');
        return { digest: cached, stale: false };
      }
      const stored = await this.fetchManifest(route, repository, digest && isDigestLike(digest) ? digest : tag, tag);
      await this.registry.meta.confirmUpstream(repository, tag, asked);
      this.count('manifest', 'miss');
      return { digest: stored, stale: false };
    } catch (e) {
      if (e instanceof UpstreamUnavailable && cached !== undefined) {
        this.count('manifest', 'stale');
        this.options.log.warn(
          { repository, tag, digest: cached, reason: e.message },
          'serving a cached tag its upstream could not confirm (stale)',
        );
        return { digest: cached, stale: true };
      }
      throw this.unavailable(e);
    }
  }

  /** GETs a manifest upstream (by digest or tag) and stores it, under `tag` when given; its digest. */
  private async fetchManifest(route: Route, repository: string, ref: string, tag: string | undefined): Promise<string> {
    const { res, upstream } = await route.entry.pool.send(route.name, {
      method: 'GET',
      url: `/v2/${route.name}/manifests/${ref}`,
      scopes: [repositoryScope(route.name, 'pull')],
      headers: { Accept: MANIFEST_ACCEPT },
    });
    if (res.status !== 200) {
      await res.discard();
      throw this.refusal(res, route, `${route.name}${isDigestLike(ref) ? '@' : ':'}${ref}`);
    }
    const bytes = await res.buffer(this.registry.maxManifestBytes).catch((e: unknown) => {
      throw new UpstreamUnavailable(`${upstream}: reading the manifest ${ref} failed: ${(e as Error).message}`);
    });
    this.options.metrics?.proxyUpstreamBytes.inc({ upstream }, bytes.length);
    if (isDigestLike(ref)) {
      const wanted = parseDigest(ref);
      const actual = digestBytes(bytes, wanted.algorithm).value;
      if (actual !== wanted.value)
        throw new UpstreamUnavailable(`${upstream} answered ${ref} with bytes whose digest is ${actual}`);
    }
    const stored = await this.registry.cacheManifest(
      repository,
      tag ?? ref,
      manifestMediaType(res.header('content-type'), bytes),
      bytes,
    );
    return stored.digest;
  }

  // ---- blobs ----------------------------------------------------------------

  async blobSize(repository: string, digest: string): Promise<number> {
    const route = this.route(repository);
    try {
      const { res } = await route.entry.pool.send(route.name, {
        method: 'HEAD',
        url: `/v2/${route.name}/blobs/${digest}`,
        scopes: [repositoryScope(route.name, 'pull')],
      });
      await res.discard();
      if (res.status === 404) throw new RegistryError('BLOB_UNKNOWN', undefined, { digest });
      if (res.status !== 200) throw this.refusal(res, route, `${route.name}@${digest}`);
      const size = Number(res.header('content-length'));
      if (!Number.isSafeInteger(size) || size < 0)
        throw new UpstreamUnavailable(`the upstream of ${repository} gave no size for ${digest}`);
      return size;
    } catch (e) {
      throw this.unavailable(e);
    }
  }

  async blobBody(repository: string, digest: string, size: number, request: BodyRequest): Promise<BlobBody> {
    const route = this.route(repository);
    const key = `${repository}@${digest}`;
    if (request.range) {
      // The whole blob is cached in the background (or the fetch running is joined) while
      // the range itself is asked upstream: the client does not wait for the rest.
      if (!this.blobFlights.has(key)) void this.fetchInBackground(key, route, repository, digest, size);
      const stream = await this.rangeFromUpstream(route, digest, request.range).catch((e: unknown) => {
        throw this.unavailable(e);
      });
      return { kind: 'stream', stream };
    }
    // A fetch already running: wait for the blob to be cached, then serve it from here.
    if (this.blobFlights.has(key)) {
      await this.blobFlights
        .run(key, () => this.fetchBlob(route, repository, digest, size, undefined, () => undefined))
        .promise.catch((e: unknown) => {
          throw this.unavailable(e);
        });
      return this.registry.blobBody(repository, await this.registry.statBlob(repository, digest), request);
    }
    const client = new PassThrough();
    let answered!: () => void;
    const streaming = new Promise<void>((resolve) => (answered = resolve));
    const promise = this.fetchInBackground(key, route, repository, digest, size, client, answered);
    await Promise.race([streaming, promise]).catch((e: unknown) => {
      throw this.unavailable(e);
    });
    return { kind: 'stream', stream: client };
  }

  /** Starts the single fetch of a blob; it outlives the request that started it, so its failure is logged, not thrown at nobody. */
  private fetchInBackground(
    key: string,
    route: Route,
    repository: string,
    digest: string,
    size: number,
    client?: PassThrough,
    answered: () => void = () => undefined,
  ): Promise<void> {
    const { promise } = this.blobFlights.run(key, () =>
      this.fetchBlob(route, repository, digest, size, client, answered),
    );
    promise.catch((err: unknown) =>
      this.options.log.warn(
        { repository, digest, err: (err as Error).message },
        'fetching a blob from upstream failed',
      ),
    );
    return promise;
  }

  /**
   * The bytes of `range` of a blob, asked upstream with a Range header (an upstream that
   * ignores it and sends the whole blob is cut to the range). Not stored: the full fetch does that.
   */
  private async rangeFromUpstream(route: Route, digest: string, range: ByteRange): Promise<Readable> {
    const { res, upstream } = await route.entry.pool.send(route.name, {
      method: 'GET',
      url: `/v2/${route.name}/blobs/${digest}`,
      scopes: [repositoryScope(route.name, 'pull')],
      headers: { Range: `bytes=${range.start}-${range.end}` },
    });
    let skip = 0;
    if (res.status === 206) {
      const m = /^bytes (\d+)-(\d+)\//.exec(res.header('content-range') ?? '');
      if (!m || Number(m[1]) !== range.start || Number(m[2]) !== range.end) {
        await res.discard();
        throw new UpstreamUnavailable(`${upstream} answered the range of ${digest} with another range`);
      }
    } else if (res.status === 200) {
      skip = range.start;
    } else {
      await res.discard();
      throw res.status === 404
        ? new RegistryError('BLOB_UNKNOWN', undefined, { digest })
        : this.refusal(res, route, `${route.name}@${digest}`);
    }
    const metrics = this.options.metrics;
    const length = range.end - range.start + 1;
    const body = res.body;
    return Readable.from(
      (async function* () {
        let sent = 0;
        try {
          for await (const chunk of body as AsyncIterable<Buffer>) {
            metrics?.proxyUpstreamBytes.inc({ upstream }, chunk.length);
            const from = Math.min(skip, chunk.length);
            skip -= from;
            const part = chunk.subarray(from, from + length - sent);
            if (part.length > 0) yield part;
            sent += part.length;
            if (sent === length) return;
          }
          if (sent < length)
            throw new Error(`${upstream} ended the range of ${digest} after ${sent} of ${length} bytes`);
        } finally {
          // A client gone, or the range complete before the body: the connection is not reused.
          if (!body.readableEnded) body.destroy();
        }
      })(),
      { objectMode: false },
    );
  }

  /**
   * GETs a blob upstream and stores it, writing each chunk to `client` too while it
   * listens (the slower of the two sets the pace). `client` ends only once the blob
   * is stored; it is destroyed if the fetch or the digest check fails. A client that
   * closes early is dropped and the fetch goes on.
   */
  private async fetchBlob(
    route: Route,
    repository: string,
    digest: string,
    size: number,
    client: PassThrough | undefined,
    answered: () => void,
  ): Promise<void> {
    let listener = client;
    try {
      const { res, upstream } = await route.entry.pool.send(route.name, {
        method: 'GET',
        url: `/v2/${route.name}/blobs/${digest}`,
        scopes: [repositoryScope(route.name, 'pull')],
      });
      if (res.status !== 200) {
        await res.discard();
        throw res.status === 404
          ? new RegistryError('BLOB_UNKNOWN', undefined, { digest })
          : this.refusal(res, route, `${route.name}@${digest}`);
      }
      answered();
      this.count('blob', 'miss');
      listener?.once('close', () => (listener = undefined));
      const toStore = new PassThrough();
      const stored = this.registry.cacheBlob(repository, digest, toStore);
      stored.catch(() => {
        // The store gave up (quota, disk): stop reading upstream and writing to it.
        toStore.destroy();
        res.body.destroy();
      });
      let received = 0;
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          received += chunk.length;
          this.options.metrics?.proxyUpstreamBytes.inc({ upstream }, chunk.length);
          if (received > size) throw new Error(`upstream sent more than the ${size} bytes it announced`);
          if (toStore.destroyed) break;
          toStore.write(chunk);
          listener?.write(chunk);
          // Asked after both writes: one may drain while the other is awaited.
          if (toStore.writableNeedDrain) await drained(toStore);
          if (listener?.writableNeedDrain) await drained(listener);
        }
        toStore.end();
      } catch (e) {
        toStore.destroy(e as Error);
      }
      await stored;
      listener?.end();
    } catch (e) {
      listener?.destroy(e as Error);
      throw e;
    }
  }

  // ---- referrers ------------------------------------------------------------

  async referrers(repository: string, subject: string): Promise<void> {
    const route = this.route(repository);
    const key = `referrers:${subject}`;
    const at = await this.registry.meta.upstreamConfirmedAt(repository, key);
    if (at !== undefined && this.now() - at < route.entry.rule.tagTtlSeconds * 1000) {
      this.count('referrers', 'hit');
      return;
    }
    await this.referrerFlights.run(`${repository}:${key}`, async () => {
      const asked = this.now();
      try {
        for (const digest of await this.upstreamReferrers(route, repository, subject)) {
          if (!(await this.registry.meta.getManifest(repository, digest)))
            await this.fetchManifest(route, repository, digest, undefined);
        }
        await this.registry.meta.confirmUpstream(repository, key, asked);
        this.count('referrers', 'miss');
      } catch (e) {
        if (!(e instanceof UpstreamUnavailable)) throw e;
        // The referrers cached so far answer.
        this.count('referrers', 'stale');
        this.options.log.warn({ repository, subject, reason: e.message }, 'serving cached referrers (stale)');
      }
    }).promise;
  }

  /** The referrers' digests: the referrers API, or the `sha256-<hex>` tag on upstreams without it. */
  private async upstreamReferrers(route: Route, repository: string, subject: string): Promise<string[]> {
    const { res } = await route.entry.pool.send(route.name, {
      method: 'GET',
      url: `/v2/${route.name}/referrers/${subject}`,
      scopes: [repositoryScope(route.name, 'pull')],
      headers: { Accept: MT.ociIndex },
    });
    let index: Buffer | undefined;
    if (res.status === 200 && (res.header('content-type') ?? '').startsWith(MT.ociIndex)) {
      index = await res.buffer(this.registry.maxManifestBytes);
    } else {
      await res.discard();
      if (res.status === 401 || res.status === 403) throw this.refusal(res, route, `${route.name} referrers`);
      const tag = referrersTag(subject);
      try {
        const { digest } = await this.manifest(repository, tag);
        index = (await this.registry.meta.getManifest(repository, digest))?.content;
      } catch (e) {
        if (e instanceof RegistryError && e.code === 'MANIFEST_UNKNOWN') return [];
        throw e;
      }
    }
    const doc = JSON.parse(index?.toString('utf8') ?? '{}') as { manifests?: { digest?: unknown }[] | null };
    return (doc.manifests ?? [])
      .map((m) => m.digest)
      .filter((d): d is string => typeof d === 'string' && isDigestLike(d));
  }

  // ---- errors ---------------------------------------------------------------

  /** What a final upstream answer other than 200 means for the client. */
  private refusal(res: HttpResponse, route: Route, what: string): RegistryError {
    if (res.status === 404) return new RegistryError('MANIFEST_UNKNOWN', `${what} is not upstream`, { name: what });
    if (res.status === 401 || res.status === 403)
      return new RegistryError(
        'DENIED',
        `the upstream of "${route.entry.rule.prefix}" refused access to ${what} (HTTP ${res.status}): check the proxy entry's credentials`,
        { name: what },
      );
    return new RegistryError('UNAVAILABLE', `the upstream answered ${what} with HTTP ${res.status}`, { name: what });
  }

  /** UpstreamUnavailable as the client sees it: 429 with Retry-After when rate-limited, else 503. */
  private unavailable(e: unknown): unknown {
    if (!(e instanceof UpstreamUnavailable)) return e;
    if (e.retryAfterMs !== undefined)
      return new RegistryError('TOOMANYREQUESTS', `upstream rate-limited and nothing cached: ${e.message}`, undefined, {
        'Retry-After': String(Math.max(1, Math.ceil(e.retryAfterMs / 1000))),
      });
    return new RegistryError('UNAVAILABLE', `upstream unreachable and nothing cached: ${e.message}`, undefined, {
      'Retry-After': '30',
    });
  }

  close(): void {
    for (const e of this.entries) e.pool.close();
  }
}

/** Resolves when a writable can take more, or is gone. */
function drained(stream: NodeJS.WritableStream & { destroyed?: boolean }): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.removeListener('drain', done);
      stream.removeListener('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
  });
}
