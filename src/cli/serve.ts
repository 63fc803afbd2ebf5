import type { Command } from 'commander';
import { pino } from 'pino';
import { ConfigError, readConfigFile, readEnv, resolveConfig } from '../config/config.js';
import { startRegistry } from '../app.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Run the registry (embedded storage: files on disk plus SQLite).')
    .option('--addr <host:port>', 'address to listen on (default localhost:5000; env STOWAGE_ADDR)')
    .option('--data <dir>', 'data directory (default ./data; env STOWAGE_DATA)')
    .option('--config <file>', 'YAML config file (flags win over env, env over the file)')
    .option('--log-level <level>', 'trace, debug, info, warn, error (env STOWAGE_LOG_LEVEL)')
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (env STOWAGE_TLS_CERT; needs --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert (env STOWAGE_TLS_KEY)')
    .action(
      async (opts: {
        addr?: string;
        data?: string;
        config?: string;
        logLevel?: string;
        tlsCert?: string;
        tlsKey?: string;
      }) => {
        let config;
        try {
          const file = opts.config ? readConfigFile(opts.config) : {};
          const tls = Object.fromEntries(
            Object.entries({ cert: opts.tlsCert, key: opts.tlsKey }).filter(([, v]) => v !== undefined),
          );
          const flags = Object.fromEntries(
            Object.entries({
              addr: opts.addr,
              data: opts.data,
              logLevel: opts.logLevel,
              tls: Object.keys(tls).length > 0 ? tls : undefined,
            }).filter(([, v]) => v !== undefined),
          );
          config = resolveConfig(file, readEnv(process.env), flags);
        } catch (e) {
          if (e instanceof ConfigError) {
            process.stderr.write(`stowage: ${e.message}\n`);
            process.exit(2);
          }
          throw e;
        }
        const log = pino({
          level: config.logLevel,
          base: { service: 'stowage' },
          redact: ['req.headers.authorization'],
        });
        const running = await startRegistry(config, log).catch((err: unknown) => {
          // A file, a credential, a port: the message names it; the stack is for --log-level debug.
          log.debug({ err }, 'start failed');
          process.stderr.write(`stowage: cannot start: ${oneLine(err)}\n`);
          process.exit(1);
        });
        const stop = (signal: string) => {
          log.info({ signal }, 'shutting down');
          running.shutdown().then(
            () => process.exit(0),
            (err: unknown) => {
              log.error({ err }, 'shutdown failed');
              process.exit(1);
            },
          );
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      },
    );
}

/** An error's message on one line (multi-line messages are joined). */
function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message || err.name : String(err);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
