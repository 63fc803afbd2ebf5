import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { LocalJobs } from '../local-jobs.js';
import type { Held } from '../metadata-store.js';

/** A lease lives this long unless renewed; the holder renews it three times as often. */
export const LEASE_MS = 30_000;

/**
 * runExclusive for the embedded database, across processes: `stowage serve`,
 * `stowage gc` and `stowage fsck` open the same file. A job is a row of `leases`
 * (holder, expiry), taken in an IMMEDIATE transaction and renewed while the job
 * runs. A holder that died (kill -9) is taken over once its lease expires, or at
 * once when it was a process of this machine that no longer exists (SQLite is
 * one machine's database, so the pid says it).
 */
export class LeaseJobs {
  private readonly local = new LocalJobs();
  private readonly self = `${hostname()}:${process.pid}:${randomUUID()}`;
  private readonly q;

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {
    this.q = {
      get: db.prepare<[string], { holder: string; expires_at: number }>(
        'SELECT holder, expires_at FROM leases WHERE name = ?',
      ),
      set: db.prepare<[string, string, number]>(
        'INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at',
      ),
      renew: db.prepare<[number, string, string]>('UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?'),
      release: db.prepare<[string, string]>('DELETE FROM leases WHERE name = ? AND holder = ?'),
    };
  }

  /** An in-process hold (upload sessions: one process serves an embedded database). */
  hold<T>(key: string, fn: () => Promise<T>): Promise<Held<T>> {
    return this.local.hold(key, fn);
  }

  runExclusive(job: string, fn: () => Promise<void>): Promise<boolean> {
    return this.local
      .runExclusive(job, async () => {
        if (!this.acquire(job)) throw NOT_ACQUIRED;
        const renewal = setInterval(() => {
          try {
            this.q.renew.run(this.now() + LEASE_MS, job, this.self);
          } catch {
            // Busy beyond busy_timeout: the next tick tries again; correctness never depends on the lease.
          }
        }, LEASE_MS / 3);
        renewal.unref();
        try {
          await fn();
        } finally {
          clearInterval(renewal);
          this.q.release.run(job, this.self);
        }
      })
      .catch((e: unknown) => {
        if (e === NOT_ACQUIRED) return false;
        throw e;
      });
  }

  private acquire(job: string): boolean {
    return this.db
      .transaction(() => {
        const now = this.now();
        const current = this.q.get.get(job);
        if (current && current.holder !== this.self && current.expires_at > now && holderAlive(current.holder))
          return false;
        this.q.set.run(job, this.self, now + LEASE_MS);
        return true;
      })
      .immediate();
  }
}

const NOT_ACQUIRED = new Error('lease held by another process');

function holderAlive(holder: string): boolean {
  const [host, pid] = holder.split(':');
  if (host !== hostname() || !pid || !/^\d+$/.test(pid)) return true;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (e) {
    // EPERM: it exists, under another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
