/**
 * Helm charts in OCI registries, as Helm 3 stores them (pkg/registry):
 *
 *   pushChart    CHART.tgz (+ CHART.tgz.prov) → HOST/NS/NAME:VERSION ("+" → "_"): the
 *                config is json.Marshal of the chart's metadata, the manifest is
 *                encoding/json of ocispec.Manifest (no mediaType member, layers sorted
 *                by digest, org.opencontainers.image.* annotations from Chart.yaml,
 *                `created` = the .tgz's mtime in RFC 3339, local zone).
 *   resolveChartVersion  a ref's tag, an exact version, or a Masterminds constraint
 *                matched against the repository's strict-SemVer tags ("_" → "+").
 *   pullChart    the chart layer (and prov) to NAME-VERSION.tgz, or expanded (--untar).
 *   showChart    Chart.yaml / values.yaml / README / CRDs of a pushed chart.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { MT, isImageManifestType, isIndexType } from '../../core/media-types.js';
import { formatRFC3339 } from '../../gocompat/time.js';
import { isValidRepositoryName, isValidTag } from '../../core/names.js';
import {
  GoStruct,
  compareVersions,
  decodeConfigJson,
  formatVersion,
  goJsonMarshal,
  isVersion,
  loadChartArchive,
  metadataConfigJson,
  metadataYaml,
  parseConstraint,
  parseStrictVersion,
  readChartArchive,
  validateMetadata,
  type Chart,
  type ChartMetadata,
  type Version,
} from '../../chart/index.js';
import { asChartClientError } from '../chart-errors.js';
import type { RegistryClient, Repository } from '../client.js';
import { LocalContent, MAX_MANIFEST_BYTES, type Descriptor } from '../content.js';
import { clientError, isClientError } from '../errors.js';
import { pushGraph, type PushStats } from '../graph.js';
import { formatReference, parseReference, type Reference } from '../reference.js';

export const HELM_MEDIA_TYPES = {
  config: 'application/vnd.cncf.helm.config.v1+json',
  chart: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
  prov: 'application/vnd.cncf.helm.chart.provenance.v1.prov',
  /** Written by Helm 3.0–3.6; still read. */
  legacyChart: 'application/tar+gzip',
} as const;

const ANN = {
  created: 'org.opencontainers.image.created',
  description: 'org.opencontainers.image.description',
  title: 'org.opencontainers.image.title',
  version: 'org.opencontainers.image.version',
  url: 'org.opencontainers.image.url',
  source: 'org.opencontainers.image.source',
  authors: 'org.opencontainers.image.authors',
} as const;

/** The largest chart archive read into memory (Helm's decompressed-size limit). */
const MAX_CHART_BYTES = 100 * 1024 * 1024;

/** A chart version as an OCI tag ("+" is not allowed in tags). */
export function chartTag(version: string): string {
  return version.replace(/\+/g, '_');
}

/** An OCI tag back to a chart version. */
export function tagVersion(tag: string): string {
  return tag.replace(/_/g, '+');
}

/** The manifest annotations Helm (≥ 3.12) derives from Chart.yaml. */
export function helmAnnotations(md: ChartMetadata, created: string): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (k: string, v: string) => {
    if (v.trim() !== '') out[k] = v;
  };
  add(ANN.description, md.description);
  add(ANN.title, md.name);
  add(ANN.version, md.version);
  add(ANN.url, md.home);
  add(ANN.created, created);
  if (md.sources?.length) add(ANN.source, md.sources[0]!);
  if (md.maintainers?.length) {
    const authors = md.maintainers.map((m) => `${m?.name ?? ''}${m?.email ? ` (${m.email})` : ''}`).join(', ');
    add(ANN.authors, authors);
  }
  for (const [k, v] of Object.entries(md.annotations ?? {})) {
    if (k === ANN.version || k === ANN.title) continue;
    out[k] = v;
  }
  return out;
}

function descriptorStruct(d: Descriptor): GoStruct {
  return new GoStruct([
    ['mediaType', d.mediaType],
    ['digest', d.digest],
    ['size', d.size],
  ]);
}

/** encoding/json of Helm's ocispec.Manifest: schemaVersion, config, layers (sorted by digest), annotations. */
export function helmManifest(config: Descriptor, layers: Descriptor[], annotations: Record<string, string>): Buffer {
  const sorted = [...layers].sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  const members: [string, unknown][] = [
    ['schemaVersion', 2],
    ['config', descriptorStruct(config)],
    ['layers', sorted.map(descriptorStruct)],
  ];
  if (Object.keys(annotations).length) members.push(['annotations', annotations]);
  return Buffer.from(goJsonMarshal(new GoStruct(members)), 'utf8');
}

