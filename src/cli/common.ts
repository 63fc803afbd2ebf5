/**
 * Options and helpers shared by the account commands (`stowage user`, `stowage
 * token`): which config file and data directory they work on, and how they fail.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { ConfigError, readConfigFile, readEnv, resolveConfig, type ServeConfig } from '../config/config.js';

export interface StoreOptions {
  config?: string;
  data?: string;
}

/** `--config FILE` and `--data DIR`, resolved like `stowage serve` does (flags > env > file). */
export function addStoreOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'the YAML config `stowage serve` uses (its data dir and auth.htpasswd)')
    .option('--data <dir>', 'data directory holding stowage.db (default ./data; env STOWAGE_DATA)');
}

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export function loadConfig(opts: StoreOptions): ServeConfig {
  try {
    const file = opts.config ? readConfigFile(opts.config) : {};
    return resolveConfig(file, readEnv(process.env), opts.data !== undefined ? { data: opts.data } : {});
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message, 2);
    throw e;
  }
}

export function htpasswdPath(config: ServeConfig, override?: string): string {
  return override ?? config.auth?.htpasswd ?? join(config.data, 'htpasswd');
}

/** Runs a command action, turning CliErrors into `stowage: message` and their exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      if (e instanceof CliError) {
        process.stderr.write(`stowage: ${e.message}\n`);
        process.exit(e.exitCode);
      }
      throw e;
    }
  };
}
