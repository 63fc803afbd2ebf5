/**
 * What the UI shows of a Helm chart: Chart.yaml's fields (from the config blob Helm
 * pushes, decoded by src/chart's rules), its dependencies, values.yaml and the README
 * (rendered to sanitised HTML) streamed out of the chart layer within CONTENT_LIMITS,
 * and every version of the chart in the repository.
 */
import { CONTENT_LIMITS, textView, type ContentLimits } from '../../core/file-view.js';
import { httpUrl } from '../../core/links.js';
import { chartManifestLayers, HELM_MEDIA_TYPES, tagVersion } from '../../chart/oci-manifest.js';
import { ChartFileError, decodeConfigJson, type ChartMetadata } from '../../chart/metadata.js';
import { compareVersions, parseVersion, type Version } from '../../gocompat/semver.js';
import { formatRFC3339 } from '../../gocompat/time.js';
import type { Registry } from '../../registry/registry.js';
import { ContentError } from './content-error.js';
import { InflateLimitError, eachEntry, entryPath, layerTar, readHead } from './layer-tar.js';
import { renderMarkdown } from './markdown.js';
import { readSmallBlob } from './small-blob.js';

export interface ChartDetails {
  metadata: ChartFields;
  readmeHtml: string | null;
  values: string | null;
  valuesTruncated: boolean;
  dependencies: { name: string; version: string; repository: string; condition?: string }[];
  versions: { tag: string; digest: string; pushed: string }[];
}

export interface ChartFields {
  apiVersion: string;
  name: string;
  version: string;
  appVersion: string | null;
  description: string | null;
  type: string | null;
  kubeVersion: string | null;
  deprecated: boolean;
  keywords: string[];
  /** Links only when absolute http(s). */
  home: string | null;
  sources: string[];
  icon: string | null;
  maintainers: { name: string; email: string | null; url: string | null }[];
  annotations: Record<string, string>;
}

/** Largest config blob read (Helm's are a few hundred bytes). */
const MAX_CONFIG_BYTES = 1024 * 1024;
/** Versions listed at most (the newest pushes first are looked at). */
const MAX_VERSIONS = 1000;

const orNull = (s: string | undefined) => (s === undefined || s === '' ? null : s);

function fields(md: ChartMetadata): ChartFields {
  return {
    apiVersion: md.apiVersion,
    name: md.name,
    version: md.version,
    appVersion: orNull(md.appVersion),
    description: orNull(md.description),
    type: orNull(md.type),
    kubeVersion: orNull(md.kubeVersion),
    deprecated: md.deprecated,
    keywords: md.keywords ?? [],
    home: httpUrl(md.home) ?? null,
    sources: (md.sources ?? []).map((s) => httpUrl(s)).filter((s): s is string => s !== undefined),
    icon: httpUrl(md.icon) ?? null,
    maintainers: (md.maintainers ?? [])
      .filter((m) => m !== null)
      .map((m) => ({ name: m.name, email: orNull(m.email), url: httpUrl(m.url) ?? null })),
    annotations: md.annotations ?? {},
  };
}

/** values.yaml and README.md at the chart's top level (`<name>/…`), streamed from the chart layer. */
async function chartFiles(
  registry: Registry,
  repository: string,
  layer: { digest: string },
  limits: ContentLimits,
): Promise<{ values?: { text: string | null; truncated: boolean }; readme?: string | null }> {
  const out: { values?: { text: string | null; truncated: boolean }; readme?: string | null } = {};
  let seen = 0;
  try {
    await eachEntry(
      layerTar(await registry.readBlob(repository, layer.digest), limits.inflatedBytes),
      async (e, tar) => {
        if (seen++ >= limits.entries) return false;
        const parts = entryPath(e.name).split('/');
        if (e.type !== 'file' || parts.length !== 2) return true;
        const base = parts[1]!;
        if (base === 'values.yaml' && !out.values) {
          const v = textView(await readHead(tar, Math.min(e.size, limits.textBytes)), e.size, limits.textBytes);
          out.values = { text: v.text, truncated: v.truncated };
        } else if (/^readme\.md$/i.test(base) && out.readme === undefined) {
          const v = textView(await readHead(tar, Math.min(e.size, limits.textBytes)), e.size, limits.textBytes);
          out.readme = v.text === null ? null : renderMarkdown(v.text);
        }
        return !(out.values && out.readme !== undefined);
      },
    );
  } catch (e) {
    // A chart past the inflate budget shows what was found before it.
    if (!(e instanceof InflateLimitError)) throw e;
  }
  return out;
}

/** The chart's tags in the repository, newest version first. */
async function chartVersions(registry: Registry, repository: string): Promise<ChartDetails['versions']> {
  const { tags } = await registry.meta.repositoryInventory(repository);
  const recent = [...tags].sort((a, b) => b.pushedAt - a.pushedAt).slice(0, MAX_VERSIONS);
  const isChart = new Map<string, boolean>();
  const out: (ChartDetails['versions'][number] & { v?: Version })[] = [];
  for (const t of recent) {
    let chart = isChart.get(t.digest);
    if (chart === undefined) {
      const m = await registry.meta.getManifest(repository, t.digest);
      chart = m !== undefined && configMediaType(m.content) === HELM_MEDIA_TYPES.config;
      isChart.set(t.digest, chart);
    }
    if (!chart) continue;
    let v: Version | undefined;
    try {
      v = parseVersion(tagVersion(t.name));
    } catch {
      v = undefined;
    }
    out.push({ tag: t.name, digest: t.digest, pushed: formatRFC3339(new Date(t.pushedAt)), ...(v ? { v } : {}) });
  }
  // Semver descending; tags that are no version after them, newest push first.
  out.sort((a, b) => (a.v && b.v ? compareVersions(b.v, a.v) : a.v ? -1 : b.v ? 1 : 0));
  return out.map(({ tag, digest, pushed }) => ({ tag, digest, pushed }));
}

function configMediaType(manifest: Buffer): string | undefined {
  try {
    const doc = JSON.parse(manifest.toString('utf8')) as { config?: { mediaType?: unknown } };
    return typeof doc.config?.mediaType === 'string' ? doc.config.mediaType : undefined;
  } catch {
    return undefined;
  }
}

/** The chart part of a manifest's details; `manifest` is the stored bytes of a chart manifest. */
export async function chartDetails(
  registry: Registry,
  repository: string,
  manifest: Buffer,
  limits: ContentLimits = CONTENT_LIMITS,
): Promise<ChartDetails> {
  let layers;
  try {
    layers = chartManifestLayers(manifest);
  } catch (e) {
    throw new ContentError('BAD_REQUEST', `not a Helm chart: ${(e as Error).message}`);
  }
  let md: ChartMetadata;
  try {
    md = decodeConfigJson(await readSmallBlob(registry, repository, layers.config, MAX_CONFIG_BYTES));
  } catch (e) {
    if (e instanceof ChartFileError) throw new ContentError('BAD_REQUEST', `the chart's config: ${e.message}`);
    throw e;
  }
  const files = await chartFiles(registry, repository, layers.chart, limits);
  return {
    metadata: fields(md),
    readmeHtml: files.readme ?? null,
    values: files.values?.text ?? null,
    valuesTruncated: files.values?.truncated ?? false,
    dependencies: (md.dependencies ?? [])
      .filter((d) => d !== null)
      .map((d) => ({
        name: d.name,
        version: d.version,
        repository: d.repository,
        ...(d.condition ? { condition: d.condition } : {}),
      })),
    versions: await chartVersions(registry, repository),
  };
}
