/**
 * Generic OCI artifacts — what Helm charts, Flux artifacts and policy bundles are
 * built on: a manifest of any artifactType, a config (the empty `{}` descriptor by
 * default), layers from files or bytes, annotations, an optional subject (a
 * referrer). On registries without the referrers API the `sha256-<hex>` fallback tag
 * is kept up to date, as the spec asks of clients.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { MT, isImageManifestType } from '../../core/media-types.js';
import { referrersTag, type Destination, type RegistryClient } from '../client.js';
import { LocalContent, MAX_MANIFEST_BYTES, describeFile, type Descriptor } from '../content.js';
import { clientError, isClientError } from '../errors.js';
import { pushGraph, type PushStats } from '../graph.js';
import { formatReference, manifestRef, type Reference } from '../reference.js';

/** The 2-byte `{}` config of artifacts without one. */
export const EMPTY_CONFIG = { mediaType: MT.ociEmpty, bytes: Buffer.from('{}') };
export const ANNOTATION_TITLE = 'org.opencontainers.image.title';

export interface ArtifactLayer {
  mediaType: string;
  /** A file to upload (streamed, hashed first). */
  path?: string;
  /** Or bytes in memory. */
  bytes?: Buffer;
  annotations?: Record<string, string>;
}

export interface PushArtifactOptions {
  artifactType?: string;
  /** Default: the empty config (`application/vnd.oci.empty.v1+json`, `{}`). */
  config?: { mediaType: string; bytes: Buffer };
  layers: ArtifactLayer[];
  annotations?: Record<string, string>;
  /** Makes the artifact a referrer of this manifest. */
  subject?: Descriptor;
  /** Leave `mediaType` out of the manifest JSON (helm does). Default false. */
  omitMediaType?: boolean;
  /** More tags besides the reference's own. */
  tags?: string[];
}

export interface PushArtifactResult {
  reference: string;
  descriptor: Descriptor;
  manifest: Buffer;
  stats: PushStats;
}

