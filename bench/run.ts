/**
 * `npm run bench`: measures the machine's limits, starts Stowage and
 * Distribution side by side on loopback, drives the same scenarios at both from
 * one load generator process, and prints one table with the ratio and targets.
 *
 * Exits 1 if any request failed (or a scenario could not run); a MISS on a
 * target is reported, not fatal. See BENCHMARKS.md.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { LoadgenReply, LoadgenRequest } from './loadgen.js';
import {
  loadAverage,
  machineBusySeconds,
  machineInfo,
  measureDiskWrite,
  measureMachine,
  otherProcessesCpuSeconds,
  waitForQuiet,
} from './machine.js';
import {
  diskTarget,
  evaluateChecks,
  gitCommit,
  renderChecks,
  renderErrors,
  renderLimits,
  renderListings,
  renderGc,
  renderMetricsOn,
  renderProxy,
  renderTable,
  updateBenchmarksMd,
  updateGcSection,
  updateProxySection,
  writeResultFiles,
  type BenchRun,
  type ScenarioOutcome,
  type TargetResult,
} from './report.js';
import { prepareGc, runGc, type BlobStorage } from './gc.js';
import type { DistributionStorage } from './dist-layout.js';
import type { ProxySetup } from './proxy.js';
import {
  planScenarios,
  PROXY_KINDS,
  STORAGE_NAMES,
  type ScenarioDef,
  type ScenarioResult,
  type StorageName,
} from './scenarios.js';
import { startScaleOutServices, type ScaleOutServices } from './services.js';
import {
  startDistribution,
  startStowage,
  TARGET_LABELS,
  TARGET_NAMES,
  type ScaleOutStorage,
  type ServerHandle,
  type TargetName,
} from './servers.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** dist/bench → the repository root. */
const REPO_ROOT = path.resolve(HERE, '../..');

const USAGE = `Usage: npm run bench -- [options]   (node dist/bench/run.js [options])

  --smoke                 tiny sizes and counts (whole run < 30 s), for CI
  --storage <s>           embedded (default: disk + SQLite) | s3+postgres (S3 on radosgw and
                          PostgreSQL, from STOWAGE_TEST_S3_* / STOWAGE_TEST_PG_URL or started here;
                          Distribution on the same bucket with its s3 driver)
  --only <substring>      run only scenarios whose id contains it (repeatable, comma-separated)
  --target <t>            stowage | distribution | both (default both)
  --no-write              print only; write no result files and leave BENCHMARKS.md alone
  --dir <path>            parent directory for the temporary data (default: the OS temp dir)
  --keep                  keep the temporary data directory
  --settle <seconds>      before each measurement, wait up to this long for other processes
                          to go quiet (default 60, 0 with --smoke)
  --cpu-prof <dir>        run Stowage under the V8 CPU profiler; the profile is written to <dir>
                          when the run ends (summarise it: node dist/bench/profile.js <file>)
  --gc-scale <x>          size of the garbage-collection scenario: 1 (default) = 100 repositories,
                          20,000 manifests, 100,000 blobs; 0.1 = a tenth (--smoke: 0.005)
  --list                  list the scenario ids and exit
  -h, --help              this text`;

interface Options {
  smoke: boolean;
  storage: StorageName;
  only: string[];
  targets: TargetName[];
  write: boolean;
  dir: string;
  keep: boolean;
  list: boolean;
  settleSeconds: number;
  cpuProfDir?: string;
  gcScale?: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      smoke: { type: 'boolean', default: false },
      storage: { type: 'string', default: 'embedded' },
      only: { type: 'string', multiple: true },
      target: { type: 'string', default: 'both' },
      'no-write': { type: 'boolean', default: false },
      dir: { type: 'string' },
      keep: { type: 'boolean', default: false },
      settle: { type: 'string' },
      'cpu-prof': { type: 'string' },
      'gc-scale': { type: 'string' },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const t = values.target;
  if (t !== 'both' && t !== 'stowage' && t !== 'distribution')
    throw new Error(`--target must be stowage, distribution or both, not "${t}"`);
  const storage = values.storage as StorageName;
  if (!STORAGE_NAMES.includes(storage))
    throw new Error(`--storage must be ${STORAGE_NAMES.join(' or ')}, not "${values.storage}"`);
  return {
    smoke: values.smoke!,
    storage,
    only: (values.only ?? [])
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter(Boolean),
    targets: t === 'both' ? [...TARGET_NAMES] : [t],
    write: !values['no-write'],
    dir: values.dir ?? os.tmpdir(),
    keep: values.keep!,
    list: values.list!,
    cpuProfDir: values['cpu-prof'] === undefined ? undefined : path.resolve(values['cpu-prof']),
    gcScale: values['gc-scale'] === undefined ? undefined : positive(values['gc-scale'], '--gc-scale'),
    settleSeconds: values.settle === undefined ? (values.smoke ? 0 : 60) : nonNegative(values.settle, '--settle'),
  };
}

