/**
 * `stowage events list|retry|tail`: the webhook outbox and its deliveries, read and
 * requeued in the same metadata store `stowage serve` uses, while it runs (the
 * server's dispatcher picks requeued deliveries up on its next pass).
 */
import type { Command } from 'commander';
import { openEmbeddedRegistry } from '../app.js';
import { EVENT_KINDS, type EventKind, type RegistryEvent } from '../core/events.js';
import { compileGlob } from '../core/repository-glob.js';
import type { ServeConfig } from '../config/config.js';
import { storageConfig } from './gc.js';

// The store's types as app.ts hands the store out (the CLI does not import storage contracts).
type MetadataStore = Awaited<ReturnType<typeof openEmbeddedRegistry>>['meta'];
type DeliveryRecord = Awaited<ReturnType<MetadataStore['deliveries']>>[number];
type DeliveryState = DeliveryRecord['state'];
type StoredEvent = Awaited<ReturnType<MetadataStore['eventsAfter']>>[number];

const STATES: readonly DeliveryState[] = ['pending', 'delivered', 'failed', 'requeued', 'skipped'];
/** How often `tail --follow` looks at the outbox. */
const FOLLOW_POLL_MS = 500;

interface StoreOptions {
  config?: string;
  data?: string;
  output: string;
}

function fail(message: string): never {
  process.stderr.write(`stowage: ${message}\n`);
  process.exit(2);
}

const withStoreOptions = (c: Command) =>
  c
    .option('--config <file>', 'the YAML config `stowage serve` uses (storage, events)')
    .option('--data <dir>', 'data directory (default ./data; env STOWAGE_DATA)')
    .option('--output <format>', 'text or json', 'text');

/** Opens the server's metadata store for one command. */
async function withStore<T>(opts: StoreOptions, f: (meta: MetadataStore, config: ServeConfig) => Promise<T>) {
  if (opts.output !== 'text' && opts.output !== 'json') fail(`--output ${opts.output}: text or json`);
  const config = storageConfig(opts);
  const registry = await openEmbeddedRegistry(config);
  try {
    return await f(registry.meta, config);
  } finally {
    await registry.close();
  }
}

/** The endpoint names to act on: one given (it must be configured), else all configured. */
function endpointNames(config: ServeConfig, endpoint: string | undefined): string[] {
  const names = config.events.endpoints.map((e) => e.name);
  if (endpoint === undefined) return names;
  if (!names.includes(endpoint))
    fail(`no events endpoint "${endpoint}" in the config (configured: ${names.join(', ') || 'none'})`);
  return [endpoint];
}

const iso = (ms: number) => new Date(ms).toISOString();

function describeEvent(e: RegistryEvent): string {
  const what = e.tag !== undefined ? `${e.repository}:${e.tag}` : e.repository;
  const digest = e.digest !== undefined ? ` ${e.digest.slice(0, 19)}…` : '';
  const by = e.user !== undefined ? ` by ${e.user}` : '';
  return `${e.kind} ${what}${digest}${by}`;
}

function positiveInt(raw: string, flag: string): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) fail(`${flag} ${raw}: a whole number`);
  return n;
}

