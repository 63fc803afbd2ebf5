import type { RegistryEvent } from '../core/events.js';
import type { MetadataStore } from '../storage/metadata-store.js';

/** One pull time per manifest per this long is enough for `pulled_within` rules. */
const RECORD_EVERY_MS = 60 * 60 * 1000;
const FLUSH_EVERY_MS = 30_000;
/** Bounds the memory of "recorded recently" (oldest entries go first). */
const MAX_REMEMBERED = 100_000;
/** Pull events wait at most this long for their batch (they are what webhooks see). */
const EVENT_FLUSH_MS = 200;
/** Pull events held before a write is forced, so a burst of pulls cannot grow memory. */
const MAX_PENDING_EVENTS = 1_000;

/**
 * Pull times, off the hot path (docs/gc.md): a manifest GET only touches a map;
 * the batch is written in one transaction every 30 s and at close. Pull events
 * (`events.pulls`) ride the same write, sooner: a pull changes nothing durable, so
 * it is answered first and its event follows within EVENT_FLUSH_MS.
 */
export class PullRecorder {
  private pending = new Map<string, { repository: string; digest: string; at: number }>();
  private pendingEvents: RegistryEvent[] = [];
  private eventTimer: NodeJS.Timeout | undefined;
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

  record(repository: string, digest: string, event?: RegistryEvent): void {
    if (event) this.recordEvent(event);
    const key = `${repository}@${digest}`;
    const at = this.now();
    const last = this.recorded.get(key);
    if (last !== undefined && at - last < RECORD_EVERY_MS) return;
    this.recorded.delete(key);
    this.recorded.set(key, at);
    if (this.recorded.size > MAX_REMEMBERED) this.recorded.delete(this.recorded.keys().next().value!);
    this.pending.set(key, { repository, digest, at });
  }

  private recordEvent(event: RegistryEvent): void {
    this.pendingEvents.push(event);
    if (this.pendingEvents.length >= MAX_PENDING_EVENTS) void this.flush();
    else if (!this.eventTimer) {
      this.eventTimer = setTimeout(() => void this.flush(), EVENT_FLUSH_MS);
      this.eventTimer.unref();
    }
  }

  /** Writes what was recorded so far; pull times are best effort, so a failure is dropped. */
  flush(): Promise<void> {
    if (this.eventTimer) clearTimeout(this.eventTimer);
    this.eventTimer = undefined;
    if (this.pending.size === 0 && this.pendingEvents.length === 0) return this.flushing;
    const batch = [...this.pending.values()];
    const events = this.pendingEvents;
    this.pending = new Map();
    this.pendingEvents = [];
    this.flushing = this.flushing
      .then(() => this.meta.recordPulls(batch, events.length > 0 ? events : undefined))
      .catch(() => undefined);
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
