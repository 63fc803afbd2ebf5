/**
 * Writing images to disk:
 *
 *   LayoutDir         an OCI image layout directory, filled blob by blob (verified
 *                     streams, temp file + rename): the staging area of a pull, and a
 *                     result of its own (`pullToLayout`).
 *   writeOciArchive   a tar of a layout, plus the docker-compatible manifest.json that
 *                     Docker ≥ 25 writes, so `docker load` (both image stores), `podman
 *                     load` and `skopeo … oci-archive:` all read it.
 *   writeDockerArchive the classic `docker save` shape (skopeo's docker-archive
 *                     layout): <config-hex>.json, <diff-id-hex>.tar uncompressed
 *                     layers, manifest.json and repositories.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MT } from '../../core/media-types.js';
import type { Descriptor } from '../content.js';
import type { ContentSink } from '../graph.js';
import { TarWriter, type TarHeader } from '../../gocompat/tar/writer.js';

export class LayoutDir implements ContentSink {
  private constructor(readonly dir: string) {}

  static async create(dir: string): Promise<LayoutDir> {
    await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
    return new LayoutDir(dir);
  }

  blobPath(digest: string): string {
    const i = digest.indexOf(':');
    return path.join(this.dir, 'blobs', digest.slice(0, i), digest.slice(i + 1));
  }

  async has(desc: Descriptor): Promise<boolean> {
    try {
      return (await stat(this.blobPath(desc.digest))).size === desc.size;
    } catch {
      return false;
    }
  }

  async writeBlob(desc: Descriptor, stream: Readable): Promise<void> {
    const target = this.blobPath(desc.digest);
    await mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${randomBytes(4).toString('hex')}.partial`;
    try {
      await pipeline(stream, createWriteStream(tmp));
      await rename(tmp, target);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async writeBytes(desc: Descriptor, bytes: Buffer): Promise<void> {
    const target = this.blobPath(desc.digest);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, bytes);
  }

  /** Writes `oci-layout` and an `index.json` listing `entries`. */
  async writeIndex(entries: Descriptor[]): Promise<void> {
    await writeFile(path.join(this.dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(
      path.join(this.dir, 'index.json'),
      JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: entries }),
    );
  }
}

/** One entry of docker's manifest.json. */
export interface DockerArchiveEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

function hex(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1);
}

function blobMember(digest: string): string {
  const i = digest.indexOf(':');
  return `blobs/${digest.slice(0, i)}/${digest.slice(i + 1)}`;
}

export interface OciArchiveContent {
  layout: LayoutDir;
  /** index.json entries (the root, with its name annotations). */
  index: Descriptor[];
  /** Every blob to include (manifests, configs, layers), each once. */
  blobs: Descriptor[];
  /** The image docker should load from manifest.json, when there is an image. */
  docker?: { config: Descriptor; layers: Descriptor[]; repoTags: string[] };
}

/** Members as docker save writes them: 0644 files, 0755 directories, mtime 0. */
function fileHeader(name: string, size?: number): TarHeader {
  return { name, type: 'file', mode: 0o644, mtime: 0, ...(size !== undefined ? { size } : {}) };
}

function dirHeader(name: string): TarHeader {
  return { name: `${name}/`, type: 'dir', mode: 0o755, mtime: 0 };
}

export async function writeOciArchive(out: Writable, c: OciArchiveContent): Promise<void> {
  const tar = new TarWriter(out);
  await tar.add(fileHeader('oci-layout'), Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  await tar.add(
    fileHeader('index.json'),
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: c.index })),
  );
  if (c.docker) {
    const entry: DockerArchiveEntry = {
      Config: blobMember(c.docker.config.digest),
      RepoTags: c.docker.repoTags,
      Layers: c.docker.layers.map((l) => blobMember(l.digest)),
    };
    await tar.add(fileHeader('manifest.json'), Buffer.from(JSON.stringify([entry])));
  }
  await tar.add(dirHeader('blobs'));
  const algorithms = [...new Set(c.blobs.map((b) => b.digest.slice(0, b.digest.indexOf(':'))))].sort();
  for (const alg of algorithms) await tar.add(dirHeader(`blobs/${alg}`));
  const seen = new Set<string>();
  for (const b of [...c.blobs].sort((x, y) => (x.digest < y.digest ? -1 : 1))) {
    if (seen.has(b.digest)) continue;
    seen.add(b.digest);
    await tar.add(
      fileHeader(blobMember(b.digest), b.size),
      createReadStream(c.layout.blobPath(b.digest), { highWaterMark: 1 << 20 }),
    );
  }
  await tar.finish();
}

export interface DockerArchiveContent {
  config: { bytes: Buffer; digest: string };
  /** Uncompressed layer files, base first, with their diff_ids. */
  layers: { diffId: string; file: string; size: number }[];
  /** Familiar names: "app:v1", "localhost:5000/team/app:v1". */
  repoTags: string[];
}

export async function writeDockerArchive(out: Writable, c: DockerArchiveContent): Promise<void> {
  const tar = new TarWriter(out);
  const configName = `${hex(c.config.digest)}.json`;
  await tar.add(fileHeader(configName), c.config.bytes);
  const written = new Set<string>();
  for (const l of c.layers) {
    const name = `${hex(l.diffId)}.tar`;
    if (written.has(name)) continue;
    written.add(name);
    await tar.add(fileHeader(name, l.size), createReadStream(l.file, { highWaterMark: 1 << 20 }));
  }
  const entry: DockerArchiveEntry = {
    Config: configName,
    RepoTags: c.repoTags,
    Layers: c.layers.map((l) => `${hex(l.diffId)}.tar`),
  };
  await tar.add(fileHeader('manifest.json'), Buffer.from(JSON.stringify([entry])));
  const top = c.layers.at(-1);
  if (top && c.repoTags.length > 0) {
    const repositories: Record<string, Record<string, string>> = {};
    for (const rt of c.repoTags) {
      const colon = rt.lastIndexOf(':');
      if (colon <= rt.lastIndexOf('/')) continue;
      const repo = rt.slice(0, colon);
      repositories[repo] = { ...(repositories[repo] ?? {}), [rt.slice(colon + 1)]: hex(top.diffId) };
    }
    await tar.add(fileHeader('repositories'), Buffer.from(JSON.stringify(repositories)));
  }
  await tar.finish();
}
