/**
 * runExclusive and holdUpload for stores only one process opens (the embedded
 * ones): a name is held while its function runs, so overlapping timers skip
 * rather than pile up, and a second append to one upload session is refused.
 */
import type { Held } from './metadata-store.js';

export class LocalJobs {
  private readonly running = new Set<string>();

  async runExclusive(job: string, fn: () => Promise<void>): Promise<boolean> {
    return (await this.hold(`job:${job}`, fn)).held;
  }

  /** Runs `fn` unless `key` is held right now; the hold lasts while it runs. */
  async hold<T>(key: string, fn: () => Promise<T>): Promise<Held<T>> {
    if (this.running.has(key)) return { held: false };
    this.running.add(key);
    try {
      return { held: true, value: await fn() };
    } finally {
      this.running.delete(key);
    }
  }
}
