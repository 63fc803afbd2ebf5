/**
 * The upstream URLs of one `proxy:` entry, tried in order. A connection error, a TLS
 * failure or a 5xx moves on to the next URL; a 429 backs that URL off until its
 * Retry-After and moves on. Auth (Basic, or tokens from the upstream's realm) is the
 * client library's (src/client/session.ts), with the entry's credentials.
 */
import { Repository, RegistryClient, StaticCredentials, isClientError } from '../client/index.js';
import type { HttpResponse } from '../client/http.js';
import type { SessionRequest } from '../client/session.js';
import type { ProxyRule, UpstreamCredentials } from './proxy-rule.js';

/** Backing off a 429 that named no Retry-After. */
const DEFAULT_BACKOFF_MS = 60_000;
/** A Retry-After beyond this is capped (an upstream cannot switch a URL off for days). */
const MAX_BACKOFF_MS = 60 * 60 * 1000;

/** Every upstream URL failed or is backing off; `retryAfterMs` when all of them were rate-limited. */
export class UpstreamUnavailable extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'UpstreamUnavailable';
  }
}

export interface UpstreamAnswer {
  res: HttpResponse;
  /** The upstream URL that answered. */
  upstream: string;
}

export interface PoolObserver {
  /** A URL failed (`reason`: connection, status-5xx, rate-limited); URLs skipped while backing off are not reported again. */
  error(upstream: string, reason: string, detail: string): void;
}

interface Url {
  url: string;
  /** host[:port] as the client names the registry. */
  host: string;
  /** Rate-limited until (epoch ms). */
  until: number;
}

export class UpstreamPool {
  private readonly client: RegistryClient;
  private readonly urls: Url[];

  constructor(
    rule: ProxyRule,
    credentials: UpstreamCredentials | undefined,
    private readonly observer: PoolObserver,
    private readonly now: () => number = Date.now,
  ) {
    this.urls = rule.upstreams.map((url) => ({ url, host: new URL(url).host, until: 0 }));
    try {
      this.client = new RegistryClient({
        credentials: new StaticCredentials(
          Object.fromEntries(this.urls.map((u) => [u.host, credentials ? { ...credentials } : {}])),
        ),
        insecure: rule.insecure,
        ...(rule.caFile !== undefined ? { caFile: rule.caFile } : {}),
        // Failover is ours: the next URL rather than retries of one that failed.
        retries: 0,
        userAgent: 'stowage-proxy/0.1',
      });
    } catch (e) {
      // An unreadable ca_file: the start fails naming the entry.
      if (isClientError(e)) throw new Error(`proxy (prefix ${rule.prefix}): ${e.message}`);
      throw e;
    }
  }

  /**
   * Sends the request to the first URL that answers with anything but a 5xx or 429
   * (a 404 or 401 is an answer); UpstreamUnavailable when none does.
   */
  async send(repository: string, req: SessionRequest): Promise<UpstreamAnswer> {
    const problems: string[] = [];
    let soonest: number | undefined;
    let limited = 0;
    for (const u of this.urls) {
      const now = this.now();
      if (u.until > now) {
        limited++;
        soonest = Math.min(soonest ?? Infinity, u.until - now);
        problems.push(`${u.url}: rate-limited for ${Math.ceil((u.until - now) / 1000)} s more`);
        continue;
      }
      let res: HttpResponse;
      try {
        res = await new Repository(this.client, u.host, repository).request(req);
      } catch (e) {
        // A 429 to the client's ping or token request is the upstream rate-limiting too.
        if (isClientError(e) && e.status === 429) {
          soonest = Math.min(soonest ?? Infinity, this.backOff(u, e.retryAfter, now));
          limited++;
          problems.push(`${u.url}: rate-limited (429)`);
          continue;
        }
        const detail = isClientError(e) ? e.message : (e as Error).message;
        this.observer.error(u.url, 'connection', detail);
        problems.push(`${u.url}: ${detail}`);
        continue;
      }
      if (res.status === 429) {
        await res.discard();
        soonest = Math.min(soonest ?? Infinity, this.backOff(u, res.header('retry-after'), now));
        limited++;
        problems.push(`${u.url}: rate-limited (429)`);
        continue;
      }
      if (res.status >= 500) {
        await res.discard();
        this.observer.error(u.url, 'status-5xx', `HTTP ${res.status}`);
        problems.push(`${u.url}: HTTP ${res.status}`);
        continue;
      }
      return { res, upstream: u.url };
    }
    throw new UpstreamUnavailable(
      `no upstream answered (${problems.join('; ')})`,
      limited === this.urls.length ? soonest : undefined,
    );
  }

  /** Skips `u` until its Retry-After (capped; a default without one); the wait in ms. */
  private backOff(u: Url, retryAfter: string | undefined, now: number): number {
    const wait = Math.min(retryAfterMs(retryAfter, now) ?? DEFAULT_BACKOFF_MS, MAX_BACKOFF_MS);
    u.until = now + wait;
    this.observer.error(u.url, 'rate-limited', `429, retry after ${Math.ceil(wait / 1000)} s`);
    return wait;
  }

  close(): void {
    this.client.close();
  }
}

/** Retry-After as seconds or an HTTP date, in ms from now. */
function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
