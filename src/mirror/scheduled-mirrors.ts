/**
 * `stowage serve`'s scheduled mirrors (the `mirrors:` config): each entry runs on its
 * interval — the first run right after start — under the metadata store's
 * runExclusive, so with several replicas one of them runs it at a time. A run is the
 * client's mirror operation (filters, only-signed, incremental, referrers) reading
 * the source over HTTP and writing into this registry through RegistryDestination.
 * Every run logs one line (and one per copied or failed tag) and feeds the metrics.
 */
import type { Logger } from 'pino';
import { CredentialSourceError, loadCredentialSource } from '../config/credential-source.js';
import type { MirrorSchedule } from '../config/mirrors-config.js';
import {
  isClientError,
  mirror,
  mirrorRepositories,
  readTrustedKeys,
  readTrustedRoot,
  RegistryClient,
  StaticCredentials,
  type Credential,
  type MirrorOptions,
  type MirrorResult,
} from '../client/index.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Registry } from '../registry/registry.js';
import { RegistryDestination } from './registry-destination.js';

export class MirrorSetupError extends Error {}

/** Reads what an entry names (credentials, keys) now: a missing one fails the start, naming it, never the secret. */
async function prepare(
  s: MirrorSchedule,
  env: NodeJS.ProcessEnv,
): Promise<{ credential?: Credential; options: Omit<MirrorOptions, 'destination'> }> {
  const at = `mirrors (${s.name})`;
  let credential: Credential | undefined;
  let policy: MirrorOptions['onlySigned'];
  try {
    if (s.credentials) credential = await loadCredentialSource(s.credentials, at, env);
    if (s.onlySigned) {
      const { trustedRoot, ...identity } = s.keyless ?? {};
      // As `stowage mirror --only-signed` builds it from the verification flags (verify-flags.ts).
      policy = {
        ...(s.keys.length > 0 ? { keys: await readTrustedKeys(s.keys) } : {}),
        ...(trustedRoot !== undefined ? { trustedRoot: await readTrustedRoot(trustedRoot), identity } : {}),
        ...(s.ignoreTlog ? { ignoreTlog: true } : {}),
        ...(s.ignoreSct ? { ignoreSct: true } : {}),
      };
    }
  } catch (e) {
    if (e instanceof CredentialSourceError) throw new MirrorSetupError(e.message);
    if (isClientError(e)) throw new MirrorSetupError(`${at}: ${e.message}`);
    throw e;
  }
  return {
    ...(credential ? { credential } : {}),
    options: {
      ...(s.include !== undefined ? { includeTags: s.include } : {}),
      ...(s.exclude !== undefined ? { excludeTags: s.exclude } : {}),
      ...(s.semver !== undefined ? { semver: s.semver } : {}),
      ...(policy ? { onlySigned: policy } : {}),
    },
  };
}

interface RunFigures {
  copied: number;
  unchanged: number;
  skipped: number;
  failed: number;
  bytes: number;
  repositories: number;
}

/** Starts every entry's schedule; stop() clears the timers and waits for runs in progress. */
export async function scheduleMirrors(
  registry: Registry,
  schedules: readonly MirrorSchedule[],
  log: Logger,
  metrics?: Metrics,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ stop(): Promise<void> }> {
  const prepared = [];
  for (const s of schedules) prepared.push({ schedule: s, ...(await prepare(s, env)) });
  const timers: NodeJS.Timeout[] = [];
  const running = new Set<Promise<void>>();
  const clients: RegistryClient[] = [];
  let stopped = false;

  for (const [i, { schedule: s, credential, options }] of prepared.entries()) {
    let client: RegistryClient;
    try {
      client = new RegistryClient({
        credentials: new StaticCredentials(credential ? { [s.registry]: credential } : {}),
        insecure: s.insecure,
        ...(s.caFile !== undefined ? { caFile: s.caFile } : {}),
        onWarning: (message) => log.warn({ mirror: s.name }, message),
      });
    } catch (e) {
      // An unreadable ca_file: fail the start, like a missing credential.
      for (const c of clients) c.close();
      if (isClientError(e)) throw new MirrorSetupError(`mirrors (${s.name}): ${e.message}`);
      throw e;
    }
    clients.push(client);
    const mlog = log.child({ mirror: s.name });
    const logTag = (repository: string, r: MirrorResult['tags'][number] | undefined) => {
      if (r?.action === 'copied')
        mlog.info(
          { repository, tag: r.tag, digest: r.digest, reason: r.reason, bytes: r.bytes },
          'mirror copied a tag',
        );
      else if (r?.action === 'failed') mlog.warn({ repository, tag: r.tag, error: r.error }, 'mirror failed a tag');
    };
    const once = async (): Promise<RunFigures> => {
      const opts = {
        ...options,
        onTag: (e: { repository: string; result?: MirrorResult['tags'][number] }) => logTag(e.repository, e.result),
      };
      if (s.glob !== undefined) {
        const r = await mirrorRepositories(
          client,
          { registry: s.registry, glob: s.glob },
          { registry: 'stowage.local', prefix: s.destination },
          { ...opts, destination: (name) => new RegistryDestination(registry, name) },
        );
        for (const repo of r.repositories)
          if ('error' in repo) mlog.warn({ repository: repo.source, error: repo.error }, 'mirror failed a repository');
        return { ...r, repositories: r.repositories.length };
      }
      const r = await mirror(
        client,
        { registry: s.registry, repository: s.repository! },
        { registry: 'stowage.local', repository: s.destination },
        { ...opts, destination: new RegistryDestination(registry, s.destination) },
      );
      return { ...r, skipped: r.skipped.length, repositories: 1 };
    };
    // One job name per entry: replicas agree on it, and two entries may run side by side.
    const job = `mirror:${i}:${s.name}`;
    let busy = false;
    const run = () => {
      // A run longer than the interval: the next one waits for the one after.
      if (stopped || busy) return;
      busy = true;
      const started = Date.now();
      const p = registry.meta
        .runExclusive(job, async () => {
          let figures: RunFigures;
          try {
            figures = await once();
          } catch (err) {
            mlog.error({ err }, 'mirror run failed');
            metrics?.recordMirror(s.name, { copied: 0, bytes: 0, failed: 1 });
            return;
          }
          metrics?.recordMirror(s.name, figures);
          mlog.info({ ...figures, durationMs: Date.now() - started }, 'mirror run finished');
        })
        .then(
          (ran) => {
            if (!ran) {
              metrics?.recordMirror(s.name, undefined);
              mlog.debug('mirror run skipped: another replica holds it');
            }
          },
          (err: unknown) => mlog.error({ err }, 'mirror run failed'),
        )
        .finally(() => {
          busy = false;
          running.delete(p);
        });
      running.add(p);
    };
    run();
    const timer = setInterval(run, s.intervalMs);
    timer.unref();
    timers.push(timer);
  }
  if (prepared.length > 0)
    log.info(
      {
        mirrors: prepared.map(({ schedule: s }) => ({
          source: s.name,
          destination: s.destination,
          intervalMs: s.intervalMs,
          onlySigned: s.onlySigned,
        })),
      },
      'scheduled mirrors',
    );
  return {
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      await Promise.allSettled([...running]);
      for (const c of clients) c.close();
    },
  };
}
