/**
 * The built-in token endpoint (`/token` on the registry's own origin):
 *
 *   GET  /token?service=…&scope=…[&offline_token=true]     Basic credentials or anonymous
 *   POST /token  grant_type=password | refresh_token        OAuth2 form (containerd, helm, docker identity tokens)
 *
 * Answers `{token, access_token, expires_in, issued_at[, refresh_token]}`. A
 * refresh token is handed out only on request (offline_token / access_type=offline)
 * and is a signed JWT for a separate audience, so it is never a registry token;
 * it stops working when the user is removed, their password changes, or the
 * access token it came from is revoked.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { RegistryError } from '../core/errors.js';
import type { Handler, RequestContext } from '../http/context.js';
import { sendJson } from '../http/respond.js';
import { clientAddress, type Authenticator, type Identity } from './authenticator.js';
import { readAuthorization } from './credentials.js';
import { grantScopes } from './grant.js';
import { signToken, type JwtVerifier, type SigningKey } from './jwt.js';
import type { PatStore } from './pat-store.js';
import type { Policy, Subject } from './policy.js';
import { formatScope, parseScopes, type ResourceScope } from '../core/scope.js';

export interface TokenEndpointOptions {
  service: string;
  issuer: string;
  key: SigningKey;
  tokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  authenticator: Authenticator;
  policy: Policy;
  pats: PatStore | undefined;
  verifier: JwtVerifier;
  now?: () => number;
}

const MAX_FORM_BYTES = 64 * 1024;

export function refreshAudience(service: string): string {
  return `${service}#refresh`;
}

/** Ties a refresh token to the password it was earned with: a new password ends it. */
export function credentialFingerprint(hash: string): string {
  return createHash('sha256').update(hash).digest('base64url').slice(0, 22);
}

