/**
 * Moving a manifest graph (index → manifests → config and layers) between a content
 * source and a registry, or from a registry to a local sink. Leaves go first, so a
 * registry never sees a manifest before what it references; child manifests go by
 * digest and only the root gets tags. Bytes are never rewritten: digests survive.
 */
import type { Readable } from 'node:stream';
import { isRegistryError } from '../core/errors.js';
import { parseManifest, type ManifestReference } from '../core/manifest.js';
import { isManifestType } from '../core/media-types.js';
import type { Destination } from './client.js';
import { blobSource, type ContentSource, type Descriptor } from './content.js';
import { verifiedStream } from './download.js';
import { clientError } from './errors.js';
import { limiter, settleAll } from './limit.js';
import type { ProgressListener } from './progress.js';
import { normalizeRegistry } from './reference.js';

/** The descriptors a manifest references (blobs and child manifests; foreign layers left out). */
export function manifestChildren(desc: Descriptor, bytes: Buffer, reference = desc.digest): Descriptor[] {
  let refs: ManifestReference[];
  try {
    refs = parseManifest(bytes, desc.mediaType).references;
  } catch (e) {
    if (isRegistryError(e))
      throw clientError(
        'UNSUPPORTED_MANIFEST',
        { reference: `${reference} (${e.message})`, mediaType: desc.mediaType },
        { cause: e },
      );
    throw e;
  }
  return refs.map((r) => ({ mediaType: r.mediaType, digest: r.digest, size: r.size }));
}

export interface PushStats {
  uploaded: number;
  mounted: number;
  existed: number;
  /** Bytes of the blobs actually uploaded. */
  uploadedBytes: number;
  manifests: number;
}

export interface PushGraphOptions {
  /** Tags for the root; without any it is pushed by digest. */
  tags?: readonly string[];
  /** More repositories on the destination registry that may hold blobs (for mounts). */
  mountFrom?: readonly string[];
  concurrency?: number;
}

export interface PushGraphResult {
  descriptor: Descriptor;
  stats: PushStats;
  /** The registry indexed the root's subject itself (it answered `OCI-Subject`). */
  subjectHandled: boolean;
}

/**
 * Pushes `root` and everything it references from `src` to `dst`. Blobs the
 * destination has are skipped (HEAD), blobs of a source repository on the same
 * registry are mounted, child manifests the destination has are skipped whole.
 */
export async function pushGraph(
  src: ContentSource,
  dst: Destination,
  root: Descriptor,
  opts: PushGraphOptions = {},
): Promise<PushGraphResult> {
  if (!isManifestType(root.mediaType)) {
    throw clientError('UNSUPPORTED_MANIFEST', { reference: root.digest, mediaType: root.mediaType });
  }
  const stats: PushStats = { uploaded: 0, mounted: 0, existed: 0, uploadedBytes: 0, manifests: 0 };
  const mountFrom = [
    ...(src.origin && normalizeRegistry(src.origin.registry) === normalizeRegistry(dst.registry)
      ? [src.origin.repository]
      : []),
    ...(opts.mountFrom ?? []),
  ];
  const limit = limiter(opts.concurrency ?? dst.client.concurrency);
  const blobs = new Map<string, Promise<void>>();
  const manifests = new Map<string, Promise<void>>();

  const pushBlob = (d: Descriptor): Promise<void> => {
    let p = blobs.get(d.digest);
    if (!p) {
      p = limit(() => dst.pushBlob(d, blobSource(src, d), { mountFrom })).then((r) => {
        if (r === 'uploaded') {
          stats.uploaded++;
          stats.uploadedBytes += d.size;
        } else if (r === 'mounted') stats.mounted++;
        else stats.existed++;
      });
      blobs.set(d.digest, p);
    }
    return p;
  };

  const pushChildren = async (d: Descriptor, bytes: Buffer): Promise<void> => {
    await settleAll(manifestChildren(d, bytes).map((c) => (isManifestType(c.mediaType) ? pushChild(c) : pushBlob(c))));
  };

  const pushChild = (d: Descriptor): Promise<void> => {
    let p = manifests.get(d.digest);
    if (!p) {
      p = (async () => {
        if (await dst.manifestExists(d.digest, { push: true })) {
          dst.client.emit({
            type: 'manifest',
            action: 'exists',
            digest: d.digest,
            mediaType: d.mediaType,
            reference: d.digest,
          });
          return;
        }
        const bytes = await src.read(d);
        await pushChildren(d, bytes);
        await dst.pushManifest(bytes, d.mediaType, d.digest);
        stats.manifests++;
      })();
      manifests.set(d.digest, p);
    }
    return p;
  };

  const bytes = await src.read(root);
  await pushChildren(root, bytes);
  const tags = opts.tags?.length ? opts.tags : [undefined];
  let pushed: Descriptor = root;
  let subjectHandled = false;
  for (const tag of tags) {
    const r = await dst.pushManifest(bytes, root.mediaType, tag);
    pushed = r.descriptor;
    subjectHandled = r.subjectHandled;
    stats.manifests++;
  }
  return { descriptor: { ...pushed, mediaType: root.mediaType }, stats, subjectHandled };
}

/** Where fetched content goes (an OCI layout on disk, for instance). */
export interface ContentSink {
  has(desc: Descriptor): Promise<boolean>;
  /** Stores a verified blob stream (it errors if the bytes do not match). */
  writeBlob(desc: Descriptor, stream: Readable): Promise<void>;
  writeBytes(desc: Descriptor, bytes: Buffer): Promise<void>;
}

export interface FetchGraphOptions {
  concurrency?: number;
  onProgress?: ProgressListener;
  /** Which children of an index to follow (default: all of them). */
  selectChildren?: (index: Descriptor, children: Descriptor[]) => Descriptor[];
}

/** Copies `root` and what it references from `src` into `sink`; returns every descriptor written. */
export async function fetchGraph(
  src: ContentSource,
  root: Descriptor,
  sink: ContentSink,
  opts: FetchGraphOptions = {},
): Promise<Descriptor[]> {
  const limit = limiter(opts.concurrency ?? 3);
  const seen = new Map<string, Promise<void>>();
  const written: Descriptor[] = [];

  const visit = (d: Descriptor): Promise<void> => {
    let p = seen.get(d.digest);
    if (!p) {
      p = (async () => {
        if (isManifestType(d.mediaType)) {
          const bytes = await src.read(d);
          let children = manifestChildren(d, bytes);
          if (opts.selectChildren && children.some((c) => isManifestType(c.mediaType)))
            children = opts.selectChildren(d, children);
          await settleAll(children.map(visit));
          if (!(await sink.has(d))) await sink.writeBytes(d, bytes);
        } else if (!(await sink.has(d))) {
          await limit(() =>
            sink.writeBlob(
              d,
              verifiedStream(d, (offset) => src.open(d, offset), {
                what: `blob ${d.digest}`,
                ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
              }),
            ),
          );
        }
        written.push(d);
      })();
      seen.set(d.digest, p);
    }
    return p;
  };
  await visit(root);
  return written;
}