/** `oci://HOST[/NAMESPACE]`, the target of `helm push`. */
export function parseChartRemote(input: string): { registry: string; namespace: string } {
  const text = input.trim().replace(/\/+$/, '');
  const withoutScheme = text.replace(/^oci:\/\//i, '');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(withoutScheme))
    throw clientError('INVALID_REFERENCE', { input, reason: 'charts are pushed to oci://HOST/NAMESPACE' });
  const slash = withoutScheme.indexOf('/');
  const host = slash === -1 ? withoutScheme : withoutScheme.slice(0, slash);
  const namespace = slash === -1 ? '' : withoutScheme.slice(slash + 1);
  if (/[:@]/.test(namespace)) {
    throw clientError('INVALID_REFERENCE', {
      input,
      reason: 'name only the namespace (oci://HOST/NAMESPACE): the chart name and version come from Chart.yaml',
    });
  }
  // Let the reference grammar check host and namespace.
  const ref = parseReference(`oci://${host}/${namespace || 'x'}`, { defaultTag: null });
  return { registry: ref.registry, namespace };
}

export interface PushChartOptions {
  /** The `created` annotation (default: the .tgz's mtime, RFC 3339 in the local zone). */
  created?: string;
  /** Push CHART.tgz.prov too when it exists (default true), or this .prov file. */
  prov?: boolean | string;
}

export interface PushChartResult {
  /** HOST/NS/NAME:TAG, as Helm prints it after "Pushed:". */
  ref: string;
  reference: string;
  digest: string;
  repository: string;
  tag: string;
  chart: { name: string; version: string; digest: string; size: number };
  config: Descriptor;
  prov?: Descriptor;
  manifest: Descriptor;
  stats: PushStats;
}

async function readChartFile(file: string): Promise<Buffer> {
  let st;
  try {
    st = await stat(file);
  } catch (e) {
    throw clientError(
      'CHART_LOAD_FAILED',
      { chart: file, detail: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message },
      { cause: e },
    );
  }
  if (st.isDirectory()) throw clientError('CHART_NOT_PACKAGED', { path: file });
  if (st.size > MAX_CHART_BYTES)
    throw clientError('CHART_LOAD_FAILED', { chart: file, detail: `it is larger than ${MAX_CHART_BYTES} bytes` });
  return readFile(file);
}

async function loadArchive(bytes: Buffer, label: string): Promise<Chart> {
  try {
    return await loadChartArchive(bytes);
  } catch (e) {
    throw asChartClientError(e, label);
  }
}

/** `helm push CHART.tgz oci://HOST/NAMESPACE`. */
export async function pushChart(
  client: RegistryClient,
  chartFile: string,
  remote: string,
  opts: PushChartOptions = {},
): Promise<PushChartResult> {
  const target = parseChartRemote(remote);
  const bytes = await readChartFile(chartFile);
  const md = (await loadArchive(bytes, chartFile)).metadata;
  const repository = target.namespace ? `${target.namespace}/${md.name}` : md.name;
  if (!isValidRepositoryName(repository)) {
    throw clientError('INVALID_REFERENCE', {
      input: `${target.registry}/${repository}`,
      reason:
        md.name !== md.name.toLowerCase()
          ? `the chart name "${md.name}" is not lowercase, and OCI repository names must be`
          : `"${repository}" is not a valid repository name`,
    });
  }
  const tag = chartTag(md.version);
  if (!isValidTag(tag))
    throw clientError('INVALID_REFERENCE', {
      input: `${target.registry}/${repository}:${tag}`,
      reason: `the chart version "${md.version}" does not make a valid tag`,
    });

  let provPath: string | undefined;
  if (typeof opts.prov === 'string') provPath = opts.prov;
  else if (opts.prov !== false) {
    try {
      await stat(`${chartFile}.prov`);
      provPath = `${chartFile}.prov`;
    } catch {
      /* no provenance file */
    }
  }
  const created = opts.created ?? formatRFC3339((await stat(chartFile)).mtime, 'local');

  const content = new LocalContent();
  const chartDesc = content.addBytes(bytes, HELM_MEDIA_TYPES.chart);
  const configDesc = content.addBytes(metadataConfigJson(md), HELM_MEDIA_TYPES.config);
  const layers = [chartDesc];
  let provDesc: Descriptor | undefined;
  if (provPath) {
    let provBytes: Buffer;
    try {
      provBytes = await readFile(provPath);
    } catch (e) {
      throw clientError('CHART_LOAD_FAILED', { chart: provPath, detail: (e as Error).message }, { cause: e });
    }
    provDesc = content.addBytes(provBytes, HELM_MEDIA_TYPES.prov);
    layers.push(provDesc);
  }
  const manifestBytes = helmManifest(configDesc, layers, helmAnnotations(md, created));
  const root = content.addBytes(manifestBytes, MT.ociManifest);
  const ref: Reference = { registry: target.registry, repository, tag };
  const repo = client.repository(ref);
  const result = await pushGraph(content, repo, root, { tags: [tag] });
  return {
    ref: formatReference(ref),
    reference: formatReference({ ...ref, digest: root.digest }),
    digest: root.digest,
    repository,
    tag,
    chart: { name: md.name, version: md.version, digest: chartDesc.digest, size: chartDesc.size },
    config: configDesc,
    ...(provDesc ? { prov: provDesc } : {}),
    manifest: root,
    stats: result.stats,
  };
}

// ---------------------------------------------------------------------------------
// Resolving versions

/** A chart reference: oci://HOST/NS/NAME[:TAG|@DIGEST], with "+" in a tag taken as "_". */
export function parseChartReference(input: string): Reference {
  let text = input.trim();
  const at = text.lastIndexOf('@');
  const digest = at === -1 ? '' : text.slice(at);
  let rest = at === -1 ? text : text.slice(0, at);
  const colon = rest.lastIndexOf(':');
  if (colon !== -1 && !rest.slice(colon + 1).includes('/'))
    rest = `${rest.slice(0, colon + 1)}${chartTag(rest.slice(colon + 1))}`;
  text = rest + digest;
  if (!/^oci:\/\//i.test(text)) text = `oci://${text}`;
  return parseReference(text, { defaultTag: null });
}

/**
 * The repository's tags that are strict SemVer once "_" is read as "+", highest
 * first (Client.Tags), as versions.
 */
export async function chartVersions(repo: Repository): Promise<{ version: Version; tag: string }[]> {
  const out: { version: Version; tag: string }[] = [];
  for (const tag of await repo.tags()) {
    try {
      out.push({ version: parseStrictVersion(tagVersion(tag)), tag });
    } catch {
      /* not a chart version */
    }
  }
  return out.sort((a, b) => compareVersions(b.version, a.version));
}

/** GetTagMatchingVersionOrConstraint: exact string first, else the highest version satisfying it. */
export function matchVersion(versions: readonly string[], wanted: string): string | undefined {
  if (wanted !== '' && versions.includes(wanted)) return wanted;
  let constraint;
  try {
    constraint = parseConstraint(wanted === '' ? '*' : wanted);
  } catch (e) {
    throw clientError('CHART_CONSTRAINT_INVALID', { constraint: wanted, detail: (e as Error).message });
  }
  for (const v of versions) {
    let parsed: Version;
    try {
      parsed = parseStrictVersion(v);
    } catch {
      continue;
    }
    if (constraint.check(parsed)) return v;
  }
  return undefined;
}

export interface ResolvedChart {
  ref: Reference;
  /** The tag pulled (absent when pulled by digest alone). */
  tag?: string;
  /** The versions listed to choose one, when a constraint was resolved. */
  candidates?: string[];
}

/** Which tag (or digest) `helm pull REF [--version V]` fetches. */
export async function resolveChartVersion(
  client: RegistryClient,
  refInput: string,
  version?: string,
): Promise<ResolvedChart> {
  const ref = parseChartReference(refInput);
  const repo = client.repository(ref);
  const base = { registry: ref.registry, repository: ref.repository };
  let wanted = version ?? '';
  if (wanted === '' && ref.tag) wanted = tagVersion(ref.tag);
  else if (wanted !== '' && ref.tag && chartTag(wanted) !== ref.tag) {
    throw clientError('CHART_VERSION_MISMATCH', {
      reference: formatReference(ref),
      tag: tagVersion(ref.tag),
      version: wanted,
    });
  }
  if (ref.digest) {
    if (wanted === '') return { ref: { ...base, digest: ref.digest } };
    // The tag, when it exists, must point at the digest.
    const at = await repo.manifestExists(chartTag(wanted));
    if (at && at.digest !== ref.digest)
      throw clientError('DIGEST_MISMATCH', {
        what: `${formatReference({ ...base, tag: chartTag(wanted) })}`,
        expected: ref.digest,
        actual: at.digest,
      });
    return { ref: { ...base, digest: ref.digest }, tag: chartTag(wanted) };
  }
  if (wanted !== '' && isVersion(wanted)) return { ref: { ...base, tag: chartTag(wanted) }, tag: chartTag(wanted) };
  let versions: string[];
  try {
    versions = (await chartVersions(repo)).map((v) => formatVersion(v.version));
  } catch (e) {
    if (isClientError(e, 'REPOSITORY_NOT_FOUND')) versions = [];
    else throw e;
  }
  const match = versions.length ? matchVersion(versions, wanted) : undefined;
  if (match === undefined)
    throw clientError('CHART_VERSION_NOT_FOUND', { repository: formatReference(base), constraint: wanted, versions });
  return { ref: { ...base, tag: chartTag(match) }, tag: chartTag(match), candidates: versions };
}

// ---------------------------------------------------------------------------------
// Fetching

export interface FetchedChartManifest {
  reference: string;
  manifest: Descriptor;
  config: Descriptor;
  chart: Descriptor;
  prov?: Descriptor;
  metadata: ChartMetadata;
  /** Set for the legacy application/tar+gzip layer. */
  deprecatedMediaType?: string;
}

/** The chart manifest at a resolved reference, its config decoded. */
export async function fetchChartManifest(client: RegistryClient, ref: Reference): Promise<FetchedChartManifest> {
  const repo = client.repository(ref);
  const label = formatReference(ref);
  let { descriptor, bytes } = await repo.fetchManifest(ref.digest ?? ref.tag!);
  if (isIndexType(descriptor.mediaType)) {
    const doc = JSON.parse(bytes.toString('utf8')) as { manifests?: Descriptor[] };
    const first = (doc.manifests ?? []).find((m) => isImageManifestType(m.mediaType));
    if (!first) throw clientError('NOT_A_CHART', { reference: label, detail: 'it is an index without manifests' });
    ({ descriptor, bytes } = await repo.fetchManifest(first.digest));
  }
  if (!isImageManifestType(descriptor.mediaType))
    throw clientError('NOT_A_CHART', { reference: label, detail: `it is a ${descriptor.mediaType}` });
  const doc = JSON.parse(bytes.toString('utf8')) as { config?: Descriptor; layers?: Descriptor[] };
  if (doc.config?.mediaType !== HELM_MEDIA_TYPES.config) {
    throw clientError('NOT_A_CHART', {
      reference: label,
      detail: `its config is ${doc.config?.mediaType ?? 'missing'}, not ${HELM_MEDIA_TYPES.config}`,
    });
  }
  const layers = doc.layers ?? [];
  const charts = layers.filter(
    (l) => l.mediaType === HELM_MEDIA_TYPES.chart || l.mediaType === HELM_MEDIA_TYPES.legacyChart,
  );
  if (charts.length !== 1) {
    throw clientError('NOT_A_CHART', {
      reference: label,
      detail: charts.length
        ? `it has ${charts.length} chart layers`
        : `no layer has media type ${HELM_MEDIA_TYPES.chart}`,
    });
  }
  const prov = layers.find((l) => l.mediaType === HELM_MEDIA_TYPES.prov);
  const configBytes = await repo.read(doc.config, MAX_MANIFEST_BYTES);
  let metadata: ChartMetadata;
  try {
    metadata = decodeConfigJson(configBytes);
  } catch (e) {
    throw clientError('NOT_A_CHART', { reference: label, detail: (e as Error).message });
  }
  const chart = charts[0]!;
  return {
    reference: formatReference({
      registry: ref.registry,
      repository: ref.repository,
      ...(ref.tag ? { tag: ref.tag } : {}),
      digest: descriptor.digest,
    }),
    manifest: descriptor,
    config: doc.config,
    chart: { mediaType: chart.mediaType, digest: chart.digest, size: chart.size },
    ...(prov ? { prov: { mediaType: prov.mediaType, digest: prov.digest, size: prov.size } } : {}),
    metadata,
    ...(chart.mediaType === HELM_MEDIA_TYPES.legacyChart ? { deprecatedMediaType: chart.mediaType } : {}),
  };
}

export interface PullChartOptions {
  /** A version or constraint (`helm pull --version`). */
  version?: string;
  /** Directory for the .tgz, or for the expanded chart (default "."). */
  destination?: string;
  /** Expand the chart into DESTINATION/NAME instead of keeping the .tgz. */
  untar?: boolean;
  /** Also fetch the provenance file (NAME-VERSION.tgz.prov). */
  prov?: boolean;
  /**
   * Called with the resolved reference before anything is fetched or written; pulls
   * the reference it returns (`--verify-key`: pinned to the digest whose signature
   * verified) or throws.
   */
  verify?: (ref: Reference) => Promise<Reference>;
}

export interface PullChartResult {
  /** HOST/NS/NAME:TAG as Helm prints after "Pulled:". */
  ref: string;
  reference: string;
  digest: string;
  chart: { name: string; version: string; digest: string; size: number };
  /** The .tgz written (not with untar). */
  file?: string;
  prov?: string;
  /** The directory the chart was expanded into (untar). */
  dir?: string;
  candidates?: string[];
  warnings: string[];
}

async function downloadTo(repo: Repository, desc: Descriptor, file: string): Promise<void> {
  const tmp = `${file}.${process.pid}.partial`;
  try {
    await pipeline(repo.fetchBlob(desc), createWriteStream(tmp));
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    if (isClientError(e)) throw e;
    throw clientError('OUTPUT_FAILED', { path: file, detail: (e as Error).message }, { cause: e });
  }
}

/** Expands a chart archive into DIR/NAME, as `helm pull --untar` (chartutil.Expand). */
export async function expandChart(tgz: Buffer, dir: string, label: string): Promise<string> {
  let files;
  try {
    files = await readChartArchive(tgz);
  } catch (e) {
    throw clientError('CHART_LOAD_FAILED', { chart: label, detail: (e as Error).message });
  }
  const chartYaml = files.find((f) => f.name === 'Chart.yaml');
  const name = chartYaml ? (await loadArchive(tgz, label)).metadata.name : '';
  if (!name) throw clientError('CHART_LOAD_FAILED', { chart: label, detail: 'chart name not specified' });
  const target = path.join(dir, name);
  try {
    await stat(target);
    throw clientError('CHART_TARGET_EXISTS', { path: target });
  } catch (e) {
    if (isClientError(e)) throw e;
  }
  for (const f of files) {
    const out = path.join(target, ...f.name.split('/'));
    if (!out.startsWith(target + path.sep))
      throw clientError('CHART_LOAD_FAILED', { chart: label, detail: `illegal path ${f.name}` });
    await mkdir(path.dirname(out), { recursive: true, mode: 0o755 });
    await writeFile(out, f.data, { mode: 0o644 });
  }
  return target;
}

/** `helm pull oci://HOST/NS/NAME [--version V] [--untar] [-d DIR] [--prov]`. */
export async function pullChart(
  client: RegistryClient,
  refInput: string,
  opts: PullChartOptions = {},
): Promise<PullChartResult> {
  const resolved = await resolveChartVersion(client, refInput, opts.version);
  const fetched = await fetchChartManifest(client, opts.verify ? await opts.verify(resolved.ref) : resolved.ref);
  const repo = client.repository(resolved.ref);
  if (opts.prov && !fetched.prov)
    throw clientError('NOT_A_CHART', {
      reference: fetched.reference,
      detail: `no layer has media type ${HELM_MEDIA_TYPES.prov} (it was pushed without a .prov)`,
    });
  const name = resolved.ref.repository.slice(resolved.ref.repository.lastIndexOf('/') + 1);
  const version = resolved.tag ? tagVersion(resolved.tag) : fetched.metadata.version;
  const warnings = fetched.deprecatedMediaType ? [`chart media type ${fetched.deprecatedMediaType} is deprecated`] : [];
  const dest = path.resolve(opts.destination ?? '.');
  const base = {
    ref: formatReference({
      registry: resolved.ref.registry,
      repository: resolved.ref.repository,
      ...(resolved.tag ? { tag: resolved.tag } : { digest: fetched.manifest.digest }),
    }),
    reference: fetched.reference,
    digest: fetched.manifest.digest,
    chart: {
      name: fetched.metadata.name,
      version: fetched.metadata.version,
      digest: fetched.chart.digest,
      size: fetched.chart.size,
    },
    ...(resolved.candidates ? { candidates: resolved.candidates } : {}),
    warnings,
  };
  try {
    await mkdir(dest, { recursive: true });
  } catch (e) {
    throw clientError('OUTPUT_FAILED', { path: dest, detail: (e as Error).message }, { cause: e });
  }
  if (opts.untar) {
    if (fetched.chart.size > MAX_CHART_BYTES)
      throw clientError('CHART_LOAD_FAILED', {
        chart: base.ref,
        detail: `the chart layer is larger than ${MAX_CHART_BYTES} bytes`,
      });
    const tgz = await repo.read(fetched.chart, MAX_CHART_BYTES);
    const dir = await expandChart(tgz, dest, base.ref);
    let prov: string | undefined;
    if (opts.prov && fetched.prov) {
      prov = path.join(dest, `${name}-${version}.tgz.prov`);
      await downloadTo(repo, fetched.prov, prov);
    }
    return { ...base, dir, ...(prov ? { prov } : {}) };
  }
  const file = path.join(dest, `${name}-${version}.tgz`);
  await downloadTo(repo, fetched.chart, file);
  let prov: string | undefined;
  if (opts.prov && fetched.prov) {
    prov = `${file}.prov`;
    await downloadTo(repo, fetched.prov, prov);
  }
  return { ...base, file, ...(prov ? { prov } : {}) };
}

// ---------------------------------------------------------------------------------
// Show

export interface ShowChartResult {
  reference: string;
  digest: string;
  metadata: ChartMetadata;
  /** Chart.yaml as `helm show chart` prints it. */
  chartYaml: string;
  values?: string;
  readme?: { name: string; text: string };
  crds: { name: string; text: string }[];
}

function crdsOf(chart: Chart, prefix = ''): { name: string; text: string }[] {
  const own = chart.files
    .filter((f) => f.name.startsWith('crds/') && /\.(ya?ml|json)$/.test(f.name))
    .map((f) => ({ name: `${prefix}${f.name}`, text: f.data.toString('utf8') }));
  return [...own, ...chart.dependencies.flatMap((d) => crdsOf(d, `${prefix}charts/${d.metadata.name}/`))];
}

/** What `helm show` reads from a chart in a registry. */
export async function showChart(
  client: RegistryClient,
  refInput: string,
  opts: { version?: string } = {},
): Promise<ShowChartResult> {
  const resolved = await resolveChartVersion(client, refInput, opts.version);
  const fetched = await fetchChartManifest(client, resolved.ref);
  if (fetched.chart.size > MAX_CHART_BYTES)
    throw clientError('CHART_LOAD_FAILED', {
      chart: fetched.reference,
      detail: `the chart layer is larger than ${MAX_CHART_BYTES} bytes`,
    });
  const tgz = await client.repository(resolved.ref).read(fetched.chart, MAX_CHART_BYTES);
  const chart = await loadArchive(tgz, fetched.reference);
  validateMetadata(chart.metadata);
  const readme = chart.files.find((f) => ['readme.md', 'readme.txt', 'readme'].includes(f.name.toLowerCase()));
  return {
    reference: fetched.reference,
    digest: fetched.manifest.digest,
    metadata: chart.metadata,
    chartYaml: metadataYaml(chart.metadata),
    ...(chart.values ? { values: chart.values.data.toString('utf8') } : {}),
    ...(readme ? { readme: { name: readme.name, text: readme.data.toString('utf8') } } : {}),
    crds: crdsOf(chart),
  };
}

/** `helm show all|chart|values|readme|crds` text. */
export function formatShow(r: ShowChartResult, what: 'all' | 'chart' | 'values' | 'readme' | 'crds'): string {
  let out = '';
  if (what === 'chart' || what === 'all') out += `${r.chartYaml}\n`;
  if ((what === 'values' || what === 'all') && r.values !== undefined) {
    if (what === 'all') out += '---\n';
    out += `${r.values}\n`;
  }
  if ((what === 'readme' || what === 'all') && r.readme) {
    if (what === 'all') out += '---\n';
    out += `${r.readme.text}\n`;
  }
  if (what === 'crds' || what === 'all') {
    for (const c of r.crds) {
      if (!c.text.startsWith('---')) out += '---\n';
      out += `${c.text}\n`;
    }
  }
  return out;
}