function nonNegative(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${what} must be a number of seconds ≥ 0, not "${text}"`);
  return n;
}

function positive(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${what} must be a number > 0, not "${text}"`);
  return n;
}

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The load generator process and a promise-based call into it. */
class Loadgen {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (r: LoadgenReply) => void; reject: (e: Error) => void }>();
  readonly child: ChildProcess;

  constructor() {
    this.child = fork(path.join(HERE, 'loadgen.js'), [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (msg: LoadgenReply) => {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      p?.resolve(msg);
    });
    // A send after the child went away (a signal stops the run mid-scenario) fails that call, not the run.
    this.child.on('error', (e) => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    });
    this.child.on('exit', (code, signal) => {
      for (const p of this.pending.values()) p.reject(new Error(`load generator exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  private call(msg: DistributiveOmit<LoadgenRequest, 'id'>): Promise<LoadgenReply> {
    const id = this.next++;
    if (!this.child.connected) return Promise.reject(new Error('load generator exited'));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...msg, id } as LoadgenRequest);
    });
  }

  async prepare(
    def: ScenarioDef,
    target: TargetName,
    url: string,
    layout?: DistributionStorage,
    proxy?: ProxySetup,
  ): Promise<void> {
    const r = await this.call({ op: 'prepare', def, target, url, layout, proxy });
    if (!r.ok) throw new Error(r.error);
  }

  async run(def: ScenarioDef, target: TargetName): Promise<ScenarioResult> {
    const r = await this.call({ op: 'run', def, target });
    if (!r.ok) throw new Error(r.error);
    return r.result!;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    await this.call({ op: 'exit' }).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** Flushes dirty pages so one target's writes are not written back during the other's measurement. */
function syncDisks(): void {
  spawnSync('sync');
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  const allDefs = planScenarios({ smoke: opts.smoke, storage: opts.storage, gcScale: opts.gcScale });
  const defs = opts.only.length === 0 ? allDefs : allDefs.filter((d) => opts.only.some((s) => d.id.includes(s)));
  if (opts.list) {
    for (const d of allDefs) process.stdout.write(`${d.id}\n`);
    return 0;
  }
  if (defs.length === 0) throw new Error(`--only ${opts.only.join(',')} matches no scenario (see --list)`);

  const started = Date.now();
  let loadStart = 0;
  const root = await mkdtemp(path.join(opts.dir, 'stowage-bench-'));
  const servers: Partial<Record<TargetName, ServerHandle>> = {};
  /** Stowage with metrics on, for the scenarios that ask for it. */
  let metricsServer: ServerHandle | undefined;
  /** The pull-through scenarios' upstream, and each registry as a cache in front of it. */
  let proxy: ProxyServers | undefined;
  let services: ScaleOutServices | undefined;
  let loadgen: Loadgen | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await loadgen?.close().catch(() => undefined);
      await Promise.all(
        [
          ...Object.values(servers),
          ...(metricsServer ? [metricsServer] : []),
          ...(proxy ? [proxy.upstream, ...Object.values(proxy.caches)] : []),
        ].map((s) => s.stop().catch(() => undefined)),
      );
      await services?.stop().catch((e: Error) => log(`stopping services: ${e.message}`));
      if (!opts.keep) await rm(root, { recursive: true, force: true });
      else log(`kept ${root}`);
    })());
  const onSignal = (sig: NodeJS.Signals) => {
    log(`${sig}: stopping`);
    void cleanup().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    log(`data in ${root}; ${defs.length} scenarios × ${opts.targets.join(', ')}${opts.smoke ? ' (smoke)' : ''}`);
    const busy = loadAverage();
    loadStart = busy;
    if (busy > 0.7)
      log(
        `warning: load average is ${busy.toFixed(2)} before starting: something else is using the CPU, figures may be disturbed (see the Other procs CPU column)`,
      );
    if (opts.settleSeconds > 0) {
      const waited = await waitForQuiet(new Set([process.pid]), opts.settleSeconds);
      if (waited > 1.5) log(`waited ${waited.toFixed(0)} s for other processes to go quiet`);
    }
    log('measuring machine limits');
    const machine = machineInfo(root);
    const limits = await measureMachine(root, opts.smoke);
    log(
      `sha256 ${limits.sha256MiBs.toFixed(0)} MiB/s (resumable: ${Object.entries(limits.resumableSha256MiBs ?? {})
        .map(([i, v]) => `${i} ${v.toFixed(0)}`)
        .join(
          ', ',
        )} MiB/s), disk write+fsync ${limits.diskWriteFsyncMiBs.toFixed(0)} MiB/s, loopback TCP ${limits.loopbackTcpMiBs.toFixed(0)} MiB/s`,
    );

    let scaleOut: ScaleOutStorage | undefined;
    if (opts.storage === 's3+postgres') {
      services = await startScaleOutServices(REPO_ROOT, process.env, log);
      scaleOut = services;
      log(
        `S3 ${services.s3.endpoint} bucket ${services.s3.bucket} (Stowage prefix ${services.stowagePrefix}, Distribution rootdirectory ${services.distributionRoot}); PostgreSQL ${new URL(services.pgUrl).host}${services.started.length ? `; started here: ${services.started.join(', ')}` : ''}`,
      );
    }
    for (const t of opts.targets) {
      servers[t] =
        t === 'stowage'
          ? await startStowage(path.join(root, 'stowage'), { cpuProfDir: opts.cpuProfDir, scaleOut })
          : await startDistribution(path.join(root, 'distribution'), scaleOut);
      log(`${servers[t]!.version} on ${servers[t]!.url} (pid ${servers[t]!.pid})`);
    }
    if (opts.targets.includes('stowage') && defs.some((d) => d.metrics)) {
      metricsServer = await startStowage(path.join(root, 'stowage-metrics'), { scaleOut, metrics: true });
      log(`Stowage with metrics on at ${metricsServer.url} (pid ${metricsServer.pid})`);
    }
    if (defs.some((d) => PROXY_KINDS.includes(d.kind))) {
      proxy = await startProxyServers(root, opts.targets);
      log(
        `pull-through: upstream ${proxy.upstream.url} (pid ${proxy.upstream.pid}); ${Object.values(proxy.caches)
          .map((c) => `${TARGET_LABELS[c.name]} cache ${c.url} (pid ${c.pid})`)
          .join(', ')}`,
      );
    }
    // The tag-list and catalog scenarios write Distribution's layout directly (dist-layout.ts).
    const distributionLayout: DistributionStorage | undefined = !servers.distribution
      ? undefined
      : scaleOut
        ? { kind: 's3', s3: scaleOut.s3, root: scaleOut.distributionRoot }
        : { kind: 'filesystem', root: servers.distribution.dataDir };
    loadgen = new Loadgen();

    const outcomes: ScenarioOutcome[] = [];
    let errors = 0;
    for (const def of defs) {
      const outcome: ScenarioOutcome = { def, results: {}, failures: {} };
      outcomes.push(outcome);
      for (const t of opts.targets) {
        const server =
          (proxy && proxyServer(proxy, def, t, servers)) ??
          (t === 'stowage' && def.metrics ? metricsServer! : servers[t]!);
        // A cache's upstream works during its measurement too: its CPU is counted apart.
        const upstream = proxy && (def.kind === 'proxy-hit' || def.kind === 'proxy-miss') ? proxy.upstream : undefined;
        if (def.kind === 'gc') {
          try {
            const storage: BlobStorage = !scaleOut
              ? { kind: 'filesystem', dir: server.dataDir }
              : t === 'stowage'
                ? { kind: 's3', s3: scaleOut.s3, prefix: scaleOut.stowagePrefix }
                : { kind: 's3', s3: scaleOut.s3, prefix: `${scaleOut.distributionRoot.replace(/^\/+/, '')}/` };
            const r = await measureGc(def, t, server, storage, distributionLayout, opts);
            outcome.results[t] = r;
            errors += r.errors;
            logResult(def, t, r);
          } catch (e) {
            const msg = e instanceof Error ? e.message : String(e);
            outcome.failures[t] = msg;
            errors++;
            log(`${def.id} on ${TARGET_LABELS[t]} FAILED: ${msg}`);
          } finally {
            // Distribution's collector ran with it stopped: start it again on the same storage.
            if (t === 'distribution' && !isAlive(server.pid)) {
              servers.distribution = await startDistribution(path.join(root, 'distribution'), scaleOut);
              log(`${servers.distribution.version} started again on ${servers.distribution.url}`);
            }
          }
          continue;
        }
        try {
          await loadgen.prepare(
            def,
            t,
            server.url,
            t === 'distribution' ? distributionLayout : undefined,
            proxy && PROXY_KINDS.includes(def.kind) ? proxySetup(proxy, t) : undefined,
          );
          syncDisks();
          const ours = new Set([process.pid, server.pid, loadgen.child.pid!, ...(upstream ? [upstream.pid] : [])]);
          const settleSeconds = opts.settleSeconds > 0 ? await waitForQuiet(ours, opts.settleSeconds) : 0;
          if (settleSeconds > 1.5) log(`waited ${settleSeconds.toFixed(0)} s for other processes to go quiet`);
          const diskRef =
            t === 'stowage' && diskTarget(def, allDefs, opts.storage) ? () => sameIoDiskSpeed(root, def) : undefined;
          const diskRefBefore = await diskRef?.();
          server.resetPeakRss();
          const cpu0 = server.cpuSeconds();
          const upstreamCpu0 = upstream?.cpuSeconds() ?? 0;
          const busy0 = machineBusySeconds();
          const other0 = otherProcessesCpuSeconds(ours);
          const t0 = Date.now();
          const result = await loadgen.run(def, t);
          const wall = (Date.now() - t0) / 1000;
          const cpu = server.cpuSeconds() - cpu0;
          const upstreamCpuPct = upstream ? ((upstream.cpuSeconds() - upstreamCpu0) / wall) * 100 : undefined;
          const busy = machineBusySeconds() - busy0;
          // The orchestrator itself (idle while waiting) counts as "other".
          const otherCpuPct = ((otherProcessesCpuSeconds(ours) - other0) / wall) * 100;
          const serverCpuPct = (cpu / wall) * 100;
          const kernelCpuPct = Math.max(
            0,
            (busy / wall) * 100 - serverCpuPct - result.loadgenCpuPct - otherCpuPct - (upstreamCpuPct ?? 0),
          );
          const peakRssBytes = server.peakRss();
          const load = loadAverage();
          const diskRefAfter = await diskRef?.();
          if (diskRefBefore !== undefined)
            log(
              `same I/O without the registry: ${diskRefBefore.toFixed(0)} MiB/s just before, ${diskRefAfter!.toFixed(0)} MiB/s just after`,
            );
          const diskRefMiBs: [number, number] | undefined =
            diskRefBefore === undefined ? undefined : [diskRefBefore, diskRefAfter!];
          outcome.results[t] = {
            ...result,
            serverCpuPct,
            otherCpuPct,
            kernelCpuPct,
            settleSeconds,
            diskRefMiBs,
            peakRssBytes,
            loadAverage: load,
            ...(upstreamCpuPct === undefined ? {} : { upstreamCpuPct }),
          };
          errors += result.errors;
          logResult(def, t, outcome.results[t]!);
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          outcome.failures[t] = msg;
          errors++;
          log(`${def.id} on ${TARGET_LABELS[t]} FAILED: ${msg}`);
          if (server.pid && !isAlive(server.pid))
            throw new Error(`${TARGET_LABELS[t]} died: ${server.output().slice(-2000)}`);
        }
      }
    }

    // The disk again, now that the registries are idle: virtual disks vary over time.
    if (!opts.smoke) {
      syncDisks();
      const again = await measureDiskWrite(root, limits.diskWriteBytes);
      limits.diskWriteFsyncSamples.push(again);
      limits.diskWriteFsyncMiBs = Math.max(...limits.diskWriteFsyncSamples);
      log(`disk write+fsync at the end: ${again.toFixed(0)} MiB/s`);
    }

    const base = {
      format: 1 as const,
      date: new Date().toISOString(),
      commit: gitCommit(REPO_ROOT),
      smoke: opts.smoke,
      storage: opts.storage,
      loadAverage: { start: loadStart, end: loadAverage() },
      only: opts.only.length ? opts.only.join(',') : undefined,
      gcScale: opts.gcScale,
      targets: opts.targets,
      machine,
      limits,
      servers: Object.fromEntries(Object.entries(servers).map(([k, v]) => [k, v.version])),
      scenarios: outcomes,
      errors,
      durationSeconds: (Date.now() - started) / 1000,
    };
    const run: BenchRun = { ...base, checks: evaluateChecks(base) };

    process.stdout.write(`\n${renderTable(run)}\n\n${renderChecks(run)}\n\n${renderLimits(run)}\n`);
    for (const extra of [renderListings(run), renderMetricsOn(run), renderGc(run), renderProxy(run)])
      if (extra) process.stdout.write(`\n${extra}\n`);
    const errText = renderErrors(run);
    if (errText) process.stdout.write(`\nErrors:\n${errText}\n`);
    process.stdout.write(
      `\n${errors === 0 ? 'no errors' : `${errors} ERRORS`}; ${run.checks.filter((c) => !c.pass).length} of ${run.checks.length} targets missed\n`,
    );

    if (opts.write) {
      const files = writeResultFiles(run, REPO_ROOT);
      log(`wrote ${files.map((f) => path.relative(REPO_ROOT, f)).join(', ')}`);
      if (!run.smoke && !run.only && run.targets.length === 2) {
        // Each storage configuration has its own results section.
        const md = updateBenchmarksMd(run, REPO_ROOT, path.relative(REPO_ROOT, files[0]!).replace(/\.json$/, ''));
        log(`updated ${path.relative(REPO_ROOT, md)}`);
      }
      const gcMd = updateGcSection(run, REPO_ROOT, path.relative(REPO_ROOT, files[0]!).replace(/\.json$/, ''));
      if (gcMd) log(`updated the garbage-collection section of ${path.relative(REPO_ROOT, gcMd)}`);
      const proxyMd = updateProxySection(run, REPO_ROOT, path.relative(REPO_ROOT, files[0]!).replace(/\.json$/, ''));
      if (proxyMd) log(`updated the pull-through cache section of ${path.relative(REPO_ROOT, proxyMd)}`);
    }
    return errors === 0 ? 0 : 1;
  } finally {
    await cleanup();
  }
}

function logResult(def: ScenarioDef, t: TargetName, r: TargetResult): void {
  log(
    `${def.id.padEnd(28)} ${TARGET_LABELS[t].padEnd(12)} ${r.value.toFixed(1).padStart(9)} ${def.unit.padEnd(7)} ` +
      `p50 ${r.latency.p50.toFixed(2)} p99 ${r.latency.p99.toFixed(2)} ms, server CPU ${r.serverCpuPct.toFixed(0)} %, ` +
      `loadgen CPU ${r.loadgenCpuPct.toFixed(0)} %, other procs ${r.otherCpuPct.toFixed(0)} %, kernel ${r.kernelCpuPct.toFixed(0)} %, RSS ${(r.peakRssBytes / 1048576).toFixed(0)} MiB` +
      (r.errors ? `, ${r.errors} ERRORS: ${r.errorSamples[0]}` : ''),
  );
}

/**
 * The garbage-collection scenario on one target (gc.ts): seeding and deletes,
 * then the measured collection. "Server" CPU and peak RSS include the collector
 * process (for Distribution they are the collector's alone: the registry is stopped).
 */
async function measureGc(
  def: ScenarioDef,
  t: TargetName,
  server: ServerHandle,
  storage: BlobStorage,
  layout: DistributionStorage | undefined,
  opts: Options,
): Promise<TargetResult> {
  const settleMax = opts.settleSeconds;
  const prepared = await prepareGc(def.gc!, t, server, t === 'distribution' ? layout : undefined, log);
  syncDisks();
  const ours = new Set([process.pid, server.pid]);
  const settleSeconds = settleMax > 0 ? await waitForQuiet(ours, settleMax) : 0;
  if (settleSeconds > 1.5) log(`waited ${settleSeconds.toFixed(0)} s for other processes to go quiet`);
  server.resetPeakRss();
  const cpu0 = server.cpuSeconds();
  const busy0 = machineBusySeconds();
  const other0 = otherProcessesCpuSeconds(ours);
  const result = await runGc(prepared, t, server, storage, log, opts.cpuProfDir);
  const wall = result.wallMs / 1000;
  const serverCpu = t === 'stowage' ? server.cpuSeconds() - cpu0 + result.gc.cpuSeconds : result.gc.cpuSeconds;
  const busy = machineBusySeconds() - busy0;
  const otherCpuPct = ((otherProcessesCpuSeconds(ours) - other0) / wall) * 100;
  const serverCpuPct = (serverCpu / wall) * 100;
  return {
    ...result,
    serverCpuPct,
    otherCpuPct,
    kernelCpuPct: Math.max(0, (busy / wall) * 100 - serverCpuPct - result.loadgenCpuPct - otherCpuPct),
    settleSeconds,
    peakRssBytes: t === 'stowage' ? Math.max(server.peakRss(), result.gc.peakRssBytes) : result.gc.peakRssBytes,
    loadAverage: loadAverage(),
  };
}

/**
 * Disk write+fsync speed (MiB/s) of a push scenario's own I/O without the
 * registry: `count` new files of the blob's size, each written and fsynced, all
 * kept until the last is written (as pushed blobs are).
 */
async function sameIoDiskSpeed(dir: string, def: ScenarioDef): Promise<number> {
  const n = def.count ?? 1;
  const mib = def.size! / 1048576;
  let seconds = 0;
  const names = Array.from({ length: n }, (_, i) => `same-io-${i}`);
  try {
    for (const name of names) seconds += mib / (await measureDiskWrite(dir, def.size!, { name, keep: true }));
  } finally {
    for (const name of names) await rm(path.join(dir, name), { force: true });
  }
  syncDisks();
  return (n * mib) / seconds;
}

interface ProxyServers {
  /** Debian's docker-registry, plain: the one upstream of both caches. */
  upstream: ServerHandle;
  /** Stowage with a `proxy:` entry (prefix PROXY_PREFIX), Distribution in proxy mode. */
  caches: Partial<Record<TargetName, ServerHandle>>;
}

/** Stowage's repository prefix for the upstream (Distribution's proxy mode has none: it proxies everything). */
const PROXY_PREFIX = 'up';

async function startProxyServers(root: string, targets: readonly TargetName[]): Promise<ProxyServers> {
  const upstream = await startDistribution(path.join(root, 'upstream'));
  const caches: ProxyServers['caches'] = {};
  try {
    for (const t of targets)
      caches[t] =
        t === 'stowage'
          ? await startStowage(path.join(root, 'stowage-proxy'), {
              proxy: { prefix: PROXY_PREFIX, upstream: upstream.url },
            })
          : await startDistribution(path.join(root, 'distribution-proxy'), undefined, upstream.url);
  } catch (e) {
    await Promise.all([upstream, ...Object.values(caches)].map((s) => s.stop()));
    throw e;
  }
  return { upstream, caches };
}

/**
 * Which server a pull-through scenario drives: the upstream itself (direct), a
 * cache (hit, miss), or for `proxy-local` the registry with the image pushed
 * into it: Stowage's cache (a local repository beside the prefix), and the plain
 * Distribution (its proxy mode refuses pushes). Undefined for other scenarios.
 */
function proxyServer(
  proxy: ProxyServers,
  def: ScenarioDef,
  t: TargetName,
  servers: Partial<Record<TargetName, ServerHandle>>,
): ServerHandle | undefined {
  switch (def.kind) {
    case 'proxy-direct':
      return proxy.upstream;
    case 'proxy-local':
      return t === 'stowage' ? proxy.caches.stowage : servers.distribution;
    case 'proxy-hit':
    case 'proxy-miss':
      return proxy.caches[t];
    default:
      return undefined;
  }
}

function proxySetup(proxy: ProxyServers, t: TargetName): ProxySetup {
  const cache = proxy.caches[t]!;
  return {
    upstreamUrl: proxy.upstream.url,
    prefix: t === 'stowage' ? `${PROXY_PREFIX}/` : '',
    ...(t === 'distribution' ? { cacheLayout: { kind: 'filesystem', root: cache.dataDir } } : {}),
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(2);
  },
);
