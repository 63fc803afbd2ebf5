/**
 * Turns a run into the deliverable: one table (both registries, the ratio, the
 * targets with PASS/MISS), the machine limits, and the result files
 * (bench/results/<date>-<commit>.{json,md}, and BENCHMARKS.md's results section).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatSize, MiB } from './data.js';
import type { MachineInfo, MachineLimits } from './machine.js';
import { gcShape, gcTotals } from './gc.js';
import { planScenarios, PROXY_KINDS, type ScenarioDef, type ScenarioResult, type StorageName } from './scenarios.js';
import { TARGET_LABELS, type TargetName } from './servers.js';

export interface TargetResult extends ScenarioResult {
  /** Server CPU over the measured part, % of one core (200 % = both cores). */
  serverCpuPct: number;
  /** Server VmHWM over the measured part. */
  peakRssBytes: number;
  /**
   * CPU used meanwhile by other processes on the machine (% of one core). High
   * values mean the figures are disturbed.
   */
  otherCpuPct: number;
  /**
   * CPU used meanwhile that no process is charged with (% of one core): mostly
   * the kernel's loopback networking (softirq) and disk writeback.
   */
  kernelCpuPct: number;
  /** Seconds spent waiting for other processes to go quiet before measuring. */
  settleSeconds: number;
  /**
   * Disk write+fsync speed (MiB/s) of the scenario's own I/O without the registry
   * (as many files as it pushes, each the blob's size, each fsynced), measured
   * just before and just after it; disk-targeted pushes only. Shown next to the
   * 80 % check because virtual disks swing a lot within a run.
   */
  diskRefMiBs?: [before: number, after: number];
  /** The machine's 1-minute load average right after the measurement. */
  loadAverage?: number;
}

export interface ScenarioOutcome {
  def: ScenarioDef;
  results: Partial<Record<TargetName, TargetResult>>;
  /** Setup or protocol failures that stopped the scenario (counted as errors). */
  failures: Partial<Record<TargetName, string>>;
}

export interface Check {
  scenario: string;
  description: string;
  pass: boolean;
  detail: string;
}

export interface BenchRun {
  format: 1;
  date: string;
  commit: string;
  smoke: boolean;
  /** Absent in runs from before the s3+postgres configuration: embedded. */
  storage?: StorageName;
  /** 1-minute load average when the run started and ended. */
  loadAverage?: { start: number; end: number };
  only?: string;
  /** --gc-scale, when given. */
  gcScale?: number;
  targets: TargetName[];
  machine: MachineInfo;
  limits: MachineLimits;
  servers: Partial<Record<TargetName, string>>;
  scenarios: ScenarioOutcome[];
  checks: Check[];
  errors: number;
  durationSeconds: number;
}

/** Ratio targets (Stowage / Distribution at least), by scenario kind, for the plan's largest blobs and c=64. */
export function ratioTarget(def: ScenarioDef, plan: ScenarioDef[]): number | undefined {
  const largest = Math.max(...plan.filter((d) => d.size !== undefined && d.kind !== 'small-blobs').map((d) => d.size!));
  const big = def.size === largest;
  switch (def.kind) {
    case 'push-monolithic':
      return big ? 1.2 : undefined;
    case 'push-chunked':
    case 'push-streamed':
      return big ? 1.5 : undefined;
    case 'pull':
      return big ? 1.0 : undefined;
    case 'manifest-get-tag':
    case 'blob-head':
      return def.concurrency === 64 ? 3 : undefined;
    case 'manifest-put':
      return def.concurrency === 64 ? 2 : undefined;
    case 'tag-list':
    case 'tag-list-paged':
    case 'small-blobs':
      return 2;
    case 'catalog-paged':
    case 'proxy-local':
    case 'proxy-hit':
    case 'proxy-direct':
    case 'proxy-miss':
      // The pull-through targets compare Stowage with itself and the upstream (proxyChecks).
      return undefined;
    case 'gc':
      return GC_SPEEDUP;
  }
}

export const RSS_LIMIT = 200 * MiB;
/** Garbage collection: Stowage's online run at least this many times faster than Distribution's offline one. */
export const GC_SPEEDUP = 10;
/** Push p99 during Stowage's collection at most this many times the p99 without one. */
export const GC_PUSH_P99 = 2;
export const DISK_FRACTION = 0.8;
/** Pull-through cache: a cache hit at least this fraction of a pull of the same image pushed locally. */
export const PROXY_HIT_FRACTION = 0.95;
/** Pull-through cache: a miss takes at most this many times as long as pulling from the upstream directly. */
export const PROXY_MISS_FACTOR = 1.2;
/** Other CPU use (% of a core) above which a measurement is flagged as disturbed. */
export const DISTURBED_PCT = 25;

