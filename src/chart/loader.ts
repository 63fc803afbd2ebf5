/**
 * Loading a chart the way Helm's loader does (pkg/chart/loader):
 *
 *   loadChartDir      LoadDir: walk in lexical byte order following symlinks, honour the
 *                     top-level .helmignore (plus `templates/.?*`), refuse irregular files
 *                     and files over 5 MiB, strip UTF-8 BOMs
 *   loadChartArchive  LoadArchive: a .tgz (see archive.ts)
 *   loadChartFiles    LoadFiles: sort files into Chart.yaml, Chart.lock, values.yaml,
 *                     values.schema.json, templates/, files, and subcharts under charts/
 *                     (directories and .tgz archives, both loaded recursively)
 *
 * The chart keeps each file's bytes and, from a directory, its mtime.
 */
import { lstat, readFile, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { goYamlParse } from '../gocompat/yaml/decode.js';
import { IgnoreRules, IgnoreSyntaxError } from './ignore.js';
import { ChartArchiveError, MAX_DECOMPRESSED_FILE_SIZE, readChartArchive, stripBom } from './archive.js';
import {
  API_VERSION_V1,
  ChartFileError,
  decodeChartLock,
  decodeChartYaml,
  decodeChartYamlInto,
  validateMetadata,
  type ChartLock,
  type ChartMetadata,
} from './metadata.js';

export interface ChartFile {
  /** Path relative to the chart root, "/"-separated. */
  name: string;
  data: Buffer;
  /** The source file's mtime, when loaded from a directory. */
  mtimeMs?: number;
}

export interface Chart {
  metadata: ChartMetadata;
  /** Chart.yaml as read (for lint, and its mtime). */
  chartYaml: ChartFile;
  lock?: ChartLock;
  lockFile?: ChartFile;
  /** values.yaml, raw. */
  values?: ChartFile;
  /** values.schema.json, raw. */
  schema?: ChartFile;
  templates: ChartFile[];
  /** Everything else (README.md, .helmignore, crds/, charts/*.prov, …) in walk order. */
  files: ChartFile[];
  dependencies: Chart[];
}

/** A chart Helm's loader would refuse; `message` says why (Helm's wording where it has one). */
export class ChartLoadError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** LoadFiles. */
export async function loadChartFiles(files: ChartFile[]): Promise<Chart> {
  const chartYaml = files.find((f) => f.name === 'Chart.yaml');
  if (!chartYaml)
    throw new ChartLoadError('Chart.yaml file is missing', 'a chart directory needs a Chart.yaml at its root');
  let metadata: ChartMetadata;
  try {
    metadata = decodeChartYaml(chartYaml.data.toString('utf8'));
  } catch (e) {
    if (e instanceof ChartFileError) throw new ChartLoadError(`cannot load Chart.yaml: ${e.message}`);
    throw e;
  }
  if (metadata.apiVersion === '') metadata.apiVersion = API_VERSION_V1;
  const chart: Chart = { metadata, chartYaml, templates: [], files: [], dependencies: [] };
  const subcharts = new Map<string, ChartFile[]>();
  for (const f of files) {
    const text = () => f.data.toString('utf8');
    try {
      if (f.name === 'Chart.yaml') continue;
      if (f.name === 'Chart.lock') {
        chart.lock = decodeChartLock(text());
        chart.lockFile = f;
      } else if (f.name === 'values.yaml') {
        try {
          goYamlParse(text());
        } catch (e) {
          throw new ChartLoadError(
            `cannot load values.yaml: ${(e as Error).message}`,
            'fix the YAML syntax of values.yaml',
          );
        }
        chart.values = f;
      } else if (f.name === 'values.schema.json') {
        chart.schema = f;
      } else if (f.name === 'requirements.yaml') {
        decodeChartYamlInto(metadata, text(), 'requirements.yaml');
        if (metadata.apiVersion === API_VERSION_V1) chart.files.push(f);
      } else if (f.name === 'requirements.lock') {
        chart.lock = decodeChartLock(text(), 'requirements.lock');
        chart.lockFile = f;
        if (metadata.apiVersion === API_VERSION_V1) chart.files.push(f);
      } else if (f.name.startsWith('templates/')) {
        chart.templates.push(f);
      } else if (f.name.startsWith('charts/')) {
        if (path.posix.extname(f.name) === '.prov') {
          chart.files.push(f);
          continue;
        }
        const rest = f.name.slice('charts/'.length);
        const cname = rest.split('/')[0]!;
        const list = subcharts.get(cname) ?? [];
        list.push({ ...f, name: rest });
        subcharts.set(cname, list);
      } else {
        chart.files.push(f);
      }
    } catch (e) {
      if (e instanceof ChartFileError) throw new ChartLoadError(`cannot load ${f.name}: ${e.message}`);
      throw e;
    }
  }
  const problem = validateMetadata(metadata);
  if (problem) throw new ChartLoadError(`validation: ${problem}`, hintFor(problem));

  // Go iterates a map here (random order); Stowage loads subcharts in name order.
  for (const n of [...subcharts.keys()].sort(compareBytes)) {
    if (n.startsWith('_') || n.startsWith('.')) continue;
    const list = subcharts.get(n)!;
    let sub: Chart;
    try {
      if (path.posix.extname(n) === '.tgz') {
        const file = list[0]!;
        if (file.name !== n)
          throw new ChartLoadError(`error unpacking tar in ${metadata.name}: expected ${n}, got ${file.name}`);
        sub = await loadChartArchive(file.data);
      } else {
        const inner: ChartFile[] = [];
        for (const f of list) {
          const slash = f.name.indexOf('/');
          if (slash === -1) continue;
          inner.push({ ...f, name: f.name.slice(slash + 1) });
        }
        sub = await loadChartFiles(inner);
      }
    } catch (e) {
      if (e instanceof ChartLoadError)
        throw new ChartLoadError(`error unpacking ${n} in ${metadata.name}: ${e.message}`, e.hint);
      throw e;
    }
    chart.dependencies.push(sub);
  }
  return chart;
}

function hintFor(problem: string): string | undefined {
  if (problem.includes('version')) return 'Chart.yaml needs a SemVer `version:` such as 0.1.0';
  if (problem.includes('apiVersion')) return 'add `apiVersion: v2` to Chart.yaml';
  if (problem.includes('name')) return 'Chart.yaml needs `name:`, without "/"';
  if (problem.includes('type')) return 'type is `application` or `library`';
  if (problem.includes('alias')) return 'aliases may contain only letters, digits, "_" and "-"';
  return undefined;
}

/** LoadArchive. */
export async function loadChartArchive(tgz: Buffer): Promise<Chart> {
  let files;
  try {
    files = await readChartArchive(tgz);
  } catch (e) {
    if (e instanceof ChartArchiveError) throw new ChartLoadError(e.message);
    throw e;
  }
  return loadChartFiles(files);
}

/** The .helmignore rules of a chart directory (with Helm's default rule). */
export async function readIgnoreRules(dir: string): Promise<IgnoreRules> {
  let text: string | undefined;
  try {
    text = await readFile(path.join(dir, '.helmignore'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new ChartLoadError(`cannot read .helmignore: ${(e as Error).message}`);
  }
  try {
    return (text === undefined ? IgnoreRules.empty() : IgnoreRules.parse(text)).withDefaults();
  } catch (e) {
    if (e instanceof IgnoreSyntaxError)
      throw new ChartLoadError(
        `.helmignore line ${e.line} (${e.pattern}): ${e.message}`,
        '.helmignore takes Go filepath.Match globs, one per line; `**` is not supported',
      );
    throw e;
  }
}

/** The files LoadDir collects: walk order, ignored ones left out. */
export async function walkChartDir(dir: string, rules: IgnoreRules): Promise<ChartFile[]> {
  const top = path.resolve(dir);
  const out: ChartFile[] = [];
  const visit = async (abs: string, rel: string, depth: number): Promise<void> => {
    if (depth > 64) throw new ChartLoadError(`${rel}: directories nested too deeply (a symlink loop?)`);
    const names = (await readdir(abs)).sort(compareBytes);
    for (const name of names) {
      const childAbs = path.join(abs, name);
      const childRel = rel ? `${rel}/${name}` : name;
      const l = await lstat(childAbs);
      let st = l;
      if (l.isSymbolicLink()) {
        try {
          await realpath(childAbs);
          st = await stat(childAbs);
        } catch (e) {
          throw new ChartLoadError(`error evaluating symlink ${childAbs}: ${(e as Error).message}`);
        }
      }
      if (st.isDirectory()) {
        if (rules.ignores(childRel, true)) continue;
        await visit(childAbs, childRel, depth + 1);
        continue;
      }
      if (rules.ignores(childRel, false)) continue;
      if (!st.isFile())
        throw new ChartLoadError(
          `cannot load irregular file ${childAbs} as it has file mode type bits set`,
          'remove it, or list it in .helmignore',
        );
      if (st.size > MAX_DECOMPRESSED_FILE_SIZE)
        throw new ChartLoadError(
          `chart file "${name}" is larger than the maximum file size ${MAX_DECOMPRESSED_FILE_SIZE}`,
          'list it in .helmignore, or keep large data out of the chart',
        );
      const data = stripBom(await readFile(childAbs));
      out.push({ name: childRel, data, mtimeMs: st.mtimeMs });
    }
  };
  await visit(top, '', 0);
  return out;
}

/** LoadDir. */
export async function loadChartDir(dir: string): Promise<Chart> {
  let st;
  try {
    st = await stat(dir);
  } catch (e) {
    throw new ChartLoadError(
      `cannot read ${dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`,
    );
  }
  if (!st.isDirectory())
    throw new ChartLoadError(`${dir} is not a directory`, 'give the chart directory (the one holding Chart.yaml)');
  const rules = await readIgnoreRules(dir);
  return loadChartFiles(await walkChartDir(dir, rules));
}
