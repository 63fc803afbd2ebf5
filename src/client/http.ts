/**
 * The HTTP transport under the client: node:http(s) with keep-alive, streamed
 * request and response bodies, retries with exponential backoff on dropped
 * connections and 5xx/429 (only for requests whose body can be replayed), redirects
 * for GET/HEAD (dropping Authorization when the origin changes), and three TLS modes
 * (verify against the system CAs plus --ca-file, or skip verification for --insecure).
 * Failures become ClientErrors (CONNECTION_FAILED / TLS_FAILED) carrying the
 * original error as `cause`.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { rootCertificates } from 'node:tls';
import { ClientError, clientError } from './errors.js';

export type TlsMode = 'verify' | 'insecure';

/** A request body: bytes, or a factory making a fresh stream for every attempt. */
export type Body = Buffer | (() => Readable | Promise<Readable>);

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: Body;
  /** Content-Length for a streamed body (bytes bodies set it themselves). */
  contentLength?: number;
  /** Retry dropped connections, 5xx and 429. Default: true when the body is replayable. */
  retry?: boolean;
  /** Follow redirects (GET/HEAD only). Default true. */
  followRedirects?: boolean;
  tls?: TlsMode;
  /** Idle timeout of the socket, ms. */
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The URL that answered (after redirects). */
  url: URL;
  body: IncomingMessage;
  header(name: string): string | undefined;
  headerAll(name: string): string[];
  buffer(limit?: number): Promise<Buffer>;
  text(limit?: number): Promise<string>;
  json<T = unknown>(limit?: number): Promise<T>;
  /** Reads and drops the body, so the connection can be reused. */
  discard(): Promise<void>;
}

export interface TransportOptions {
  /** Extra CA certificates (PEM) trusted in `verify` mode, on top of the system store. */
  ca?: string | Buffer;
  /** A client certificate (PEM chain) and its key, presented to registries that ask for one (mutual TLS). */
  clientCert?: { cert: Buffer; key: Buffer };
  userAgent?: string;
  /** Retries after the first attempt (default 4). */
  retries?: number;
  /** First backoff delay, doubled per retry (default 250 ms, capped at 8 s). */
  retryDelayMs?: number;
  timeoutMs?: number;
}

const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
/** Errors worth retrying: the connection broke, the server will likely be there again. */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN']);

export function errorCode(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | undefined)?.code;
  return typeof c === 'string' ? c : undefined;
}

export function isTlsError(e: unknown): boolean {
  const code = errorCode(e) ?? '';
  return (
    code.startsWith('ERR_SSL') ||
    code.startsWith('ERR_TLS') ||
    code === 'EPROTO' ||
    /certificate|self[- ]signed|CERT_|UNABLE_TO_VERIFY|DEPTH_ZERO/i.test(`${code} ${(e as Error)?.message ?? ''}`)
  );
}

/** True for failures where retrying the same request may work (connection dropped, timeout). */
export function isTransient(e: unknown): boolean {
  if (e instanceof ClientError) return e.code === 'CONNECTION_FAILED' && isTransient(e.cause);
  const code = errorCode(e);
  return (
    (code !== undefined && TRANSIENT_CODES.has(code)) ||
    (e as Error)?.message === 'socket hang up' ||
    /^HPE_/.test(code ?? '')
  );
}

function origin(u: URL): string {
  return `${u.protocol}//${u.host}`;
}

export class HttpTransport {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  private readonly httpsVerify: https.Agent;
  private readonly httpsInsecure: https.Agent;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly timeoutMs: number;
  readonly userAgent: string;

