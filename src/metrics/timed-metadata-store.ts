import type { MetadataStore } from '../storage/metadata-store.js';
import type { Metrics } from './metrics.js';

// Calls that wrap other work (a job, a shutdown) say nothing about query latency.
const UNTIMED = new Set<string | symbol>(['runExclusive', 'close', 'constructor']);

/**
 * The same store, with every call's latency observed in
 * `stowage_metadata_query_duration_seconds{operation}`. One wrapper per method,
 * made once: the hot path pays a closure call and two hrtime reads.
 */
export function timedMetadataStore<T extends MetadataStore>(store: T, metrics: Metrics): T {
  const wrapped = new Map<string | symbol, unknown>();
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function' || UNTIMED.has(prop) || typeof prop !== 'string') return value;
      let fn = wrapped.get(prop);
      if (!fn) {
        const child = metrics.metadataQueries.labels(prop);
        const method = value as (...args: unknown[]) => unknown;
        fn = (...args: unknown[]) => {
          const started = process.hrtime.bigint();
          const observe = () => child.observe(Number(process.hrtime.bigint() - started) / 1e9);
          const result = method.apply(target, args);
          if (result instanceof Promise) return result.finally(observe);
          observe();
          return result;
        };
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}
