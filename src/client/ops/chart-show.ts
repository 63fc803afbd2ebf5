/** What `helm show all|chart|values|readme|crds` reads from a chart in a registry (the CLI prints it). */
import { metadataYaml, validateMetadata, type Chart, type ChartMetadata } from '../../chart/index.js';
import type { RegistryClient } from '../client.js';
import { fetchChartManifest, loadChart, readChartLayer } from './chart-fetch.js';
import { resolveChartVersion } from './chart-version.js';

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
  opts: { version?: string; devel?: boolean } = {},
): Promise<ShowChartResult> {
  const resolved = await resolveChartVersion(client, refInput, opts.version, opts.devel);
  const fetched = await fetchChartManifest(client, resolved.ref);
  const tgz = await readChartLayer(client, resolved.ref, fetched, fetched.reference);
  const chart = await loadChart(tgz, fetched.reference);
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
