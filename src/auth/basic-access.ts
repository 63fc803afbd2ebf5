/**
 * Plain Basic auth: credentials (password or personal access token) on every
 * request, checked against the htpasswd file and the policy. Anonymous callers
 * (no header, or podman's empty `Basic Og==`) get what the policy gives
 * `anonymous`; when that is not enough they get 401 with a Basic challenge.
 * An authenticated user lacking permission gets 403 DENIED.
 */
import type { IncomingMessage } from 'node:http';
import { RegistryError } from '../core/errors.js';
import type { AccessControl } from '../http/access.js';
import type { Access } from '../http/routes.js';
import { clientAddress, type Authenticator, type Identity } from './authenticator.js';
import { accessDetail, basicChallenge, requiredScopes } from './challenge.js';
import { readAuthorization } from './credentials.js';
import type { Policy, Subject } from './policy.js';

export interface BasicAccessOptions {
  authenticator: Authenticator;
  policy: Policy;
  /** Text of the Basic realm. */
  realm: string;
}

export class BasicAccess implements AccessControl {
  private readonly callers = new WeakMap<IncomingMessage, Identity | null>();

  constructor(private readonly o: BasicAccessOptions) {}

  async check(req: IncomingMessage, access: Access, repository: string | undefined): Promise<void> {
    if (access === 'none') return;
    const caller = await this.identify(req, access, repository);
    if (access === 'catalog') return; // listing is filtered by canPull
    if (access === 'ping') {
      // docker and podman log in against /v2/: it must challenge anyone unauthenticated.
      if (!caller) throw this.unauthorized(access, repository);
      return;
    }
    if (repository !== undefined && this.o.policy.allows(subjectOf(caller), repository, access)) return;
    if (!caller) throw this.unauthorized(access, repository);
    const scopes = requiredScopes(access, repository);
    throw new RegistryError('DENIED', undefined, accessDetail(scopes));
  }

  isAdmin(req: IncomingMessage): boolean {
    const caller = this.callers.get(req);
    return this.o.policy.isAdminCaller(
      caller ? { user: caller.user, viaPat: caller.pat !== undefined, local: true } : undefined,
    );
  }

  async canPull(req: IncomingMessage, repository: string): Promise<boolean> {
    const caller = this.callers.get(req);
    return this.o.policy.allows(subjectOf(caller ?? undefined), repository, 'pull');
  }

  principal(req: IncomingMessage): string | undefined {
    return this.callers.get(req)?.user;
  }

  tokenId(req: IncomingMessage): string | undefined {
    return this.callers.get(req)?.pat?.id;
  }

  private async identify(
    req: IncomingMessage,
    access: Access,
    repository: string | undefined,
  ): Promise<Identity | undefined> {
    const presented = readAuthorization(req.headers.authorization);
    if (presented.kind === 'none') {
      this.callers.set(req, null);
      return undefined;
    }
    if (presented.kind !== 'basic') throw this.unauthorized(access, repository, 'Basic credentials required');
    const outcome = await this.o.authenticator.authenticate(
      presented.user,
      presented.secret,
      clientAddress(req.socket.remoteAddress),
    );
    if (!outcome.ok) {
      if (outcome.retryAfterMs > 0) {
        throw new RegistryError('TOOMANYREQUESTS', 'too many failed login attempts; try again later', undefined, {
          'Retry-After': String(Math.ceil(outcome.retryAfterMs / 1000)),
        });
      }
      throw this.unauthorized(access, repository, 'incorrect username or password');
    }
    this.callers.set(req, outcome.identity);
    return outcome.identity;
  }

  private unauthorized(access: Access, repository: string | undefined, message?: string): RegistryError {
    const scopes = requiredScopes(access, repository);
    return new RegistryError('UNAUTHORIZED', message, scopes.length > 0 ? accessDetail(scopes) : undefined, {
      'WWW-Authenticate': basicChallenge(this.o.realm),
    });
  }
}

function subjectOf(id: Identity | undefined): Subject {
  if (!id) return {};
  return id.pat ? { user: id.user, limit: id.pat.scopes } : { user: id.user };
}
