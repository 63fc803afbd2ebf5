/**
 * Helm's OCI format (pkg/registry), without I/O: the media types, versions as tags
 * ("+" → "_"), the annotations derived from Chart.yaml, the manifest `helm push`
 * writes (encoding/json of ocispec.Manifest: no mediaType member, layers sorted by
 * digest) and what `helm pull` accepts as a chart manifest.
 */
import type { Descriptor } from '../core/manifest.js';
import { GoStruct, goJsonMarshal } from '../gocompat/json.js';
import type { ChartMetadata } from './metadata.js';

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
export const MAX_CHART_BYTES = 100 * 1024 * 1024;

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

/** A manifest that is not a Helm chart's; the message says why. */
export class NotAChartError extends Error {}

export interface ChartManifestLayers {
  config: Descriptor;
  chart: Descriptor;
  prov?: Descriptor;
  /** Set for the legacy application/tar+gzip layer. */
  deprecatedMediaType?: string;
}

/** The config, chart and provenance layers of an image manifest, as `helm pull` picks them (NotAChartError when it is not a chart's). */
export function chartManifestLayers(manifest: Buffer): ChartManifestLayers {
  const doc = JSON.parse(manifest.toString('utf8')) as { config?: Descriptor; layers?: Descriptor[] };
  if (doc.config?.mediaType !== HELM_MEDIA_TYPES.config)
    throw new NotAChartError(`its config is ${doc.config?.mediaType ?? 'missing'}, not ${HELM_MEDIA_TYPES.config}`);
  const layers = doc.layers ?? [];
  const charts = layers.filter(
    (l) => l.mediaType === HELM_MEDIA_TYPES.chart || l.mediaType === HELM_MEDIA_TYPES.legacyChart,
  );
  if (charts.length !== 1) {
    throw new NotAChartError(
      charts.length ? `it has ${charts.length} chart layers` : `no layer has media type ${HELM_MEDIA_TYPES.chart}`,
    );
  }
  const chart = charts[0]!;
  const prov = layers.find((l) => l.mediaType === HELM_MEDIA_TYPES.prov);
  return {
    config: doc.config,
    chart: { mediaType: chart.mediaType, digest: chart.digest, size: chart.size },
    ...(prov ? { prov: { mediaType: prov.mediaType, digest: prov.digest, size: prov.size } } : {}),
    ...(chart.mediaType === HELM_MEDIA_TYPES.legacyChart ? { deprecatedMediaType: chart.mediaType } : {}),
  };
}