/** Builds an OCI manifest for the artifact and pushes it with its blobs. */
export async function pushArtifact(
  client: RegistryClient,
  ref: Reference,
  opts: PushArtifactOptions,
): Promise<PushArtifactResult> {
  const content = new LocalContent();
  const config = opts.config ?? EMPTY_CONFIG;
  const configDesc = content.addBytes(config.bytes, config.mediaType);
  const layers: Descriptor[] = [];
  for (const l of opts.layers) {
    const extra = l.annotations ? { annotations: l.annotations } : {};
    if (l.bytes) {
      layers.push(content.addBytes(l.bytes, l.mediaType, extra));
    } else if (l.path) {
      const d = await describeFile(l.path, l.mediaType, extra);
      content.addFile(d.digest, l.path);
      layers.push(d);
    } else {
      throw clientError('INVALID_ARGUMENT', { message: 'an artifact layer needs a path or bytes' });
    }
  }
  if (config.mediaType === MT.ociEmpty && !opts.artifactType) {
    throw clientError('INVALID_ARGUMENT', { message: 'an artifact with the empty config needs an artifactType' });
  }
  const manifest = {
    schemaVersion: 2,
    ...(opts.omitMediaType ? {} : { mediaType: MT.ociManifest }),
    ...(opts.artifactType ? { artifactType: opts.artifactType } : {}),
    config: { mediaType: configDesc.mediaType, digest: configDesc.digest, size: configDesc.size },
    layers,
    ...(opts.subject
      ? { subject: { mediaType: opts.subject.mediaType, digest: opts.subject.digest, size: opts.subject.size } }
      : {}),
    ...(opts.annotations && Object.keys(opts.annotations).length ? { annotations: opts.annotations } : {}),
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const root = content.addBytes(bytes, MT.ociManifest);
  if (ref.digest && ref.digest !== root.digest)
    throw clientError('DIGEST_REFERENCE_MISMATCH', { reference: formatReference(ref), actual: root.digest });
  const repo = client.repository(ref);
  const tags = [...(ref.tag ? [ref.tag] : []), ...(opts.tags ?? [])];
  const result = await pushGraph(content, repo, root, { tags });
  if (opts.subject && !result.subjectHandled) {
    await addToReferrersTag(repo, opts.subject.digest, {
      mediaType: MT.ociManifest,
      digest: root.digest,
      size: root.size,
      artifactType: opts.artifactType ?? config.mediaType,
      ...(manifest.annotations ? { annotations: manifest.annotations } : {}),
    });
  }
  return {
    reference: formatReference({ ...ref, digest: root.digest }),
    descriptor: root,
    manifest: bytes,
    stats: result.stats,
  };
}

/** Adds a referrer to the subject's `sha256-<hex>` index tag (registries without the referrers API). */
export async function addToReferrersTag(repo: Destination, subject: string, referrer: Descriptor): Promise<void> {
  const tag = referrersTag(subject);
  let index: { schemaVersion: number; mediaType: string; manifests: Descriptor[] } = {
    schemaVersion: 2,
    mediaType: MT.ociIndex,
    manifests: [],
  };
  try {
    index = JSON.parse((await repo.fetchManifest(tag, { accept: MT.ociIndex })).bytes.toString('utf8')) as typeof index;
    index.manifests ??= [];
  } catch (e) {
    if (!isClientError(e, 'MANIFEST_NOT_FOUND')) throw e;
  }
  if (index.manifests.some((m) => m.digest === referrer.digest)) return;
  index.manifests.push(referrer);
  await repo.pushManifest(Buffer.from(JSON.stringify(index)), MT.ociIndex, tag);
}

export interface PulledArtifact {
  reference: string;
  descriptor: Descriptor;
  manifest: {
    artifactType?: string;
    config: Descriptor;
    layers: Descriptor[];
    annotations?: Record<string, string>;
    subject?: Descriptor;
  };
  config: Buffer;
  /** Each layer, and the file it was written to when `outDir` was given. */
  layers: { descriptor: Descriptor; file?: string }[];
}

/** A safe file name for a layer: its title annotation's base name, else the digest's hex. */
export function layerFileName(d: Descriptor): string {
  const title = d.annotations?.[ANNOTATION_TITLE];
  const base = title ? path.basename(title.replace(/\\/g, '/')) : '';
  return base && base !== '.' && base !== '..' ? base : d.digest.slice(d.digest.indexOf(':') + 1);
}

/** Fetches an artifact's manifest and config; with `outDir`, downloads its layers there (verified). */
export async function pullArtifact(
  client: RegistryClient,
  ref: Reference,
  opts: { outDir?: string } = {},
): Promise<PulledArtifact> {
  const repo = client.repository(ref);
  const { descriptor, bytes } = await repo.fetchManifest(manifestRef(ref));
  if (!isImageManifestType(descriptor.mediaType))
    throw clientError('UNSUPPORTED_MANIFEST', { reference: formatReference(ref), mediaType: descriptor.mediaType });
  const manifest = JSON.parse(bytes.toString('utf8')) as PulledArtifact['manifest'];
  const config = await repo.read(manifest.config, MAX_MANIFEST_BYTES);
  const layers: PulledArtifact['layers'] = [];
  if (opts.outDir) await mkdir(opts.outDir, { recursive: true });
  for (const d of manifest.layers ?? []) {
    if (!opts.outDir) {
      layers.push({ descriptor: d });
      continue;
    }
    const file = path.join(opts.outDir, layerFileName(d));
    const tmp = `${file}.partial`;
    try {
      await pipeline(repo.fetchBlob(d), createWriteStream(tmp));
      await rename(tmp, file);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    layers.push({ descriptor: d, file });
  }
  return { reference: formatReference({ ...ref, digest: descriptor.digest }), descriptor, manifest, config, layers };
}
