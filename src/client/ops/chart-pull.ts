/**
 * `helm pull oci://HOST/NS/NAME [--version V] [--untar] [-d DIR] [--prov]`: the chart
 * layer (and provenance) to NAME-VERSION.tgz, or expanded into DIR/NAME.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { HELM_MEDIA_TYPES, readChartArchive, tagVersion } from '../../chart/index.js';
import type { RegistryClient, Repository } from '../client.js';
import type { Descriptor } from '../content.js';
import { clientError, isClientError } from '../errors.js';
import { formatReference, type Reference } from '../reference.js';
import { fetchChartManifest, loadChart, readChartLayer } from './chart-fetch.js';
import { resolveChartVersion } from './chart-version.js';

export interface PullChartOptions {
  /** A version or constraint (`helm pull --version`). */
  version?: string;
  /** Without a version: the highest one, pre-releases included (`helm pull --devel`). */
  devel?: boolean;
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
  const name = chartYaml ? (await loadChart(tgz, label)).metadata.name : '';
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
  const resolved = await resolveChartVersion(client, refInput, opts.version, opts.devel);
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
    const tgz = await readChartLayer(client, resolved.ref, fetched, base.ref);
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