/** Whether `def` is held to the "push within 80 % of disk speed" target (the embedded default's: S3 writes no local disk). */
export function diskTarget(def: ScenarioDef, plan: ScenarioDef[], storage: StorageName = 'embedded'): boolean {
  if (!def.kind.startsWith('push-') || storage !== 'embedded') return false;
  const largest = Math.max(...plan.filter((d) => d.kind.startsWith('push-')).map((d) => d.size!));
  return def.size === largest;
}

export function evaluateChecks(run: Omit<BenchRun, 'checks'>): Check[] {
  // Targets are placed on the full plan's largest sizes, whatever --only selected.
  const plan = planScenarios({ smoke: run.smoke, storage: run.storage, gcScale: run.gcScale });
  const checks: Check[] = [];
  for (const { def, results } of run.scenarios) {
    const s = results.stowage;
    const d = results.distribution;
    const target = ratioTarget(def, plan);
    if (target !== undefined && s && d) {
      // A Distribution listing stopped at its budget: the ratio is at least this.
      const ratio = d.unfinished ? s.value * d.unfinished.seconds : s.value / d.value;
      checks.push({
        scenario: def.id,
        description: `Stowage/Distribution ≥ ${target}`,
        pass: ratio >= target,
        detail: `${d.unfinished ? '> ' : ''}${fmtRatio(ratio)}`,
      });
    }
    if (s && diskTarget(def, plan, run.storage)) {
      const limit = run.limits.diskWriteFsyncMiBs;
      const floor = limit * DISK_FRACTION;
      const pct = (v: number) => `${Math.round((s.value / v) * 100)} %`;
      const ref = s.diskRefMiBs
        ? `; same I/O without the registry just before / after: ${s.diskRefMiBs.map(fmtNum).join(' / ')} MiB/s (${s.diskRefMiBs.map(pct).join(' / ')})`
        : '';
      checks.push({
        scenario: def.id,
        description: `≥ ${DISK_FRACTION * 100} % of disk write+fsync`,
        pass: s.value >= floor,
        detail: `${fmtNum(s.value)} MiB/s = ${pct(limit)} of the machine limit ${fmtNum(limit)} MiB/s${ref}`,
      });
    }
  }
  for (const { def, results } of run.scenarios) {
    const g = results.stowage?.gc;
    if (def.kind !== 'gc' || !g?.pushBaseline || !g.pushDuring) continue;
    const ratio = g.pushDuring.p99 / g.pushBaseline.p99;
    checks.push({
      scenario: def.id,
      description: `push p99 during GC ≤ ${GC_PUSH_P99}× without`,
      pass: ratio <= GC_PUSH_P99,
      detail: `${fmtMs(g.pushDuring.p99)} ms during (${g.pushDuring.count} pushes), ${fmtMs(g.pushBaseline.p99)} ms without (${g.pushBaseline.count}): ${fmtRatio(ratio)}`,
    });
  }
  checks.push(...proxyChecks(run.scenarios, 'stowage'));
  const rss = run.scenarios
    // proxy-direct's server is the upstream, not Stowage.
    .filter((o) => o.results.stowage && o.def.kind !== 'proxy-direct')
    .map((o) => ({ id: o.def.id, rss: o.results.stowage!.peakRssBytes }));
  if (rss.length > 0) {
    const worst = rss.reduce((a, b) => (b.rss > a.rss ? b : a));
    checks.push({
      scenario: 'every scenario',
      description: `Stowage peak RSS < ${RSS_LIMIT / MiB} MiB`,
      pass: worst.rss < RSS_LIMIT,
      detail: `max ${fmtMiB(worst.rss)} MiB (${worst.id})`,
    });
  }
  checks.push({
    scenario: 'every scenario',
    description: 'zero errors',
    pass: run.errors === 0,
    detail: `${run.errors} errors`,
  });
  return checks;
}

/**
 * The pull-through cache's two targets for one target's column: its hit against
 * the same image pushed into it (Distribution: into the plain instance, its proxy
 * mode refuses pushes), and how much longer its miss takes than a pull from the
 * upstream itself (time ratio = direct MiB/s over miss MiB/s).
 */
