import pg from 'pg';
import { setTimeout as delay } from 'node:timers/promises';
import type { Held } from '../metadata-store.js';
import { RegistryError } from '../../core/errors.js';
import { PG_MIGRATIONS } from './schema.js';

export interface PostgresOptions {
  /** postgres://user[:password]@host[:port]/database */
  url: string;
  /** Connections in the pool (default 20). */
  pool?: number;
  /** Schema to use instead of `public` (tests give each store its own). */
  schema?: string;
  /** Give up connecting after this long, so requests fail fast while the database is away (ms, default 3000). */
  connectTimeoutMs?: number;
  /** Longest a single statement may run (ms, default 30000). */
  statementTimeoutMs?: number;
}

/** Seconds a client is told to wait when the database is away. */
const RETRY_AFTER_SECONDS = 5;
/** Any key will do, as long as every replica uses the same one. */
const MIGRATION_LOCK = 0x5707a6e1;

/** BIGINT (int8) as a JS number: sizes and epoch milliseconds stay far below 2^53. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.INT8 && format !== 'binary') return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
};

/** A connection in a transaction, or the pool itself: anything that runs one statement. */
export interface Queryable {
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/**
 * A pool of connections to PostgreSQL, with the two things every query needs:
 * transactions (retried on serialization failures and deadlocks) and the
 * translation of "the database is not there" into 503 UNAVAILABLE with a
 * Retry-After. The pool reconnects by itself when the database comes back.
 */
export class Database implements Queryable {
  readonly pool: pg.Pool;
  /** Connections holding upload fences (hold), made on first use. */
  private holds: pg.Pool | undefined;

  constructor(readonly options: PostgresOptions) {
    this.pool = this.newPool();
  }

  /** A connection of its own, with the pool's settings, not connected yet (LISTEN). */
  client(): pg.Client {
    return new pg.Client(this.connectionConfig());
  }

  private connectionConfig(): pg.ClientConfig {
    const o = this.options;
    const schemaOption = o.schema ? ` -c search_path=${checkIdent(o.schema)}` : '';
    return {
      connectionString: o.url,
      connectionTimeoutMillis: o.connectTimeoutMs ?? 3000,
      options: `-c statement_timeout=${o.statementTimeoutMs ?? 30_000}${schemaOption}`,
      types,
    };
  }

  private newPool(): pg.Pool {
    const o = this.options;
    const pool = new pg.Pool({ ...this.connectionConfig(), max: o.pool ?? 20, idleTimeoutMillis: 30_000 });
    // A connection that dies while idle must not crash the process; the pool drops it.
    pool.on('error', () => undefined);
    return pool;
  }

  async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (e) {
      throw translate(e);
    }
  }

