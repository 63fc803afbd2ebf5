/**
 * What is inside an artifact (docs/api.md): a layer's file tree, one file of it, and
 * the manifest's referrers with their signature verification. The route's `pull`
 * access is checked before these run; the manifest's content passes the same pull
 * check as `/v2/` (require_signatures) before any of it is read.
 */
import { RegistryError } from '../../core/errors.js';
import { isIndexType } from '../../core/media-types.js';
import type { ManifestRecord } from '../../storage/metadata-store.js';
import type { ApiContext, ApiHandler } from '../api-context.js';
import { sendApiJson } from '../api-errors.js';
import { findManifest } from './manifest.js';
import { listLayerFiles, readLayerFile } from '../content/layer-files.js';
import { NO_SIGNATURE_KEYS, manifestReferrers } from '../content/referrers.js';

/** Longest `path` query accepted (tar names are rarely past a few hundred bytes). */
const MAX_PATH = 4096;

interface LayerDescriptor {
  mediaType: string;
  digest: string;
  size: number;
}

/** The layer the files endpoints read: the one asked for (it must be the manifest's), else the first tarball. */
function chooseLayer(m: ManifestRecord, wanted: string | null): LayerDescriptor {
  if (isIndexType(m.mediaType))
    throw new RegistryError('BAD_REQUEST', 'an index has no files: open one of its manifests');
  const doc = JSON.parse(m.content.toString('utf8')) as { layers?: LayerDescriptor[] };
  const layers = Array.isArray(doc.layers) ? doc.layers : [];
  if (wanted) {
    const layer = layers.find((l) => l.digest === wanted);
    if (!layer) throw new RegistryError('NOT_FOUND', `${wanted.slice(0, 100)} is not a layer of ${m.digest}`);
    return layer;
  }
  const layer = layers.find((l) => typeof l.mediaType === 'string' && /tar/.test(l.mediaType));
  if (!layer) throw new RegistryError('NOT_FOUND', `${m.digest} has no tar layer`);
  return layer;
}

async function contentLayer(ctx: ApiContext): Promise<{ name: string; layer: LayerDescriptor }> {
  const name = ctx.params.name!;
  const m = await findManifest(ctx, name, ctx.params.ref!);
  await ctx.registry.assertPullable(name, m);
  return { name, layer: chooseLayer(m, ctx.query.get('layer')) };
}

/** `GET …/-/manifests/<ref>/files?layer=`: the layer's entries (≤ 10,000, streamed). */
export const listFiles: ApiHandler = async (ctx) => {
  const { name, layer } = await contentLayer(ctx);
  const listing = await listLayerFiles(await ctx.registry.readBlob(name, layer.digest));
  sendApiJson(ctx.res, 200, { layer: layer.digest, ...listing });
};

/** `GET …/-/manifests/<ref>/file?path=&layer=`: one file's text (≤ 1 MiB), or that it is binary. */
export const showFile: ApiHandler = async (ctx) => {
  const path = ctx.query.get('path');
  if (!path || path.length > MAX_PATH) throw new RegistryError('BAD_REQUEST', `path must be 1 to ${MAX_PATH} bytes`);
  const { name, layer } = await contentLayer(ctx);
  const view = await readLayerFile(await ctx.registry.readBlob(name, layer.digest), path);
  sendApiJson(ctx.res, 200, { layer: layer.digest, ...view });
};

/** `GET …/-/manifests/<ref>/referrers`: signatures, SBOMs, attestations and other referrers, signatures verified. */
export const listReferrers: ApiHandler = async (ctx) => {
  const name = ctx.params.name!;
  const m = await findManifest(ctx, name, ctx.params.ref!);
  const items = await manifestReferrers(ctx.registry, name, m.digest, ctx.options.signatureKeys ?? NO_SIGNATURE_KEYS);
  sendApiJson(ctx.res, 200, { items });
};