export function proxyChecks(outcomes: ScenarioOutcome[], t: TargetName): Check[] {
  const result = (kind: ScenarioDef['kind'], size: number | undefined) =>
    outcomes.find((o) => o.def.kind === kind && o.def.size === size)?.results[t];
  const checks: Check[] = [];
  for (const { def, results } of outcomes) {
    const r = results[t];
    if (!r) continue;
    if (def.kind === 'proxy-hit') {
      const local = result('proxy-local', def.size);
      if (!local) continue;
      const ratio = r.value / local.value;
      checks.push({
        scenario: def.id,
        description: `cache hit ≥ ${PROXY_HIT_FRACTION} × local pull`,
        pass: ratio >= PROXY_HIT_FRACTION,
        detail: `${fmtNum(r.value)} MiB/s hit, ${fmtNum(local.value)} MiB/s local: ${fmtRatio(ratio)}`,
      });
    }
    if (def.kind === 'proxy-miss') {
      const direct = result('proxy-direct', def.size);
      if (!direct) continue;
      const factor = direct.value / r.value;
      checks.push({
        scenario: def.id,
        description: `cache miss time ≤ ${PROXY_MISS_FACTOR} × direct pull`,
        pass: factor <= PROXY_MISS_FACTOR,
        detail: `${fmtNum(r.value)} MiB/s miss, ${fmtNum(direct.value)} MiB/s from the upstream directly: ${fmtRatio(factor)} the time`,
      });
    }
  }
  return checks;
}

// ---- formatting -------------------------------------------------------------------

function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return '—';
  if (v >= 100) return Math.round(v).toLocaleString('en-US');
  if (v >= 10) return v.toFixed(1);
  if (v > 0 && v < 0.1) return v.toPrecision(2);
  return v.toFixed(2);
}

function fmtMs(v: number): string {
  if (v >= 100) return Math.round(v).toString();
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function fmtRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : '—';
}

function fmtMiB(bytes: number): string {
  return Math.round(bytes / MiB).toString();
}

function pair(s: string | undefined, d: string | undefined): string {
  return `${s ?? '—'} / ${d ?? '—'}`;
}

/** How much load a scenario applies (the id says what it is). */
function describe(def: ScenarioDef): string {
  const bits: string[] = [];
  const pulls = def.kind === 'pull' || PROXY_KINDS.includes(def.kind);
  if (def.count !== undefined)
    bits.push(`${def.count} ${pulls ? 'pulls' : def.kind === 'small-blobs' ? 'blobs' : 'pushes'}`);
  if (PROXY_KINDS.includes(def.kind)) bits.push(PROXY_WHAT[def.kind]!);
  if (def.durationMs !== undefined) bits.push(`${def.durationMs / 1000} s`);
  bits.push(`c=${def.concurrency}`);
  if (def.kind === 'push-chunked') bits.push(`${formatSize(def.chunkSize!)} chunks`);
  if (def.kind === 'push-streamed') bits.push(`${formatSize(def.chunkSize!)} writes`);
  if (def.kind === 'tag-list' || def.kind === 'tag-list-paged') bits.push(`${def.tags} tags`);
  if (def.kind === 'catalog-paged') bits.push(`${def.repos} repositories`);
  if (def.kind === 'tag-list-paged' || def.kind === 'catalog-paged')
    bits.push(def.pageSize === undefined ? 'default page' : `n=${def.pageSize}`);
  if (def.metrics) bits.push('metrics on');
  if (def.gc) {
    const t = gcTotals(def.gc);
    return `${def.gc.repos} repositories, ${t.images} manifests, ${t.blobs} blobs, half deleted; push load c=${def.gc.pushConcurrency}`;
  }
  return bits.join(', ');
}

/** What a pull-through scenario pulls, and from where. */
const PROXY_WHAT: Partial<Record<ScenarioDef['kind'], string>> = {
  'proxy-local': 'image pushed into the registry (Distribution: its plain instance)',
  'proxy-hit': 'image cached from the upstream',
  'proxy-direct': 'image from the upstream itself (no cache)',
  'proxy-miss': 'each pull a new image upstream, through the cache',
};

