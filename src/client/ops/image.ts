/**
 * Images between archives and registries: push a `docker save` archive or OCI layout,
 * pull into an archive `docker load` / `podman load` accept, or into a layout directory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, openSync, readSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Transform, type Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { MT, isImageManifestType, isIndexType } from '../../core/media-types.js';
import { LayoutDir, writeDockerArchive, writeOciArchive } from '../archive/export.js';
import { decompressor, sniffCompression } from '../archive/files.js';
import {
  ANNOTATION_CONTAINERD_NAME,
  ANNOTATION_REF_NAME,
  ImageArchive,
  type ArchiveFormat,
} from '../archive/import.js';
import type { RegistryClient, Repository } from '../client.js';
import { verifyBytes, type Descriptor } from '../content.js';
import { clientError, isClientError } from '../errors.js';
import { fetchGraph, pushGraph, type PushStats } from '../graph.js';
import { formatPlatform, hostPlatform, isRunnablePlatform, platformMatches, type Platform } from '../platform.js';
import { familiarName, formatReference, manifestRef, type Reference } from '../reference.js';

export const IMAGE_CONFIG_TYPES: readonly string[] = [MT.ociConfig, MT.dockerConfig];

export interface PushImageResult {
  reference: string;
  digest: string;
  mediaType: string;
  size: number;
  tag?: string;
  archive: { path: string; format: ArchiveFormat; image: string };
  stats: PushStats;
  notes: string[];
}

/** Pushes an image from an archive (any `docker save` generation) or OCI layout (directory or tar). */
export async function pushImage(
  client: RegistryClient,
  archivePath: string,
  target: Reference,
  opts: { image?: string } = {},
): Promise<PushImageResult> {
  const archive = await ImageArchive.open(archivePath);
  try {
    const image = archive.select(opts.image);
    const prepared = await archive.prepare(image, { onProgress: client.emit });
    if (target.digest && target.digest !== prepared.root.digest) {
      throw clientError('DIGEST_REFERENCE_MISMATCH', {
        reference: formatReference(target),
        actual: prepared.root.digest,
      });
    }
    const repo = client.repository(target);
    const result = await pushGraph(prepared.source, repo, prepared.root, { tags: target.tag ? [target.tag] : [] });
    return {
      reference: formatReference({ ...target, digest: result.descriptor.digest }),
      digest: result.descriptor.digest,
      mediaType: result.descriptor.mediaType,
      size: result.descriptor.size,
      ...(target.tag ? { tag: target.tag } : {}),
      archive: { path: archivePath, format: archive.format, image: image.label },
      stats: result.stats,
      notes: prepared.notes,
    };
  } finally {
    await archive.close();
  }
}

type IndexDoc = { manifests?: (Descriptor & { platform?: Partial<Platform> })[] };

/** The image manifest of an index for a platform (default: this machine's), as docker picks it. */
export function selectPlatform(indexBytes: Buffer, reference: string, want?: Platform): Descriptor {
  const doc = JSON.parse(indexBytes.toString('utf8')) as IndexDoc;
  const images = (doc.manifests ?? []).filter(
    (m) => isImageManifestType(m.mediaType) && isRunnablePlatform(m.platform),
  );
  const target = want ?? hostPlatform();
  const found = images.find((m) => platformMatches(target, m.platform as Platform));
  if (found) return found;
  if (!want && images.length === 1) return images[0]!;
  throw clientError('PLATFORM_NOT_FOUND', {
    reference,
    platform: formatPlatform(target),
    available: images.map((m) => formatPlatform(m.platform)),
  });
}

export interface PullImageOptions {
  /** docker: classic `docker save` layout; oci: OCI layout tar with a docker manifest.json. */
  format?: 'docker' | 'oci';
  /** Only this platform of a multi-platform image (docker format: default this machine's). */
  platform?: Platform;
}

export type PullTarget = { file: string } | { stream: Writable };

