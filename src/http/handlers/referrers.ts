import { MT } from '../../core/media-types.js';
import type { Handler } from '../context.js';
import { sendJson } from '../respond.js';

/** `GET /v2/<name>/referrers/<digest>`: always 200 with an OCI index, even when empty. */
export const listReferrers: Handler = async (ctx) => {
  const artifactType = ctx.query.get('artifactType') ?? undefined;
  const manifests = await ctx.registry.referrers(ctx.params.name!, ctx.params.ref!, artifactType || undefined);
  const headers: Record<string, string> = {};
  if (artifactType) headers['OCI-Filters-Applied'] = 'artifactType';
  sendJson(ctx.res, 200, { schemaVersion: 2, mediaType: MT.ociIndex, manifests }, MT.ociIndex, headers);
};
