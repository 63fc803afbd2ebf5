/**
 * OPA bundles: what `opa` loads from a bundle tarball, and the tarball Stowage
 * builds from a policy directory.
 *
 * Layout written (as `opa build` writes it, entry names starting with "/", mode
 * 0600, mtime 0, Go's tar and gzip — so the bytes match opa's for the same files):
 *
 *   /data.json            the root data document (`{}` when the directory has none)
 *   /<dir>/data.json|yaml data documents of sub-paths, as they are (opa build merges
 *                         them into /data.json; OPA loads either form)
 *   /<path>.rego          every policy module at its path
 *   /.signatures.json     when the directory has one (kept as is)
 *   /.manifest            last, when the directory has one (re-encoded like Go's
 *                         json.Encoder: revision, roots, wasm, rego_version,
 *                         file_rego_versions, metadata; trailing newline)
 *
 * Checks made before anything is pushed (the errors OPA would report on load):
 * at least one .rego file, each with a `package`; a `.manifest` that is a JSON
 * object with a string `revision`, string `roots` that do not overlap, `rego_version`
 * 0 or 1; every package and every data path inside the roots.
 *
 * Pure except for reading the directory.
 */
import { readdir, readFile, lstat } from 'node:fs/promises';
import path from 'node:path';
import { goGzip } from '../gocompat/gzip.js';
import { TAR_TRAILER, goTarEntry } from '../gocompat/tar/writer.js';
import { goJsonMarshal, goJsonString } from '../gocompat/json.js';

/** The layer type OPA's OCI downloader looks for (the first layer of this type is the bundle). */
export const OPA_BUNDLE_LAYER_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';
/** The config OPA's docs push (`{}`); OPA never reads it. */
export const OPA_CONFIG_MEDIA_TYPE = 'application/vnd.oci.image.config.v1+json';

export class BundleError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export interface BundleManifest {
  revision?: string;
  roots?: string[];
  wasm?: unknown;
  rego_version?: number;
  file_rego_versions?: Record<string, number>;
  metadata?: Record<string, unknown>;
}

export interface BundleFile {
  /** Slash-separated path inside the bundle, without the leading "/". */
  path: string;
  bytes: Buffer;
}

export interface PolicyBundle {
  /** "/data.json", modules, … in archive order. */
  files: BundleFile[];
  modules: { path: string; package: string }[];
  manifest?: BundleManifest;
}

/** Go's encoding/json for JSON values (sorted keys, HTML-safe strings); numbers as JavaScript prints them. */
export function goJSON(v: unknown): string {
  return goJsonMarshal(v);
}

/** .manifest as opa's json.Encoder writes it: struct field order, omitempty, newline. */
export function encodeManifest(m: BundleManifest): Buffer {
  const parts = [`"revision":${goJsonString(m.revision ?? '')}`];
  if (m.roots !== undefined) parts.push(`"roots":${goJSON(m.roots)}`);
  if (m.wasm !== undefined && !(Array.isArray(m.wasm) && m.wasm.length === 0)) parts.push(`"wasm":${goJSON(m.wasm)}`);
  if (m.rego_version !== undefined) parts.push(`"rego_version":${m.rego_version}`);
  if (m.file_rego_versions !== undefined && Object.keys(m.file_rego_versions).length)
    parts.push(`"file_rego_versions":${goJSON(m.file_rego_versions)}`);
  if (m.metadata !== undefined && Object.keys(m.metadata).length) parts.push(`"metadata":${goJSON(m.metadata)}`);
  return Buffer.from(`{${parts.join(',')}}\n`);
}

