import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { RegistryError, exhaustionError } from '../core/errors.js';
import { isValidRepositoryName } from '../core/names.js';
import type { Registry } from '../registry/registry.js';
import type { AccessControl } from './access.js';
import { OpenAccess } from './access.js';
import type { AuditNotes, RequestContext } from './context.js';
import { API_VERSION_HEADER, sendError, toRegistryErrors } from './respond.js';
import { logRequest } from './request-log.js';
import { markBodyStalled } from './request-body.js';
import { methodLabel, type Metrics } from '../metrics/metrics.js';
import type { MetricsEndpoint } from './metrics-endpoint.js';
import { matchRoute, type Access } from './routes.js';
import type { AuditLog } from '../audit/audit-log.js';
import { auditRequest } from './audit-request.js';
import type { ApiMount, MountedRequest } from './api-mount.js';
import type { UiMount } from './ui-mount.js';

export interface HttpServerOptions {
  registry: Registry;
  log: Logger;
  access?: AccessControl;
  /** Serve HTTPS with this PEM certificate (chain) and key. */
  tls?: { cert: Buffer; key: Buffer };
  limits?: Partial<ConnectionLimits>;
  /** Request metrics are recorded here (absent: none). */
  metrics?: Metrics;
  /** Serve `/metrics` on this server (absent: 404 there). */
  metricsEndpoint?: MetricsEndpoint;
  /** The audit trail (absent: off). */
  audit?: AuditLog;
  /** Stowage's own JSON API (src/api, `/api/v1`); absent: 404 there like any unknown path. */
  api?: ApiMount;
  /** The web UI (src/ui), for GET/HEAD of paths no route claims outside the APIs; absent: 404 there. */
  ui?: UiMount;
}