/** The results table (markdown, also printed to the terminal). */
export function renderTable(run: BenchRun): string {
  const header = [
    'Scenario',
    'Load',
    'Unit',
    'Stowage',
    'Distribution',
    'S/D',
    'Target',
    'p50 ms S / D',
    'p99 ms S / D',
    'Peak RSS MiB S / D',
    'Server CPU % S / D',
    'Loadgen CPU % S / D',
    'Other procs CPU % S / D',
    'Errors S / D',
  ];
  const rows: string[][] = [];
  for (const o of run.scenarios) {
    const { def } = o;
    const s = o.results.stowage;
    const d = o.results.distribution;
    const targetBits: string[] = [];
    for (const c of run.checks.filter((c) => c.scenario === def.id)) {
      targetBits.push(`${c.description.replace('Stowage/Distribution ', '')} ${c.pass ? 'PASS' : 'MISS'}`);
    }
    const errs = (t: TargetName) => {
      const r = o.results[t];
      if (o.failures[t]) return 'FAILED';
      return r ? String(r.errors) : undefined;
    };
    const rssCell = (r: TargetResult | undefined, limit: boolean) =>
      r ? `${fmtMiB(r.peakRssBytes)}${limit && r.peakRssBytes >= RSS_LIMIT ? ' (MISS)' : ''}` : undefined;
    rows.push([
      def.id,
      describe(def),
      def.unit,
      s ? fmtNum(s.value) : '—',
      // An unfinished listing: below one per its time; the ratio is a lower bound.
      d ? (d.unfinished ? `< ${fmtNum(1 / d.unfinished.seconds)}` : fmtNum(d.value)) : '—',
      s && d ? (d.unfinished ? `> ${fmtRatio(s.value * d.unfinished.seconds)}` : fmtRatio(s.value / d.value)) : '—',
      targetBits.join('; '),
      pair(s && fmtMs(s.latency.p50), d && fmtMs(d.latency.p50)),
      pair(s && fmtMs(s.latency.p99), d && fmtMs(d.latency.p99)),
      pair(rssCell(s, true), rssCell(d, false)),
      pair(s && Math.round(s.serverCpuPct).toString(), d && Math.round(d.serverCpuPct).toString()),
      pair(s && Math.round(s.loadgenCpuPct).toString(), d && Math.round(d.loadgenCpuPct).toString()),
      pair(s && Math.round(s.otherCpuPct).toString(), d && Math.round(d.otherCpuPct).toString()),
      pair(errs('stowage'), errs('distribution')),
    ]);
  }
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => ' --- ').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export function renderLimits(run: BenchRun): string {
  const l = run.limits;
  const m = run.machine;
  return [
    `| Machine limit | Measured |`,
    `| --- | --- |`,
    `| SHA-256, one core | ${fmtNum(l.sha256MiBs)} MiB/s |`,
    ...Object.entries(l.resumableSha256MiBs ?? {}).map(
      ([impl, v]) =>
        `| Resumable SHA-256 of S3 uploads (${impl === 'openssl' ? 'OpenSSL, native/sha256.c' : 'hash-wasm'}; 64 KiB updates, saved and resumed every 8 MiB), one core | ${fmtNum(v)} MiB/s |`,
    ),
    `| Sequential write + fsync (${formatSize(l.diskWriteBytes)}, ${m.filesystem}) | ${fmtNum(l.diskWriteFsyncMiBs)} MiB/s${l.diskWriteFsyncSamples.length > 1 ? ` (best of ${l.diskWriteFsyncSamples.map(fmtNum).join(' at start, ')} at end)` : ''} |`,
    `| Loopback TCP, one connection | ${fmtNum(l.loopbackTcpMiBs)} MiB/s |`,
    `| CPU | ${m.cores} × ${m.cpuModel} |`,
    `| Memory | ${m.memoryGiB} GiB |`,
    `| Kernel, Node | ${m.kernel}, ${m.node} |`,
  ].join('\n');
}

