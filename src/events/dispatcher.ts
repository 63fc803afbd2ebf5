/**
 * Delivers the outbox to the configured endpoints: in order per endpoint (the head
 * event is retried with exponential backoff and nothing behind it goes first),
 * given up after `giveUpAfterMs` (kept as failed), resumed from each endpoint's
 * cursor after a restart. Runs under runExclusive, so with several replicas one of
 * them delivers each event once per endpoint.
 */
import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { backoffMs, matchesFilter } from '../core/events.js';
import type { EndpointConfig, EventsConfig } from '../config/events-config.js';
import type { MetadataStore } from '../storage/metadata-store.js';
import type { StoredEvent } from '../storage/event-store.js';
import type { Metrics } from '../metrics/metrics.js';
import { render, type RenderContext } from './formats.js';

const BATCH = 100;
/** Delivered events are pruned after this long (failed and requeued ones are kept). */
const KEEP_DELIVERED_MS = 7 * 24 * 3_600_000;

export interface DispatcherOptions {
  config: EventsConfig;
  meta: MetadataStore;
  /** The registry's URL (CloudEvents source). */
  source: string;
  log: Logger;
  metrics?: Metrics;
  /** How often the outbox is looked at (ms). */
  pollMs?: number;
  now?: () => number;
}

interface Endpoint extends EndpointConfig {
  token?: string;
}

/** Reads each endpoint's token file (one trailing newline dropped: Flux compares the exact bytes). */
export async function loadEndpoints(config: EventsConfig): Promise<Endpoint[]> {
  return Promise.all(
    config.endpoints.map(async (e) => {
      if (!e.tokenFile) return e;
      const token = (await readFile(e.tokenFile, 'utf8')).replace(/\r?\n$/, '');
      if (token === '') throw new Error(`events endpoint ${e.name}: token file ${e.tokenFile} is empty`);
      return { ...e, token };
    }),
  );
}

export class Dispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private readonly ctx: Omit<RenderContext, 'token'>;
  private readonly now: () => number;

  constructor(
    private readonly options: DispatcherOptions,
    private readonly endpoints: Endpoint[],
  ) {
    this.ctx = { source: options.source, instanceId: randomUUID() };
    this.now = options.now ?? Date.now;
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.options.meta
        .runExclusive('event-delivery', () => this.deliverAll())
        .catch((err: unknown) => this.options.log.error({ err }, 'event delivery failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.options.pollMs ?? 250);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One pass over every endpoint (exported for `stowage events` and tests). */
  async deliverAll(): Promise<void> {
    // Settled, not Promise.all: one endpoint failing must not end the pass (and release
    // the lock to another replica) while the others are still sending.
    const passes = await Promise.allSettled(this.endpoints.map((e) => this.deliverEndpoint(e)));
    const failed = passes.find((p): p is PromiseRejectedResult => p.status === 'rejected');
    if (failed) throw failed.reason;
    const cursors = await Promise.all(this.endpoints.map((e) => this.options.meta.eventCursor(e.name)));
    if (cursors.length > 0) await this.options.meta.pruneEvents(Math.min(...cursors), this.now() - KEEP_DELIVERED_MS);
  }

  private async deliverEndpoint(e: Endpoint): Promise<void> {
    const { meta } = this.options;
    // An operator's retries first (`stowage events retry`): one attempt each, failed again on failure.
    const requeued = await meta.deliveries({ endpoint: e.name, state: 'requeued', limit: BATCH });
    for (const d of (await meta.getEvents(requeued.map((r) => r.seq).reverse())) ?? []) {
      const error = await this.send(e, d);
      const attempts = (requeued.find((r) => r.seq === d.seq)?.attempts ?? 0) + 1;
      await meta.recordDelivery(
        {
          endpoint: e.name,
          seq: d.seq,
          state: error === undefined ? 'delivered' : 'failed',
          attempts,
          ...(error !== undefined ? { lastError: error } : {}),
          updatedAt: this.now(),
        },
        false,
      );
    }
    for (;;) {
      const cursor = await meta.eventCursor(e.name);
      const batch = await meta.eventsAfter(cursor, BATCH);
      if (batch.length === 0) return;
      for (const stored of batch) {
        if (this.stopped) return;
        if (!matchesFilter(e.filter, stored.event) || !render(e.format, stored.event, this.ctx)) {
          await meta.advanceEventCursor(e.name, stored.seq);
          continue;
        }
        if (!(await this.attemptHead(e, stored))) return;
      }
    }
  }

  /** Tries the endpoint's head event; false when it is still pending (nothing behind it may go). */
  private async attemptHead(e: Endpoint, stored: StoredEvent): Promise<boolean> {
    const { meta, config, metrics } = this.options;
    const [pending] = await meta.deliveries({ endpoint: e.name, state: 'pending', limit: 1 });
    const previous = pending?.seq === stored.seq ? pending : undefined;
    const now = this.now();
    if (previous?.nextAt !== undefined && previous.nextAt > now) return false;
    const error = await this.send(e, stored);
    const attempts = (previous?.attempts ?? 0) + 1;
    if (error === undefined) {
      metrics?.webhookDeliveries.labels(e.name, 'delivered').inc();
      await meta.recordDelivery(
        { endpoint: e.name, seq: stored.seq, state: 'delivered', attempts, updatedAt: this.now() },
        true,
      );
      return true;
    }
    const expired = this.now() - stored.event.at >= config.giveUpAfterMs;
    metrics?.webhookDeliveries.labels(e.name, expired ? 'expired' : 'failed').inc();
    this.options.log.warn(
      { endpoint: e.name, seq: stored.seq, kind: stored.event.kind, attempts, error, givenUp: expired },
      expired ? 'webhook delivery given up' : 'webhook delivery failed; will retry',
    );
    await meta.recordDelivery(
      {
        endpoint: e.name,
        seq: stored.seq,
        state: expired ? 'failed' : 'pending',
        attempts,
        lastError: error,
        ...(expired ? {} : { nextAt: this.now() + backoffMs(attempts, config.retryInitialMs, config.retryMaxMs) }),
        updatedAt: this.now(),
      },
      expired,
    );
    return expired;
  }

  /** POSTs the event; undefined on a 2xx answer, otherwise why not. */
  private async send(e: Endpoint, stored: StoredEvent): Promise<string | undefined> {
    const rendered = render(e.format, stored.event, {
      ...this.ctx,
      ...(e.token !== undefined ? { token: e.token } : {}),
    });
    if (!rendered) return undefined;
    try {
      const res = await fetch(e.url, {
        method: 'POST',
        headers: { ...rendered.headers, 'User-Agent': 'stowage-webhooks' },
        body: rendered.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.config.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      return res.status >= 200 && res.status < 300 ? undefined : `HTTP ${res.status}`;
    } catch (err) {
      const x = err as Error & { cause?: { code?: string } };
      return x.name === 'TimeoutError'
        ? `no answer within ${this.options.config.timeoutMs} ms`
        : (x.cause?.code ?? x.message);
    }
  }
}
