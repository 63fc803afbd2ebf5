/**
 * Sign-in sessions of the web UI (`/api/v1/session`): a stateless JWT signed with
 * the registry's token signing key, so every replica sharing the key accepts it,
 * for its own audience (`<service>#session`, never a registry token). It carries
 * the user, the CSRF value mutations must echo, and what it was earned with: the
 * personal access token (whose scopes then limit it, and whose revocation ends it)
 * or a fingerprint of the password hash (a new password ends it).
 *
 * Login goes through the one Authenticator, so it is rate-limited like `/token`.
 */
import { randomBytes } from 'node:crypto';
import type { Action } from '../core/scope.js';
import { clientAddress, type AuthOutcome, type Authenticator, type Identity } from './authenticator.js';
import { readAuthorization } from './credentials.js';
import { signToken, type JwtVerifier, type SigningKey } from './jwt.js';
import type { PatStore } from './pat-store.js';
import type { Policy, Subject } from './policy.js';
import { credentialFingerprint } from './token-endpoint.js';
import { parsePat } from './pat.js';

/** Who is calling the API, and how they proved it. */
export interface WebCaller extends Identity {
  via: 'session' | 'basic' | 'bearer';
  /** Sessions only: the value the `X-Stowage-CSRF` header must carry on mutations. */
  csrf?: string;
}

/** What `Authorization` gave: a caller, nothing, or refused credentials (with a wait when rate-limited). */
export type PresentedCaller =
  { kind: 'caller'; caller: WebCaller } | { kind: 'none' } | { kind: 'refused'; retryAfterMs: number };

export interface WebSessionsOptions {
  key: SigningKey;
  verifier: JwtVerifier;
  issuer: string;
  service: string;
  ttlSeconds: number;
  authenticator: Authenticator;
  policy: Policy;
  pats: PatStore;
  now?: () => number;
}

export function sessionAudience(service: string): string {
  return `${service}#session`;
}

export class WebSessions {
  private readonly now: () => number;

  constructor(private readonly o: WebSessionsOptions) {
    this.now = o.now ?? Date.now;
  }

  get ttlSeconds(): number {
    return this.o.ttlSeconds;
  }

  /** Checks a user name and password or PAT (rate-limited, logged on failure). */
  login(user: string, secret: string, remoteAddress: string | undefined): Promise<AuthOutcome> {
    return this.o.authenticator.authenticate(user, secret, clientAddress(remoteAddress));
  }

  /** A signed session for an identity login returned, and its CSRF value. */
  async issue(id: Identity): Promise<{ token: string; csrf: string }> {
    const nowSec = Math.floor(this.now() / 1000);
    let ttl = this.o.ttlSeconds;
    const csrf = randomBytes(18).toString('base64url');
    let extra: Record<string, unknown>;
    if (id.pat) {
      // A session never outlives the token it was opened with.
      if (id.pat.expiresAt !== undefined)
        ttl = Math.max(1, Math.min(ttl, Math.floor(id.pat.expiresAt / 1000) - nowSec));
      extra = { pat: id.pat.id, csrf };
    } else {
      extra = { cred: credentialFingerprint(this.o.authenticator.credentialOf(id.user) ?? ''), csrf };
    }
    const token = await signToken(
      this.o.key,
      { iss: this.o.issuer, sub: id.user, aud: sessionAudience(this.o.service), access: [], ttl, extra },
      nowSec,
    );
    return { token, csrf };
  }

  /** The caller a session token stands for, if it is valid and what it was earned with still is. */
  async resume(token: string): Promise<WebCaller | undefined> {
    const t = await this.o.verifier.verify(token, sessionAudience(this.o.service));
    if (!t || !t.local || t.subject === '' || typeof t.claims.csrf !== 'string') return undefined;
    const hash = this.o.authenticator.credentialOf(t.subject);
    if (hash === undefined) return undefined;
    const csrf = t.claims.csrf;
    if (typeof t.claims.pat === 'string') {
      const pat = await this.o.pats.active(t.claims.pat, this.now());
      if (!pat || pat.user !== t.subject) return undefined;
      return { user: t.subject, pat, via: 'session', csrf };
    }
    if (t.claims.cred !== credentialFingerprint(hash)) return undefined;
    return { user: t.subject, via: 'session', csrf };
  }

  /**
   * Credentials in `Authorization`, for scripts and the CLI: Basic (user and
   * password or PAT) or `Bearer <PAT>`.
   */
  async fromAuthorization(header: string | undefined, remoteAddress: string | undefined): Promise<PresentedCaller> {
    const presented = readAuthorization(header);
    if (presented.kind === 'none') return { kind: 'none' };
    if (presented.kind === 'malformed') return { kind: 'refused', retryAfterMs: 0 };
    if (presented.kind === 'basic') {
      const outcome = await this.login(presented.user, presented.secret, remoteAddress);
      return outcome.ok
        ? { kind: 'caller', caller: { ...outcome.identity, via: 'basic' } }
        : { kind: 'refused', retryAfterMs: outcome.retryAfterMs };
    }
    if (parsePat(presented.token) === undefined) return { kind: 'refused', retryAfterMs: 0 };
    const check = await this.o.pats.check(presented.token, this.now());
    if (!check?.ok || this.o.authenticator.credentialOf(check.record.user) === undefined)
      return { kind: 'refused', retryAfterMs: 0 };
    return { kind: 'caller', caller: { user: check.record.user, pat: check.record, via: 'bearer' } };
  }

  allows(caller: WebCaller | undefined, repository: string, action: Action): boolean {
    return this.o.policy.allows(subjectOf(caller), repository, action);
  }

  isAdmin(caller: WebCaller | undefined): boolean {
    return this.o.policy.isAdminCaller(caller && { user: caller.user, viaPat: caller.pat !== undefined, local: true });
  }
}

function subjectOf(caller: WebCaller | undefined): Subject {
  if (!caller) return {};
  return caller.pat ? { user: caller.user, limit: caller.pat.scopes } : { user: caller.user };
}