/** Paged listings: a whole listing (all pages) and each page request, for both registries. */
export function renderListings(run: BenchRun): string {
  const rows = run.scenarios.filter((o) => o.def.kind === 'tag-list-paged' || o.def.kind === 'catalog-paged');
  if (rows.length === 0) return '';
  const cell = (r: TargetResult | undefined, f: (r: TargetResult) => string) => (r ? f(r) : '—');
  return [
    '| Listing | Page | Pages per listing S / D | Listing p50 / p99 ms, Stowage | Listing p50 / p99 ms, Distribution | Page p50 / p99 ms, Stowage | Page p50 / p99 ms, Distribution | Listings S / D | S/D |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((o) => {
      const s = o.results.stowage;
      const d = o.results.distribution;
      const lat = (l: TargetResult['latency'] | undefined) => (l ? `${fmtMs(l.p50)} / ${fmtMs(l.p99)}` : '—');
      // A listing stopped at its budget: how far it got, and the ratio it implies (a lower bound).
      const whole = (r: TargetResult) =>
        r.unfinished
          ? `unfinished: ${r.unfinished.pages} pages (${fmtNum(r.unfinished.entries)} entries) in ${fmtNum(r.unfinished.seconds)} s`
          : lat(r.latency);
      const pages = (r: TargetResult | undefined) =>
        r && (r.unfinished ? `> ${r.unfinished.pages}` : String(r.pagesPerList));
      const ratio =
        !s || !d ? '—' : d.unfinished ? `> ${fmtRatio(s.value * d.unfinished.seconds)}` : fmtRatio(s.value / d.value);
      return `| ${o.def.kind === 'tag-list-paged' ? `${o.def.tags} tags` : `catalog, ${o.def.repos} repositories`} | ${o.def.pageSize === undefined ? 'default' : `n=${o.def.pageSize}`} | ${pair(pages(s), pages(d))} | ${cell(s, whole)} | ${cell(d, whole)} | ${cell(s, (r) => lat(r.pageLatency))} | ${cell(d, (r) => lat(r.pageLatency))} | ${pair(s && String(s.ok), d && String(d.ok))} | ${ratio} |`;
    }),
  ].join('\n');
}

/** Stowage with `metrics: { enabled: true }` against the same scenario with metrics off. */
export function renderMetricsOn(run: BenchRun): string {
  const rows = run.scenarios.filter((o) => o.def.metrics);
  if (rows.length === 0) return '';
  return [
    '| Scenario | Stowage, metrics off | Stowage, metrics on | on / off | Distribution (in the metrics-on scenario) | S/D with metrics on |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((o) => {
      const off = run.scenarios.find((b) => b.def.id === o.def.id.replace(/-metrics$/, ''))?.results.stowage;
      const on = o.results.stowage;
      const d = o.results.distribution;
      return `| ${o.def.id} | ${off ? `${fmtNum(off.value)} ${o.def.unit}` : '—'} | ${on ? `${fmtNum(on.value)} ${o.def.unit}` : '—'} | ${on && off ? fmtRatio(on.value / off.value) : '—'} | ${d ? fmtNum(d.value) : '—'} | ${on && d ? fmtRatio(on.value / d.value) : '—'} |`;
    }),
  ].join('\n');
}

