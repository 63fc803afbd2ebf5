/**
 * Flux OCI artifacts against any registry — what `flux push|pull|list|tag|diff
 * artifact` do, with the bytes flux writes (src/flux): a manifest with the flux
 * config and one gzipped tarball layer, annotated with source, revision and
 * creation time. Pulls take layer 0 whatever its type (as flux does), so artifacts
 * pushed by flux, oras or crane pull the same way.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MT, isImageManifestType } from '../../core/media-types.js';
import {
  ANNOTATION_CREATED,
  ANNOTATION_REVISION,
  ANNOTATION_SOURCE,
  FLUX_CONFIG_MEDIA_TYPE,
  FLUX_CONTENT_MEDIA_TYPE,
  REPRODUCIBLE_CREATED,
  AnnotationError,
  fluxAnnotations,
  fluxConfigBytes,
  fluxManifestBytes,
  isCosignTag,
  parseTagVersion,
  sortTagsDescending,
} from '../../flux/artifact.js';
import { BuildError, buildArtifact, collectEntries, streamArtifact, type ArchiveEntry } from '../../flux/build.js';
import { SemverError, parseConstraint, type Constraint } from '../../gocompat/semver.js';
import { TarError, extractTar, tarContents, type ContentEntry, type ExtractResult } from '../../flux/untar.js';
import type { RegistryClient, Repository } from '../client.js';
import { LocalContent, type Descriptor } from '../content.js';
import { clientError, isClientError } from '../errors.js';
import { pushGraph, type PushStats } from '../graph.js';
import { limiter } from '../limit.js';
import { formatReference, manifestRef, type Reference } from '../reference.js';
import { layerFileName } from './artifact.js';
import { tag as tagManifest } from './copy.js';

export interface FluxPushOptions {
  /** A directory or a single file. */
  path: string;
  source: string;
  revision: string;
  /** Extra manifest annotations (they may override the three above). */
  annotations?: Record<string, string>;
  /** Ignore patterns; default flux's defaults. */
  ignorePaths?: readonly string[];
  /** Pin the created annotation to the epoch, so identical trees give identical digests. */
  reproducible?: boolean;
  now?: Date;
}

export interface FluxPushResult {
  /** oci://host/repo@sha256:… (flux's JSON `url`). */
  url: string;
  repository: string;
  tag?: string;
  digest: string;
  reference: string;
  manifest: Buffer;
  config: Descriptor;
  layer: Descriptor;
  annotations: Record<string, string>;
  entries: number;
  stats: PushStats;
}

