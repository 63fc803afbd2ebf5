import type { Command } from 'commander';
import { ConfigError, readConfigFile, readEnv, resolveConfig } from '../config/config.js';
import { applyMigrations, pendingMigrations } from '../storage/migrations.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description(
      'Apply pending schema migrations to the metadata database (serve does it at start); --check only reports them.',
    )
    .option('--config <file>', 'YAML config file, as for serve (env STOWAGE_* too)')
    .option('--data <dir>', 'data directory (embedded SQLite)')
    .option('--check', 'report pending migrations and exit 1 if there are any; change nothing')
    .action(async (opts: { config?: string; data?: string; check?: boolean }) => {
      let config;
      try {
        config = resolveConfig(
          opts.config ? readConfigFile(opts.config) : {},
          readEnv(process.env),
          opts.data ? { data: opts.data } : {},
        );
      } catch (e) {
        if (e instanceof ConfigError) {
          process.stderr.write(`stowage: ${e.message}\n`);
          process.exit(2);
        }
        throw e;
      }
      const driver = config.storage.metadata.driver;
      if (opts.check) {
        const pending = await pendingMigrations(config.storage, config.data);
        process.stdout.write(
          pending.length === 0
            ? `${driver}: schema up to date\n`
            : `${driver}: pending migrations: ${pending.join(', ')}\n`,
        );
        process.exitCode = pending.length === 0 ? 0 : 1;
        return;
      }
      const applied = await applyMigrations(config.storage, config.data);
      process.stdout.write(
        applied.length === 0
          ? `${driver}: schema up to date\n`
          : `${driver}: applied migrations ${applied.join(', ')}\n`,
      );
    });
}
