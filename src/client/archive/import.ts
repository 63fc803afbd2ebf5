/**
 * Images inside archives, ready to push:
 *
 *   OCI image layout (directory or tar; skopeo, buildx, crane, umoci)
 *   docker save, Docker ≥ 25 / containerd store: an OCI layout plus manifest.json
 *   docker save, Docker ≤ 24: manifest.json, <config>.json, <v1-id>/layer.tar
 *
 * OCI content is pushed as it is (bytes untouched, so digests survive — Docker 25's
 * uncompressed layers included). An index whose children are partly missing (a
 * single-platform export of a multi-platform image) becomes a new index of the
 * children present, and the result says so. Legacy archives are converted the way
 * `docker push` does: each layer is checked against the config's diff_ids, gzipped
 * deterministically (no name, mtime 0) into a temporary file, and described by a
 * Docker schema 2 manifest; foreign layers keep their descriptors and URLs.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { isDigestLike } from '../../core/digest.js';
import { MT, isImageManifestType, isIndexType, isManifestType } from '../../core/media-types.js';
import {
  LocalContent,
  MAX_MANIFEST_BYTES,
  readAll,
  verifyBytes,
  type ContentSource,
  type Descriptor,
} from '../content.js';
import { clientError, isClientError } from '../errors.js';
import { manifestChildren } from '../graph.js';
import { emitter, type ProgressListener } from '../progress.js';
import { formatReference, parseReference } from '../reference.js';
import { decompressor, openArchiveFiles, sniffCompression, type ArchiveFiles } from './files.js';

export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
export const ANNOTATION_CONTAINERD_NAME = 'io.containerd.image.name';
export const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

export type ArchiveFormat = 'oci-layout' | 'docker-save-oci' | 'docker-save-legacy';

/** One entry of docker's manifest.json. */
export interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
  LayerSources?: Record<string, Descriptor> | null;
  Parent?: string;
}

export interface ArchiveImage {
  /** Names the archive gives it (RepoTags, io.containerd.image.name, ref.name); may be empty. */
  names: string[];
  /** How messages name it. */
  label: string;
  /** What identifies it without a name: the manifest digest (OCI) or the image ID (legacy). */
  id: string;
  entry: { kind: 'oci'; descriptor: Descriptor } | { kind: 'legacy'; manifest: DockerManifestEntry };
}

export interface PreparedImage {
  source: ContentSource;
  root: Descriptor;
  /** Things the user should know (a rebuilt index, converted layers). */
  notes: string[];
}

function blobName(digest: string): string {
  const i = digest.indexOf(':');
  return `blobs/${digest.slice(0, i)}/${digest.slice(i + 1)}`;
}

/** Everything inside an archive, addressed by digest: layout blobs, archive members, local additions. */
class ArchiveContent implements ContentSource {
  readonly local = new LocalContent();
  readonly members = new Map<string, string>();

  constructor(private readonly files: ArchiveFiles) {}

  async open(desc: Descriptor, offset = 0): Promise<Readable> {
    if (this.local.has(desc.digest)) return this.local.open(desc, offset);
    return this.files.open(this.members.get(desc.digest) ?? blobName(desc.digest), offset);
  }

  async read(desc: Descriptor, limit = MAX_MANIFEST_BYTES): Promise<Buffer> {
    if (this.local.has(desc.digest)) return this.local.read(desc, limit);
    return verifyBytes(
      await readAll(await this.open(desc), limit, desc.digest),
      desc,
      `${this.files.label}: ${desc.digest}`,
    );
  }

  async present(desc: Descriptor): Promise<boolean> {
    if (this.local.has(desc.digest) || this.members.has(desc.digest)) return true;
    return (await this.files.size(blobName(desc.digest))) === desc.size;
  }
}

function sameName(a: string, b: string): boolean {
  if (a === b) return true;
  const norm = (s: string) => {
    try {
      return formatReference(parseReference(s));
    } catch {
      return undefined;
    }
  };
  const na = norm(a);
  return na !== undefined && na === norm(b);
}

export class ImageArchive {
  private readonly tempDirs: string[] = [];

  private constructor(
    readonly path: string,
    readonly format: ArchiveFormat,
    readonly images: ArchiveImage[],
    private readonly files: ArchiveFiles,
  ) {}

  /** Opens an archive or layout and lists its images. */
  static async open(file: string): Promise<ImageArchive> {
    const files = await openArchiveFiles(file);
    try {
      return await ImageArchive.read(file, files);
    } catch (e) {
      await files.close();
      throw e;
    }
  }

