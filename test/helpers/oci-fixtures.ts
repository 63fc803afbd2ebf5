/**
 * Offline test images: tar/gzip layers, OCI image layouts (single images,
 * multi-platform indexes, a huge random layer streamed to disk) and legacy
 * `docker save` archives — all generated with node builtins, no network.
 */
import { createHash, randomBytes, randomFillSync, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createGzip, gunzipSync, gzipSync } from 'node:zlib';
import { hostPlatform, type Platform } from '../../src/client/platform.js';

// The fixtures build for the platform the client picks by default.
export { hostPlatform, type Platform };

export const MediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerTar: 'application/vnd.oci.image.layer.v1.tar',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

// ---------------------------------------------------------------------------
// Digests

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function hexOf(digest: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!m?.[1]) throw new Error(`not a sha256 digest: ${digest}`);
  return m[1];
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), h);
  return `sha256:${h.digest('hex')}`;
}

// ---------------------------------------------------------------------------
// Tar (ustar) writer / reader

export interface TarEntry {
  path: string;
  type?: 'file' | 'dir' | 'symlink';
  data?: Buffer | string;
  mode?: number;
  linkname?: string;
  /** seconds since epoch; default 0 (like docker save / reproducible builds) */
  mtime?: number;
}

function writeString(buf: Buffer, s: string, offset: number, length: number): void {
  const b = Buffer.from(s, 'utf8');
  if (b.length > length) throw new Error(`tar field too long (${b.length} > ${length}): ${s}`);
  b.copy(buf, offset);
}

function writeOctal(buf: Buffer, n: number, offset: number, length: number): void {
  const s = n.toString(8).padStart(length - 1, '0');
  if (s.length > length - 1) throw new Error(`tar numeric field overflow: ${n}`);
  writeString(buf, `${s}\0`, offset, length);
}