export function registerEvents(program: Command): void {
  const events = program
    .command('events')
    .description('The webhook outbox: deliveries and failures (list), replays (retry), new events (tail).');

  withStoreOptions(
    events
      .command('list')
      .description('Deliveries, newest first: endpoint, event, state, attempts and the last error.')
      .option('--endpoint <name>', 'only this endpoint')
      .option('--state <state>', `only this state: ${STATES.join(', ')}`)
      .option('--kind <kind>', `only events of this kind: ${EVENT_KINDS.join(', ')}`)
      .option('--limit <n>', 'at most this many rows', '100'),
  ).action(async (opts: StoreOptions & { endpoint?: string; state?: string; kind?: string; limit: string }) => {
    if (opts.state !== undefined && !STATES.includes(opts.state as DeliveryState))
      fail(`--state ${opts.state}: one of ${STATES.join(', ')}`);
    if (opts.kind !== undefined && !EVENT_KINDS.includes(opts.kind as EventKind))
      fail(`--kind ${opts.kind}: one of ${EVENT_KINDS.join(', ')}`);
    const limit = positiveInt(opts.limit, '--limit');
    await withStore(opts, async (meta) => {
      const rows = await meta.deliveries({
        ...(opts.endpoint !== undefined ? { endpoint: opts.endpoint } : {}),
        ...(opts.state !== undefined ? { state: opts.state as DeliveryState } : {}),
        // The kind filter is applied to the rows read: read more so `--limit` still fills.
        limit: opts.kind !== undefined ? limit * 10 : limit,
      });
      const bySeq = new Map((await meta.getEvents([...new Set(rows.map((r) => r.seq))])).map((e) => [e.seq, e]));
      const listed = rows
        .map((d) => ({ delivery: d, event: bySeq.get(d.seq)?.event }))
        .filter((r) => opts.kind === undefined || r.event?.kind === opts.kind)
        .slice(0, limit);
      if (opts.output === 'json') {
        process.stdout.write(
          `${JSON.stringify(
            listed.map(({ delivery, event }) => ({ ...delivery, event })),
            null,
            2,
          )}\n`,
        );
        return;
      }
      if (listed.length === 0) process.stdout.write('no deliveries\n');
      for (const { delivery: d, event } of listed) process.stdout.write(`${formatDelivery(d, event)}\n`);
    });
  });

  withStoreOptions(
    events
      .command('retry')
      .description(
        'Requeue failed deliveries (given up, or failed again after a retry): the server delivers them once more on its next pass.',
      )
      .option('--endpoint <name>', 'only this endpoint (default: every configured endpoint)')
      .option('--seq <n>', 'only this event (its sequence number, from `events list`); needs --endpoint'),
  ).action(async (opts: StoreOptions & { endpoint?: string; seq?: string }) => {
    if (opts.seq !== undefined && opts.endpoint === undefined) fail('--seq needs --endpoint');
    const seq = opts.seq !== undefined ? positiveInt(opts.seq, '--seq') : undefined;
    await withStore(opts, async (meta, config) => {
      const requeued: Record<string, number> = {};
      for (const name of endpointNames(config, opts.endpoint)) requeued[name] = await meta.requeueDeliveries(name, seq);
      const total = Object.values(requeued).reduce((a, b) => a + b, 0);
      if (opts.output === 'json') process.stdout.write(`${JSON.stringify({ requeued, total }, null, 2)}\n`);
      else {
        for (const [name, n] of Object.entries(requeued)) process.stdout.write(`${name}: ${n} requeued\n`);
        if (total === 0) process.stdout.write('nothing to retry: no failed deliveries\n');
      }
    });
  });

  withStoreOptions(
    events
      .command('tail')
      .description('Events in the outbox after a sequence number, oldest first; with --follow, new ones as they come.')
      .option('--after <seq>', 'only events after this sequence number', '0')
      .option('--kind <kind>', `only events of this kind: ${EVENT_KINDS.join(', ')}`)
      .option('--repository <glob>', 'only events of repositories matching this glob (e.g. "team/**")')
      .option('-f, --follow', 'keep waiting for new events (until interrupted)'),
  ).action(async (opts: StoreOptions & { after: string; kind?: string; repository?: string; follow?: boolean }) => {
    if (opts.kind !== undefined && !EVENT_KINDS.includes(opts.kind as EventKind))
      fail(`--kind ${opts.kind}: one of ${EVENT_KINDS.join(', ')}`);
    const repo = opts.repository !== undefined ? compileGlob(opts.repository) : undefined;
    const wanted = (s: StoredEvent) =>
      (opts.kind === undefined || s.event.kind === opts.kind) && (repo === undefined || repo.test(s.event.repository));
    let after = positiveInt(opts.after, '--after');
    await withStore(opts, async (meta) => {
      let stop = false;
      const interrupt = () => {
        stop = true;
      };
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      try {
        while (!stop) {
          const batch = await meta.eventsAfter(after, 500);
          for (const s of batch) {
            after = s.seq;
            if (!wanted(s)) continue;
            process.stdout.write(
              opts.output === 'json'
                ? `${JSON.stringify({ seq: s.seq, ...s.event })}\n`
                : `${s.seq} ${iso(s.event.at)} ${describeEvent(s.event)}\n`,
            );
          }
          if (batch.length === 500) continue;
          if (!opts.follow) break;
          await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
        }
      } finally {
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
      }
    });
  });
}

function formatDelivery(d: DeliveryRecord, event: RegistryEvent | undefined): string {
  const what = event ? describeEvent(event) : '(event pruned)';
  const next = d.state === 'pending' && d.nextAt !== undefined ? `, next try ${iso(d.nextAt)}` : '';
  const error = d.lastError !== undefined ? ` — ${d.lastError}` : '';
  return `${d.endpoint} #${d.seq} ${d.state} after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'} (${iso(d.updatedAt)}${next}): ${what}${error}`;
}