  private static async readJson<T>(files: ArchiveFiles, name: string): Promise<T> {
    try {
      return JSON.parse((await files.read(name, MAX_MANIFEST_BYTES * 4)).toString('utf8')) as T;
    } catch (e) {
      if (isClientError(e)) throw e;
      throw clientError('ARCHIVE_INVALID', {
        path: files.label,
        detail: `${name} is not valid JSON (${(e as Error).message})`,
      });
    }
  }

  private static async read(file: string, files: ArchiveFiles): Promise<ImageArchive> {
    const hasIndex = (await files.size('index.json')) !== undefined;
    const hasManifestJson = (await files.size('manifest.json')) !== undefined;
    if (hasIndex) {
      const index = await ImageArchive.readJson<{ manifests?: Descriptor[] | null }>(files, 'index.json');
      const byDigest = new Map<string, ArchiveImage>();
      for (const d of index.manifests ?? []) {
        if (!d || typeof d.digest !== 'string' || !isManifestType(d.mediaType ?? '')) continue;
        const names = [d.annotations?.[ANNOTATION_CONTAINERD_NAME], d.annotations?.[ANNOTATION_REF_NAME]].filter(
          (n): n is string => typeof n === 'string' && n !== '',
        );
        const seen = byDigest.get(d.digest);
        if (seen) {
          for (const n of names) if (!seen.names.includes(n)) seen.names.push(n);
          continue;
        }
        // The name annotations belong to the layout's index.json, not to what gets pushed.
        const descriptor: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
        byDigest.set(d.digest, { names, label: '', id: d.digest, entry: { kind: 'oci', descriptor } });
      }
      const images = [...byDigest.values()].map((i) => ({ ...i, label: i.names[0] ?? i.id }));
      if (images.length > 0)
        return new ImageArchive(file, hasManifestJson ? 'docker-save-oci' : 'oci-layout', images, files);
      if (!hasManifestJson)
        throw clientError('ARCHIVE_INVALID', { path: file, detail: 'its index.json lists no images' });
    }
    if (hasManifestJson) {
      const entries = await ImageArchive.readJson<DockerManifestEntry[] | null>(files, 'manifest.json');
      if (!Array.isArray(entries) || entries.length === 0)
        throw clientError('ARCHIVE_INVALID', { path: file, detail: 'its manifest.json lists no images' });
      const images = entries.map((m, i): ArchiveImage => {
        if (typeof m?.Config !== 'string' || !Array.isArray(m.Layers))
          throw clientError('ARCHIVE_INVALID', {
            path: file,
            detail: `manifest.json entry ${i} lacks Config or Layers`,
          });
        const id = `sha256:${path.posix.basename(m.Config).replace(/\.json$/, '')}`;
        const names = (m.RepoTags ?? []).filter((t) => typeof t === 'string');
        return { names, label: names[0] ?? id, id, entry: { kind: 'legacy', manifest: m } };
      });
      return new ImageArchive(file, hasIndex ? 'docker-save-oci' : 'docker-save-legacy', images, files);
    }
    if ((await files.size('repositories')) !== undefined) {
      throw clientError('ARCHIVE_INVALID', {
        path: file,
        detail:
          'it is a pre-Docker-1.10 save (a repositories file but no manifest.json), which current docker cannot load either',
      });
    }
    throw clientError('ARCHIVE_INVALID', {
      path: file,
      detail: 'it has neither index.json (OCI layout) nor manifest.json (docker save)',
    });
  }

  /** The image named `name` (a reference, a tag, or an ID/digest), or the only one. */
  select(name?: string): ArchiveImage {
    if (name === undefined) {
      if (this.images.length === 1) return this.images[0]!;
      throw clientError('ARCHIVE_AMBIGUOUS', { path: this.path, names: this.images.map((i) => i.label) });
    }
    const found = this.images.filter(
      (i) =>
        i.id === name ||
        (isDigestLike(name) && i.entry.kind === 'oci' && i.entry.descriptor.digest === name) ||
        i.names.some((n) => sameName(n, name)),
    );
    if (found.length === 1) return found[0]!;
    if (found.length > 1) throw clientError('ARCHIVE_AMBIGUOUS', { path: this.path, names: found.map((i) => i.label) });
    throw clientError('ARCHIVE_IMAGE_NOT_FOUND', { path: this.path, name, names: this.images.flatMap((i) => i.names) });
  }

