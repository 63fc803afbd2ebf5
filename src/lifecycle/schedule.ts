import type { Logger } from 'pino';
import type { Registry } from '../registry/registry.js';
import { collectGarbage, type CollectReport } from './collector.js';
import type { Metrics } from '../metrics/metrics.js';
import type { RetentionPolicy } from './retention.js';

/** The `gc:` and `retention:` settings (ServeConfig has them). */
export interface ScheduleSettings {
  gc: { intervalMs: number; gracePeriodMs: number };
  retention?: readonly RetentionPolicy[];
}

/** `stowage serve` collects on the `gc.interval` schedule; stop() waits for a run in progress. */
export function scheduleGarbageCollection(
  registry: Registry,
  config: ScheduleSettings,
  log: Logger,
  metrics?: Metrics,
): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const run = () => {
    running = collectGarbage(registry, {
      gracePeriodMs: config.gc.gracePeriodMs,
      ...(config.retention ? { retention: config.retention } : {}),
      onProgress: (step, counts) => log.info({ step, ...counts }, 'garbage collection progress'),
    }).then(
      (report) => {
        metrics?.recordGc(report);
        logReport(log, report);
      },
      (err: unknown) => {
        metrics?.recordGc(undefined);
        log.error({ err }, 'garbage collection failed');
      },
    );
  };
  const timer = config.gc.intervalMs > 0 ? setInterval(() => !stopped && run(), config.gc.intervalMs) : undefined;
  timer?.unref();
  return {
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await running;
    },
  };
}

export function logReport(log: Logger, r: CollectReport): void {
  if (r.skipped) {
    log.info({ reason: r.skipped }, 'garbage collection skipped');
    return;
  }
  log.info(
    {
      dryRun: r.dryRun,
      uploadsExpired: r.uploadsExpired,
      tagsRemoved: r.tagsRemoved.length,
      manifestsRemoved: r.manifestsRemoved.length,
      linksRemoved: r.linksRemoved,
      blobsRemoved: r.blobsRemoved,
      bytesReclaimed: r.bytesReclaimed,
      durationMs: r.durationMs,
    },
    'garbage collection finished',
  );
}