/** The garbage-collection scenario: both collectors' times, and push latency without and during Stowage's. */
export function renderGc(run: BenchRun): string {
  const rows = run.scenarios.filter((o) => o.def.kind === 'gc');
  if (rows.length === 0) return '';
  const lat = (l: { p50: number; p99: number; count: number } | undefined) =>
    l ? `${fmtMs(l.p50)} / ${fmtMs(l.p99)} (${l.count})` : '—';
  const verdict = (pass: boolean) => (pass ? 'PASS' : 'MISS');
  return [
    `| Storage | Content | Stowage GC s (online, under push load) | Distribution GC s (offline) | Speed-up | ≥ ${GC_SPEEDUP}× | Push p50 / p99 ms without GC (pushes) | Push p50 / p99 ms during GC (pushes) | p99 during / without | ≤ ${GC_PUSH_P99}× | Blobs removed, checked S / D | Collector CPU s S / D | Peak RSS MiB S / D | Load avg after S / D |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((o) => {
      const s = o.results.stowage;
      const d = o.results.distribution;
      const sg = s?.gc;
      const dg = d?.gc;
      const speedup = sg && dg ? dg.seconds / sg.seconds : NaN;
      const p99 = sg?.pushBaseline && sg.pushDuring ? sg.pushDuring.p99 / sg.pushBaseline.p99 : NaN;
      const t = gcTotals(o.def.gc!);
      return `| ${run.storage ?? 'embedded'} | ${o.def.gc!.repos} repositories, ${t.images} manifests (+${t.indexes} indexes), ${t.blobs} blobs; ${t.images / 2} manifests deleted | ${sg ? `${fmtNum(sg.seconds)}${sg.reportedSeconds !== undefined ? ` (its report: ${fmtNum(sg.reportedSeconds)})` : ''}` : o.failures.stowage ? 'FAILED' : '—'} | ${dg ? fmtNum(dg.seconds) : o.failures.distribution ? 'FAILED' : '—'} | ${fmtRatio(speedup)} | ${Number.isFinite(speedup) ? verdict(speedup >= GC_SPEEDUP) : '—'} | ${lat(sg?.pushBaseline)} | ${lat(sg?.pushDuring)} | ${fmtRatio(p99)} | ${Number.isFinite(p99) ? verdict(p99 <= GC_PUSH_P99) : '—'} | ${pair(sg && String(sg.removed), dg && String(dg.removed))} | ${pair(sg && fmtNum(sg.cpuSeconds), dg && fmtNum(dg.cpuSeconds))} | ${pair(sg && fmtMiB(sg.peakRssBytes), dg && fmtMiB(dg.peakRssBytes))} | ${pair(s?.loadAverage?.toFixed(2), d?.loadAverage?.toFixed(2))} |`;
    }),
  ].join('\n');
}

/** The pull-through cache group: each pull for both registries, then the targets for both. */
export function renderProxy(run: BenchRun): string {
  const rows = run.scenarios.filter((o) => PROXY_KINDS.includes(o.def.kind));
  if (rows.length === 0) return '';
  const lat = (r: TargetResult | undefined) => (r ? `${fmtMs(r.latency.p50)} / ${fmtMs(r.latency.p99)}` : '—');
  const pct = (v: number | undefined) => (v === undefined ? undefined : Math.round(v).toString());
  const table = [
    '| Pull (manifest by tag, then config and layers) | Image | Pulls | Stowage MiB/s | Distribution MiB/s | S/D | p50 / p99 ms, Stowage | p50 / p99 ms, Distribution | Peak RSS MiB S / D | Server CPU % S / D | Upstream CPU % S / D |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((o) => {
      const s = o.results.stowage;
      const d = o.results.distribution;
      const fig = (r: TargetResult | undefined, t: TargetName) =>
        r ? fmtNum(r.value) : o.failures[t] ? 'FAILED' : '—';
      return `| ${o.def.id}: ${PROXY_WHAT[o.def.kind]} | ${formatSize(o.def.size!)} layer + 1 MiB + 16 KiB | ${o.def.count} | ${fig(s, 'stowage')} | ${fig(d, 'distribution')} | ${s && d ? fmtRatio(s.value / d.value) : '—'} | ${lat(s)} | ${lat(d)} | ${pair(s && fmtMiB(s.peakRssBytes), d && fmtMiB(d.peakRssBytes))} | ${pair(pct(s?.serverCpuPct), pct(d?.serverCpuPct))} | ${pair(pct(s?.upstreamCpuPct), pct(d?.upstreamCpuPct))} |`;
    }),
  ];
  const s = proxyChecks(run.scenarios, 'stowage');
  const d = proxyChecks(run.scenarios, 'distribution');
  const targets = s.map((c) => {
    const other = d.find((x) => x.scenario === c.scenario);
    return `| ${c.description} | ${c.scenario} | ${c.pass ? 'PASS' : 'MISS'}: ${c.detail} | ${other ? other.detail : '—'} |`;
  });
  return [
    ...table,
    '',
    '| Target (Stowage) | Scenario | Stowage | Distribution in proxy mode, the same measure |',
    '| --- | --- | --- | --- |',
    ...targets,
  ].join('\n');
}

export function renderChecks(run: BenchRun): string {
  return [
    `| Target | Scenario | Result | Measured |`,
    `| --- | --- | --- | --- |`,
    ...run.checks.map((c) => `| ${c.description} | ${c.scenario} | ${c.pass ? 'PASS' : 'MISS'} | ${c.detail} |`),
  ].join('\n');
}

export function renderErrors(run: BenchRun): string {
  const lines: string[] = [];
  for (const o of run.scenarios) {
    for (const t of run.targets) {
      const f = o.failures[t];
      if (f) lines.push(`- ${o.def.id} on ${TARGET_LABELS[t]}: FAILED: ${f}`);
      const r = o.results[t];
      if (r && r.errors > 0)
        lines.push(`- ${o.def.id} on ${TARGET_LABELS[t]}: ${r.errors} errors, e.g. ${r.errorSamples.join(' | ')}`);
    }
  }
  return lines.join('\n');
}

/** The whole report as markdown (the .md result file and BENCHMARKS.md's section). */
export function renderMarkdown(run: BenchRun): string {
  const servers = run.targets.map((t) => `${TARGET_LABELS[t]}: ${run.servers[t] ?? '?'}`).join('; ');
  const errors = renderErrors(run);
  const disturbed = run.scenarios.flatMap((o) =>
    run.targets
      .filter((t) => (o.results[t]?.otherCpuPct ?? 0) > DISTURBED_PCT)
      .map((t) => `${o.def.id} (${TARGET_LABELS[t]}, ${Math.round(o.results[t]!.otherCpuPct)} %)`),
  );
  const listings = renderListings(run);
  const metricsOn = renderMetricsOn(run);
  const gc = renderGc(run);
  const proxy = renderProxy(run);
  const loads = run.scenarios
    .flatMap((o) => run.targets.map((t) => o.results[t]?.loadAverage ?? NaN))
    .filter(Number.isFinite);
  const load = run.loadAverage
    ? ` Load average (1 min): ${run.loadAverage.start.toFixed(2)} at the start, ${run.loadAverage.end.toFixed(2)} at the end${loads.length ? `, ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} after the measurements` : ''}.`
    : '';
  return [
    `Run ${run.date}, commit ${run.commit}, storage ${run.storage ?? 'embedded'}${run.smoke ? ', --smoke' : ''}${run.only ? `, --only ${run.only}` : ''}, ${Math.round(run.durationSeconds)} s. ${servers}.${load}`,
    '',
    renderTable(run),
    '',
    'S/D = Stowage / Distribution (higher is better for Stowage). CPU % is of one core (the machine has ' +
      `${run.machine.cores}). p50/p99 are per operation: one request, or one whole blob push/pull.`,
    '',
    renderChecks(run),
    ...(listings ? ['', 'Paged listings (a listing = every page, following Link):', '', listings] : []),
    ...(metricsOn ? ['', 'Metrics on (`metrics: { enabled: true }`):', '', metricsOn] : []),
    ...(gc ? ['', 'Garbage collection:', '', gc] : []),
    ...(proxy ? ['', 'Pull-through cache:', '', proxy] : []),
    '',
    renderLimits(run),
    ...(disturbed.length
      ? [
          '',
          `**Disturbed**: other processes used more than ${DISTURBED_PCT} % of a core during ${disturbed.join(', ')}.`,
        ]
      : []),
    ...(errors ? ['', '**Errors**', '', errors] : []),
  ].join('\n');
}

// ---- files ------------------------------------------------------------------------

export function gitCommit(repoRoot: string): string {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' });
  if (head.status !== 0) return 'nogit';
  const dirty = spawnSync('git', ['status', '--porcelain'], { cwd: repoRoot, encoding: 'utf8' });
  return `${head.stdout.trim()}${dirty.stdout.trim() ? '-dirty' : ''}`;
}

/** BENCHMARKS.md's results section of a storage configuration (the embedded one keeps its old markers). */
function markers(storage: StorageName | undefined): { start: string; end: string; title: string } {
  const tag = storage === 's3+postgres' ? 'results-s3' : 'results';
  return {
    start: `<!-- bench:${tag}:start (written by npm run bench; edit outside these markers) -->`,
    end: `<!-- bench:${tag}:end -->`,
    title: storage === 's3+postgres' ? 'Latest results: s3+postgres' : 'Latest results',
  };
}

/** Writes bench/results/<date>-<commit>{,-smoke,-partial}.{json,md}; returns their paths. */
export function writeResultFiles(run: BenchRun, repoRoot: string): string[] {
  const dir = path.join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const suffix =
    (run.storage === 's3+postgres' ? '-s3' : '') +
    (run.smoke ? '-smoke' : run.only || run.targets.length < 2 ? '-partial' : '');
  const base = path.join(dir, `${run.date.slice(0, 10)}-${run.commit}${suffix}`);
  writeFileSync(`${base}.json`, JSON.stringify(run, null, 2) + '\n');
  writeFileSync(`${base}.md`, `# Stowage vs Distribution benchmark\n\n${renderMarkdown(run)}\n`);
  return [`${base}.json`, `${base}.md`];
}

