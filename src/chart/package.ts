/**
 * `helm package`: a chart directory → NAME-VERSION.tgz, laid out as Helm 3 writes it.
 *
 * Entry order: Chart.yaml (re-serialised from the loaded metadata: keys sorted, comments
 * and unknown fields gone), Chart.lock (apiVersion v2 only, re-serialised), values.yaml
 * (raw), values.schema.json, templates in walk order, other files in walk order, then
 * every dependency the same way under NAME/charts/DEP/ (archives in charts/ expanded).
 * Every entry is a 0644 regular file under NAME/ (the chart's name, not the directory's);
 * no directory entries. Mtimes: "now" as Helm 3 (default), the source files' mtimes as
 * Helm 4, or one fixed time (SOURCE_DATE_EPOCH) for reproducible archives.
 *
 * Before writing, Chart.yaml must pass `helm lint`'s error rules, the version (after
 * --version) must parse as SemVer, and every Chart.yaml dependency must be in charts/.
 */
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TAR_TRAILER } from '../gocompat/tar/writer.js';
import { helmGzip, helmTarEntry } from './archive.js';
import { lintChartYaml, type LintMessage } from './lint.js';
import { ChartLoadError, loadChartDir, type Chart } from './loader.js';
import { API_VERSION_V2, lockYaml, metadataYaml, type ChartMetadata } from './metadata.js';
import { isVersion } from '../gocompat/semver.js';

export type MtimePolicy = 'now' | 'source' | { fixedMs: number };

export interface ArchiveEntry {
  name: string;
  data: Buffer;
  mtimeMs: number;
}

/** The tar members of a chart in Helm's order (Save → writeTarContents). */
export function chartEntries(
  chart: Chart,
  opts: { mtime?: MtimePolicy; nowMs?: number; prefix?: string } = {},
): ArchiveEntry[] {
  const policy = opts.mtime ?? 'now';
  const now = opts.nowMs ?? Date.now();
  const when = (source: number | undefined) =>
    typeof policy === 'object' ? policy.fixedMs : policy === 'source' && source !== undefined ? source : now;
  const base = path.posix.join(opts.prefix ?? '', chart.metadata.name);
  const out: ArchiveEntry[] = [];
  const add = (name: string, data: Buffer, source: number | undefined) =>
    out.push({ name: path.posix.join(base, name), data, mtimeMs: when(source) });
  add('Chart.yaml', Buffer.from(metadataYaml(chart.metadata), 'utf8'), chart.chartYaml.mtimeMs);
  if (chart.metadata.apiVersion === API_VERSION_V2 && chart.lock) {
    const generated = Date.parse(chart.lock.generated);
    add('Chart.lock', Buffer.from(lockYaml(chart.lock), 'utf8'), Number.isFinite(generated) ? generated : undefined);
  }
  if (chart.values) add('values.yaml', chart.values.data, chart.values.mtimeMs);
  if (chart.schema) add('values.schema.json', chart.schema.data, chart.schema.mtimeMs);
  for (const f of chart.templates) add(f.name, f.data, f.mtimeMs);
  for (const f of chart.files) add(f.name, f.data, f.mtimeMs);
  for (const dep of chart.dependencies)
    out.push(...chartEntries(dep, { ...opts, nowMs: now, prefix: path.posix.join(base, 'charts') }));
  return out;
}

/** The .tgz bytes for a loaded chart. */
export function chartArchive(
  chart: Chart,
  opts: { mtime?: MtimePolicy; nowMs?: number } = {},
): { bytes: Buffer; entries: ArchiveEntry[] } {
  if (chart.schema) {
    try {
      JSON.parse(chart.schema.data.toString('utf8'));
    } catch {
      throw new ChartLoadError('Invalid JSON in values.schema.json', 'fix values.schema.json: it must be valid JSON');
    }
  }
  const entries = chartEntries(chart, opts);
  const tar = Buffer.concat([...entries.map((e) => helmTarEntry(e.name, e.data, e.mtimeMs)), TAR_TRAILER]);
  return { bytes: helmGzip(tar), entries };
}

