/** Reading a chart from a registry: its manifest (config decoded) and its chart layer, loaded. */
import { isImageManifestType, isIndexType } from '../../core/media-types.js';
import {
  MAX_CHART_BYTES,
  NotAChartError,
  chartManifestLayers,
  decodeConfigJson,
  loadChartArchive,
  type Chart,
  type ChartManifestLayers,
  type ChartMetadata,
} from '../../chart/index.js';
import { asChartClientError } from '../chart-errors.js';
import type { RegistryClient } from '../client.js';
import { MAX_MANIFEST_BYTES, type Descriptor } from '../content.js';
import { clientError } from '../errors.js';
import { formatReference, type Reference } from '../reference.js';

export interface FetchedChartManifest extends ChartManifestLayers {
  reference: string;
  manifest: Descriptor;
  metadata: ChartMetadata;
}

/** The chart manifest at a resolved reference (the first manifest of an index), its config decoded. */
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
  let layers: ChartManifestLayers;
  try {
    layers = chartManifestLayers(bytes);
  } catch (e) {
    if (!(e instanceof NotAChartError)) throw e;
    throw clientError('NOT_A_CHART', { reference: label, detail: e.message });
  }
  const configBytes = await repo.read(layers.config, MAX_MANIFEST_BYTES);
  let metadata: ChartMetadata;
  try {
    metadata = decodeConfigJson(configBytes);
  } catch (e) {
    throw clientError('NOT_A_CHART', { reference: label, detail: (e as Error).message });
  }
  return {
    reference: formatReference({
      registry: ref.registry,
      repository: ref.repository,
      ...(ref.tag ? { tag: ref.tag } : {}),
      digest: descriptor.digest,
    }),
    manifest: descriptor,
    ...layers,
    metadata,
  };
}

/** The chart layer's bytes, refused above MAX_CHART_BYTES (`label` names the chart in the error). */
export async function readChartLayer(
  client: RegistryClient,
  ref: Reference,
  fetched: FetchedChartManifest,
  label: string,
): Promise<Buffer> {
  if (fetched.chart.size > MAX_CHART_BYTES)
    throw clientError('CHART_LOAD_FAILED', {
      chart: label,
      detail: `the chart layer is larger than ${MAX_CHART_BYTES} bytes`,
    });
  return client.repository(ref).read(fetched.chart, MAX_CHART_BYTES);
}

/** Loads a chart archive; its failures become catalog errors naming `label`. */
export async function loadChart(bytes: Buffer, label: string): Promise<Chart> {
  try {
    return await loadChartArchive(bytes);
  } catch (e) {
    throw asChartClientError(e, label);
  }
}