/** Replaces BENCHMARKS.md's results section (between markers), creating the file from a template if needed. */
export function updateBenchmarksMd(run: BenchRun, repoRoot: string, resultBase: string): string {
  const { start, end, title } = markers(run.storage);
  return replaceSection(
    repoRoot,
    start,
    end,
    `${start}\n## ${title}\n\n${renderMarkdown(run)}\n\nFull data: \`${resultBase}.json\`.\n${end}`,
  );
}

/**
 * BENCHMARKS.md's garbage-collection results of the run's storage configuration,
 * from a run of the scenario against both registries (with or without --only;
 * a --gc-scale other than 1 says so in the heading); undefined for smoke runs.
 */
export function updateGcSection(run: BenchRun, repoRoot: string, resultBase: string): string | undefined {
  const o = run.scenarios.find((x) => x.def.kind === 'gc');
  if (run.smoke || !o || run.targets.length < 2) return undefined;
  const full = gcTotals(gcShape(1)).blobs === gcTotals(o.def.gc!).blobs;
  const tag = run.storage === 's3+postgres' ? 'gc-s3' : 'gc';
  const start = `<!-- bench:${tag}:start (written by npm run bench; edit outside these markers) -->`;
  const end = `<!-- bench:${tag}:end -->`;
  const seeding = run.targets
    .map((t) => {
      const g = o.results[t]?.gc;
      return g
        ? `${TARGET_LABELS[t]} seeded through ${g.seedMethod} in ${Math.round(g.seedSeconds)} s, ${g.deletedManifests} manifests DELETEd through its API in ${Math.round(g.deleteSeconds)} s`
        : `${TARGET_LABELS[t]}: ${o.failures[t] ?? 'no result'}`;
    })
    .join('; ');
  const checks = run.checks.filter((c) => c.scenario === o.def.id);
  const body = [
    `### Garbage collection: ${run.storage ?? 'embedded'}${full ? '' : ` (--gc-scale ${run.gcScale}: not the full size)`}`,
    '',
    `Run ${run.date}, commit ${run.commit}, \`${o.def.id}\`. ${run.targets.map((t) => `${TARGET_LABELS[t]}: ${run.servers[t] ?? '?'}`).join('; ')}.` +
      (run.loadAverage
        ? ` Load average (1 min): ${run.loadAverage.start.toFixed(2)} at the start, ${run.loadAverage.end.toFixed(2)} at the end.`
        : ''),
    '',
    renderGc(run),
    '',
    `| Target | Result | Measured |`,
    `| --- | --- | --- |`,
    ...checks.map((c) => `| ${c.description} | ${c.pass ? 'PASS' : 'MISS'} | ${c.detail} |`),
    '',
    `${seeding}. Full data: \`${resultBase}.json\`.`,
  ].join('\n');
  return replaceSection(repoRoot, start, end, `${start}\n${body}\n${end}`);
}

