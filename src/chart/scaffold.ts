/**
 * `helm create NAME`: the scaffold Helm writes (pkg/chartutil/create.go, the version with
 * the Gateway API HTTPRoute template, Helm ≥ 3.19 and 4.x), byte for byte. The files are
 * data shipped with the package (assets/helm-create, Helm's text as it is). Chart.yaml
 * and values.yaml get NAME through Go's %s; the templates get it by replacing
 * <CHARTNAME>. Directories 0755, files 0644; existing files are overwritten (with a
 * warning), `charts/` is created empty.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The files in the order `helm create` writes them, and how each takes NAME. */
const FILES: readonly [path: string, name: 'sprintf' | 'chartname' | 'none'][] = [
  ['Chart.yaml', 'sprintf'],
  ['values.yaml', 'sprintf'],
  ['.helmignore', 'none'],
  ['templates/ingress.yaml', 'chartname'],
  ['templates/httproute.yaml', 'chartname'],
  ['templates/deployment.yaml', 'chartname'],
  ['templates/service.yaml', 'chartname'],
  ['templates/serviceaccount.yaml', 'chartname'],
  ['templates/hpa.yaml', 'chartname'],
  ['templates/NOTES.txt', 'chartname'],
  ['templates/_helpers.tpl', 'chartname'],
  ['templates/tests/test-connection.yaml', 'chartname'],
];

/**
 * assets/helm-create at the package root: two levels above src/chart (a checkout run
 * from source), three above dist/src/chart (a build, or an installed package).
 */
function templatesDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ['../..', '../../..']) {
    const dir = path.resolve(here, up, 'assets/helm-create');
    if (existsSync(dir)) return dir;
  }
  throw new ScaffoldError(`the helm create templates are missing: no assets/helm-create above ${here}`);
}

/** Helm's chart name rule for `helm create`. */
export const CHART_NAME_PATTERN = /^[a-zA-Z0-9._-]+$/;
export const MAX_CHART_NAME_LENGTH = 250;

/** Why a name is refused by `helm create`, or undefined. */
export function checkChartName(name: string): string | undefined {
  if (name === '' || name.length > MAX_CHART_NAME_LENGTH)
    return `chart name must be between 1 and ${MAX_CHART_NAME_LENGTH} characters`;
  if (!CHART_NAME_PATTERN.test(name))
    return `chart name must match the regular expression "${CHART_NAME_PATTERN.source}"`;
  return undefined;
}

/** The scaffold's files for NAME, in the order `helm create` writes them. */
export async function scaffoldFiles(name: string): Promise<{ path: string; content: Buffer }[]> {
  const dir = templatesDir();
  return Promise.all(
    FILES.map(async ([file, how]) => {
      const text = await readFile(path.join(dir, file), 'utf8');
      // Go's Sprintf with one %s; Helm's transform replaces every <CHARTNAME>.
      const content =
        how === 'sprintf'
          ? text.replace('%s', name)
          : how === 'chartname'
            ? text.split('<CHARTNAME>').join(name)
            : text;
      return { path: file, content: Buffer.from(content, 'utf8') };
    }),
  );
}

export class ScaffoldError extends Error {}

export interface CreateResult {
  dir: string;
  files: string[];
  /** Files that existed and were overwritten. */
  overwritten: string[];
}

/**
 * `helm create`: NAME's last path component is the chart name, created inside the
 * directory before it (which must exist).
 */
export async function createChart(
  nameOrPath: string,
  opts: { onWarning?: (m: string) => void } = {},
): Promise<CreateResult> {
  const name = path.basename(nameOrPath);
  const problem = checkChartName(name);
  if (problem) throw new ScaffoldError(problem);
  const parent = path.resolve(path.dirname(nameOrPath));
  try {
    if (!(await stat(parent)).isDirectory()) throw new ScaffoldError(`no such directory ${parent}`);
  } catch (e) {
    if (e instanceof ScaffoldError) throw e;
    throw new ScaffoldError(`no such directory ${parent}`);
  }
  const dir = path.join(parent, name);
  try {
    if (!(await stat(dir)).isDirectory()) throw new ScaffoldError(`file ${dir} already exists and is not a directory`);
  } catch (e) {
    if (e instanceof ScaffoldError) throw e;
  }
  const files: string[] = [];
  const overwritten: string[] = [];
  for (const f of await scaffoldFiles(name)) {
    const target = path.join(dir, f.path);
    let exists = false;
    try {
      await stat(target);
      exists = true;
    } catch {
      /* new file */
    }
    if (exists) {
      overwritten.push(target);
      opts.onWarning?.(`File "${target}" already exists. Overwriting.`);
    }
    await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
    await writeFile(target, f.content, { mode: 0o644 });
    files.push(target);
  }
  await mkdir(path.join(dir, 'charts'), { recursive: true, mode: 0o755 });
  return { dir, files, overwritten };
}
