/**
 * `helm push CHART.tgz oci://HOST/NAMESPACE` (+ CHART.tgz.prov) → HOST/NS/NAME:VERSION
 * ("+" → "_"): the config is json.Marshal of the chart's metadata, the manifest Helm's
 * (src/chart/oci-manifest.ts), `created` = the .tgz's mtime in RFC 3339, local zone.
 */
import { readFile, stat } from 'node:fs/promises';
import { MT } from '../../core/media-types.js';
import { isValidRepositoryName, isValidTag } from '../../core/names.js';
import { formatRFC3339 } from '../../gocompat/time.js';
import {
  HELM_MEDIA_TYPES,
  MAX_CHART_BYTES,
  chartTag,
  helmAnnotations,
  helmManifest,
  metadataConfigJson,
} from '../../chart/index.js';
import type { RegistryClient } from '../client.js';
import { LocalContent, type Descriptor } from '../content.js';
import { clientError } from '../errors.js';
import { pushGraph, type PushStats } from '../graph.js';
import { formatReference, parseReference, type Reference } from '../reference.js';
import { loadChart } from './chart-fetch.js';

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

/** `helm push CHART.tgz oci://HOST/NAMESPACE`. */
export async function pushChart(
  client: RegistryClient,
  chartFile: string,
  remote: string,
  opts: PushChartOptions = {},
): Promise<PushChartResult> {
  const target = parseChartRemote(remote);
  const bytes = await readChartFile(chartFile);
  const md = (await loadChart(bytes, chartFile)).metadata;
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
