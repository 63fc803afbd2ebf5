/**
 * Personal access tokens in the embedded database (`<data>/stowage.db`, table
 * `access_tokens`, see src/storage/sqlite/schema.ts). Shared by the server (to
 * verify) and the CLI (create, list, revoke) through separate connections;
 * WAL mode lets both work at once, so a revocation takes effect immediately.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_VERSION } from '../storage/sqlite/schema.js';
import type { Grant } from './policy.js';
import { generatePat, hashSecret, parsePat, secretMatches } from './pat.js';
import { isAction } from './scope.js';

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

interface Row {
  id: string;
  username: string;
  note: string;
  scopes: string;
  secret_hash: Buffer;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** Compared against when the id is unknown, so a miss costs what a hit costs. */
const DUMMY = hashSecret('stowage-no-such-token');
/** last_used_at is written at most this often per token (it is informational). */
const TOUCH_EVERY_MS = 60_000;

export class PatStore {
  private readonly db: Database.Database;
  private readonly q;
  private readonly touched = new Map<string, number>();

  constructor(path: string, options: { fsync?: boolean } = {}) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.fsync === false ? 'OFF' : 'FULL'}`);
    this.db.pragma('busy_timeout = 5000');
    migrate(this.db);
    const db = this.db;
    this.q = {
      insert: db.prepare<[string, string, string, string, Buffer, number, number | null]>(
        'INSERT INTO access_tokens (id, username, note, scopes, secret_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      get: db.prepare<[string], Row>('SELECT * FROM access_tokens WHERE id = ?'),
      all: db.prepare<[], Row>('SELECT * FROM access_tokens ORDER BY username, created_at'),
      byUser: db.prepare<[string], Row>('SELECT * FROM access_tokens WHERE username = ? ORDER BY created_at'),
      revoke: db.prepare<[number, string]>('UPDATE access_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      touch: db.prepare<[number, string]>('UPDATE access_tokens SET last_used_at = ? WHERE id = ?'),
    };
  }

  /** Creates a token; the returned `token` string is the only time the secret exists. */
  create(user: string, scopes: Grant[], opts: { expiresInSeconds?: number; note?: string } = {}, now = Date.now()): { token: string; record: PatRecord } {
    const { id, secret, token } = generatePat();
    const expiresAt = opts.expiresInSeconds === undefined ? null : now + opts.expiresInSeconds * 1000;
    this.q.insert.run(id, user, opts.note ?? '', JSON.stringify(scopes), hashSecret(secret), now, expiresAt);
    return { token, record: toRecord(this.q.get.get(id)!) };
  }

  /** Checks a presented token in constant time; `undefined` if it is not PAT-shaped. */
  check(token: string, now = Date.now()): PatCheck | undefined {
    const parsed = parsePat(token);
    if (!parsed) return undefined;
    const row = this.q.get.get(parsed.id);
    const matches = secretMatches(parsed.secret, row?.secret_hash ?? DUMMY);
    if (!row || !matches) return { ok: false, reason: 'unknown' };
    if (row.revoked_at !== null) return { ok: false, reason: 'revoked' };
    if (row.expires_at !== null && row.expires_at <= now) return { ok: false, reason: 'expired' };
    this.touch(row.id, now);
    return { ok: true, record: toRecord(row) };
  }

  /** The record if the token id exists and is usable now (for refresh grants and catalog filtering). */
  active(id: string, now = Date.now()): PatRecord | undefined {
    const row = this.q.get.get(id);
    if (!row || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now)) return undefined;
    return toRecord(row);
  }

  get(id: string): PatRecord | undefined {
    const row = this.q.get.get(id);
    return row && toRecord(row);
  }

  list(user?: string): PatRecord[] {
    return (user === undefined ? this.q.all.all() : this.q.byUser.all(user)).map(toRecord);
  }

  /** True if it was active and is now revoked. */
  revoke(id: string, now = Date.now()): boolean {
    return this.q.revoke.run(now, id).changes > 0;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private touch(id: string, now: number): void {
    const last = this.touched.get(id) ?? 0;
    if (now - last < TOUCH_EVERY_MS) return;
    if (this.touched.size > 10_000) this.touched.clear();
    this.touched.set(id, now);
    try {
      this.q.touch.run(now, id);
    } catch {
      // informational only (e.g. the database is busy): never fail a login for it
    }
  }
}

function toRecord(row: Row): PatRecord {
  const scopes = (JSON.parse(row.scopes) as Grant[]).map((g) => ({ glob: g.glob, actions: g.actions.filter(isAction) }));
  return {
    id: row.id,
    user: row.username,
    note: row.note,
    scopes,
    createdAt: row.created_at,
    ...(row.expires_at === null ? {} : { expiresAt: row.expires_at }),
    ...(row.last_used_at === null ? {} : { lastUsedAt: row.last_used_at }),
    ...(row.revoked_at === null ? {} : { revokedAt: row.revoked_at }),
  };
}

/**
 * Brings the shared database up to SCHEMA_VERSION (the CLI may create it before
 * the server ever ran). Same steps as the metadata store's own migration; the
 * IMMEDIATE transaction makes two processes starting together take turns.
 */
function migrate(db: Database.Database): void {
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) throw new Error(`database schema ${current} is newer than this Stowage (${SCHEMA_VERSION})`);
    for (let v = current; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    if (current < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
