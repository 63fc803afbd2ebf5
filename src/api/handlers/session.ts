import { RegistryError } from '../../core/errors.js';
import { readLimitedBody } from '../../http/request-body.js';
import type { ApiContext, ApiHandler } from '../api-context.js';
import { sendApiEmpty, sendApiJson } from '../api-errors.js';
import { sessionCookie } from '../session-cookie.js';

const MAX_LOGIN_BYTES = 16 * 1024;

function sessionBody(ctx: ApiContext, user: string | undefined, csrf: string | undefined) {
  return {
    user: user ?? null,
    admin: user !== undefined && ctx.isAdmin(),
    csrf: csrf ?? null,
    authEnabled: ctx.options.sessions !== undefined,
  };
}

/** `GET /api/v1/session`: who the caller is, and the CSRF value their mutations carry. */
export const getSession: ApiHandler = async (ctx) => {
  sendApiJson(ctx.res, 200, sessionBody(ctx, ctx.caller?.user, ctx.caller?.csrf));
};

/**
 * `POST /api/v1/session {username, password}` (password or personal access token):
 * sets the session cookie. Only JSON is taken, so a cross-site form cannot post it.
 */
export const startSession: ApiHandler = async (ctx) => {
  const sessions = ctx.options.sessions;
  if (!sessions) throw new RegistryError('BAD_REQUEST', 'authentication is off: there is nothing to sign in to');
  const type = String(ctx.req.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  if (type !== 'application/json') throw new RegistryError('BAD_REQUEST', 'POST a JSON body {username, password}');
  let body: unknown;
  try {
    body = JSON.parse((await readLimitedBody(ctx.req, MAX_LOGIN_BYTES)).toString('utf8'));
  } catch (e) {
    if (e instanceof RegistryError) throw new RegistryError('BAD_REQUEST', 'the sign-in body is too large');
    throw new RegistryError('BAD_REQUEST', 'the body is not JSON');
  }
  const { username, password } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof username !== 'string' || typeof password !== 'string' || username === '' || password === '')
    throw new RegistryError('BAD_REQUEST', 'username and password are needed');
  ctx.audit.login = { user: username.slice(0, 200) };
  const outcome = await sessions.login(username, password, ctx.req.socket.remoteAddress);
  if (!outcome.ok) {
    if (outcome.retryAfterMs > 0)
      throw new RegistryError('TOOMANYREQUESTS', 'too many failed sign-in attempts; try again later', undefined, {
        'Retry-After': String(Math.ceil(outcome.retryAfterMs / 1000)),
      });
    throw new RegistryError('UNAUTHORIZED', 'incorrect username or password');
  }
  const id = outcome.identity;
  if (id.pat) ctx.audit.login.tokenId = id.pat.id;
  ctx.seen.user = id.user;
  const { token, csrf } = await sessions.issue(id);
  // The caller is now the signed-in user (admin rights are computed for them).
  ctx.caller = { ...id, via: 'session', csrf };
  sendApiJson(ctx.res, 200, sessionBody(ctx, id.user, csrf), {
    'Set-Cookie': sessionCookie(token, sessions.ttlSeconds, ctx.options.tls),
  });
};

/** `DELETE /api/v1/session`: clears the cookie (the token itself simply expires). */
export const endSession: ApiHandler = async (ctx) => {
  sendApiEmpty(ctx.res, { 'Set-Cookie': sessionCookie('', 0, ctx.options.tls) });
};
