/**
 * `stowage storage migrate --from OLD.yaml --to NEW.yaml`: moves a registry between
 * storage configurations (src/storage/storage-migration.ts). Each side is exactly
 * its file (`data:` and `storage:`); STOWAGE_* variables are not read, since they
 * would apply to both sides alike.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, readConfigFile, resolveConfig, type ServeConfig } from '../config/config.js';
import { describeStorage } from '../storage/storage-config.js';
import { openStores, type Stores } from '../storage/open-stores.js';
import { migrateStorage, type MigrationReport } from '../storage/storage-migration.js';
import { action, CliError } from './common.js';
import { MigrationProgress } from './migration-progress.js';
import { humanBytes } from './progress.js';

interface MigrateOptions {
  from: string;
  to: string;
  jobs: string;
  verifyExisting?: boolean;
  output: string;
  progress: boolean;
}

function load(path: string): ServeConfig {
  try {
    return resolveConfig(readConfigFile(path), {}, {});
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message, 2);
    throw e;
  }
}

/** A short name for a side: its drivers and where they keep things (never a secret). */
function describe(config: ServeConfig): string {
  const d = describeStorage(config.storage) as {
    blobs: { driver: string; endpoint?: string; bucket?: string; prefix?: string };
    metadata: { driver: string; host?: string; database?: string };
  };
  const blobs =
    d.blobs.driver === 's3' ? `s3 ${d.blobs.bucket}/${d.blobs.prefix ?? ''}` : `disk ${resolve(config.data)}`;
  const meta =
    d.metadata.driver === 'postgres'
      ? `postgres ${d.metadata.host}/${d.metadata.database}`
      : `sqlite ${resolve(config.data)}`;
  return `${blobs} + ${meta}`;
}

/** Whether two configurations share a store (migrating onto itself would only skip, or worse, mix). */
function overlap(a: ServeConfig, b: ServeConfig): string | undefined {
  const [x, y] = [a.storage, b.storage];
  const sameData = resolve(a.data) === resolve(b.data);
  if (x.blobs.driver === 'disk' && y.blobs.driver === 'disk' && sameData) return 'both keep blobs in the same data dir';
  if (
    x.blobs.driver === 's3' &&
    y.blobs.driver === 's3' &&
    x.blobs.endpoint === y.blobs.endpoint &&
    x.blobs.bucket === y.blobs.bucket &&
    x.blobs.prefix === y.blobs.prefix
  )
    return 'both use the same bucket and prefix';
  if (x.metadata.driver === 'sqlite' && y.metadata.driver === 'sqlite' && sameData)
    return 'both keep stowage.db in the same data dir';
  if (x.metadata.driver === 'postgres' && y.metadata.driver === 'postgres' && x.metadata.url === y.metadata.url)
    return 'both use the same PostgreSQL database';
  return undefined;
}

function formatReport(r: MigrationReport): string {
  const row = (name: string, t: { copied: number; skipped: number; failed: number }) =>
    `${name.padEnd(13)}${String(t.copied).padStart(9)}${String(t.skipped).padStart(9)}${String(t.failed).padStart(8)}`;
  const lines = [
    `${'repositories'.padEnd(13)}${String(r.repositories).padStart(9)}`,
    `${''.padEnd(13)}${'copied'.padStart(9)}${'skipped'.padStart(9)}${'failed'.padStart(8)}`,
    row('blobs', r.blobs),
    `${'bytes'.padEnd(13)}${humanBytes(r.bytes.copied).padStart(9)}${humanBytes(r.bytes.skipped).padStart(9)}`,
    row('blob links', r.links),
    row('manifests', r.manifests),
    row('tags', r.tags),
    row('tokens', r.tokens),
    `referrers (manifests with a subject): ${r.referrers}; pull times carried: ${r.pulls}`,
  ];
  for (const f of r.failures.slice(0, 50)) lines.push(`failed: ${f.kind} ${f.what}: ${f.reason}`);
  if (r.failures.length > 50) lines.push(`… and ${r.failures.length - 50} more failures`);
  return `${lines.join('\n')}\n`;
}

export function registerStorage(program: Command): void {
  const storage = program.command('storage').description('Work on the storage as a whole.');
  storage
    .command('migrate')
    .description(
      'Copy every repository, blob, manifest, tag, referrer and access token from one storage configuration to another ' +
        '(e.g. disk + SQLite to S3 + PostgreSQL, or back). Resumable: run it again after an interruption. ' +
        'Stop writes to the source first.',
    )
    .requiredOption('--from <file>', 'YAML config of the registry to copy (its data: and storage:)')
    .requiredOption('--to <file>', 'YAML config of the destination (created as needed)')
    .option('--jobs <n>', 'blobs copied at once', '4')
    .option('--verify-existing', 're-read and hash blobs the destination already has (default: trust their commit)')
    .option('--output <format>', 'final report as text or json', 'text')
    .option('--no-progress', 'no progress bar or lines')
    .action(
      action(async (opts: MigrateOptions) => {
        const jobs = Number(opts.jobs);
        if (!Number.isSafeInteger(jobs) || jobs < 1 || jobs > 64)
          throw new CliError('--jobs must be an integer from 1 to 64', 2);
        if (opts.output !== 'text' && opts.output !== 'json') throw new CliError('--output must be text or json', 2);
        const [a, b] = [load(opts.from), load(opts.to)];
        const clash = overlap(a, b);
        if (clash) throw new CliError(`--from and --to overlap: ${clash}`, 2);
        process.stderr.write(`migrating ${describe(a)} → ${describe(b)}\n`);
        const from = await openStores(a.storage, a.data, a.fsync);
        let to: Stores;
        try {
          to = await openStores(b.storage, b.data, b.fsync);
        } catch (e) {
          await closeStores(from);
          throw e;
        }
        const progress = new MigrationProgress(opts.progress);
        let report: MigrationReport;
        try {
          report = await migrateStorage(from, to, {
            jobs,
            verifyExisting: opts.verifyExisting === true,
            onEvent: progress.listener,
          });
        } finally {
          progress.stop();
          await Promise.allSettled([closeStores(from), closeStores(to)]);
        }
        process.stdout.write(opts.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
        if (report.failures.length > 0) process.exitCode = 1;
      }),
    );
}

async function closeStores(s: Stores): Promise<void> {
  await Promise.allSettled([s.blobs.close(), s.meta.close()]);
}
