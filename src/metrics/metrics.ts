import { Counter, Gauge, Histogram, Registry as PromRegistry, collectDefaultMetrics } from 'prom-client';
import type { StorageStats } from '../storage/metadata-store.js';

/**
 * What a garbage collection run reports, as far as metrics count it (lifecycle's
 * CollectReport has these fields): declared here, so metrics imports nothing above it.
 */
export interface GcRunFigures {
  skipped?: string;
  dryRun: boolean;
  durationMs: number;
  bytesReclaimed: number;
  blobsRemoved: number;
  linksRemoved: number;
  manifestsRemoved: readonly unknown[];
  tagsRemoved: readonly unknown[];
}

/**
 * Every series Stowage exports, on its own prom-client registry (never the global one,
 * so two servers in one process do not share counters). HTTP names follow
 * Distribution's (`registry_http_*`, labels `handler`/`method`/`code`), so its
 * dashboards work unchanged; Stowage's own series are `stowage_*`.
 */
export class Metrics {
  readonly registry = new PromRegistry();
  readonly requests = new Counter({
    name: 'registry_http_requests_total',
    help: 'HTTP requests, by route (handler), method and status code.',
    labelNames: ['handler', 'method', 'code'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'registry_http_request_duration_seconds',
    help: 'Time from request start to the last response byte, by route, method and status code.',
    labelNames: ['handler', 'method', 'code'] as const,
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: 'registry_http_in_flight_requests',
    help: 'Requests being served, by route.',
    labelNames: ['handler'] as const,
    registers: [this.registry],
  });
  readonly received = new Counter({
    name: 'stowage_http_received_bytes_total',
    help: 'Bytes read from clients (request line, headers and bodies), by route.',
    labelNames: ['handler'] as const,
    registers: [this.registry],
  });
  readonly sent = new Counter({
    name: 'stowage_http_sent_bytes_total',
    help: 'Response bytes sent to clients (Content-Length of each response), by route.',
    labelNames: ['handler'] as const,
    registers: [this.registry],
  });
  readonly uploadsInFlight = new Gauge({
    name: 'stowage_uploads_in_flight',
    help: 'Blob upload requests (POST/PATCH/PUT with a body) being received.',
    registers: [this.registry],
  });
  readonly authFailures = new Counter({
    name: 'stowage_auth_failures_total',
    help: 'Refused requests: challenge (no credentials), rejected (bad credentials), denied (no permission).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'stowage_rate_limit_refusals_total',
    help: 'Requests refused with 429 TOOMANYREQUESTS, by route.',
    labelNames: ['handler'] as const,
    registers: [this.registry],
  });
  readonly metadataQueries = new Histogram({
    name: 'stowage_metadata_query_duration_seconds',
    help: 'Metadata store (SQLite/PostgreSQL/memory) call latency, by operation.',
    labelNames: ['operation'] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });

  readonly gcRuns = new Counter({
    name: 'stowage_gc_runs_total',
    help: 'Scheduled garbage collections, by result: completed, skipped (another replica held the lease), failed.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly gcDuration = new Histogram({
    name: 'stowage_gc_duration_seconds',
    help: 'Duration of completed garbage collections.',
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    registers: [this.registry],
  });
  readonly gcReclaimed = new Counter({
    name: 'stowage_gc_reclaimed_bytes_total',
    help: 'Blob bytes deleted by garbage collection.',
    registers: [this.registry],
  });
  readonly gcRemoved = new Counter({
    name: 'stowage_gc_removed_total',
    help: 'What garbage collection removed, by kind: blobs, links, manifests, tags.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly webhookDeliveries = new Counter({
    name: 'stowage_webhook_deliveries_total',
    help: 'Webhook delivery attempts, by endpoint and result: delivered, failed (will retry), expired (given up).',
    labelNames: ['endpoint', 'result'] as const,
    registers: [this.registry],
  });
  readonly proxyRequests = new Counter({
    name: 'stowage_proxy_requests_total',
    help: 'Pull-through cache lookups, by kind (manifest, blob, referrers) and result: hit (served from the cache), miss (fetched upstream), stale (a cached tag served because no upstream answered).',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });
  readonly proxyUpstreamBytes = new Counter({
    name: 'stowage_proxy_upstream_bytes_total',
    help: 'Bytes of blobs and manifests fetched from each upstream URL.',
    labelNames: ['upstream'] as const,
    registers: [this.registry],
  });
  readonly proxyUpstreamErrors = new Counter({
    name: 'stowage_proxy_upstream_errors_total',
    help: 'Failed requests to each upstream URL, by reason: connection, status-5xx, rate-limited.',
    labelNames: ['upstream', 'reason'] as const,
    registers: [this.registry],
  });
  private storage: (() => Promise<StorageStats>) | undefined;
  private storageScrape: Promise<StorageStats> | undefined;

  constructor(opts: { processMetrics?: boolean } = {}) {
    // One read of the maintained totals per scrape, shared by the gauges below.
    const stats = (): Promise<StorageStats> | undefined => {
      if (!this.storage) return undefined;
      this.storageScrape ??= this.storage().finally(() => (this.storageScrape = undefined));
      return this.storageScrape;
    };
    const perNamespace = (
      name: string,
      help: string,
      pick: (n: StorageStats['namespaces'][number]) => number,
    ): Gauge<'namespace'> =>
      new Gauge({
        name,
        help,
        labelNames: ['namespace'] as const,
        registers: [this.registry],
        async collect() {
          const s = await stats();
          if (!s) return;
          this.reset();
          for (const n of s.namespaces) this.labels(n.namespace).set(pick(n));
        },
      });
    perNamespace(
      'stowage_namespace_bytes',
      'Bytes of blobs linked and manifests stored in the namespace (a blob linked by two repositories counts twice).',
      (n) => n.blobBytes + n.manifestBytes,
    );
    perNamespace('stowage_namespace_blob_links', 'Blob links of the namespace’s repositories.', (n) => n.blobLinks);
    perNamespace(
      'stowage_namespace_manifests',
      'Manifests stored in the namespace’s repositories.',
      (n) => n.manifests,
    );
    const total = (name: string, help: string, pick: (s: StorageStats) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        async collect() {
          const s = await stats();
          if (s) this.set(pick(s));
        },
      });
    total('stowage_blobs', 'Blobs stored (each digest once).', (s) => s.blobs);
    total('stowage_blob_bytes', 'Bytes of the blobs stored (each digest once).', (s) => s.blobBytes);
    total('stowage_manifests', 'Manifests stored, over all repositories.', (s) =>
      s.namespaces.reduce((sum, n) => sum + n.manifests, 0),
    );

    // process_cpu_seconds_total, process_resident_memory_bytes, nodejs_eventloop_lag_seconds…
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Where the storage gauges read their maintained totals at each scrape (the metadata store). */
  watchStorage(stats: () => Promise<StorageStats>): void {
    this.storage = stats;
  }

  /** A scheduled collection's outcome (undefined: the run failed). */
  recordGc(report: GcRunFigures | undefined): void {
    if (!report) {
      this.gcRuns.labels('failed').inc();
      return;
    }
    if (report.skipped) {
      this.gcRuns.labels('skipped').inc();
      return;
    }
    this.gcRuns.labels('completed').inc();
    this.gcDuration.observe(report.durationMs / 1000);
    if (report.dryRun) return;
    this.gcReclaimed.inc(report.bytesReclaimed);
    this.gcRemoved.labels('blobs').inc(report.blobsRemoved);
    this.gcRemoved.labels('links').inc(report.linksRemoved);
    this.gcRemoved.labels('manifests').inc(report.manifestsRemoved.length);
    this.gcRemoved.labels('tags').inc(report.tagsRemoved.length);
  }

  /** The text exposition format (version 0.0.4). */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

// Any other method a client invents is one label value, not one series each.
const METHODS = new Set(['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS']);

/** A request method as a bounded label value. */
export function methodLabel(method: string | undefined): string {
  return method !== undefined && METHODS.has(method) ? method : 'other';
}