export function createTokenEndpoint(o: TokenEndpointOptions): Handler {
  const now = o.now ?? Date.now;

  const subjectOf = (id: Identity | undefined): Subject =>
    id ? { user: id.user, ...(id.pat ? { limit: id.pat.scopes } : {}) } : {};

  async function authenticate(ctx: RequestContext, user: string, secret: string): Promise<Identity> {
    ctx.audit.login = { user: user.slice(0, 200) };
    const outcome = await o.authenticator.authenticate(user, secret, clientAddress(ctx.req.socket.remoteAddress));
    if (outcome.ok) {
      if (outcome.identity.pat) ctx.audit.login.tokenId = outcome.identity.pat.id;
      return outcome.identity;
    }
    if (outcome.retryAfterMs > 0) {
      throw new RegistryError('TOOMANYREQUESTS', 'too many failed login attempts; try again later', undefined, {
        'Retry-After': String(Math.ceil(outcome.retryAfterMs / 1000)),
      });
    }
    throw new RegistryError('UNAUTHORIZED', 'incorrect username or password');
  }

  async function issue(
    id: Identity | undefined,
    scopes: ResourceScope[],
  ): Promise<{ token: string; iat: number; access: ResourceScope[] }> {
    const iat = Math.floor(now() / 1000);
    const access = grantScopes(o.policy, subjectOf(id), scopes);
    const token = await signToken(
      o.key,
      {
        iss: o.issuer,
        sub: id?.user ?? '',
        aud: o.service,
        access,
        ttl: o.tokenTtlSeconds,
        ...(id?.pat ? { extra: { pat: id.pat.id } } : {}),
      },
      iat,
    );
    return { token, iat, access };
  }

  async function refreshTokenFor(id: Identity): Promise<string | undefined> {
    if (o.refreshTokenTtlSeconds <= 0) return undefined;
    const nowSec = Math.floor(now() / 1000);
    let ttl = o.refreshTokenTtlSeconds;
    let extra: Record<string, unknown>;
    if (id.pat) {
      if (id.pat.expiresAt !== undefined) ttl = Math.min(ttl, Math.floor(id.pat.expiresAt / 1000) - nowSec);
      extra = { pat: id.pat.id };
    } else {
      const hash = o.authenticator.credentialOf(id.user);
      if (hash === undefined) return undefined;
      extra = { cred: credentialFingerprint(hash) };
    }
    if (ttl < 60) return undefined;
    return signToken(
      o.key,
      { iss: o.issuer, sub: id.user, aud: refreshAudience(o.service), access: [], ttl, extra },
      nowSec,
    );
  }

  /** The identity a refresh token stands for, if it still does. */
  async function redeem(refreshToken: string): Promise<Identity> {
    const invalid = () => new RegistryError('UNAUTHORIZED', 'invalid or expired refresh token');
    const t = await o.verifier.verify(refreshToken, refreshAudience(o.service));
    if (!t || !t.local || t.subject === '') throw invalid();
    const hash = o.authenticator.credentialOf(t.subject);
    if (hash === undefined) throw invalid();
    if (typeof t.claims.pat === 'string') {
      const pat = await o.pats?.active(t.claims.pat, now());
      if (!pat || pat.user !== t.subject) throw invalid();
      return { user: t.subject, pat };
    }
    if (t.claims.cred !== credentialFingerprint(hash)) throw invalid();
    return { user: t.subject };
  }

  function checkService(service: string | null): void {
    if (service !== null && service !== '' && service !== o.service) {
      throw new RegistryError(
        'TOKEN_REQUEST_INVALID',
        `unknown service "${service.slice(0, 100)}" (this is "${o.service}")`,
      );
    }
  }

  function respond(ctx: RequestContext, body: Record<string, unknown>): void {
    sendJson(ctx.res, 200, body, 'application/json', { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  }

  async function get(ctx: RequestContext): Promise<void> {
    const { req, query } = ctx;
    checkService(query.get('service'));
    const presented = readAuthorization(req.headers.authorization);
    if (presented.kind === 'malformed' || presented.kind === 'bearer') {
      throw new RegistryError('UNAUTHORIZED', 'the token endpoint takes Basic credentials or none');
    }
    const id = presented.kind === 'basic' ? await authenticate(ctx, presented.user, presented.secret) : undefined;
    const { token, iat } = await issue(id, parseScopes(query.getAll('scope')));
    const refresh = id && query.get('offline_token') === 'true' ? await refreshTokenFor(id) : undefined;
    respond(ctx, {
      token,
      access_token: token,
      expires_in: o.tokenTtlSeconds,
      issued_at: new Date(iat * 1000).toISOString(),
      ...(refresh ? { refresh_token: refresh } : {}),
    });
  }

  async function post(ctx: RequestContext): Promise<void> {
    const { req } = ctx;
    const type = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      throw new RegistryError('TOKEN_REQUEST_INVALID', 'POST /token takes an application/x-www-form-urlencoded form');
    }
    const form = new URLSearchParams((await readForm(req)).toString('utf8'));
    checkService(form.get('service'));
    const grant = form.get('grant_type');
    let id: Identity;
    let refresh: string | undefined;
    if (grant === 'password') {
      const user = form.get('username') ?? '';
      const password = form.get('password') ?? '';
      if (user === '' || password === '')
        throw new RegistryError('TOKEN_REQUEST_INVALID', 'grant_type=password needs username and password');
      id = await authenticate(ctx, user, password);
      if (form.get('access_type') === 'offline') refresh = await refreshTokenFor(id);
    } else if (grant === 'refresh_token') {
      const given = form.get('refresh_token') ?? '';
      id = await redeem(given);
      ctx.audit.login = { user: id.user, ...(id.pat ? { tokenId: id.pat.id } : {}) };
      refresh = given;
    } else {
      throw new RegistryError('TOKEN_REQUEST_INVALID', 'grant_type must be password or refresh_token');
    }
    const { token, iat, access } = await issue(id, parseScopes([form.get('scope') ?? '']));
    respond(ctx, {
      token,
      access_token: token,
      expires_in: o.tokenTtlSeconds,
      issued_at: new Date(iat * 1000).toISOString(),
      scope: access.map(formatScope).join(' '),
      ...(refresh ? { refresh_token: refresh } : {}),
    });
  }

  return async (ctx) => {
    if (ctx.req.method === 'POST') await post(ctx);
    else await get(ctx);
  };
}

async function readForm(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > MAX_FORM_BYTES) throw new RegistryError('TOKEN_REQUEST_INVALID', 'token request form too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}
