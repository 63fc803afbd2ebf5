/**
 * Failed-attempt limiting (pure apart from the injectable clock): at most `max`
 * failures per key within a fixed window; while over, the key is refused until
 * the window ends. Keys are a client address or a user name, so hammering one
 * user does not lock out the others, and nothing is ever locked for good.
 */
export interface LimitOptions {
  /** Failures allowed per window before refusing. */
  max: number;
  windowMs: number;
  /** Entries kept at most (oldest windows are dropped first). */
  maxKeys?: number;
}

interface Window {
  start: number;
  failures: number;
}

export class FailureLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly maxKeys: number;

  constructor(
    private readonly options: LimitOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.maxKeys = options.maxKeys ?? 100_000;
  }

  /** Milliseconds until `key` may try again; 0 when it may try now. */
  retryAfterMs(key: string): number {
    const w = this.windows.get(key);
    if (!w) return 0;
    const left = w.start + this.options.windowMs - this.now();
    if (left <= 0) {
      this.windows.delete(key);
      return 0;
    }
    return w.failures >= this.options.max ? left : 0;
  }

  fail(key: string): void {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.options.windowMs) {
      if (!w && this.windows.size >= this.maxKeys) this.prune(now);
      w = { start: now, failures: 0 };
      this.windows.set(key, w);
    }
    w.failures++;
  }

  /** Takes back one failure (an attempt counted up front turned out to succeed). */
  forgive(key: string): void {
    const w = this.windows.get(key);
    if (w && w.failures > 0) w.failures--;
  }

  get size(): number {
    return this.windows.size;
  }

  private prune(now: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= this.options.windowMs) this.windows.delete(k);
    // Still full (a flood of fresh keys): drop the oldest half rather than grow without bound.
    if (this.windows.size >= this.maxKeys) {
      let n = Math.ceil(this.windows.size / 2);
      for (const k of this.windows.keys()) {
        if (n-- <= 0) break;
        this.windows.delete(k);
      }
    }
  }
}
