/**
 * Stowage's own JSON API under `/api/v1` (docs/api.md), mounted beside `/v2/` by
 * the HTTP server: find the route, learn who calls (session cookie, Basic or
 * Bearer PAT, or nobody), enforce CSRF on cookie mutations and the route's access,
 * run the handler, answer errors as JSON. Handlers live in ./handlers.
 */
import { RegistryError } from '../core/errors.js';
import { isValidRepositoryName } from '../core/names.js';
import type { WebCaller } from '../auth/web-sessions.js';
import type { ApiMount, MountedRequest } from '../http/api-mount.js';
import type { ApiContext, ApiOptions } from './api-context.js';
import { sendApiError } from './api-errors.js';
import { matchApiRoute, type ApiAccess } from './api-routes.js';
import { CSRF_HEADER, readSessionCookie } from './session-cookie.js';

export function createApi(options: ApiOptions): ApiMount {
  return {
    owns: (path) => path === '/api' || path.startsWith('/api/'),
    routeName(method, path) {
      const m = matchApiRoute(method, path);
      return m.kind === 'not-found' ? 'api_none' : m.name;
    },
    async handle(r) {
      try {
        await handle(options, r);
      } catch (e) {
        if (!(e instanceof RegistryError)) r.log.error({ err: e }, 'API request failed');
        sendApiError(r.req, r.res, e);
      }
    },
  };
}

async function handle(options: ApiOptions, r: MountedRequest): Promise<void> {
  const { req, res, path } = r;
  const method = req.method ?? 'GET';
  const match = matchApiRoute(method, path);
  if (match.kind === 'not-found') throw new RegistryError('NOT_FOUND', `no API route for ${path.slice(0, 200)}`);
  if (match.kind === 'method-not-allowed') {
    res.setHeader('Allow', match.allowed.join(', '));
    throw new RegistryError('METHOD_NOT_ALLOWED', `${method} is not allowed here`);
  }
  const params = decodeParams(match.params);
  const ref = params.ref ?? params.tag;
  r.seen.params = { ...(params.name ? { name: params.name } : {}), ...(ref !== undefined ? { ref } : {}) };
  const caller = await identify(options, r);
  if (caller) {
    r.seen.user = caller.user;
    if (caller.pat) r.seen.tokenId = caller.pat.id;
  }
  const sessions = options.sessions;
  const ctx: ApiContext = {
    req,
    res,
    query: r.query,
    log: r.log,
    registry: options.registry,
    options,
    params,
    caller,
    can: (repository, action) => (sessions ? sessions.allows(caller, repository, action) : true),
    isAdmin: () => sessions?.isAdmin(ctx.caller) ?? false,
    audit: r.audit,
    seen: r.seen,
  };
  // A cookie is sent by the browser on its own: a mutation must also prove it
  // came from our page, which alone can read the session's CSRF value.
  // Signing in is the one mutation without a session yet (it takes only JSON).
  const mutation = method !== 'GET' && method !== 'HEAD' && !(match.name === 'api_session' && method === 'POST');
  if (mutation && caller?.via === 'session' && req.headers[CSRF_HEADER] !== caller.csrf)
    throw new RegistryError('CSRF');
  checkAccess(ctx, match.access, r);
  await match.handler(ctx);
}

/** Route access (api-routes.ts): not pullable is 404, pullable but not deletable 403 (or 401 for anonymous callers). */
function checkAccess(ctx: ApiContext, access: ApiAccess, r: MountedRequest): void {
  if (access === 'none') return;
  const name = ctx.params.name!;
  r.seen.access = access;
  if (!ctx.can(name, 'pull')) throw new RegistryError('NAME_UNKNOWN', `repository ${name} not found`);
  if (access === 'delete' && !ctx.can(name, 'delete')) {
    if (!ctx.caller) throw new RegistryError('UNAUTHORIZED', 'sign in to delete');
    throw new RegistryError('DENIED', `you may not delete in ${name}`);
  }
}

/** The caller: `Authorization` wins over the cookie; a stale or invalid cookie is no one. */
async function identify(options: ApiOptions, r: MountedRequest): Promise<WebCaller | undefined> {
  const sessions = options.sessions;
  if (!sessions) return undefined;
  const { req } = r;
  if (req.headers.authorization !== undefined) {
    const presented = await sessions.fromAuthorization(req.headers.authorization, req.socket.remoteAddress);
    if (presented.kind === 'caller') return presented.caller;
    if (presented.kind === 'refused') {
      if (presented.retryAfterMs > 0)
        throw new RegistryError('TOOMANYREQUESTS', 'too many failed login attempts; try again later', undefined, {
          'Retry-After': String(Math.ceil(presented.retryAfterMs / 1000)),
        });
      throw new RegistryError('UNAUTHORIZED', 'incorrect username, password or token');
    }
  }
  const cookie = readSessionCookie(req.headers.cookie);
  return cookie === undefined ? undefined : sessions.resume(cookie);
}

function decodeParams(raw: Record<string, string>): ApiContext['params'] {
  const params: ApiContext['params'] = {};
  if (raw.name !== undefined) {
    if (!isValidRepositoryName(raw.name))
      throw new RegistryError('NAME_INVALID', 'invalid repository name', { name: raw.name.slice(0, 300) });
    params.name = raw.name;
  }
  for (const k of ['tag', 'ref'] as const) {
    if (raw[k] === undefined) continue;
    try {
      params[k] = decodeURIComponent(raw[k]);
    } catch {
      throw new RegistryError('BAD_REQUEST', `malformed ${k}`);
    }
  }
  return params;
}
