/**
 * Docker token auth on the registry side: every request but health checks and
 * the token endpoint needs `Authorization: Bearer <JWT>` from a trusted issuer
 * whose `access` claim covers what the route needs. Otherwise 401 with a
 * `Bearer realm=…,service=…,scope=…` challenge (`error="invalid_token"` for a
 * bad token, `error="insufficient_scope"` for a good one lacking the action).
 */
import type { IncomingMessage } from 'node:http';
import { RegistryError } from '../core/errors.js';
import type { AccessControl } from '../http/access.js';
import type { Handler } from '../http/context.js';
import type { Access } from '../http/routes.js';
import { accessDetail, bearerChallenge, requiredScopes } from './challenge.js';
import { readAuthorization } from './credentials.js';
import type { JwtVerifier, VerifiedToken } from './jwt.js';
import type { PatStore } from './pat-store.js';
import type { Policy, Subject } from './policy.js';
import { accessGrants } from '../core/scope.js';

export interface TokenAccessOptions {
  verifier: JwtVerifier;
  service: string;
  /** The realm for a request's Host header (challenge.ts realmFor). */
  realm: (host: string | undefined) => string;
  policy: Policy;
  pats: PatStore | undefined;
  tokenEndpoint: Handler;
}

export class TokenAccess implements AccessControl {
  readonly tokenEndpoint: Handler;
  private readonly callers = new WeakMap<IncomingMessage, VerifiedToken>();
  private readonly subjects = new WeakMap<VerifiedToken, Subject>();

  constructor(private readonly o: TokenAccessOptions) {
    this.tokenEndpoint = o.tokenEndpoint;
  }

  async check(req: IncomingMessage, access: Access, repository: string | undefined): Promise<void> {
    if (access === 'none') return;
    const presented = readAuthorization(req.headers.authorization);
    if (presented.kind !== 'bearer') throw this.challenge(req, access, repository);
    const token = await this.o.verifier.verify(presented.token, this.o.service);
    if (!token) throw this.challenge(req, access, repository, 'invalid_token');
    this.callers.set(req, token);
    if (access === 'ping') return;
    const ok =
      access === 'catalog'
        ? accessGrants(token.access, 'registry', 'catalog', '*')
        : repository !== undefined && accessGrants(token.access, 'repository', repository, access);
    if (!ok) throw this.challenge(req, access, repository, 'insufficient_scope');
  }

  /**
   * Mount sources and catalog entries: allowed when the token grants pull, or
   * (for Stowage's own tokens) when the policy lets the token's subject pull,
   * within the limits of the access token it logged in with.
   */
  async canPull(req: IncomingMessage, repository: string): Promise<boolean> {
    const token = this.callers.get(req);
    if (!token) return false;
    if (accessGrants(token.access, 'repository', repository, 'pull')) return true;
    if (!token.local) return false;
    return this.o.policy.allows(await this.subjectOf(token), repository, 'pull');
  }

  isAdmin(req: IncomingMessage): boolean {
    const token = this.callers.get(req);
    return this.o.policy.isAdminCaller(
      token && { user: token.subject, viaPat: typeof token.claims.pat === 'string', local: token.local },
    );
  }

  /**
   * The token's subject; anonymous tokens (empty subject) have none. An external
   * issuer's subjects are qualified by it, so they never pass for local users.
   */
  principal(req: IncomingMessage): string | undefined {
    const token = this.callers.get(req);
    if (!token || token.subject === '') return undefined;
    return token.local ? token.subject : `${token.subject}@${token.issuer}`;
  }

  /** The personal access token a local token was issued for (claim `pat`). */
  tokenId(req: IncomingMessage): string | undefined {
    const token = this.callers.get(req);
    return token?.local && typeof token.claims.pat === 'string' ? token.claims.pat : undefined;
  }

  private async subjectOf(token: VerifiedToken): Promise<Subject> {
    let s = this.subjects.get(token);
    if (!s) {
      const patId = token.claims.pat;
      if (token.subject === '') s = {};
      else if (typeof patId === 'string')
        s = { user: token.subject, limit: (await this.o.pats?.active(patId))?.scopes ?? [] };
      else s = { user: token.subject };
      this.subjects.set(token, s);
    }
    return s;
  }

  private challenge(
    req: IncomingMessage,
    access: Access,
    repository: string | undefined,
    error?: 'invalid_token' | 'insufficient_scope',
  ): RegistryError {
    const scopes = requiredScopes(access, repository, mountSource(req, access));
    const realm = this.o.realm(req.headers.host);
    const header = bearerChallenge({ realm, service: this.o.service, scopes, ...(error ? { error } : {}) });
    const message =
      error === 'insufficient_scope'
        ? 'insufficient scope: the token does not grant this access'
        : error === 'invalid_token'
          ? 'invalid or expired token'
          : 'authentication required';
    return new RegistryError('UNAUTHORIZED', message, scopes.length > 0 ? accessDetail(scopes) : undefined, {
      'WWW-Authenticate': header,
    });
  }
}

/** `POST …/blobs/uploads/?mount=…&from=<repo>`: the challenge asks for pull on the source too. */
export function mountSource(req: IncomingMessage, access: Access): string | undefined {
  if (access !== 'push' || req.method !== 'POST' || !req.url?.includes('from=')) return undefined;
  const q = req.url.indexOf('?');
  const from = new URLSearchParams(req.url.slice(q + 1)).get('from');
  return from ?? undefined;
}