/** What one client can make the server hold open (README "Security"). */
export interface ConnectionLimits {
  /** A request body that sends no byte for this long is cut. */
  bodyTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

const DEFAULT_LIMITS: ConnectionLimits = {
  bodyTimeoutMs: 60_000,
  headersTimeoutMs: 30_000,
  keepAliveTimeoutMs: 65_000,
  maxConnections: 1024,
  maxConnectionsPerAddress: 256,
};

export interface RegistryServer {
  server: Server;
  /** Flipped off at shutdown so /readyz answers 503. */
  state: { ready: boolean };
}

/**
 * The HTTP layer: parse the path, find the route, check access, run the handler,
 * map errors to OCI bodies, log one line per request. Nothing else lives here.
 */
export function createRegistryServer(options: HttpServerOptions): RegistryServer {
  const { registry, log, metrics } = options;
  const access = options.access ?? new OpenAccess();
  const state = { ready: true };

  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  // No whole-request deadline (multi-gigabyte uploads over slow links): a body is
  // cut only when it stops sending (bodyTimeoutMs, watched per request below).
  const serverOptions = {
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: 0,
    // How often Node looks for connections past headersTimeout (its default, 30 s, would double a short one).
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    watchBody(req, limits.bodyTimeoutMs);
    void handle(req, res);
  };
  const server: Server = options.tls
    ? createTlsServer({ ...serverOptions, ...options.tls }, listener)
    : createServer(serverOptions, listener);
  server.timeout = 0;
  // HTTP/1.1 lets a client close its sending side after a complete request: answer
  // it anyway (Node would otherwise abort the request when the read side ends).
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  server.maxConnections = limits.maxConnections;
  // Out of descriptors, libuv drops the connections it cannot accept; if even that
  // fails, accept()'s error arrives here, and unheard it would end the process.
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (err.syscall === 'accept') log.warn({ err }, 'could not accept a connection');
  });
  limitPerAddress(server, limits.maxConnectionsPerAddress, options.tls !== undefined);
  // Requests Node itself cannot parse still get an OCI error body and the API version header.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const body = JSON.stringify({
      errors: [{ code: 'UNSUPPORTED', message: `bad request: ${err.code ?? 'malformed'}` }],
    });
    socket.end(
      `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `${API_VERSION_HEADER[0]}: ${API_VERSION_HEADER[1]}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const id = randomUUID();
    const reqLog = log.child({ reqId: id });
    res.setHeader(API_VERSION_HEADER[0], API_VERSION_HEADER[1]);
    res.setHeader('X-Request-Id', id);
    let path = '';
    let query = new URLSearchParams();
    let route = 'none';
    const notes: AuditNotes = {};
    let routeAccess: Access | undefined;
    let params: { name?: string; ref?: string } = {};
    // Set when the request is the mounted API's: who it found the caller to be.
    let mounted: MountedRequest['seen'] | undefined;
    const user = () => (mounted ? mounted.user : access.principal(req));
    if (options.audit)
      auditRequest(options.audit, req, res, {
        get route() {
          return mounted ? mounted.route : route;
        },
        get access() {
          return mounted ? mounted.access : routeAccess;
        },
        get params() {
          return mounted ? mounted.params : params;
        },
        notes,
        user,
        tokenId: () => (mounted ? mounted.tokenId : access.tokenId?.(req)),
      });
    try {
      // RFC 9112 absolute-form ("GET http://host/v2/ HTTP/1.1"): route on the path only.
      const url = (req.url ?? '/').replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i, '') || '/';
      const q = url.indexOf('?');
      path = q === -1 ? url : url.slice(0, q);
      query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
      const method = req.method ?? 'GET';
      if (options.api?.owns(path)) {
        route = options.api.routeName(method, path);
        if (metrics) startObserving(metrics, req, res, route);
        const seen: MountedRequest['seen'] = { route, params: {} };
        mounted = seen;
        await options.api.handle({ req, res, path, query, log: reqLog, seen, audit: notes, state });
        return;
      }
      const match = matchRoute(method, path);
      if (match.kind !== 'not-found') route = match.name;
      else if (options.ui?.owns(method, path)) route = 'ui';
      if (metrics) startObserving(metrics, req, res, route);
      if (route === 'ui') {
        options.ui!.handle(req, res, path);
        return;
      }
      if (match.kind === 'not-found') throw new RegistryError('NOT_FOUND', `no route for ${path.slice(0, 200)}`);
      if (match.kind === 'method-not-allowed') {
        res.setHeader('Allow', match.allowed.join(', '));
        throw new RegistryError('METHOD_NOT_ALLOWED', `${method} is not allowed here`);
      }
      routeAccess = match.access;
      params = decodeParams(match.params);
      await access.check(req, match.access, params.name);
      const ctx: RequestContext = {
        req,
        res,
        registry,
        log: reqLog,
        params,
        query,
        state,
        canPull: (repo) => access.canPull(req, repo),
        isAdmin: () => access.isAdmin?.(req) ?? false,
        principal: () => access.principal(req),
        tokenEndpoint: access.tokenEndpoint,
        ...(options.metricsEndpoint ? { metricsEndpoint: options.metricsEndpoint } : {}),
        audit: notes,
      };
      await match.handler(ctx);
    } catch (e) {
      if (!(e instanceof RegistryError) && !isRegistryErrors(e)) {
        if (isClientGone(req, e)) {
          reqLog.info({ err: e }, 'client went away');
        } else if (exhaustionError(e)) {
          reqLog.warn({ err: e }, 'out of a system resource: answered 503');
        } else {
          reqLog.error({ err: e }, 'request failed');
        }
      }
      if (metrics) countRefusal(metrics, req, route, e);
      sendError(req, res, e);
    } finally {
      logRequest(reqLog, req, res, { path, query, started, user });
    }
  }

  return { server, state };
}

/** In-flight gauges now; count, duration and bytes once the response is done. */
// Socket bytes already counted, per connection: a small body arrives with its headers,
// so "bytesRead at request start" would already include it.
const COUNTED = Symbol('bytes counted');

