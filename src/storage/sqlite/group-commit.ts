import type Database from 'better-sqlite3';

interface PendingWrite {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: writes requested in the same turn of the event loop run in one
 * transaction, so one WAL fsync acknowledges all of them. Each write runs in its
 * own savepoint, so one that throws is rolled back alone and rejects alone.
 * Every write's promise settles only after the commit is durable.
 */
export class GroupCommit {
  private pending: PendingWrite[] = [];
  private scheduled = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => undefined;

  constructor(private readonly db: Database.Database) {}

  write<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        this.idle = new Promise((r) => (this.markIdle = r));
        setImmediate(() => this.flush());
      }
    });
  }

  /** Resolves once every queued write has been committed. */
  drain(): Promise<void> {
    return this.idle;
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    this.scheduled = false;
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      // IMMEDIATE: take the write lock up front (waiting busy_timeout for another
      // process, e.g. `stowage gc`), so a read inside cannot go stale before the write.
      this.db
        .transaction(() => {
          for (const w of batch) {
            try {
              // A nested better-sqlite3 transaction is a savepoint.
              outcomes.push({ ok: true, value: this.db.transaction(w.run)() });
            } catch (error) {
              outcomes.push({ ok: false, error });
            }
          }
        })
        .immediate();
    } catch (error) {
      for (const w of batch) w.reject(error);
      this.markIdle();
      return;
    }
    batch.forEach((w, i) => {
      const o = outcomes[i]!;
      if (o.ok) w.resolve(o.value);
      else w.reject(o.error);
    });
    if (!this.scheduled) this.markIdle();
  }
}
