/**
 * `stowage token create|list|revoke`: personal access tokens, like ghcr's. A
 * token is used as the password (`docker login -u alice --password-stdin`),
 * limited to its scopes and to what the policy allows its user. It is printed
 * once; only its hash is stored (in the metadata store: <data>/stowage.db by default).
 */
import type { Command } from 'commander';
import { formatRFC3339 } from '../gocompat/time.js';
import type { Grant } from '../auth/policy.js';
import { formatPatScope, parseDuration, parsePatScope, PatScopeError } from '../auth/pat.js';
import { PatStore, type PatRecord } from '../auth/pat-store.js';
import { readUsers } from '../auth/users.js';
import { openMetadataStore } from '../storage/open-stores.js';
import { action, addStoreOptions, CliError, htpasswdPath, loadConfig, type StoreOptions } from './common.js';
import { AuditLog } from '../audit/audit-log.js';
import type { AuditRecord } from '../core/audit.js';
import type { ServeConfig } from '../config/config.js';

/** Appends to the server's audit trail, when its config has one (the file is shared, append-only). */
async function audit(config: ServeConfig, record: Omit<AuditRecord, 'time'>): Promise<void> {
  if (!config.audit) return;
  const log = new AuditLog(config.audit);
  log.write(record);
  await log.close();
}

interface CreateOptions extends StoreOptions {
  user: string;
  scope: string[];
  expires: string;
  note?: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

async function withStore<T>(opts: StoreOptions, fn: (store: PatStore) => Promise<T>): Promise<T> {
  const config = loadConfig(opts);
  const meta = await openMetadataStore(config.storage, config.data, config.fsync);
  try {
    return await fn(new PatStore(meta));
  } finally {
    await meta.close();
  }
}

function date(ms: number | undefined): string {
  return ms === undefined ? '-' : formatRFC3339(new Date(ms));
}

function status(r: PatRecord, now: number): string {
  if (r.revokedAt !== undefined) return 'revoked';
  if (r.expiresAt !== undefined && r.expiresAt <= now) return 'expired';
  return 'active';
}

export function registerToken(program: Command): void {
  const token = program.command('token').description('Manage personal access tokens (used in place of a password).');

  addStoreOptions(token.command('create').description('Create a token and print it once.'))
    .requiredOption('--user <name>', 'the user the token logs in as')
    .requiredOption('--scope <glob:actions>', 'what it may do, e.g. "alice/**:pull,push" (repeatable)', collect)
    .option('--expires <duration>', 'lifetime: 90m, 12h, 30d, 1w or never', '30d')
    .option('--note <text>', 'what the token is for (shown by list)')
    .action(
      action(async (opts: CreateOptions) => {
        let scopes: Grant[];
        let seconds: number | undefined;
        try {
          scopes = opts.scope.map(parsePatScope);
          seconds = parseDuration(opts.expires);
        } catch (e) {
          if (e instanceof PatScopeError) throw new CliError(e.message, 2);
          throw e;
        }
        const config = loadConfig(opts);
        const file = htpasswdPath(config);
        if (!(await readUsers(file)).has(opts.user))
          throw new CliError(`no user "${opts.user}" in ${file} (add one with \`stowage user add\`)`);
        const { token: secret, record } = await withStore(opts, (s) =>
          s.create(opts.user, scopes, {
            ...(seconds === undefined ? {} : { expiresInSeconds: seconds }),
            ...(opts.note ? { note: opts.note } : {}),
          }),
        );
        await audit(config, {
          action: 'token.create',
          outcome: 'success',
          user: record.user,
          tokenId: record.id,
          via: 'stowage token create',
        });
        process.stdout.write(`${secret}\n`);
        process.stderr.write(
          `created token ${record.id} for ${record.user} (${scopes.map(formatPatScope).join(' ')}; expires ${date(record.expiresAt)}).\n` +
            'It is shown only this once: store it now (e.g. docker login -u USER --password-stdin).\n',
        );
      }),
    );

  addStoreOptions(token.command('list').description('List tokens (never their secrets).'))
    .option('--user <name>', 'only this user’s tokens')
    .option('--json', 'JSON output')
    .action(
      action(async (opts: StoreOptions & { user?: string; json?: boolean }) => {
        const now = Date.now();
        const records = await withStore(opts, (s) => s.list(opts.user));
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify(
              records.map((r) => ({ ...r, scopes: r.scopes.map(formatPatScope), status: status(r, now) })),
              null,
              2,
            )}\n`,
          );
          return;
        }
        const rows = [['ID', 'USER', 'SCOPES', 'CREATED', 'EXPIRES', 'LAST USED', 'STATUS', 'NOTE']];
        for (const r of records) {
          rows.push([
            r.id,
            r.user,
            r.scopes.map(formatPatScope).join(' '),
            date(r.createdAt),
            date(r.expiresAt),
            date(r.lastUsedAt),
            status(r, now),
            r.note,
          ]);
        }
        const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
        for (const row of rows)
          process.stdout.write(
            `${row
              .map((c, i) => c.padEnd(widths[i]!))
              .join('  ')
              .trimEnd()}\n`,
          );
      }),
    );

  addStoreOptions(
    token.command('revoke <id>').description('Revoke a token at once (the running server refuses it from now on).'),
  ).action(
    action(async (id: string, opts: StoreOptions) => {
      const { ok, user } = await withStore(opts, async (s) => {
        const r = await s.get(id);
        if (!r) throw new CliError(`no token ${id}`);
        return { ok: await s.revoke(id), user: r.user };
      });
      if (ok)
        await audit(loadConfig(opts), {
          action: 'token.revoke',
          outcome: 'success',
          user,
          tokenId: id,
          via: 'stowage token revoke',
        });
      process.stderr.write(ok ? `revoked token ${id}\n` : `token ${id} was already revoked\n`);
    }),
  );
}
