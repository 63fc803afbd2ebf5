import { Counter, Gauge, Histogram, Registry as PromRegistry, collectDefaultMetrics } from 'prom-client';

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

  constructor(opts: { processMetrics?: boolean } = {}) {
    // process_cpu_seconds_total, process_resident_memory_bytes, nodejs_eventloop_lag_seconds…
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
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