function startObserving(metrics: Metrics, req: IncomingMessage, res: ServerResponse, route: string): void {
  const started = process.hrtime.bigint();
  const method = methodLabel(req.method);
  const upload =
    (route === 'blob_upload' || route === 'blob_upload_chunk') &&
    (method === 'POST' || method === 'PATCH' || method === 'PUT');
  metrics.inFlight.labels(route).inc();
  if (upload) metrics.uploadsInFlight.inc();
  res.once('close', () => {
    metrics.inFlight.labels(route).dec();
    if (upload) metrics.uploadsInFlight.dec();
    const code = String(res.statusCode);
    metrics.requests.labels(route, method, code).inc();
    metrics.duration.labels(route, method, code).observe(Number(process.hrtime.bigint() - started) / 1e9);
    const socket = req.socket as (typeof req.socket & { [COUNTED]?: number }) | null;
    if (socket) {
      const counted = socket[COUNTED] ?? 0;
      metrics.received.labels(route).inc(Math.max(0, socket.bytesRead - counted));
      socket[COUNTED] = socket.bytesRead;
    }
    const len = Number(res.getHeader('content-length') ?? 0);
    if (len > 0 && req.method !== 'HEAD') metrics.sent.labels(route).inc(len);
  });
}

/** Auth failures and rate-limit refusals, by the error the client gets. */
function countRefusal(metrics: Metrics, req: IncomingMessage, route: string, e: unknown): void {
  const code = toRegistryErrors(e)[0]?.code;
  if (code === 'UNAUTHORIZED') metrics.authFailures.labels(req.headers.authorization ? 'rejected' : 'challenge').inc();
  else if (code === 'DENIED') metrics.authFailures.labels('denied').inc();
  else if (code === 'TOOMANYREQUESTS') metrics.rateLimited.labels(route).inc();
}

/**
 * Cuts a request whose body stops arriving for `ms` while the server is reading it
 * (the connection closes; a PATCH keeps the bytes that arrived, see bodyKeptOnStall).
 * Time the server itself spends not reading (a full buffer, a handler still
 * waiting) is not the client's silence. The watch ends with the body, so
 * responses and server-side work are never timed.
 */
function watchBody(req: IncomingMessage, ms: number): void {
  const length = req.headers['content-length'];
  if (req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) return;
  const socket = req.socket;
  const stalled = () => {
    if (req.readableLength > 0 || req.readableFlowing === false) {
      socket.setTimeout(ms);
      return;
    }
    markBodyStalled(req);
    socket.destroy();
  };
  socket.setTimeout(ms);
  socket.on('timeout', stalled);
  const done = () => {
    socket.setTimeout(0);
    socket.off('timeout', stalled);
  };
  req.once('end', done);
  req.once('close', done);
}

/** At most `max` open connections per client address; the next one gets 503 and is closed. */
function limitPerAddress(server: Server, max: number, tls: boolean): void {
  const open = new Map<string, number>();
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const n = (open.get(address) ?? 0) + 1;
    if (n > max) {
      const body = JSON.stringify({
        errors: [{ code: 'UNAVAILABLE', message: `too many connections from ${address} (at most ${max})` }],
      });
      socket.end(
        `HTTP/1.1 503 Service Unavailable\r\n${API_VERSION_HEADER[0]}: ${API_VERSION_HEADER[1]}\r\nContent-Type: application/json\r\n` +
          `Retry-After: 1\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    open.set(address, n);
    socket.once('close', () => {
      const left = open.get(address)! - 1;
      if (left === 0) open.delete(address);
      else open.set(address, left);
    });
  });
}

function isRegistryErrors(e: unknown): boolean {
  return e instanceof Error && e.name === 'RegistryErrors';
}

function isClientGone(req: IncomingMessage, e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  return (
    req.destroyed ||
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'ECANCELED' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    (e as Error)?.message === 'aborted'
  );
}

/** Percent-decodes route params; the name must already be plain (no %2F tricks). */
function decodeParams(raw: Record<string, string>): RequestContext['params'] {
  const params: RequestContext['params'] = {};
  if (raw.name !== undefined) {
    if (!isValidRepositoryName(raw.name)) {
      throw new RegistryError('NAME_INVALID', 'invalid repository name', { name: raw.name.slice(0, 300) });
    }
    params.name = raw.name;
  }
  if (raw.ref !== undefined) {
    try {
      params.ref = decodeURIComponent(raw.ref);
    } catch {
      throw new RegistryError('DIGEST_INVALID', 'malformed reference', { reference: raw.ref.slice(0, 200) });
    }
  }
  if (raw.id !== undefined) params.id = raw.id;
  return params;
}
