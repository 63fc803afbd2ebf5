/**
 * `stowage audit`: reads the audit trail (the config's `audit.file`, or --file),
 * streamed line by line, and prints the records a filter keeps.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { AUDIT_ACTIONS, auditFilter, parseAuditLine, type AuditAction, type AuditQuery } from '../core/audit.js';
import type { AuditRecord } from '../core/audit.js';
import { parseDurationMs } from '../config/lifecycle-config.js';
import { action, CliError, loadConfig } from './common.js';

interface AuditOptions {
  config?: string;
  data?: string;
  file?: string;
  user?: string;
  repository?: string;
  action?: string;
  outcome?: string;
  since?: string;
  until?: string;
  output: string;
}

/** RFC 3339 (or a date), or a duration back from now: `1h`, `7d`. */
function parseTime(raw: string, flag: string, now: number): number {
  if (/^\d+(ms|s|m|h|d|w)/.test(raw)) {
    try {
      return now - parseDurationMs(raw, flag);
    } catch {
      /* not a duration: a time */
    }
  }
  const t = Date.parse(raw);
  if (Number.isNaN(t))
    throw new CliError(`${flag} ${raw}: an RFC 3339 time (2026-12-01T10:00:00Z) or a duration (24h)`, 2);
  return t;
}

function describe(r: AuditRecord): string {
  const who = r.user !== undefined ? r.user : 'anonymous';
  const token = r.tokenId !== undefined ? ` (token ${r.tokenId})` : '';
  const from = r.addr !== undefined ? ` from ${r.addr}` : r.via !== undefined ? ` via ${r.via}` : '';
  const what =
    r.repository !== undefined
      ? ` ${r.repository}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest !== undefined ? `@${r.digest.slice(0, 19)}…` : ''}`
      : '';
  const extra =
    r.action === 'denied'
      ? ` (${r.method ?? ''} needs ${r.access ?? '?'})`
      : r.previousDigest !== undefined
        ? ` (was ${r.previousDigest.slice(0, 19)}…)`
        : '';
  return `${r.time} ${r.action} ${r.outcome}${what}${extra} by ${who}${token}${from}`;
}

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description(
      'Filter the audit trail: who pushed, deleted, moved tags, logged in, created or revoked tokens, or was denied.',
    )
    .option('--config <file>', 'the YAML config `stowage serve` uses (its audit.file)')
    .option('--data <dir>', 'data directory (default ./data; env STOWAGE_DATA)')
    .option('--file <file>', 'the audit trail to read (default: audit.file of the config)')
    .option('--user <name>', 'only records of this user')
    .option('--repository <glob>', 'only records of repositories matching this glob (e.g. "team/**")')
    .option('--action <action>', `only this action: ${AUDIT_ACTIONS.join(', ')}`)
    .option('--outcome <outcome>', 'success or failure')
    .option('--since <time>', 'from this time on (RFC 3339) or this long ago (24h)')
    .option('--until <time>', 'before this time (RFC 3339) or this long ago')
    .option('--output <format>', 'text or json (one JSON object a line)', 'text')
    .action(
      action(async (opts: AuditOptions) => {
        if (opts.action !== undefined && !AUDIT_ACTIONS.includes(opts.action as AuditAction))
          throw new CliError(`--action ${opts.action}: one of ${AUDIT_ACTIONS.join(', ')}`, 2);
        if (opts.outcome !== undefined && opts.outcome !== 'success' && opts.outcome !== 'failure')
          throw new CliError(`--outcome ${opts.outcome}: success or failure`, 2);
        if (opts.output !== 'text' && opts.output !== 'json')
          throw new CliError(`--output ${opts.output}: text or json`, 2);
        const file = opts.file ?? loadConfig(opts).audit?.file;
        if (file === undefined) throw new CliError('no audit trail: give --file, or a --config with audit.file', 2);
        if (file === 'stdout')
          throw new CliError('the audit trail goes to stdout: give --file with where it was kept', 2);
        const now = Date.now();
        const query: AuditQuery = {
          ...(opts.user !== undefined ? { user: opts.user } : {}),
          ...(opts.repository !== undefined ? { repository: opts.repository } : {}),
          ...(opts.action !== undefined ? { action: opts.action as AuditAction } : {}),
          ...(opts.outcome !== undefined ? { outcome: opts.outcome as AuditRecord['outcome'] } : {}),
          ...(opts.since !== undefined ? { since: parseTime(opts.since, '--since', now) } : {}),
          ...(opts.until !== undefined ? { until: parseTime(opts.until, '--until', now) } : {}),
        };
        const keep = auditFilter(query);
        const input = createReadStream(file, 'utf8');
        const opened = new Promise<void>((resolve, reject) => {
          input.once('open', () => resolve());
          input.once('error', reject);
        });
        await opened.catch((e: NodeJS.ErrnoException) => {
          throw new CliError(`cannot read the audit trail ${file}: ${e.code ?? e.message}`);
        });
        for await (const line of createInterface({ input, crlfDelay: Infinity })) {
          const r = parseAuditLine(line);
          if (!r || !keep(r)) continue;
          process.stdout.write(opts.output === 'json' ? `${JSON.stringify(r)}\n` : `${describe(r)}\n`);
        }
      }),
    );
}