function buildFailure(e: unknown): never {
  if (e instanceof BuildError)
    throw clientError('INVALID_ARGUMENT', { message: e.message, ...(e.hint ? { hint: e.hint } : {}) });
  throw e;
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'stowage-flux-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `flux push artifact`: builds the tarball, pushes config, layer and manifest, tags it. */
export async function pushFluxArtifact(
  client: RegistryClient,
  ref: Reference,
  opts: FluxPushOptions,
): Promise<FluxPushResult> {
  if (!opts.source)
    throw clientError('INVALID_ARGUMENT', {
      message: '--source is required',
      hint: 'the source address, e.g. --source="$(git config --get remote.origin.url)"',
    });
  if (!opts.revision)
    throw clientError('INVALID_ARGUMENT', {
      message: '--revision is required',
      hint: 'e.g. --revision="$(git branch --show-current)@sha1:$(git rev-parse HEAD)"',
    });
  let annotations: Record<string, string>;
  try {
    annotations = fluxAnnotations(
      {
        source: opts.source,
        revision: opts.revision,
        ...(opts.reproducible ? { created: REPRODUCIBLE_CREATED } : {}),
        ...(opts.annotations ? { annotations: opts.annotations } : {}),
      },
      opts.now,
    );
  } catch (e) {
    if (e instanceof AnnotationError) throw clientError('INVALID_ARGUMENT', { message: e.message });
    throw e;
  }
  return withTempDir(async (dir) => {
    const file = path.join(dir, 'artifact.tgz');
    const built = await buildArtifact(opts.path, file, opts.ignorePaths ? { ignorePaths: opts.ignorePaths } : {}).catch(
      buildFailure,
    );
    const content = new LocalContent();
    const config = content.addBytes(fluxConfigBytes(built.diffId), FLUX_CONFIG_MEDIA_TYPE);
    const layer: Descriptor = { mediaType: FLUX_CONTENT_MEDIA_TYPE, size: built.size, digest: built.digest };
    content.addFile(layer.digest, file);
    const manifest = fluxManifestBytes(config, layer, annotations);
    const root = content.addBytes(manifest, MT.ociManifest);
    if (ref.digest && ref.digest !== root.digest)
      throw clientError('DIGEST_REFERENCE_MISMATCH', { reference: formatReference(ref), actual: root.digest });
    const repo = client.repository(ref);
    const pushed = await pushGraph(content, repo, root, { tags: ref.tag ? [ref.tag] : [] });
    const repository = `${ref.registry}/${ref.repository}`;
    return {
      url: `oci://${repository}@${root.digest}`,
      repository,
      ...(ref.tag ? { tag: ref.tag } : {}),
      digest: root.digest,
      reference: formatReference({ ...ref, digest: root.digest }),
      manifest,
      config: { mediaType: config.mediaType, size: config.size, digest: config.digest },
      layer,
      annotations,
      entries: built.entries.length,
      stats: pushed.stats,
    };
  });
}

export interface FluxBuildResult {
  file: string;
  digest: string;
  size: number;
  diffId: string;
  entries: number;
}

/** `flux build artifact`: the tarball only. */
export async function buildFluxArtifact(opts: {
  path: string;
  output: string;
  ignorePaths?: readonly string[];
}): Promise<FluxBuildResult> {
  try {
    const b = await buildArtifact(opts.path, opts.output, opts.ignorePaths ? { ignorePaths: opts.ignorePaths } : {});
    return { file: opts.output, digest: b.digest, size: b.size, diffId: b.diffId, entries: b.entries.length };
  } catch (e) {
    if (e instanceof BuildError) buildFailure(e);
    const err = e as NodeJS.ErrnoException;
    if (err.code && err.syscall) throw clientError('OUTPUT_FAILED', { path: opts.output, detail: err.message });
    throw e;
  }
}

interface FetchedFlux {
  repo: Repository;
  descriptor: Descriptor;
  manifest: { config?: Descriptor; layers?: Descriptor[]; annotations?: Record<string, string> };
  layer: Descriptor;
}

async function fetchFlux(client: RegistryClient, ref: Reference): Promise<FetchedFlux> {
  const repo = client.repository(ref);
  const { descriptor, bytes } = await repo.fetchManifest(manifestRef(ref));
  const label = formatReference(ref);
  if (!isImageManifestType(descriptor.mediaType)) {
    throw clientError('ARTIFACT_INVALID', {
      reference: label,
      detail: `it is a ${descriptor.mediaType}, not an artifact manifest`,
      hint: 'flux artifacts are single OCI manifests; give the reference of one (not of an index)',
    });
  }
  const manifest = JSON.parse(bytes.toString('utf8')) as FetchedFlux['manifest'];
  const layer = manifest.layers?.[0];
  if (!layer) throw clientError('ARTIFACT_INVALID', { reference: label, detail: 'no layers found in artifact' });
  return { repo, descriptor, manifest, layer };
}

/** The blob as a stream, with its first bytes already read (to sniff gzip). */
async function peekStream(stream: Readable): Promise<{ head: Buffer; stream: Readable }> {
  const it = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const first = await it.next();
  const head = first.done ? Buffer.alloc(0) : first.value;
  async function* rest() {
    if (head.length) yield head;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value;
    }
  }
  return { head, stream: Readable.from(rest()) };
}

export interface FluxPullResult {
  reference: string;
  digest: string;
  source?: string;
  revision?: string;
  created?: string;
  annotations: Record<string, string>;
  layer: Descriptor;
  output: string;
  /** extracted: untarred into the directory; file: a non-gzip layer written as is. */
  mode: 'extracted' | 'file';
  file?: string;
  files: number;
  dirs: number;
  bytes: number;
  skippedSymlinks: string[];
}