  constructor(opts: TransportOptions = {}) {
    const identity = opts.clientCert ? { cert: opts.clientCert.cert, key: opts.clientCert.key } : {};
    this.httpsVerify = new https.Agent({
      keepAlive: true,
      maxSockets: 16,
      ...identity,
      ...(opts.ca !== undefined ? { ca: [...rootCertificates, opts.ca.toString()] } : {}),
    });
    this.httpsInsecure = new https.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false, ...identity });
    this.retries = opts.retries ?? 4;
    this.retryDelayMs = opts.retryDelayMs ?? 250;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.userAgent = opts.userAgent ?? 'stowage';
  }

  /** Sends a request, retrying transient failures; throws ClientErrors for network and TLS failures. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const replayable = req.body === undefined || typeof req.body === 'function' || Buffer.isBuffer(req.body);
    const retry = (req.retry ?? true) && replayable;
    let attempt = 0;
    for (;;) {
      let res: HttpResponse;
      try {
        res = await this.sendFollowing(req);
      } catch (e) {
        if (retry && attempt < this.retries && isTransient(e)) {
          await sleep(this.backoff(attempt++));
          continue;
        }
        throw this.wrap(e, req.url);
      }
      if (retry && attempt < this.retries && RETRY_STATUS.has(res.status)) {
        const after = retryAfterMs(res.header('retry-after'));
        await res.discard();
        await sleep(Math.max(after ?? 0, this.backoff(attempt++)));
        continue;
      }
      return res;
    }
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsVerify.destroy();
    this.httpsInsecure.destroy();
  }

  private backoff(attempt: number): number {
    const base = Math.min(8000, this.retryDelayMs * 2 ** attempt);
    return base / 2 + Math.random() * (base / 2);
  }

  private wrap(e: unknown, url: URL): ClientError {
    if (e instanceof ClientError) return e;
    if (url.protocol === 'https:' && isTlsError(e)) {
      return clientError('TLS_FAILED', { registry: url.host, detail: (e as Error).message }, { cause: e });
    }
    const code = errorCode(e);
    return clientError(
      'CONNECTION_FAILED',
      { url: origin(url), ...(code ? { code } : {}), detail: (e as Error)?.message ?? String(e) },
      { cause: e },
    );
  }

  private async sendFollowing(req: HttpRequest): Promise<HttpResponse> {
    let current = req;
    const follow = (req.followRedirects ?? true) && (req.method === 'GET' || req.method === 'HEAD');
    for (let hops = 0; ; hops++) {
      const res = await this.sendOnce(current);
      const location = res.header('location');
      if (!follow || hops >= 5 || ![301, 302, 303, 307, 308].includes(res.status) || !location) return res;
      await res.discard();
      const next = new URL(location, current.url);
      const headers = { ...current.headers };
      if (origin(next) !== origin(current.url)) delete headers.Authorization;
      current = { ...current, url: next, headers };
    }
  }

  private async sendOnce(req: HttpRequest): Promise<HttpResponse> {
    const isHttps = req.url.protocol === 'https:';
    const agent = isHttps ? (req.tls === 'insecure' ? this.httpsInsecure : this.httpsVerify) : this.httpAgent;
    const headers: Record<string, string> = { 'User-Agent': this.userAgent, ...req.headers };
    let body: Readable | Buffer | undefined;
    if (Buffer.isBuffer(req.body)) {
      body = req.body;
      headers['Content-Length'] = String(req.body.length);
    } else if (typeof req.body === 'function') {
      body = await req.body();
      if (req.contentLength !== undefined) headers['Content-Length'] = String(req.contentLength);
    } else if (['PUT', 'POST', 'PATCH'].includes(req.method)) {
      headers['Content-Length'] = '0';
    }
    const send = isHttps ? https.request : http.request;
    return new Promise<HttpResponse>((resolve, reject) => {
      const r = send(req.url, { method: req.method, headers, agent }, (res) => {
        resolve(wrapResponse(res, req.url));
      });
      r.setTimeout(req.timeoutMs ?? this.timeoutMs, () => {
        r.destroy(
          Object.assign(
            new Error(
              `no answer from ${req.url.host} within ${Math.round((req.timeoutMs ?? this.timeoutMs) / 1000)} s`,
            ),
            { code: 'ETIMEDOUT' },
          ),
        );
      });
      r.on('error', (e) => {
        if (body instanceof Readable) body.destroy();
        reject(e);
      });
      if (body instanceof Readable) {
        body.on('error', (e) => r.destroy(e));
        body.pipe(r);
      } else {
        r.end(body);
      }
    });
  }
}

function retryAfterMs(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs)) return Math.min(30_000, Math.max(0, secs * 1000));
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.min(30_000, Math.max(0, at - Date.now()));
}

function wrapResponse(res: IncomingMessage, url: URL): HttpResponse {
  const buffer = async (limit = 4 * 1024 * 1024): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        res.destroy();
        throw Object.assign(new Error(`response body from ${url.host} exceeds ${limit} bytes`), { code: 'ETOOBIG' });
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  };
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    url,
    body: res,
    header: (name) => {
      const v = res.headers[name.toLowerCase()];
      return Array.isArray(v) ? v[0] : v;
    },
    headerAll: (name) => res.headersDistinct[name.toLowerCase()] ?? [],
    buffer,
    text: async (limit) => (await buffer(limit)).toString('utf8'),
    json: async <T>(limit?: number) => JSON.parse((await buffer(limit)).toString('utf8')) as T,
    discard: async () => {
      if (res.readableEnded || res.destroyed) return;
      // Small bodies are drained so the connection goes back to the pool; big ones are cut.
      const length = Number(res.headers['content-length'] ?? NaN);
      if (Number.isFinite(length) && length > 1024 * 1024) {
        res.destroy();
        return;
      }
      await new Promise<void>((resolve) => {
        res
          .once('end', resolve)
          .once('close', resolve)
          .once('error', () => resolve());
        res.resume();
      });
    },
  };
}