/** The package path of a module ("a.b" / `a["b-c"]` → "a/b-c"), or undefined when it declares none. */
export function modulePackage(source: string): string | undefined {
  const text = source.replace(/#[^\n]*/g, '');
  const m =
    /^\s*package\s+([A-Za-z_][A-Za-z0-9_]*(?:\s*(?:\.\s*[A-Za-z_][A-Za-z0-9_]*|\[\s*"(?:[^"\\]|\\.)*"\s*\]))*)/m.exec(
      text,
    );
  if (!m) return undefined;
  const parts: string[] = [];
  const re = /([A-Za-z_][A-Za-z0-9_]*)|\[\s*"((?:[^"\\]|\\.)*)"\s*\]/g;
  for (let x = re.exec(m[1]!); x; x = re.exec(m[1]!)) parts.push(x[1] ?? JSON.parse(`"${x[2]!}"`));
  return parts.join('/');
}

const norm = (r: string) => r.replace(/^\/+|\/+$/g, '');

/** Is `p` inside one of the roots ("" owns everything)? */
export function rootsContain(roots: readonly string[], p: string): boolean {
  return roots.some((r0) => {
    const r = norm(r0);
    return r === '' || p === r || p.startsWith(`${r}/`);
  });
}

/** Roots that overlap ("a" and "a/b"), as OPA refuses them. */
export function overlappingRoots(roots: readonly string[]): [string, string] | undefined {
  const rs = roots.map(norm);
  for (let i = 0; i < rs.length; i++)
    for (let j = 0; j < rs.length; j++) {
      if (i === j) continue;
      const a = rs[i]!;
      const b = rs[j]!;
      if (a === b || a === '' || b.startsWith(`${a}/`)) return [roots[i]!, roots[j]!];
    }
  return undefined;
}

/** Checks that data at `prefix` (an object or a leaf) only touches paths the roots own. */
function checkData(roots: readonly string[], prefix: string, value: unknown, file: string): void {
  if (rootsContain(roots, prefix)) return;
  const isAncestor = roots.some((r) => prefix === '' || norm(r).startsWith(`${prefix}/`));
  if (isAncestor && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>))
      checkData(roots, prefix ? `${prefix}/${k}` : k, v, file);
    return;
  }
  throw new BundleError(
    `manifest roots ${JSON.stringify(roots)} do not permit data at path '/${prefix}' (from ${file})`,
    'add the path to "roots" in .manifest, or move the data under a root',
  );
}

export function parseManifest(bytes: Buffer, label = '.manifest'): BundleManifest {
  let m: unknown;
  try {
    m = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new BundleError(`${label} is not valid JSON: ${(e as Error).message}`);
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m)) throw new BundleError(`${label} must be a JSON object`);
  const o = m as Record<string, unknown>;
  if (o.revision !== undefined && typeof o.revision !== 'string')
    throw new BundleError(`${label}: "revision" must be a string`);
  if (o.roots !== undefined && !(Array.isArray(o.roots) && o.roots.every((r) => typeof r === 'string')))
    throw new BundleError(`${label}: "roots" must be an array of strings`);
  if (o.rego_version !== undefined && o.rego_version !== 0 && o.rego_version !== 1)
    throw new BundleError(`${label}: "rego_version" must be 0 or 1`);
  if (o.metadata !== undefined && (o.metadata === null || typeof o.metadata !== 'object' || Array.isArray(o.metadata)))
    throw new BundleError(`${label}: "metadata" must be an object`);
  const roots = o.roots as string[] | undefined;
  const overlap = roots ? overlappingRoots(roots) : undefined;
  if (overlap)
    throw new BundleError(
      `${label}: manifest has overlapped roots: '${overlap[0]}' and '${overlap[1]}'`,
      'roots must be disjoint: keep only the shorter one',
    );
  return o as BundleManifest;
}

