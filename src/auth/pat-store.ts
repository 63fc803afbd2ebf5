/**
 * Personal access tokens over the metadata store's TokenStore: issuing (the
 * secret exists only in the returned string), constant-time checks, expiry,
 * revocation. The storage driver keeps the records; this gives them meaning, so
 * any metadata driver (SQLite, PostgreSQL, in-memory) carries tokens unchanged.
 */
import type { AccessTokenRecord, TokenStore } from '../storage/metadata-store.js';
import type { Grant } from './policy.js';
import { generatePat, hashSecret, parsePat, secretMatches } from './pat.js';
import { isAction } from '../core/scope.js';

export interface PatRecord {
  id: string;
  user: string;
  note: string;
  scopes: Grant[];
  /** Unix ms. */
  createdAt: number;
  expiresAt?: number;
  lastUsedAt?: number;
  revokedAt?: number;
}

export type PatCheck = { ok: true; record: PatRecord } | { ok: false; reason: 'unknown' | 'revoked' | 'expired' };

/** Compared against when the id is unknown, so a miss costs what a hit costs. */
const DUMMY = hashSecret('stowage-no-such-token');
/** last_used_at is written at most this often per token (it is informational). */
const TOUCH_EVERY_MS = 60_000;

export class PatStore {
  private readonly touched = new Map<string, number>();

  constructor(private readonly tokens: TokenStore) {}

  /** Creates a token; the returned `token` string is the only time the secret exists. */
  async create(
    user: string,
    scopes: Grant[],
    opts: { expiresInSeconds?: number; note?: string } = {},
    now = Date.now(),
  ): Promise<{ token: string; record: PatRecord }> {
    const { id, secret, token } = generatePat();
    const stored: AccessTokenRecord = {
      id,
      user,
      note: opts.note ?? '',
      scopes: scopes.map((g) => ({ glob: g.glob, actions: [...g.actions] })),
      secretHash: hashSecret(secret),
      createdAt: now,
      ...(opts.expiresInSeconds === undefined ? {} : { expiresAt: now + opts.expiresInSeconds * 1000 }),
    };
    await this.tokens.createToken(stored);
    return { token, record: toRecord(stored) };
  }

  /** Checks a presented token in constant time; `undefined` if it is not PAT-shaped. */
  async check(token: string, now = Date.now()): Promise<PatCheck | undefined> {
    const parsed = parsePat(token);
    if (!parsed) return undefined;
    const stored = await this.tokens.getToken(parsed.id);
    const matches = secretMatches(parsed.secret, stored?.secretHash ?? DUMMY);
    if (!stored || !matches) return { ok: false, reason: 'unknown' };
    if (stored.revokedAt !== undefined) return { ok: false, reason: 'revoked' };
    if (stored.expiresAt !== undefined && stored.expiresAt <= now) return { ok: false, reason: 'expired' };
    this.touch(stored.id, now);
    return { ok: true, record: toRecord(stored) };
  }

  /** The record if the token id exists and is usable now (for refresh grants and catalog filtering). */
  async active(id: string, now = Date.now()): Promise<PatRecord | undefined> {
    const stored = await this.tokens.getToken(id);
    if (!stored || stored.revokedAt !== undefined || (stored.expiresAt !== undefined && stored.expiresAt <= now))
      return undefined;
    return toRecord(stored);
  }

  async get(id: string): Promise<PatRecord | undefined> {
    const stored = await this.tokens.getToken(id);
    return stored && toRecord(stored);
  }

  async list(user?: string): Promise<PatRecord[]> {
    return (await this.tokens.listTokens(user)).map(toRecord);
  }

  /** True if it was active and is now revoked. */
  revoke(id: string, now = Date.now()): Promise<boolean> {
    return this.tokens.revokeToken(id, now);
  }

  private touch(id: string, now: number): void {
    const last = this.touched.get(id) ?? 0;
    if (now - last < TOUCH_EVERY_MS) return;
    if (this.touched.size > 10_000) this.touched.clear();
    this.touched.set(id, now);
    // Informational only (e.g. the database is busy): never fail or delay a login for it.
    this.tokens.touchToken(id, now).catch(() => undefined);
  }
}

function toRecord(t: AccessTokenRecord): PatRecord {
  return {
    id: t.id,
    user: t.user,
    note: t.note,
    // Actions this version does not know are dropped, never widened.
    scopes: t.scopes.map((g) => ({ glob: g.glob, actions: g.actions.filter(isAction) })),
    createdAt: t.createdAt,
    ...(t.expiresAt === undefined ? {} : { expiresAt: t.expiresAt }),
    ...(t.lastUsedAt === undefined ? {} : { lastUsedAt: t.lastUsedAt }),
    ...(t.revokedAt === undefined ? {} : { revokedAt: t.revokedAt }),
  };
}
