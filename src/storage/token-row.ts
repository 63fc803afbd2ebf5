import type { AccessTokenRecord, TokenScope } from './metadata-store.js';

/** An `access_tokens` row as both SQL drivers read it (the schemas name the columns alike). */
export interface TokenRow {
  id: string;
  username: string;
  note: string;
  /** JSON text of the scopes. */
  scopes: string;
  secret_hash: Buffer;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** The row's values in column order: id, username, note, scopes, secret_hash, created_at, expires_at, last_used_at, revoked_at. */
export function tokenValues(
  t: AccessTokenRecord,
): [string, string, string, string, Buffer, number, number | null, number | null, number | null] {
  return [
    t.id,
    t.user,
    t.note,
    JSON.stringify(t.scopes),
    t.secretHash,
    t.createdAt,
    t.expiresAt ?? null,
    t.lastUsedAt ?? null,
    t.revokedAt ?? null,
  ];
}

export function toToken(row: TokenRow): AccessTokenRecord {
  return {
    id: row.id,
    user: row.username,
    note: row.note,
    scopes: JSON.parse(row.scopes) as TokenScope[],
    secretHash: row.secret_hash,
    createdAt: row.created_at,
    ...(row.expires_at === null ? {} : { expiresAt: row.expires_at }),
    ...(row.last_used_at === null ? {} : { lastUsedAt: row.last_used_at }),
    ...(row.revoked_at === null ? {} : { revokedAt: row.revoked_at }),
  };
}