  /** Makes an image pushable: content, root descriptor, and notes on what was changed. */
  async prepare(image: ArchiveImage, opts: { onProgress?: ProgressListener } = {}): Promise<PreparedImage> {
    const content = new ArchiveContent(this.files);
    if (image.entry.kind === 'oci') return this.prepareOci(content, image.entry.descriptor);
    return this.prepareLegacy(content, image.entry.manifest, emitter(opts.onProgress));
  }

  async close(): Promise<void> {
    await this.files.close();
    for (const d of this.tempDirs.splice(0)) await rm(d, { recursive: true, force: true });
  }

  // --- OCI -----------------------------------------------------------------------------

  /** True when the manifest and everything under it is in the archive. */
  private async complete(content: ArchiveContent, d: Descriptor): Promise<boolean> {
    if (!(await content.present(d))) return false;
    if (!isManifestType(d.mediaType)) return true;
    const children = manifestChildren(d, await content.read(d));
    for (const c of children) if (!(await this.complete(content, c))) return false;
    return true;
  }

  private async prepareOci(content: ArchiveContent, root: Descriptor): Promise<PreparedImage> {
    if (!(await content.present(root)))
      throw clientError('ARCHIVE_INVALID', {
        path: this.path,
        detail: `the manifest ${root.digest} its index.json names is missing or has the wrong size`,
      });
    const notes: string[] = [];
    const bytes = await content.read(root);
    if (isImageManifestType(root.mediaType) || !isIndexType(root.mediaType)) {
      for (const c of manifestChildren(root, bytes)) {
        if (!(await this.complete(content, c)))
          throw clientError('ARCHIVE_INVALID', {
            path: this.path,
            detail: `blob ${c.digest} (${c.mediaType}) of manifest ${root.digest} is missing`,
          });
      }
      return { source: content, root, notes };
    }
    const doc = JSON.parse(bytes.toString('utf8')) as {
      manifests: (Descriptor & { platform?: { os?: string; architecture?: string; variant?: string } })[];
    };
    const present: typeof doc.manifests = [];
    const missing: typeof doc.manifests = [];
    for (const m of doc.manifests) ((await this.complete(content, m)) ? present : missing).push(m);
    if (missing.length === 0) return { source: content, root, notes };
    if (present.length === 0)
      throw clientError('ARCHIVE_INVALID', {
        path: this.path,
        detail: `none of the ${doc.manifests.length} manifests of index ${root.digest} is complete in the archive`,
      });
    const platform = (m: (typeof present)[number]) =>
      [m.platform?.os, m.platform?.architecture, m.platform?.variant].filter(Boolean).join('/') ||
      m.digest.slice(0, 19);
    const rebuilt = Buffer.from(JSON.stringify({ ...doc, manifests: present }));
    const newRoot = content.local.addBytes(rebuilt, root.mediaType);
    notes.push(
      `the archive holds ${present.length} of the ${doc.manifests.length} manifests of index ${root.digest} (${present.map(platform).join(', ')}; missing: ${missing.map(platform).join(', ')}): pushed a new index of the ones present, ${newRoot.digest}`,
    );
    return { source: content, root: newRoot, notes };
  }

  // --- legacy docker save ---------------------------------------------------------------

