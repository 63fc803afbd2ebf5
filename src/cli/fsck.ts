import type { Command } from 'commander';
import { pino } from 'pino';
import { openEmbeddedRegistry } from '../app.js';
import { fsck, type FsckReport } from '../lifecycle/fsck.js';
import { formatBytes, gracePeriod, storageConfig } from './gc.js';

/** Exit codes, after e2fsck: nothing wrong, everything found repaired, something left, did not run. */
export const FSCK_EXIT = { clean: 0, repaired: 1, problems: 4, skipped: 3 } as const;

export function registerFsck(program: Command): void {
  program
    .command('fsck')
    .description(
      'Check storage, online: every blob hashes to its digest, every manifest reference and tag resolves, no orphan bytes or records (docs/gc.md).',
    )
    .option('--config <file>', 'the YAML config `stowage serve` uses (data, storage, gc)')
    .option('--data <dir>', 'data directory (default ./data; env STOWAGE_DATA)')
    .option('--repair', 'fix what is safe to fix: orphans, dangling tags, lost records of intact bytes')
    .option('--grace-period <duration>', 'leave orphans younger than this (default gc.grace_period, 1h)')
    .option('--output <format>', 'text or json', 'text')
    .action(
      async (opts: { config?: string; data?: string; repair?: boolean; gracePeriod?: string; output: string }) => {
        const config = storageConfig(opts);
        const gracePeriodMs = gracePeriod(config, opts.gracePeriod);
        const log = pino({ level: config.logLevel, base: { service: 'stowage-fsck' } }, pino.destination(2));
        const registry = await openEmbeddedRegistry(config);
        try {
          const report = await fsck(registry, {
            repair: opts.repair ?? false,
            gracePeriodMs,
            fetchedOnDemand: (repository) => (config.proxy ?? []).some((r) => repository.startsWith(`${r.prefix}/`)),
            onProgress: (step, counts) => log.info({ step, ...counts }, 'fsck progress'),
          });
          process.stdout.write(opts.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatFsck(report));
          process.exitCode = fsckExitCode(report);
        } finally {
          await registry.close();
        }
      },
    );
}

export function fsckExitCode(r: FsckReport): number {
  if (r.skipped) return FSCK_EXIT.skipped;
  if (r.problems.length === 0) return FSCK_EXIT.clean;
  return r.problems.every((p) => p.repair === 'repaired') ? FSCK_EXIT.repaired : FSCK_EXIT.problems;
}

export function formatFsck(r: FsckReport): string {
  if (r.skipped) return `fsck skipped: ${r.skipped}\n`;
  const lines = r.problems.map(
    (p) =>
      `${p.repair.padEnd(10)} ${p.kind} ${p.repository ? `${p.repository}${p.tag ? `:${p.tag}` : ''} ` : ''}${p.digest}: ${p.message}`,
  );
  const c = r.checked;
  const counts = (k: string) => r.problems.filter((p) => p.repair === k).length;
  lines.push(
    `checked ${c.blobs} blobs (${formatBytes(c.bytes)} hashed), ${c.manifests} manifests, ${c.tags} tags, ${c.orphans} stored objects; ` +
      (r.problems.length === 0
        ? 'no problems'
        : `${r.problems.length} problems: ${counts('repaired')} repaired, ${counts('repairable')} repairable with --repair, ${counts('left')} left`) +
      ` in ${(r.durationMs / 1000).toFixed(1)} s`,
  );
  return `${lines.join('\n')}\n`;
}
