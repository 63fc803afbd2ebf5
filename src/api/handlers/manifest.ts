import { artifactKind, formatPlatform, type ArtifactKind } from '../../core/artifact-kind.js';
import { parseDigest } from '../../core/digest.js';
import { RegistryError } from '../../core/errors.js';
import { MT, isImageManifestType, isIndexType } from '../../core/media-types.js';
import { isValidTag } from '../../core/names.js';
import type { ManifestRecord } from '../../storage/metadata-store.js';
import type { ApiContext, ApiHandler } from '../api-context.js';
import { sendApiJson } from '../api-errors.js';
import { time } from '../paging.js';
import { artifactContent } from '../content/artifact-content.js';
import { readSmallBlob } from '../content/small-blob.js';

/** Largest config blob read (shown, or parsed for the image part). */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** Children of an index looked up for their kind at most. */
const MAX_INDEX_CHILDREN = 256;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The manifest a tag or digest names, read without counting as a pull (retention's `pulled_within` is for clients). */
export async function findManifest(ctx: ApiContext, name: string, ref: string): Promise<ManifestRecord> {
  const meta = ctx.registry.meta;
  let digest: string;
  if (ref.includes(':')) {
    try {
      digest = parseDigest(ref).value;
    } catch {
      throw new RegistryError('BAD_REQUEST', 'not a valid digest');
    }
  } else {
    if (!isValidTag(ref)) throw new RegistryError('BAD_REQUEST', 'not a valid tag or digest');
    const found = await meta.resolveTag(name, ref);
    if (!found) throw new RegistryError('MANIFEST_UNKNOWN', `${name} has no tag ${ref}`);
    digest = found;
  }
  const m = await meta.getManifest(name, digest);
  if (!m) throw new RegistryError('MANIFEST_UNKNOWN', `${name} has no manifest ${digest}`);
  return m;
}

function descriptors(v: unknown): Json[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown) => (typeof v === 'string' ? v : null);

/**
 * `GET …/<name>/-/manifests/<tag|digest>`: the manifest, its parts, and for images
 * the config's fields and history, for indexes each platform's manifest.
 */
export const manifestDetails: ApiHandler = async (ctx) => {
  const name = ctx.params.name!;
  const m = await findManifest(ctx, name, ctx.params.ref!);
  const meta = ctx.registry.meta;
  let doc: Json;
  try {
    const parsed: unknown = JSON.parse(m.content.toString('utf8'));
    doc = isObject(parsed) ? parsed : {};
  } catch {
    doc = {};
  }
  const kind = artifactKind(m.content, m.mediaType);
  const config = isObject(doc.config) ? doc.config : undefined;
  const layers = descriptors(doc.layers);
  const inventory = await meta.repositoryInventory(name);
  const tags = inventory.tags.filter((t) => t.digest === m.digest).map((t) => t.name);
  let size = m.size + (config ? num(config.size) : 0);
  for (const l of layers) size += num(l.size);

  let image: Json | undefined;
  if (
    isImageManifestType(m.mediaType) &&
    config &&
    (config.mediaType === MT.ociConfig || config.mediaType === MT.dockerConfig)
  ) {
    image = await imagePart(ctx, name, String(config.digest));
  }
  let index: Json | undefined;
  if (isIndexType(m.mediaType)) {
    const children = descriptors(doc.manifests);
    const entries = [];
    for (const [i, c] of children.entries()) {
      const digest = String(c.digest);
      const child = i < MAX_INDEX_CHILDREN ? await meta.getManifest(name, digest) : undefined;
      let childKind: ArtifactKind | null = child ? artifactKind(child.content, child.mediaType) : null;
      // BuildKit marks its attestation manifests on the index entry.
      const ann = isObject(c.annotations) ? c.annotations : {};
      if (ann['vnd.docker.reference.type'] === 'attestation-manifest' && childKind === 'image')
        childKind = 'attestation';
      entries.push({
        digest,
        mediaType: str(c.mediaType),
        size: num(c.size),
        platform: formatPlatform(c.platform) ?? null,
        kind: childKind,
      });
      size += num(c.size);
    }
    index = { manifests: entries };
  }
  const referrers = await meta.referrers(name, m.digest);
  sendApiJson(ctx.res, 200, {
    digest: m.digest,
    mediaType: m.mediaType,
    artifactType: m.artifactType ?? null,
    kind,
    size,
    tags,
    pushed: time(m.createdAt),
    subject: m.subject ?? null,
    annotations: m.annotations ?? {},
    manifest: doc,
    config: config ? { digest: str(config.digest), mediaType: str(config.mediaType), size: num(config.size) } : null,
    layers: layers.map((l) => ({
      digest: str(l.digest),
      mediaType: str(l.mediaType),
      size: num(l.size),
      ...(isObject(l.annotations) ? { annotations: l.annotations } : {}),
    })),
    referrers: referrers.length,
    ...(image ? { image } : {}),
    ...(index ? { index } : {}),
    ...(await artifactContent(ctx.registry, name, m, kind)),
  });
};

/** An image config's fields people look for (OCI image spec `config`, `history`). */
async function imagePart(ctx: ApiContext, name: string, digest: string): Promise<Json | undefined> {
  let cfg: unknown;
  try {
    cfg = JSON.parse((await readSmallBlob(ctx.registry, name, { digest }, MAX_CONFIG_BYTES)).toString('utf8'));
  } catch (e) {
    // A config too large, missing or not JSON: the rest of the manifest is still worth showing.
    if (e instanceof RegistryError || e instanceof SyntaxError) return undefined;
    throw e;
  }
  if (!isObject(cfg)) return undefined;
  const c = isObject(cfg.config) ? cfg.config : {};
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : null);
  return {
    platform: formatPlatform(cfg) ?? null,
    entrypoint: strings(c.Entrypoint),
    cmd: strings(c.Cmd),
    env: strings(c.Env),
    labels: isObject(c.Labels) ? c.Labels : {},
    exposedPorts: isObject(c.ExposedPorts) ? Object.keys(c.ExposedPorts) : [],
    workingDir: str(c.WorkingDir),
    user: str(c.User),
    history: descriptors(cfg.history).map((h) => ({
      created: str(h.created),
      createdBy: str(h.created_by),
      emptyLayer: h.empty_layer === true,
      comment: str(h.comment),
    })),
  };
}

/** `GET …/<name>/-/manifests/<digest>/config`: the config blob as JSON (1 MiB at most). */
export const manifestConfig: ApiHandler = async (ctx) => {
  const name = ctx.params.name!;
  const m = await findManifest(ctx, name, ctx.params.ref!);
  let config: unknown;
  try {
    const doc: unknown = JSON.parse(m.content.toString('utf8'));
    config = isObject(doc) ? doc.config : undefined;
  } catch {
    config = undefined;
  }
  if (!isObject(config) || typeof config.digest !== 'string')
    throw new RegistryError('NOT_FOUND', 'this manifest has no config');
  const bytes = await readSmallBlob(ctx.registry, name, { digest: config.digest }, MAX_CONFIG_BYTES);
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new RegistryError('BAD_REQUEST', 'the config blob is not JSON');
  }
  sendApiJson(ctx.res, 200, body);
};
