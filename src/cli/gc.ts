import type { Command } from 'commander';
import { pino } from 'pino';
import { ConfigError, readConfigFile, readEnv, resolveConfig, type ServeConfig } from '../config/config.js';
import { LifecycleConfigError, parseDurationMs } from '../config/lifecycle-config.js';
import { openEmbeddedRegistry } from '../app.js';
import { collectGarbage, type CollectReport } from '../lifecycle/collector.js';
import { logReport } from '../lifecycle/schedule.js';

/** Reads the same config `stowage serve` would (file, env, --data), for commands that work on its data. */
export function storageConfig(opts: { config?: string; data?: string }): ServeConfig {
  try {
    const file = opts.config ? readConfigFile(opts.config) : {};
    return resolveConfig(file, readEnv(process.env), opts.data ? { data: opts.data } : {});
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`stowage: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}

export function registerGc(program: Command): void {
  program
    .command('gc')
    .description('Collect garbage now, online: runs beside `stowage serve` on the same data (docs/gc.md).')
    .option('--config <file>', 'the YAML config `stowage serve` uses (data, gc, retention)')
    .option('--data <dir>', 'data directory (default ./data; env STOWAGE_DATA)')
    .option(
      '--grace-period <duration>',
      'touch nothing linked, released or created more recently (default gc.grace_period, 1h)',
    )
    .option('--dry-run', 'list what would be removed, and every tag decision, without removing anything')
    .option('--output <format>', 'text or json', 'text')
    .action(
      async (opts: { config?: string; data?: string; gracePeriod?: string; dryRun?: boolean; output: string }) => {
        const config = storageConfig(opts);
        let gracePeriodMs = config.gc.gracePeriodMs;
        try {
          if (opts.gracePeriod !== undefined) gracePeriodMs = parseDurationMs(opts.gracePeriod, '--grace-period');
        } catch (e) {
          if (e instanceof LifecycleConfigError) {
            process.stderr.write(`stowage: ${e.message}\n`);
            process.exit(2);
          }
          throw e;
        }
        // The log goes to stderr; the report to stdout.
        const log = pino({ level: config.logLevel, base: { service: 'stowage-gc' } }, pino.destination(2));
        const registry = await openEmbeddedRegistry(config);
        try {
          const report = await collectGarbage(registry, {
            gracePeriodMs,
            dryRun: opts.dryRun ?? false,
            ...(config.retention ? { retention: config.retention } : {}),
            onProgress: (step, counts) => log.info({ step, ...counts }, 'garbage collection progress'),
          });
          logReport(log, report);
          process.stdout.write(opts.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
          if (report.skipped) process.exitCode = 3;
        } finally {
          await registry.close();
        }
      },
    );
}

export function formatReport(r: CollectReport): string {
  if (r.skipped) return `garbage collection skipped: ${r.skipped}\n`;
  const would = r.dryRun ? 'would remove' : 'removed';
  const lines: string[] = [];
  for (const d of r.decisions)
    lines.push(`${d.keep ? 'keep' : 'drop'} ${d.repository}:${d.tag} (${d.digest.slice(0, 19)}) — ${d.rule}`);
  for (const t of r.tagsRemoved) lines.push(`${would} tag ${t.repository}:${t.tag} (${t.rule})`);
  for (const m of r.manifestsRemoved) lines.push(`${would} manifest ${m.repository}@${m.digest} (${m.reason})`);
  lines.push(
    `${r.dryRun ? 'dry run: ' : ''}${r.uploadsExpired} expired uploads, ${r.tagsRemoved.length} tags, ${r.manifestsRemoved.length} manifests, ` +
      `${r.linksRemoved} blob links, ${r.blobsRemoved} blobs ${would}; ${formatBytes(r.bytesReclaimed)} ${r.dryRun ? 'reclaimable' : 'reclaimed'} in ${(r.durationMs / 1000).toFixed(1)} s`,
  );
  return `${lines.join('\n')}\n`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]} (${n} bytes)`;
}