  private async prepareLegacy(
    content: ArchiveContent,
    m: DockerManifestEntry,
    emit: ProgressListener,
  ): Promise<PreparedImage> {
    const configBytes = await this.files.read(m.Config, 16 * 1024 * 1024).catch((e: unknown) => {
      throw isClientError(e)
        ? e
        : clientError('ARCHIVE_INVALID', { path: this.path, detail: `cannot read the config ${m.Config}` });
    });
    let config: { rootfs?: { diff_ids?: string[] } };
    try {
      config = JSON.parse(configBytes.toString('utf8')) as typeof config;
    } catch {
      throw clientError('ARCHIVE_INVALID', { path: this.path, detail: `${m.Config} is not valid JSON` });
    }
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== m.Layers.length) {
      throw clientError('ARCHIVE_INVALID', {
        path: this.path,
        detail: `the config lists ${diffIds.length} layers (rootfs.diff_ids) but manifest.json ${m.Layers.length}`,
      });
    }
    const configDesc = content.local.addBytes(configBytes, MT.dockerConfig);
    const work = await mkdtemp(path.join(tmpdir(), 'stowage-layers-'));
    this.tempDirs.push(work);
    const layers: Descriptor[] = [];
    const done = new Map<string, Descriptor>();
    let converted = 0;
    for (const [i, member] of m.Layers.entries()) {
      const diffId = diffIds[i]!;
      const foreign = m.LayerSources?.[diffId];
      if (foreign && Array.isArray(foreign.urls) && foreign.urls.length > 0) {
        layers.push({
          mediaType: foreign.mediaType,
          digest: foreign.digest,
          size: foreign.size,
          urls: foreign.urls,
          ...(foreign.annotations ? { annotations: foreign.annotations } : {}),
        });
        continue;
      }
      const reused = done.get(diffId);
      if (reused) {
        layers.push(reused);
        continue;
      }
      const size = await this.files.size(member);
      if (size === undefined)
        throw clientError('ARCHIVE_INVALID', { path: this.path, detail: `layer ${member} is missing` });
      const desc = await this.gzipLayer(content, member, size, diffId, work, i, emit);
      converted++;
      done.set(diffId, desc);
      layers.push(desc);
    }
    const manifest = {
      schemaVersion: 2,
      mediaType: MT.dockerManifest,
      config: { mediaType: configDesc.mediaType, size: configDesc.size, digest: configDesc.digest },
      layers,
    };
    const root = content.local.addBytes(Buffer.from(JSON.stringify(manifest, null, 3)), MT.dockerManifest);
    const notes = converted
      ? [
          `converted the docker save image: ${converted} layer${converted === 1 ? '' : 's'} gzip-compressed, Docker schema 2 manifest ${root.digest}`,
        ]
      : [];
    return { source: content, root, notes };
  }

  /** Layer member → gzip file; checks the uncompressed digest against the config's diff_id. */
  private async gzipLayer(
    content: ArchiveContent,
    member: string,
    size: number,
    diffId: string,
    work: string,
    index: number,
    emit: ProgressListener,
  ): Promise<Descriptor> {
    const head = await readAll(Readable.from(await firstBytes(this.files.open(member), 8)), 8, member);
    const compression = head.length >= 6 ? sniffCompression(head) : 'none';
    const diffHash = createHash('sha256');
    const blobHash = createHash('sha256');
    let blobSize = 0;
    let read = 0;
    let lastEmit = 0;
    emit({ type: 'blob', action: 'prepare', state: 'start', digest: diffId, size, transferred: 0 });
    const progress = new Transform({
      transform(chunk: Buffer, _e, cb) {
        read += chunk.length;
        const now = Date.now();
        if (now - lastEmit > 100) {
          lastEmit = now;
          emit({ type: 'blob', action: 'prepare', state: 'progress', digest: diffId, size, transferred: read });
        }
        cb(null, chunk);
      },
    });
    const hashing = (h: ReturnType<typeof createHash>, count?: (n: number) => void) =>
      new Transform({
        transform(chunk: Buffer, _e, cb) {
          h.update(chunk);
          count?.(chunk.length);
          cb(null, chunk);
        },
      });
    let desc: Descriptor;
    if (compression === 'gzip') {
      // Already gzip: push the member as it is; only the diff_id needs the uncompressed bytes.
      const blob = hashing(blobHash, (n) => (blobSize += n));
      await pipeline(this.files.open(member), progress, blob, zlib.createGunzip(), hashing(diffHash), nullSink());
      desc = { mediaType: DOCKER_LAYER_GZIP, digest: `sha256:${blobHash.digest('hex')}`, size: blobSize };
      content.members.set(desc.digest, member);
    } else {
      const out = path.join(work, `layer-${index}.tar.gz`);
      const stages: NodeJS.ReadWriteStream[] = compression === 'none' ? [] : [decompressor(compression, this.path)];
      await pipeline(
        this.files.open(member),
        progress,
        ...stages,
        hashing(diffHash),
        zlib.createGzip({ level: 6 }),
        hashing(blobHash, (n) => (blobSize += n)),
        createWriteStream(out),
      );
      desc = { mediaType: DOCKER_LAYER_GZIP, digest: `sha256:${blobHash.digest('hex')}`, size: blobSize };
      content.local.addFile(desc.digest, out);
    }
    const actual = `sha256:${diffHash.digest('hex')}`;
    if (actual !== diffId) {
      throw clientError('ARCHIVE_INVALID', {
        path: this.path,
        detail: `layer ${member} has diff_id ${actual}, but the config expects ${diffId}`,
      });
    }
    emit({
      type: 'blob',
      action: 'prepare',
      state: 'done',
      digest: diffId,
      size,
      transferred: size,
      result: 'prepared',
    });
    return desc;
  }
}

async function firstBytes(stream: Readable, n: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let got = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    out.push(chunk.subarray(0, n - got));
    got += Math.min(chunk.length, n - got);
    if (got >= n) break;
  }
  stream.destroy();
  return out;
}

function nullSink(): Writable {
  return new Writable({ write: (_chunk, _encoding, cb) => cb() });
}