/** A 512-byte ustar header. */
export function tarHeader(entry: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  const type = entry.type ?? 'file';
  let name = entry.path;
  if (type === 'dir' && !name.endsWith('/')) name += '/';
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 2);
    if (cut <= 0 || Buffer.byteLength(name.slice(0, cut)) > 155 || Buffer.byteLength(name.slice(cut + 1)) > 100) {
      throw new Error(`tar path too long for ustar: ${name}`);
    }
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
  }
  writeString(h, name, 0, 100);
  writeOctal(h, entry.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644), 100, 8);
  writeOctal(h, 0, 108, 8); // uid
  writeOctal(h, 0, 116, 8); // gid
  writeOctal(h, type === 'file' ? size : 0, 124, 12);
  writeOctal(h, entry.mtime ?? 0, 136, 12);
  h.fill(0x20, 148, 156); // checksum placeholder: spaces
  h.write(type === 'file' ? '0' : type === 'dir' ? '5' : '2', 156, 'ascii');
  if (entry.linkname) writeString(h, entry.linkname, 157, 100);
  writeString(h, 'ustar\0', 257, 6);
  writeString(h, '00', 263, 2);
  writeString(h, 'root', 265, 32);
  writeString(h, 'root', 297, 32);
  writeString(h, prefix, 345, 155);
  let sum = 0;
  for (const byte of h) sum += byte;
  writeString(h, `${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return h;
}

function padding(size: number): Buffer {
  const rem = size % 512;
  return Buffer.alloc(rem === 0 ? 0 : 512 - rem);
}

/** Builds a complete tar archive (with the two terminating zero blocks). */
export function createTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.type && e.type !== 'file' ? Buffer.alloc(0) : Buffer.from(e.data ?? '');
    parts.push(tarHeader(e, data.length), data, padding(data.length));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export interface TarMember {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';
  mode: number;
  linkname: string;
  data: Buffer;
}

function readString(buf: Buffer, offset: number, length: number): string {
  const slice = buf.subarray(offset, offset + length);
  const nul = slice.indexOf(0);
  return slice.subarray(0, nul === -1 ? length : nul).toString('utf8');
}

function readOctal(buf: Buffer, offset: number, length: number): number {
  const s = readString(buf, offset, length).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp === -1) break;
    const len = parseInt(data.subarray(i, sp).toString('ascii'), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const record = data.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}

/** Minimal tar reader (ustar + pax path/linkpath/size + GNU long names). */
export function readTar(buf: Buffer): TarMember[] {
  const members: TarMember[] = [];
  let off = 0;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const typeflag = String.fromCharCode(h[156] ?? 0x30);
    let size = readOctal(h, 124, 12);
    if (pax.size) size = parseInt(pax.size, 10);
    const data = buf.subarray(off + 512, off + 512 + size);
    off += 512 + size + ((512 - (size % 512)) % 512);
    if (typeflag === 'x') {
      pax = { ...pax, ...parsePax(data) };
      continue;
    }
    if (typeflag === 'g') continue;
    if (typeflag === 'L') {
      longName = data.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    if (typeflag === 'K') {
      longLink = data.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    const prefix = readString(h, 345, 155);
    let name = readString(h, 0, 100);
    if (prefix) name = `${prefix}/${name}`;
    name = pax.path ?? longName ?? name;
    const linkname = pax.linkpath ?? longLink ?? readString(h, 157, 100);
    const type: TarMember['type'] =
      typeflag === '0' || typeflag === '\0' || typeflag === '7'
        ? 'file'
        : typeflag === '5'
          ? 'dir'
          : typeflag === '2'
            ? 'symlink'
            : typeflag === '1'
              ? 'hardlink'
              : 'other';
    members.push({
      path: name.replace(/^\.\//, ''),
      type,
      mode: readOctal(h, 100, 8),
      linkname,
      data: Buffer.from(data),
    });
    pax = {};
    longName = undefined;
    longLink = undefined;
  }
  return members;
}

/** Regular files of a (possibly gzip-compressed) layer, path → content. */
export function layerFiles(blob: Buffer): Map<string, Buffer> {
  const tar = blob[0] === 0x1f && blob[1] === 0x8b ? gunzipSync(blob) : blob;
  const files = new Map<string, Buffer>();
  for (const m of readTar(tar)) if (m.type === 'file') files.set(m.path.replace(/^\/+/, ''), m.data);
  return files;
}

// ---------------------------------------------------------------------------
// Layers

export interface Layer {
  /** uncompressed tar; sha256 = diffId */
  tar: Buffer;
  /** the blob as stored in a registry (gzip unless uncompressed) */
  blob: Buffer;
  diffId: string;
  digest: string;
  size: number;
  mediaType: string;
  /** regular files in the layer, path → content */
  files: Map<string, Buffer>;
}

/**
 * Builds a layer from a map of file paths to contents; parent directories are
 * added automatically. gzipLevel 0 stores (no compression) but is still gzip.
 */
export function makeLayer(
  files: Record<string, Buffer | string>,
  opts: { gzipLevel?: number; uncompressed?: boolean } = {},
): Layer {
  const entries: TarEntry[] = [];
  const dirs = new Set<string>();
  const fileMap = new Map<string, Buffer>();
  for (const [p, content] of Object.entries(files)) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d)) {
        dirs.add(d);
        entries.push({ path: d, type: 'dir' });
      }
    }
    const data = Buffer.from(content);
    entries.push({ path: p, data, mode: p.endsWith('.sh') ? 0o755 : 0o644 });
    fileMap.set(p, data);
  }
  const tar = createTar(entries);
  const blob = opts.uncompressed ? tar : gzipSync(tar, { level: opts.gzipLevel ?? 6 });
  return {
    tar,
    blob,
    diffId: sha256(tar),
    digest: sha256(blob),
    size: blob.length,
    mediaType: opts.uncompressed ? MediaTypes.ociLayerTar : MediaTypes.ociLayerGzip,
    files: fileMap,
  };
}

/** A layer with a unique random payload plus a readable marker file. */
export function randomLayer(name: string, bytes = 4096): Layer {
  return makeLayer({
    [`${name}/marker.txt`]: `layer ${name} ${randomUUID()}\n`,
    [`${name}/random.bin`]: randomBytes(bytes),
  });
}

// ---------------------------------------------------------------------------
// Config / manifest / index JSON

export interface ConfigOptions {
  platform?: Platform;
  env?: string[];
  labels?: Record<string, string>;
  cmd?: string[];
}

export function makeConfig(diffIds: readonly string[], opts: ConfigOptions = {}): Buffer {
  const platform = opts.platform ?? hostPlatform();
  const created = '2024-01-01T00:00:00Z';
  const config: Record<string, unknown> = {
    created,
    architecture: platform.architecture,
    ...(platform.variant ? { variant: platform.variant } : {}),
    os: platform.os,
    config: {
      Env: opts.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: opts.cmd ?? ['/bin/sh'],
      Labels: opts.labels ?? { 'org.example.fixture': 'stowage-interop' },
    },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map((_, i) => ({ created, created_by: `stowage-interop layer ${i}` })),
  };
  return Buffer.from(JSON.stringify(config));
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  artifactType?: string;
}

export type JsonStyle = 'compact' | 'pretty';

function encodeJson(value: unknown, style: JsonStyle): Buffer {
  // 'pretty' uses 3-space indentation: byte-exact storage is what keeps digests stable.
  return Buffer.from(style === 'pretty' ? `${JSON.stringify(value, null, 3)}\n` : JSON.stringify(value));
}

export interface BuiltImage {
  manifest: Buffer;
  /** descriptor of the manifest, as an index/index.json would reference it */
  descriptor: Descriptor;
  digest: string;
  config: Buffer;
  configDigest: string;
  layers: Descriptor[];
  diffIds: string[];
  platform: Platform;
}

export interface BuiltIndex {
  index: Buffer;
  descriptor: Descriptor;
  digest: string;
  images: BuiltImage[];
}

export interface OciIndexJson {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface OciManifestJson {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

const REF_NAME = 'org.opencontainers.image.ref.name';

// ---------------------------------------------------------------------------
// OCI image layout

export class OciLayout {
  private constructor(readonly dir: string) {}

  /** Creates an empty layout (oci-layout + index.json) in dir. */
  static async create(dir: string): Promise<OciLayout> {
    await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(
      path.join(dir, 'index.json'),
      JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [] }),
    );
    return new OciLayout(dir);
  }

  /** Opens an existing layout (e.g. one written by skopeo or umoci). */
  static open(dir: string): OciLayout {
    return new OciLayout(dir);
  }

  /** skopeo/podman transport reference, e.g. `oci:/tmp/x:v1` */
  ref(tag: string): string {
    return `oci:${this.dir}:${tag}`;
  }

  blobPath(digest: string): string {
    return path.join(this.dir, 'blobs', 'sha256', hexOf(digest));
  }

  async putBlob(data: Buffer): Promise<{ digest: string; size: number }> {
    const digest = sha256(data);
    await writeFile(this.blobPath(digest), data);
    return { digest, size: data.length };
  }

  async readBlob(digest: string): Promise<Buffer> {
    const data = await readFile(this.blobPath(digest));
    const actual = sha256(data);
    if (actual !== digest) throw new Error(`blob ${digest} in ${this.dir} has content digest ${actual}`);
    return data;
  }

  async readJsonBlob<T>(digest: string): Promise<T> {
    return JSON.parse((await this.readBlob(digest)).toString('utf8')) as T;
  }

  async indexJson(): Promise<OciIndexJson> {
    return JSON.parse(await readFile(path.join(this.dir, 'index.json'), 'utf8')) as OciIndexJson;
  }

  /** Points `tag` at desc in index.json (replacing an existing entry with that name). */
  async tag(desc: Descriptor, tag: string): Promise<void> {
    const index = await this.indexJson();
    const entry: Descriptor = {
      mediaType: desc.mediaType,
      digest: desc.digest,
      size: desc.size,
      ...(desc.platform ? { platform: desc.platform } : {}),
      annotations: { ...(desc.annotations ?? {}), [REF_NAME]: tag },
    };
    index.manifests = [...(index.manifests ?? []).filter((d) => d.annotations?.[REF_NAME] !== tag), entry];
    await writeFile(path.join(this.dir, 'index.json'), JSON.stringify(index));
  }

  /** The index.json descriptor for a tag. */
  async resolve(tag: string): Promise<Descriptor> {
    const index = await this.indexJson();
    const found = (index.manifests ?? []).filter((d) => d.annotations?.[REF_NAME] === tag);
    if (found.length !== 1 || !found[0]) {
      throw new Error(`layout ${this.dir}: expected exactly one manifest tagged ${tag}, found ${found.length}`);
    }
    return found[0];
  }

  /** Writes layers, config and manifest; optionally tags the manifest. */
  async addImage(opts: {
    layers: readonly Layer[];
    config?: ConfigOptions;
    annotations?: Record<string, string>;
    tag?: string;
    style?: JsonStyle;
  }): Promise<BuiltImage> {
    const platform = opts.config?.platform ?? hostPlatform();
    const layerDescs: Descriptor[] = [];
    for (const l of opts.layers) {
      await this.putBlob(l.blob);
      layerDescs.push({ mediaType: l.mediaType, digest: l.digest, size: l.size });
    }
    return this.finishImage(
      layerDescs,
      opts.layers.map((l) => l.diffId),
      { ...opts, platform },
    );
  }

  private async finishImage(
    layers: Descriptor[],
    diffIds: string[],
    opts: {
      config?: ConfigOptions;
      annotations?: Record<string, string>;
      tag?: string;
      style?: JsonStyle;
      platform: Platform;
    },
  ): Promise<BuiltImage> {
    const config = makeConfig(diffIds, { ...opts.config, platform: opts.platform });
    const cfg = await this.putBlob(config);
    const manifestJson: OciManifestJson = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: { mediaType: MediaTypes.ociConfig, digest: cfg.digest, size: cfg.size },
      layers,
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    };
    const manifest = encodeJson(manifestJson, opts.style ?? 'compact');
    const m = await this.putBlob(manifest);
    const descriptor: Descriptor = {
      mediaType: MediaTypes.ociManifest,
      digest: m.digest,
      size: m.size,
      platform: opts.platform,
    };
    if (opts.tag) await this.tag({ mediaType: MediaTypes.ociManifest, digest: m.digest, size: m.size }, opts.tag);
    return {
      manifest,
      descriptor,
      digest: m.digest,
      config,
      configDigest: cfg.digest,
      layers,
      diffIds,
      platform: opts.platform,
    };
  }

  /** Writes an OCI index over already-added images; optionally tags it. */
  async addIndex(
    images: readonly BuiltImage[],
    opts: { tag?: string; annotations?: Record<string, string>; style?: JsonStyle } = {},
  ): Promise<BuiltIndex> {
    const indexJson: OciIndexJson = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociIndex,
      manifests: images.map((i) => ({
        mediaType: i.descriptor.mediaType,
        digest: i.digest,
        size: i.descriptor.size,
        platform: i.platform,
      })),
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    };
    const index = encodeJson(indexJson, opts.style ?? 'compact');
    const b = await this.putBlob(index);
    const descriptor: Descriptor = { mediaType: MediaTypes.ociIndex, digest: b.digest, size: b.size };
    if (opts.tag) await this.tag(descriptor, opts.tag);
    return { index, descriptor, digest: b.digest, images: [...images] };
  }

  /**
   * An image whose single layer is a tar holding one file of `bytes` random
   * (incompressible) bytes, stored as gzip level 0. Streamed to disk; never
   * held in memory.
   */
  async addLargeRandomImage(bytes: number, opts: { tag?: string; fileName?: string } = {}): Promise<BuiltImage> {
    const tmp = path.join(this.dir, 'blobs', `.tmp-${randomUUID()}`);
    const tarHash = createHash('sha256');
    const gzHash = createHash('sha256');
    let gzSize = 0;
    const fileName = opts.fileName ?? 'big/random.bin';
    async function* tarStream(): AsyncGenerator<Buffer> {
      const emit = (b: Buffer) => {
        tarHash.update(b);
        return b;
      };
      yield emit(tarHeader({ path: 'big', type: 'dir' }, 0));
      yield emit(tarHeader({ path: fileName, type: 'file' }, bytes));
      const chunk = 1 << 20;
      for (let left = bytes; left > 0; left -= chunk) {
        const b = Buffer.allocUnsafe(Math.min(chunk, left));
        randomFillSync(b);
        yield emit(b);
      }
      yield emit(padding(bytes));
      yield emit(Buffer.alloc(1024));
    }
    const hashGz = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        gzHash.update(chunk);
        gzSize += chunk.length;
        cb(null, chunk);
      },
    });
    await pipeline(
      Readable.from(tarStream()),
      createGzip({ level: zlibConstants.Z_NO_COMPRESSION, chunkSize: 1 << 20 }),
      hashGz,
      createWriteStream(tmp),
    );
    const digest = `sha256:${gzHash.digest('hex')}`;
    await rename(tmp, this.blobPath(digest));
    const diffId = `sha256:${tarHash.digest('hex')}`;
    return this.finishImage([{ mediaType: MediaTypes.ociLayerGzip, digest, size: gzSize }], [diffId], {
      tag: opts.tag,
      platform: hostPlatform(),
    });
  }

  /** Checks every blob file's content matches its name; returns the count. */
  async verifyBlobs(): Promise<number> {
    const dir = path.join(this.dir, 'blobs', 'sha256');
    let n = 0;
    for (const name of await readdir(dir)) {
      if (name.startsWith('.')) continue;
      const actual = await sha256File(path.join(dir, name));
      if (actual !== `sha256:${name}`) throw new Error(`corrupt blob in ${dir}: ${name} hashes to ${actual}`);
      n++;
    }
    return n;
  }
}

/** Convenience: a single-image layout with `layerCount` random layers, tagged. */
export async function createSimpleLayout(
  dir: string,
  opts: { tag?: string; layerCount?: number; platform?: Platform; style?: JsonStyle } = {},
): Promise<{ layout: OciLayout; image: BuiltImage; layers: Layer[] }> {
  const layout = await OciLayout.create(dir);
  const layers = Array.from({ length: opts.layerCount ?? 2 }, (_, i) => randomLayer(`l${i}`));
  const image = await layout.addImage({
    layers,
    tag: opts.tag ?? 'v1',
    style: opts.style,
    ...(opts.platform ? { config: { platform: opts.platform } } : {}),
  });
  return { layout, image, layers };
}

/** A multi-platform index (one image per platform, each with its own layers). */
export async function createMultiArchLayout(
  dir: string,
  platforms: readonly Platform[],
  opts: { tag?: string; style?: JsonStyle } = {},
): Promise<{ layout: OciLayout; index: BuiltIndex }> {
  const layout = await OciLayout.create(dir);
  const images: BuiltImage[] = [];
  for (const platform of platforms) {
    const id = [platform.os, platform.architecture, platform.variant].filter(Boolean).join('-');
    images.push(
      await layout.addImage({
        layers: [randomLayer(`${id}-base`), randomLayer(`${id}-app`)],
        config: { platform, labels: { platform: id } },
      }),
    );
  }
  const index = await layout.addIndex(images, {
    tag: opts.tag ?? 'multi',
    annotations: { 'org.opencontainers.image.description': 'stowage interop multi-arch fixture' },
    style: opts.style ?? 'pretty',
  });
  return { layout, index };
}

// ---------------------------------------------------------------------------
// Legacy `docker save` archives (Docker ≤ 24 format)

export interface DockerArchiveImage {
  config: Buffer;
  /** sha256 of the config = docker image ID */
  configDigest: string;
  diffIds: string[];
  layers: Layer[];
  repoTags: string[];
}

/**
 * Writes a `docker save`-style tar: manifest.json, repositories,
 * <config-hex>.json and <v1-id>/{VERSION,json,layer.tar} (uncompressed layers).
 */
export async function writeDockerArchive(
  file: string,
  opts: { layers: readonly Layer[]; repoTags: string[]; config?: ConfigOptions },
): Promise<DockerArchiveImage> {
  const diffIds = opts.layers.map((l) => l.diffId);
  const config = makeConfig(diffIds, opts.config);
  const configDigest = sha256(config);
  const entries: TarEntry[] = [];
  const layerPaths: string[] = [];
  let parent = '';
  for (const [i, layer] of opts.layers.entries()) {
    // Synthetic v1 ids, chained like docker does (not content digests).
    const v1Id = hexOf(sha256(`${parent} ${layer.diffId}`));
    entries.push({ path: v1Id, type: 'dir' });
    entries.push({ path: `${v1Id}/VERSION`, data: '1.0' });
    const v1Json: Record<string, unknown> = { id: v1Id, created: '2024-01-01T00:00:00Z', os: 'linux' };
    if (parent) v1Json.parent = parent;
    if (i === opts.layers.length - 1) v1Json.config = {};
    entries.push({ path: `${v1Id}/json`, data: JSON.stringify(v1Json) });
    entries.push({ path: `${v1Id}/layer.tar`, data: layer.tar });
    layerPaths.push(`${v1Id}/layer.tar`);
    parent = v1Id;
  }
  entries.push({ path: `${hexOf(configDigest)}.json`, data: config });
  entries.push({
    path: 'manifest.json',
    data: JSON.stringify([{ Config: `${hexOf(configDigest)}.json`, RepoTags: opts.repoTags, Layers: layerPaths }]),
  });
  const repositories: Record<string, Record<string, string>> = {};
  for (const rt of opts.repoTags) {
    const colon = rt.lastIndexOf(':');
    const repo = rt.slice(0, colon);
    repositories[repo] = { ...(repositories[repo] ?? {}), [rt.slice(colon + 1)]: parent };
  }
  entries.push({ path: 'repositories', data: JSON.stringify(repositories) });
  await writeFile(file, createTar(entries));
  return { config, configDigest, diffIds, layers: [...opts.layers], repoTags: opts.repoTags };
}

export interface ReadDockerArchive {
  manifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[];
  config: Buffer;
  configDigest: string;
  /** uncompressed layer tars in order (symlinks resolved) */
  layerTars: Buffer[];
}

/** Reads the first image of a docker-save archive (either writer: docker or skopeo). */
export async function readDockerArchive(file: string): Promise<ReadDockerArchive> {
  const members = readTar(await readFile(file));
  const byPath = new Map(members.map((m) => [m.path, m]));
  const get = (p: string, depth = 0): Buffer => {
    const m = byPath.get(p);
    if (!m) throw new Error(`${file}: member ${p} missing (have: ${[...byPath.keys()].join(', ')})`);
    if ((m.type === 'symlink' || m.type === 'hardlink') && depth < 8) {
      const target =
        m.type === 'symlink' ? path.posix.normalize(path.posix.join(path.posix.dirname(p), m.linkname)) : m.linkname;
      return get(target, depth + 1);
    }
    return m.data;
  };
  const manifest = JSON.parse(get('manifest.json').toString('utf8')) as ReadDockerArchive['manifest'];
  const first = manifest[0];
  if (!first) throw new Error(`${file}: empty manifest.json`);
  const config = get(first.Config);
  return { manifest, config, configDigest: sha256(config), layerTars: first.Layers.map((l) => get(l)) };
}

/** Removes a file or directory tree, ignoring absence. */
export async function removePath(p: string): Promise<void> {
  await rm(p, { recursive: true, force: true });
}