/** `flux pull artifact`: layer 0, untarred safely into `outDir` (or written as is when it is not gzip). */
export async function pullFluxArtifact(
  client: RegistryClient,
  ref: Reference,
  outDir: string,
): Promise<FluxPullResult> {
  const f = await fetchFlux(client, ref);
  const label = formatReference({ ...ref, digest: f.descriptor.digest });
  const ann = f.manifest.annotations ?? {};
  const { head, stream } = await peekStream(f.repo.fetchBlob(f.layer));
  const base = {
    reference: label,
    digest: f.descriptor.digest,
    ...(ann[ANNOTATION_SOURCE] !== undefined ? { source: ann[ANNOTATION_SOURCE] } : {}),
    ...(ann[ANNOTATION_REVISION] !== undefined ? { revision: ann[ANNOTATION_REVISION] } : {}),
    ...(ann[ANNOTATION_CREATED] !== undefined ? { created: ann[ANNOTATION_CREATED] } : {}),
    annotations: ann,
    layer: { mediaType: f.layer.mediaType, size: f.layer.size, digest: f.layer.digest },
    output: outDir,
  };
  if (!(head[0] === 0x1f && head[1] === 0x8b)) {
    await mkdir(outDir, { recursive: true });
    const file = path.join(outDir, layerFileName(f.layer));
    await pipeline(stream, createWriteStream(file)).catch((e: NodeJS.ErrnoException) => {
      if (e.syscall) throw clientError('OUTPUT_FAILED', { path: file, detail: e.message });
      throw e;
    });
    return { ...base, mode: 'file', file, files: 1, dirs: 0, bytes: f.layer.size, skippedSymlinks: [] };
  }
  let r: ExtractResult;
  try {
    r = await extractTar(stream, outDir);
  } catch (e) {
    if (e instanceof TarError)
      throw clientError('ARTIFACT_INVALID', {
        reference: label,
        detail: e.message,
        hint: 'nothing outside the output directory was touched; the artifact itself is damaged or unsafe',
      });
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'Z_DATA_ERROR' || err.code === 'Z_BUF_ERROR')
      throw clientError('ARTIFACT_INVALID', { reference: label, detail: `layer 0 is not valid gzip: ${err.message}` });
    if (err.syscall && !isClientError(e)) throw clientError('OUTPUT_FAILED', { path: outDir, detail: err.message });
    throw e;
  }
  return { ...base, mode: 'extracted', ...r };
}

export interface FluxListEntry {
  /** host/repo:tag (flux's ARTIFACT column and JSON `url`). */
  url: string;
  tag: string;
  digest: string;
  source_url?: string;
  source_revision?: string;
  created?: string;
}

/** `flux list artifacts`: tags (descending as strings, cosign tags left out, filtered) with digest and metadata. */
export async function listFluxArtifacts(
  client: RegistryClient,
  ref: Reference,
  opts: { semver?: string; regex?: string; concurrency?: number } = {},
): Promise<FluxListEntry[]> {
  let constraint: Constraint | undefined;
  if (opts.semver) {
    try {
      constraint = parseConstraint(opts.semver);
    } catch (e) {
      if (e instanceof SemverError)
        throw clientError('INVALID_ARGUMENT', {
          message: `semver '${opts.semver}' parse error: ${e.message}`,
          hint: 'write a constraint such as ">=1.0.0 <2.0.0", "~1.2" or "^1"',
        });
      throw e;
    }
  }
  let re: RegExp | undefined;
  if (opts.regex) {
    try {
      re = new RegExp(opts.regex, 'u');
    } catch (e) {
      throw clientError('INVALID_ARGUMENT', { message: `regex '${opts.regex}' parse error: ${(e as Error).message}` });
    }
  }
  const repo = client.repository(ref);
  const tags = sortTagsDescending(await repo.tags()).filter((t) => {
    if (isCosignTag(t)) return false;
    if (constraint) {
      const v = parseTagVersion(t);
      if (!v || !constraint.check(v)) return false;
    }
    return !re || re.test(t);
  });
  const limit = limiter(opts.concurrency ?? 4);
  return Promise.all(
    tags.map((t) =>
      limit(async () => {
        const { descriptor, bytes } = await repo.fetchManifest(t);
        let ann: Record<string, string> = {};
        try {
          ann = (JSON.parse(bytes.toString('utf8')) as { annotations?: Record<string, string> }).annotations ?? {};
        } catch {
          /* not JSON: no metadata */
        }
        return {
          url: `${ref.registry}/${ref.repository}:${t}`,
          tag: t,
          digest: descriptor.digest,
          ...(ann[ANNOTATION_SOURCE] !== undefined ? { source_url: ann[ANNOTATION_SOURCE] } : {}),
          ...(ann[ANNOTATION_REVISION] !== undefined ? { source_revision: ann[ANNOTATION_REVISION] } : {}),
          ...(ann[ANNOTATION_CREATED] !== undefined ? { created: ann[ANNOTATION_CREATED] } : {}),
        };
      }),
    ),
  );
}