export interface PullImageResult {
  reference: string;
  /** Digest of what the archive's index.json / manifest.json points at. */
  digest: string;
  mediaType: string;
  format: 'docker' | 'oci';
  file?: string;
  /** The platform chosen from an index, if one was. */
  platform?: string;
  /** Bytes of the archive written. */
  bytes: number;
  blobs: number;
}

function repoTags(ref: Reference): string[] {
  return ref.tag ? [familiarName({ registry: ref.registry, repository: ref.repository, tag: ref.tag })] : [];
}

/** Pulls an image into an archive file (written to a temporary name, then renamed) or a stream. */
export async function pullImage(
  client: RegistryClient,
  ref: Reference,
  target: PullTarget,
  opts: PullImageOptions = {},
): Promise<PullImageResult> {
  const format = opts.format ?? 'docker';
  const repo = client.repository(ref);
  const label = formatReference(ref);
  const root = await repo.resolve(manifestRef(ref));
  const rootBytes = (await repo.fetchManifest(root.digest)).bytes;

  const file = 'file' in target ? path.resolve(target.file) : undefined;
  const stagingParent = file ? path.dirname(file) : tmpdir();
  let staging: string;
  try {
    await mkdir(stagingParent, { recursive: true });
    staging = await mkdtemp(path.join(stagingParent, '.stowage-pull-'));
  } catch (e) {
    throw clientError('OUTPUT_FAILED', { path: file ?? stagingParent, detail: (e as Error).message }, { cause: e });
  }
  const partial = file ? `${file}.${randomBytes(4).toString('hex')}.partial` : undefined;
  try {
    const layout = await LayoutDir.create(path.join(staging, 'layout'));
    let out: Writable;
    if (partial) {
      out = createWriteStream(partial);
      await new Promise<void>((resolve, reject) =>
        out
          .once('open', () => resolve())
          .once('error', (e) => reject(clientError('OUTPUT_FAILED', { path: file!, detail: e.message }, { cause: e }))),
      );
    } else {
      out = (target as { stream: Writable }).stream;
    }
    let result: Omit<PullImageResult, 'bytes' | 'file' | 'reference' | 'format'> & { bytes: () => number };
    if (format === 'docker')
      result = await pullDocker(client, repo, ref, label, root, rootBytes, layout, staging, out, opts.platform);
    else result = await pullOci(client, repo, ref, label, root, rootBytes, layout, out, opts.platform);
    if (partial && file) {
      out.end();
      await finished(out);
      await rename(partial, file);
    }
    return {
      reference: formatReference({ ...ref, digest: result.digest }),
      format,
      ...(file ? { file } : {}),
      ...result,
      bytes: result.bytes(),
    };
  } catch (e) {
    if (partial) await rm(partial, { force: true });
    throw e;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function imageConfigOf(
  manifestBytes: Buffer,
  reference: string,
): Promise<{ config: Descriptor; layers: Descriptor[] }> {
  const doc = JSON.parse(manifestBytes.toString('utf8')) as { config: Descriptor; layers?: Descriptor[] };
  if (!IMAGE_CONFIG_TYPES.includes(doc.config.mediaType))
    throw clientError('NOT_AN_IMAGE', { reference, type: doc.config.mediaType });
  return { config: doc.config, layers: doc.layers ?? [] };
}

async function pullDocker(
  client: RegistryClient,
  repo: Repository,
  ref: Reference,
  label: string,
  root: Descriptor,
  rootBytes: Buffer,
  layout: LayoutDir,
  staging: string,
  out: Writable,
  platform: Platform | undefined,
) {
  let image = root;
  let imageBytes = rootBytes;
  let chosen: string | undefined;
  if (isIndexType(root.mediaType)) {
    image = selectPlatform(rootBytes, label, platform);
    chosen = formatPlatform((image as { platform?: Platform }).platform);
    image = { mediaType: image.mediaType, digest: image.digest, size: image.size };
    imageBytes = (await repo.fetchManifest(image.digest)).bytes;
  } else if (!isImageManifestType(root.mediaType)) {
    throw clientError('UNSUPPORTED_MANIFEST', { reference: label, mediaType: root.mediaType });
  }
  const { config, layers } = await imageConfigOf(imageBytes, label);
  if (layers.some((l) => l.urls?.length))
    throw clientError('UNSUPPORTED_MANIFEST', {
      reference: `${label} (it has foreign layers; pull it with --format oci)`,
      mediaType: image.mediaType,
    });
  const written = await fetchGraph(repo, image, layout, { concurrency: client.concurrency, onProgress: client.emit });
  const configBytes = verifyBytes(await layoutRead(layout, config), config, `${label}: config`);
  const diffIds =
    (JSON.parse(configBytes.toString('utf8')) as { rootfs?: { diff_ids?: string[] } }).rootfs?.diff_ids ?? [];
  if (diffIds.length !== layers.length)
    throw clientError('NOT_AN_IMAGE', {
      reference: label,
      type: `${config.mediaType} with ${diffIds.length} diff_ids for ${layers.length} layers`,
    });
  const layerFiles: { diffId: string; file: string; size: number }[] = [];
  const dir = path.join(staging, 'layers');
  await mkdir(dir, { recursive: true });
  for (const [i, layer] of layers.entries()) {
    const fileName = path.join(dir, `${i}.tar`);
    const { diffId, size } = await decompressLayer(client, layout.blobPath(layer.digest), fileName, layer, label);
    if (diffId !== diffIds[i]) {
      throw clientError('DIGEST_MISMATCH', {
        what: `${label}: uncompressed layer ${i} (${layer.digest})`,
        expected: diffIds[i]!,
        actual: diffId,
      });
    }
    layerFiles.push({ diffId, file: fileName, size });
  }
  const counter = countBytes(out);
  await writeDockerArchive(counter.stream, {
    config: { bytes: configBytes, digest: config.digest },
    layers: layerFiles,
    repoTags: repoTags(ref),
  });
  await counter.done();
  return {
    digest: image.digest,
    mediaType: image.mediaType,
    ...(chosen ? { platform: chosen } : {}),
    blobs: written.length,
    bytes: counter.count,
  };
}

function layoutRead(layout: LayoutDir, desc: Descriptor): Promise<Buffer> {
  return readFile(layout.blobPath(desc.digest));
}

/** Decompresses a downloaded layer into `dest`, returning its diff_id. */
async function decompressLayer(
  client: RegistryClient,
  src: string,
  dest: string,
  layer: Descriptor,
  label: string,
): Promise<{ diffId: string; size: number }> {
  const head = Buffer.alloc(8);
  const fd = openSync(src, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, 8, 0);
  } finally {
    closeSync(fd);
  }
  const compression = n >= 6 ? sniffCompression(head) : 'none';
  const hash = createHash('sha256');
  let size = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  client.emit({
    type: 'blob',
    action: 'prepare',
    state: 'start',
    digest: layer.digest,
    size: layer.size,
    transferred: 0,
  });
  try {
    const stages: (NodeJS.ReadableStream | NodeJS.ReadWriteStream | NodeJS.WritableStream)[] = [
      createReadStream(src, { highWaterMark: 1 << 20 }),
    ];
    if (compression !== 'none') stages.push(decompressor(compression, `${label} layer ${layer.digest}`));
    stages.push(hashing, createWriteStream(dest));
    await pipeline(stages);
  } catch (e) {
    if (isClientError(e)) throw e;
    throw clientError('DIGEST_MISMATCH', {
      what: `${label}: layer ${layer.digest} does not decompress (${(e as Error).message})`,
      expected: 'a tar stream',
      actual: compression,
    });
  }
  client.emit({
    type: 'blob',
    action: 'prepare',
    state: 'done',
    digest: layer.digest,
    size: layer.size,
    transferred: layer.size,
    result: 'prepared',
  });
  return { diffId: `sha256:${hash.digest('hex')}`, size };
}

async function pullOci(
  client: RegistryClient,
  repo: Repository,
  ref: Reference,
  label: string,
  root: Descriptor,
  rootBytes: Buffer,
  layout: LayoutDir,
  out: Writable,
  platform: Platform | undefined,
) {
  let top = root;
  let topBytes = rootBytes;
  let chosen: string | undefined;
  if (platform && isIndexType(root.mediaType)) {
    const picked = selectPlatform(rootBytes, label, platform);
    chosen = formatPlatform((picked as { platform?: Platform }).platform);
    top = { mediaType: picked.mediaType, digest: picked.digest, size: picked.size };
    topBytes = (await repo.fetchManifest(top.digest)).bytes;
  }
  const written = await fetchGraph(repo, top, layout, { concurrency: client.concurrency, onProgress: client.emit });

  // manifest.json for docker: this machine's platform when the root is an index.
  let docker: { config: Descriptor; layers: Descriptor[]; repoTags: string[] } | undefined;
  try {
    let image = top;
    let imageBytes = topBytes;
    if (isIndexType(top.mediaType)) {
      image = selectPlatform(topBytes, label, undefined);
      imageBytes = await layoutRead(layout, image);
    }
    if (isImageManifestType(image.mediaType)) {
      const { config, layers } = await imageConfigOf(imageBytes, label);
      if (!layers.some((l) => l.urls?.length)) docker = { config, layers, repoTags: repoTags(ref) };
    }
  } catch (e) {
    if (!isClientError(e)) throw e; // not an image, or no image for this machine: no manifest.json
  }
  const annotations: Record<string, string> = {
    [ANNOTATION_CONTAINERD_NAME]: formatReference(
      ref.tag ? { registry: ref.registry, repository: ref.repository, tag: ref.tag } : { ...ref, digest: top.digest },
    ),
  };
  if (ref.tag) annotations[ANNOTATION_REF_NAME] = ref.tag;
  const counter = countBytes(out);
  await writeOciArchive(counter.stream, {
    layout,
    index: [{ mediaType: top.mediaType, digest: top.digest, size: top.size, annotations }],
    blobs: written,
    ...(docker ? { docker } : {}),
  });
  await counter.done();
  return {
    digest: top.digest,
    mediaType: top.mediaType,
    ...(chosen ? { platform: chosen } : {}),
    blobs: written.length,
    bytes: counter.count,
  };
}

/** Wraps a writable to count what goes through, without ending it. */
function countBytes(out: Writable): { stream: Writable; count: () => number; done: () => Promise<void> } {
  let n = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _e, cb) {
      n += chunk.length;
      cb(null, chunk);
    },
  });
  stream.pipe(out, { end: false });
  // A broken output (a closed pipe, a full disk) must fail the writer, not stall it.
  out.once('error', (e) =>
    stream.destroy(clientError('OUTPUT_FAILED', { path: 'the output', detail: e.message }, { cause: e })),
  );
  return {
    stream,
    count: () => n,
    done: async () => {
      stream.end();
      await finished(stream);
    },
  };
}

export interface PullToLayoutResult {
  digest: string;
  mediaType: string;
  dir: string;
  blobs: number;
}

/** Pulls a reference (image, index or any artifact) into an OCI layout directory. */
export async function pullToLayout(client: RegistryClient, ref: Reference, dir: string): Promise<PullToLayoutResult> {
  const repo = client.repository(ref);
  const root = await repo.resolve(manifestRef(ref));
  const layout = await LayoutDir.create(dir);
  const written = await fetchGraph(repo, root, layout, { concurrency: client.concurrency, onProgress: client.emit });
  const annotations: Record<string, string> = { [ANNOTATION_CONTAINERD_NAME]: formatReference(ref) };
  if (ref.tag) annotations[ANNOTATION_REF_NAME] = ref.tag;
  await layout.writeIndex([{ ...root, annotations }]);
  return { digest: root.digest, mediaType: root.mediaType, dir, blobs: written.length };
}
