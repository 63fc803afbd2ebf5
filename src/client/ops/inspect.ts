/** What a reference is: manifest, config, platforms, annotations, referrers. */
import { MT, isImageManifestType, isIndexType } from '../../core/media-types.js';
import type { RegistryClient } from '../client.js';
import type { Descriptor } from '../content.js';
import { isClientError } from '../errors.js';
import { formatPlatform, type Platform } from '../platform.js';
import { formatReference, manifestRef, type Reference } from '../reference.js';
import { selectPlatform } from './image.js';

export interface InspectResult {
  reference: string;
  registry: string;
  repository: string;
  tag?: string;
  digest: string;
  mediaType: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  /** The manifest document as the registry stores it (parsed). */
  manifest: unknown;
  /** The config document, for image manifests whose config is JSON (≤ 1 MiB). */
  config?: unknown;
  configDescriptor?: Descriptor;
  layers?: Descriptor[];
  /** The entries of an index, with their platforms. */
  platforms?: {
    platform: string;
    digest: string;
    mediaType: string;
    size: number;
    annotations?: Record<string, string>;
  }[];
  subject?: Descriptor;
  referrers: Descriptor[];
  /** How the referrers were found: the referrers API or the `sha256-<hex>` tag. */
  referrersVia: 'api' | 'tag-schema';
  /** The raw manifest bytes (not in JSON output). */
  raw: Buffer;
}

export async function inspect(
  client: RegistryClient,
  ref: Reference,
  opts: { platform?: Platform } = {},
): Promise<InspectResult> {
  const repo = client.repository(ref);
  let { descriptor, bytes } = await repo.fetchManifest(manifestRef(ref));
  let reference = formatReference({ ...ref, digest: descriptor.digest });
  if (opts.platform && isIndexType(descriptor.mediaType)) {
    const picked = selectPlatform(bytes, reference, opts.platform);
    ({ descriptor, bytes } = await repo.fetchManifest(picked.digest));
    reference = formatReference({ registry: ref.registry, repository: ref.repository, digest: descriptor.digest });
  }
  const doc = JSON.parse(bytes.toString('utf8')) as {
    artifactType?: string;
    annotations?: Record<string, string>;
    config?: Descriptor;
    layers?: Descriptor[];
    manifests?: (Descriptor & { platform?: Platform })[];
    subject?: Descriptor;
  };
  const result: InspectResult = {
    reference,
    registry: ref.registry,
    repository: ref.repository,
    ...(ref.tag ? { tag: ref.tag } : {}),
    digest: descriptor.digest,
    mediaType: descriptor.mediaType,
    size: descriptor.size,
    ...(doc.artifactType ? { artifactType: doc.artifactType } : {}),
    ...(doc.annotations ? { annotations: doc.annotations } : {}),
    manifest: doc,
    ...(doc.subject ? { subject: doc.subject } : {}),
    referrers: [],
    referrersVia: 'api',
    raw: bytes,
  };
  if (isImageManifestType(descriptor.mediaType) && doc.config) {
    result.configDescriptor = doc.config;
    result.layers = doc.layers ?? [];
    const c = doc.config;
    if (
      (c.mediaType === MT.ociConfig ||
        c.mediaType === MT.dockerConfig ||
        c.mediaType.endsWith('+json') ||
        c.mediaType === MT.json) &&
      c.size <= 1024 * 1024
    ) {
      try {
        result.config = JSON.parse((await repo.read(c)).toString('utf8'));
      } catch (e) {
        if (!(e instanceof SyntaxError) && !isClientError(e, 'BLOB_NOT_FOUND')) throw e;
      }
    }
  }
  if (isIndexType(descriptor.mediaType)) {
    result.platforms = (doc.manifests ?? []).map((m) => ({
      platform: formatPlatform(m.platform),
      digest: m.digest,
      mediaType: m.mediaType,
      size: m.size,
      ...(m.annotations ? { annotations: m.annotations } : {}),
    }));
  }
  const refs = await repo.referrers(descriptor.digest);
  result.referrers = refs.manifests;
  result.referrersVia = refs.via;
  return result;
}
