/**
 * Checks a user name and a secret (password or personal access token), for
 * Basic auth and the token endpoint alike: rate limits failures per client
 * address and per (address, user) — never per user alone, or anyone could lock
 * the owner out from everywhere —, caches successful password checks briefly,
 * and logs failures without the secret.
 */
import type { Logger } from 'pino';
import { CredentialCache } from './credential-cache.js';
import { verifyPassword } from './password.js';
import type { PatRecord, PatStore } from './pat-store.js';
import { parsePat } from './pat.js';
import { FailureLimiter, type LimitOptions } from './rate-limit.js';
import type { UserFile } from './users.js';

export interface Identity {
  user: string;
  /** Set when the secret was a personal access token: its scopes limit the user's rights. */
  pat?: PatRecord;
}

export type AuthOutcome = { ok: true; identity: Identity } | { ok: false; retryAfterMs: number };

export interface AuthenticatorOptions {
  perAddress: LimitOptions;
  /** Failures for one user name from one address. */
  perAddressUser: LimitOptions;
  /** How long a verified password is remembered (0 = always run bcrypt). */
  cacheTtlMs: number;
}

export class Authenticator {
  private readonly byAddress: FailureLimiter;
  private readonly byAddressUser: FailureLimiter;
  private readonly cache: CredentialCache<true>;

  constructor(
    readonly users: UserFile,
    readonly pats: PatStore | undefined,
    options: AuthenticatorOptions,
    private readonly log: Logger,
    now: () => number = Date.now,
  ) {
    this.byAddress = new FailureLimiter(options.perAddress, now);
    this.byAddressUser = new FailureLimiter(options.perAddressUser, now);
    this.cache = new CredentialCache(options.cacheTtlMs, 10_000, now);
  }

  async authenticate(user: string, secret: string, address: string): Promise<AuthOutcome> {
    const hash = this.users.lookup(user);
    const pat = parsePat(secret) !== undefined;
    const cacheKey = hash === undefined || pat ? undefined : this.cache.keyFor(user, secret, hash);
    if (cacheKey !== undefined && this.cache.get(cacheKey)) return { ok: true, identity: { user } };

    const pair = `${address}\u0000${user}`;
    const wait = Math.max(this.byAddress.retryAfterMs(address), this.byAddressUser.retryAfterMs(pair));
    if (wait > 0) {
      this.log.warn(
        { ...(hash === undefined ? { user: '(unknown)' } : { user }), address },
        'authentication refused: too many failed attempts',
      );
      return { ok: false, retryAfterMs: wait };
    }

    // Counted before checking, so a burst of parallel guesses cannot all slip through
    // before the first failure is recorded; taken back if the check succeeds.
    this.byAddress.fail(address);
    this.byAddressUser.fail(pair);
    let identity: Identity | undefined;
    let reason = 'wrong password';
    if (pat) {
      const check = await this.pats?.check(secret);
      if (!check || !check.ok) reason = `token ${check ? check.reason : 'unknown'}`;
      else if (check.record.user !== user) reason = 'token belongs to another user';
      else if (hash === undefined) reason = 'token owner no longer exists';
      else identity = { user, pat: check.record };
    } else if (await verifyPassword(secret, hash, this.users.dummyHash())) {
      identity = { user };
      this.cache.set(cacheKey!, true);
    } else if (hash === undefined) {
      reason = 'unknown user';
    }
    if (identity) {
      this.byAddress.forgive(address);
      this.byAddressUser.forgive(pair);
      return { ok: true, identity };
    }
    // An unknown "user name" may be a password typed in the wrong field: never log it.
    this.log.warn(
      { ...(hash === undefined ? { user: '(unknown)' } : { user }), address, reason },
      'authentication failed',
    );
    return { ok: false, retryAfterMs: 0 };
  }

  /** The user's current stored hash (refresh tokens die when it changes), if the user exists. */
  credentialOf(user: string): string | undefined {
    return this.users.lookup(user);
  }
}

/** `::ffff:1.2.3.4` → `1.2.3.4`; the key rate limits use for a connection. */
export function clientAddress(remote: string | undefined): string {
  if (!remote) return 'unknown';
  return remote.startsWith('::ffff:') ? remote.slice(7) : remote;
}
