import type { MetadataStore } from '../storage/metadata-store.js';

/** One pull time per manifest per this long is enough for `pulled_within` rules. */
const RECORD_EVERY_MS = 60 * 60 * 1000;
const FLUSH_EVERY_MS = 30_000;
/** Bounds the memory of "recorded recently" (oldest entries go first). */
const MAX_REMEMBERED = 100_000;

/**
 * Pull times, off the hot path (docs/gc.md): a manifest GET only touches a map;
 * the batch is written in one transaction every 30 s and at close.
 */
export class PullRecorder {
  private pending = new Map<string, { repository: string; digest: string; at: number }>();
  private readonly recorded = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly meta: MetadataStore,
    private readonly now: () => number,
  ) {
    this.timer = setInterval(() => void this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  record(repository: string, digest: string): void {
    const key = `${repository}@${digest}`;
    const at = this.now();
    const last = this.recorded.get(key);
    if (last !== undefined && at - last < RECORD_EVERY_MS) return;
    this.recorded.delete(key);
    this.recorded.set(key, at);
    if (this.recorded.size > MAX_REMEMBERED) this.recorded.delete(this.recorded.keys().next().value!);
    this.pending.set(key, { repository, digest, at });
  }

  /** Writes what was recorded so far; pull times are best effort, so a failure is dropped. */
  flush(): Promise<void> {
    if (this.pending.size === 0) return this.flushing;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.flushing = this.flushing.then(() => this.meta.recordPulls(batch)).catch(() => undefined);
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
