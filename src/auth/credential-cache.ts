/**
 * Remembers recently verified passwords for a short time, so Basic auth (which
 * sends the password on every request) costs one bcrypt run per TTL, not one
 * per request. Keys are HMAC-SHA256(random per-process key, user, password,
 * stored hash): nothing in memory reveals a password, and a password change
 * (new stored hash) misses the cache at once.
 */
import { createHmac, randomBytes } from 'node:crypto';

export class CredentialCache<T> {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, { value: T; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  keyFor(...parts: string[]): string {
    const h = createHmac('sha256', this.key);
    for (const p of parts) h.update(`${Buffer.byteLength(p)}:${p}`);
    return h.digest('base64url');
  }

  get(k: string): T | undefined {
    const e = this.entries.get(k);
    if (!e) return undefined;
    if (e.until <= this.now()) {
      this.entries.delete(k);
      return undefined;
    }
    return e.value;
  }

  set(k: string, value: T): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(k, { value, until: this.now() + this.ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }
}