  /**
   * Like query, as a named (prepared) statement: each connection parses and plans
   * it once, then only binds and executes. For the hot read paths (HEAD, manifest
   * GET); `name` must be unique per text, and the text must be static.
   */
  async prepared<R extends pg.QueryResultRow>(
    name: string,
    text: string,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>({ name, text, values });
    } catch (e) {
      throw translate(e);
    }
  }

  private connect(): Promise<pg.PoolClient> {
    return this.pool.connect().catch((e: unknown) => {
      throw translate(e);
    });
  }

  /** Runs `fn` in one transaction on one connection; retries it when PostgreSQL asks to. */
  async tx<T>(fn: (c: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.connect();
      // A connection that failed mid-transaction is destroyed, not returned to the pool.
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        broken = isConnectionError(e);
        if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
        if (attempt < MAX_TX_ATTEMPTS && isRetryable(e)) {
          // Two linkers of one blob both hold its row FOR SHARE and then update it: one is
          // chosen as the deadlock victim. Retrying at once can meet the same partner again;
          // a short random wait lets the other commit first.
          await delay(Math.random() * 10 * attempt);
          continue;
        }
        throw translate(e);
      } finally {
        client.release(broken);
      }
    }
  }

  /**
   * Runs `fn` only if no other process (replica) holds the named lock right now;
   * resolves to false without running it otherwise. Session-level advisory lock:
   * if this process dies, PostgreSQL releases it with the connection.
   */
  async exclusively(name: string, fn: () => Promise<void>): Promise<boolean> {
    return (await this.lock(this.pool, 'hashtext($1)::bigint', name, fn)).held;
  }

  /**
   * Like exclusively, for many short-lived names (upload sessions): a 64-bit key from
   * the name, and connections of a pool of their own, so holders streaming a body
   * never starve the queries they make meanwhile.
   */
  async hold<T>(name: string, fn: () => Promise<T>): Promise<Held<T>> {
    this.holds ??= this.newPool();
    return this.lock(this.holds, "('x' || substr(md5($1), 1, 16))::bit(64)::bigint", name, fn);
  }

  private async lock<T>(pool: pg.Pool, key: string, name: string, fn: () => Promise<T>): Promise<Held<T>> {
    const client = await pool.connect().catch((e: unknown) => {
      throw translate(e);
    });
    let broken = false;
    try {
      const got = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${key}) AS ok`, [name]);
      if (!got.rows[0]!.ok) return { held: false };
      try {
        return { held: true, value: await fn() };
      } finally {
        await client.query(`SELECT pg_advisory_unlock(${key})`, [name]).catch(() => (broken = true));
      }
    } catch (e) {
      throw translate(e);
    } finally {
      client.release(broken);
    }
  }

  /** Versions of the migrations this database has not applied yet. */
  async pendingMigrations(): Promise<number[]> {
    const applied = await this.appliedVersion(this);
    return PG_MIGRATIONS.map((_, i) => i + 1).filter((v) => v > applied);
  }

  /**
   * Applies pending migrations, each in its own transaction, under an advisory
   * lock: replicas starting together wait for one another instead of racing.
   */
  async migrate(): Promise<number[]> {
    const client = await this.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        if (this.options.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${checkIdent(this.options.schema)}`);
        await client.query(
          'CREATE TABLE IF NOT EXISTS stowage_schema (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
        );
        const current = await this.appliedVersion(client);
        if (current > PG_MIGRATIONS.length) {
          throw new Error(`database schema ${current} is newer than this Stowage (${PG_MIGRATIONS.length})`);
        }
        const applied: number[] = [];
        for (let v = current + 1; v <= PG_MIGRATIONS.length; v++) {
          await client.query('BEGIN');
          try {
            await client.query(PG_MIGRATIONS[v - 1]!);
            await client.query('INSERT INTO stowage_schema (version, applied_at) VALUES ($1, $2)', [v, Date.now()]);
            await client.query('COMMIT');
          } catch (e) {
            await client.query('ROLLBACK');
            throw e;
          }
          applied.push(v);
        }
        return applied;
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      }
    } catch (e) {
      throw translate(e);
    } finally {
      client.release();
    }
  }

  /** The newest applied migration; 0 for an empty database (nothing is created to find out). */
  private async appliedVersion(q: Queryable): Promise<number> {
    const exists = await q.query<{ t: string | null }>("SELECT to_regclass('stowage_schema')::text AS t");
    if (!exists.rows[0]?.t) return 0;
    const r = await q.query<{ v: number | null }>('SELECT max(version) AS v FROM stowage_schema');
    return r.rows[0]?.v ?? 0;
  }

  /** Resolves when the database answers a trivial query. */
  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end(), this.holds?.end()]);
  }
}

/** Schema names go into SQL and connection options as they are: only plain identifiers. */
function checkIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name))
    throw new Error(`invalid schema name "${name}" (lower-case letters, digits, _)`);
  return name;
}

/** SQLSTATEs worth running the transaction again for: serialization failure, deadlock. */
const MAX_TX_ATTEMPTS = 10;

function isRetryable(e: unknown): boolean {
  const code = (e as { code?: string })?.code;
  return code === '40001' || code === '40P01';
}

/** The database is away or refusing connections: a state to wait out, not a bug. */
export function isConnectionError(e: unknown): boolean {
  if (e === undefined || e === null) return false;
  const err = e as { code?: string; message?: string };
  const code = err.code ?? '';
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN)$/.test(code)) return true;
  // 08xxx connection exceptions, 57P01-03 shutdown/cannot connect now, 53300 too many connections.
  if (/^08/.test(code) || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection timeout/i.test(
    err.message ?? '',
  );
}

function translate(e: unknown): unknown {
  if (e instanceof RegistryError || !isConnectionError(e)) return e;
  return new RegistryError('UNAVAILABLE', 'the metadata database is unavailable; retry later', undefined, {
    'Retry-After': String(RETRY_AFTER_SECONDS),
  });
}