/** Checks a bundle's modules and data against each other and its manifest. */
export function validateBundle(
  files: readonly BundleFile[],
  manifest: BundleManifest | undefined,
  label: string,
): { path: string; package: string }[] {
  const modules: { path: string; package: string }[] = [];
  const roots = manifest?.roots ?? [''];
  for (const f of files) {
    if (f.path.endsWith('.rego')) {
      const pkg = modulePackage(f.bytes.toString('utf8'));
      if (pkg === undefined)
        throw new BundleError(`${f.path}: no package declaration`, 'every .rego file starts with `package <path>`');
      if (!rootsContain(roots, pkg))
        throw new BundleError(
          `manifest roots ${JSON.stringify(roots)} do not permit '${pkg.replace(/\//g, '.')}' in module '/${f.path}'`,
          'add the package path to "roots" in .manifest',
        );
      modules.push({ path: f.path, package: pkg.replace(/\//g, '.') });
    } else if (path.posix.basename(f.path) === 'data.json') {
      let doc: unknown;
      try {
        doc = JSON.parse(f.bytes.toString('utf8'));
      } catch (e) {
        throw new BundleError(`${f.path} is not valid JSON: ${(e as Error).message}`);
      }
      const dir = path.posix.dirname(f.path);
      checkData(roots, dir === '.' ? '' : dir, doc, f.path);
    }
  }
  if (modules.length === 0)
    throw new BundleError(`${label} has no .rego files`, 'a policy bundle needs at least one Rego module (*.rego)');
  return modules;
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Reads a policy directory into a bundle (see the module comment), validated. */
export async function readPolicyDir(dir: string, opts: { revision?: string } = {}): Promise<PolicyBundle> {
  let st;
  try {
    st = await lstat(dir);
  } catch {
    throw new BundleError(
      `${dir} does not exist`,
      'give --path the directory holding the .rego files (and optionally data.json and .manifest)',
    );
  }
  if (!st.isDirectory())
    throw new BundleError(
      `${dir} is not a directory`,
      'give --path the bundle directory, or an `opa build` bundle.tar.gz',
    );
  const found: BundleFile[] = [];
  let manifestBytes: Buffer | undefined;
  let signatures: Buffer | undefined;
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const name of (await readdir(abs)).sort(byteOrder)) {
      if (name === '.git') continue;
      const a = path.join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      const s = await lstat(a);
      if (s.isDirectory()) await walk(a, r);
      else if (!s.isFile()) continue;
      else if (r === '.manifest') manifestBytes = await readFile(a);
      else if (r === '.signatures.json') signatures = await readFile(a);
      else if (name.endsWith('.rego') || name === 'data.json' || name === 'data.yaml' || name === 'data.yml')
        found.push({ path: r, bytes: await readFile(a) });
    }
  };
  await walk(dir, '');
  let manifest = manifestBytes ? parseManifest(manifestBytes) : undefined;
  if (opts.revision !== undefined) manifest = { ...(manifest ?? {}), revision: opts.revision };
  const modules = validateBundle(found, manifest, dir);
  const rootData = found.find((f) => f.path === 'data.json');
  const data = found.filter((f) => f !== rootData && !f.path.endsWith('.rego'));
  const files: BundleFile[] = [
    rootData ?? { path: 'data.json', bytes: Buffer.from('{}\n') },
    ...data,
    ...found.filter((f) => f.path.endsWith('.rego')),
    ...(signatures ? [{ path: '.signatures.json', bytes: signatures }] : []),
    ...(manifest ? [{ path: '.manifest', bytes: encodeManifest(manifest) }] : []),
  ];
  return { files, modules, ...(manifest ? { manifest } : {}) };
}

/** The bundle tarball: `/`-rooted names, mode 0600, Go tar + gzip (as `opa build` writes it). */
export function bundleTarball(files: readonly BundleFile[]): Buffer {
  const parts = files.map((f) => goTarEntry({ name: `/${f.path}`, type: 'file', mode: 0o600 }, f.bytes));
  return goGzip(Buffer.concat([...parts, TAR_TRAILER]));
}

/** A bundle read back from its tarball's files (names normalised without the leading "/"), validated. */
export function bundleFromFiles(entries: readonly BundleFile[], label: string): PolicyBundle {
  const manifestFile = entries.find((f) => f.path === '.manifest');
  const manifest = manifestFile ? parseManifest(manifestFile.bytes, `${label}: .manifest`) : undefined;
  const modules = validateBundle(entries, manifest, label);
  return { files: [...entries], modules, ...(manifest ? { manifest } : {}) };
}