/**
 * BENCHMARKS.md's pull-through-cache results, from a run of its scenarios
 * against both registries (with or without --only); undefined for smoke runs.
 */
export function updateProxySection(run: BenchRun, repoRoot: string, resultBase: string): string | undefined {
  const kinds = new Set(run.scenarios.map((o) => o.def.kind));
  if (run.smoke || run.targets.length < 2 || !PROXY_KINDS.every((k) => kinds.has(k))) return undefined;
  const start = '<!-- bench:proxy:start (written by npm run bench; edit outside these markers) -->';
  const end = '<!-- bench:proxy:end -->';
  const body = [
    `Run ${run.date}, commit ${run.commit}. ${run.targets.map((t) => `${TARGET_LABELS[t]}: ${run.servers[t] ?? '?'}`).join('; ')}.` +
      (run.loadAverage
        ? ` Load average (1 min): ${run.loadAverage.start.toFixed(2)} at the start, ${run.loadAverage.end.toFixed(2)} at the end.`
        : ''),
    '',
    renderProxy(run),
    '',
    `Full data: \`${resultBase}.json\`.`,
  ].join('\n');
  return replaceSection(repoRoot, start, end, `${start}\n${body}\n${end}`);
}

function replaceSection(repoRoot: string, start: string, end: string, section: string): string {
  const file = path.join(repoRoot, 'BENCHMARKS.md');
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const a = text.indexOf(start.slice(0, start.indexOf(' (')));
  const b = text.indexOf(end);
  if (a !== -1 && b !== -1 && b > a) {
    text = text.slice(0, a) + section + text.slice(b + end.length);
  } else {
    text = text ? `${text.trimEnd()}\n\n${section}\n` : `# Benchmarks\n\n${section}\n`;
  }
  writeFileSync(file, text);
  return file;
}