/** `flux tag artifact`: the same manifest bytes under each new tag. */
export async function tagFluxArtifact(
  client: RegistryClient,
  ref: Reference,
  tags: readonly string[],
): Promise<{ source: string; digest: string; tagged: string[] }> {
  const tagged: string[] = [];
  let digest = '';
  for (const t of tags) {
    const r = await tagManifest(client, ref, t);
    digest = r.digest;
    tagged.push(r.reference);
  }
  return { source: formatReference(ref), digest, tagged };
}

export interface FluxDiffResult {
  reference: string;
  digest: string;
  /** Same file names (and directories) with the same bytes. */
  identical: boolean;
  /** The local build's gzip is byte-identical to the remote layer (what flux's own diff checks). */
  sameLayer: boolean;
  localLayer: string;
  remoteLayer: string;
  /** Only here (local). */
  added: string[];
  /** Only in the artifact. */
  removed: string[];
  /** Both, different bytes (or file vs directory). */
  modified: string[];
  /** Same bytes, different permission bits (not counted as a difference). */
  modeChanged: string[];
}

const nullSink = () => new Writable({ write: (_c, _e, cb) => cb() });

async function localContents(entries: ArchiveEntry[]): Promise<Map<string, ContentEntry>> {
  const out = new Map<string, ContentEntry>();
  for (const e of entries) {
    const name = e.name === '.' ? '' : e.name;
    if (e.type === 'dir') {
      out.set(name, { type: 'dir', mode: e.mode, size: 0 });
      continue;
    }
    const h = createHash('sha256');
    await pipeline(createReadStream(e.source!), h);
    out.set(name, { type: 'file', mode: e.mode, size: e.size, sha256: h.digest('hex') });
  }
  return out;
}

/** Compares the contents of `dir` (built with the ignore rules) with layer 0 of the artifact. */
export async function diffFluxArtifact(
  client: RegistryClient,
  ref: Reference,
  opts: { path: string; ignorePaths?: readonly string[] },
): Promise<FluxDiffResult> {
  const entries = await collectEntries(opts.path, opts.ignorePaths ? { ignorePaths: opts.ignorePaths } : {}).catch(
    buildFailure,
  );
  const local = await streamArtifact(entries, nullSink());
  const f = await fetchFlux(client, ref);
  const label = formatReference({ ...ref, digest: f.descriptor.digest });
  let remote: Map<string, ContentEntry>;
  try {
    remote = await tarContents(f.repo.fetchBlob(f.layer));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (e instanceof TarError || code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR')
      throw clientError('ARTIFACT_INVALID', {
        reference: label,
        detail: `layer 0 is not a gzipped tarball: ${(e as Error).message}`,
      });
    throw e;
  }
  const mine = await localContents(entries);
  const added: string[] = [];
  const removed: string[] = [];
  const modified: string[] = [];
  const modeChanged: string[] = [];
  const show = (name: string, e: ContentEntry) => (e.type === 'dir' ? `${name}/` : name);
  for (const [name, e] of mine) {
    if (name === '') continue;
    const r = remote.get(name);
    if (!r) added.push(show(name, e));
    else if (r.type !== e.type || (e.type === 'file' && r.sha256 !== e.sha256)) modified.push(show(name, e));
    else if (r.mode !== e.mode) modeChanged.push(show(name, e));
  }
  for (const [name, r] of remote) if (name !== '' && !mine.has(name)) removed.push(show(name, r));
  const sort = (a: string[]) => a.sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  return {
    reference: label,
    digest: f.descriptor.digest,
    identical: added.length + removed.length + modified.length === 0,
    sameLayer: local.digest === f.layer.digest,
    localLayer: local.digest,
    remoteLayer: f.layer.digest,
    added: sort(added),
    removed: sort(removed),
    modified: sort(modified),
    modeChanged: sort(modeChanged),
  };
}