/** `helm package`'s dependency check: every dependency in Chart.yaml is in charts/. */
export function missingDependencies(chart: Chart): string[] {
  const have = new Set(chart.dependencies.map((d) => d.metadata.name));
  return (chart.metadata.dependencies ?? []).filter((d) => d !== null && !have.has(d.name)).map((d) => d!.name);
}

export interface PackageOptions {
  /** Overrides Chart.yaml's version (must be SemVer). */
  version?: string;
  /** Overrides Chart.yaml's appVersion. */
  appVersion?: string;
  /** Where to write NAME-VERSION.tgz (default: the current directory). */
  destination?: string;
  mtime?: MtimePolicy;
}

export interface PackageResult {
  file: string;
  name: string;
  version: string;
  size: number;
  metadata: ChartMetadata;
  entries: string[];
  /** Lint warnings (not errors, which stop packaging). */
  warnings: LintMessage[];
}

/** A chart that does not pass validation: every problem, each with a hint. */
export class ChartInvalidError extends Error {
  constructor(
    readonly dir: string,
    readonly problems: LintMessage[],
  ) {
    super(`${dir}: ${problems.map((p) => p.message).join('; ')}`);
  }
}

/** `helm package DIR [--version V] [--app-version V] [-d DEST]`. */
export async function packageChart(dir: string, opts: PackageOptions = {}): Promise<PackageResult> {
  let chartYamlText: string | undefined;
  try {
    chartYamlText = await readFile(path.join(dir, 'Chart.yaml'), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      let isDir = false;
      try {
        isDir = (await stat(dir)).isDirectory();
      } catch {
        throw new ChartLoadError(`${dir}: no such directory`, 'give the chart directory (the one holding Chart.yaml)');
      }
      if (!isDir)
        throw new ChartLoadError(
          `${dir} is not a directory`,
          'package a chart directory; an archive is packaged already',
        );
    } else {
      throw new ChartLoadError(`cannot read ${path.join(dir, 'Chart.yaml')}: ${(e as Error).message}`);
    }
  }
  const lint = lintChartYaml(chartYamlText).filter((m) => {
    // An override replaces the value lint objects to.
    if (opts.version !== undefined && /^version should be of type/.test(m.message)) return false;
    if (opts.appVersion !== undefined && /^appVersion should be of type/.test(m.message)) return false;
    return true;
  });
  const errors = lint.filter((m) => m.severity === 'error');
  if (errors.length) throw new ChartInvalidError(dir, errors);

  const chart = await loadChartDir(dir);
  const md = chart.metadata;
  if (opts.version !== undefined && opts.version !== '') md.version = opts.version;
  if (!isVersion(md.version)) {
    throw new ChartInvalidError(dir, [
      {
        severity: 'error',
        path: 'Chart.yaml',
        message: `version "${md.version}" is not a valid SemVer`,
        hint: 'give --version as MAJOR.MINOR.PATCH, e.g. 1.2.3',
      },
    ]);
  }
  if (opts.appVersion !== undefined && opts.appVersion !== '') md.appVersion = opts.appVersion;
  const missing = missingDependencies(chart);
  if (missing.length) {
    throw new ChartInvalidError(dir, [
      {
        severity: 'error',
        path: 'Chart.yaml',
        message: `found in Chart.yaml, but missing in charts/ directory: ${missing.join(', ')}`,
        hint: 'put each dependency (directory or .tgz) under charts/, e.g. with `helm dependency build`',
      },
    ]);
  }

  const { bytes, entries } = chartArchive(chart, { ...(opts.mtime ? { mtime: opts.mtime } : {}) });
  const destDir = path.resolve(opts.destination ?? '.');
  await mkdir(destDir, { recursive: true });
  const file = path.join(destDir, `${md.name}-${md.version}.tgz`);
  const tmp = `${file}.${process.pid}.partial`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return {
    file,
    name: md.name,
    version: md.version,
    size: bytes.length,
    metadata: md,
    entries: entries.map((e) => e.name),
    warnings: lint.filter((m) => m.severity !== 'error'),
  };
}
