import { actorOf } from '../actor.js';
import { acceptedTypes } from '../../core/negotiation.js';
import type { Handler } from '../context.js';
import { sendEmpty } from '../respond.js';
import { readLimitedBody } from '../request-body.js';

/** `GET`/`HEAD /v2/<name>/manifests/<ref>`: the stored bytes, with their exact type. */
export const getManifest: Handler = async (ctx) => {
  const { req, res } = ctx;
  const m = await ctx.registry.getManifest(
    ctx.params.name!,
    ctx.params.ref!,
    acceptedTypes(req.headers.accept),
    req.method === 'GET' ? { actor: actorOf(ctx) } : undefined,
  );
  if (req.method !== 'HEAD') await ctx.registry.assertPullable(ctx.params.name!, m);
  const etag = `"${m.digest}"`;
  const headers: Record<string, string | number> = {
    'Content-Type': m.mediaType,
    'Docker-Content-Digest': m.digest,
    'Content-Length': m.size,
    ETag: etag,
  };
  // A proxied tag its upstream could not confirm (README, "Pull-through cache").
  if (m.stale) headers['Stowage-Cache'] = 'stale';
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : m.content);
};

/** `PUT /v2/<name>/manifests/<ref>`: stores the bytes verbatim. */
export const putManifest: Handler = async (ctx) => {
  const { req, registry } = ctx;
  const name = ctx.params.name!;
  const body = await readLimitedBody(req, registry.maxManifestBytes);
  const result = await registry.putManifest(name, ctx.params.ref!, req.headers['content-type'], body, {
    admin: ctx.isAdmin(),
    actor: actorOf(ctx),
  });
  ctx.audit.digest = result.digest;
  if (result.previousDigest !== undefined) ctx.audit.previousDigest = result.previousDigest;
  const headers: Record<string, string> = {
    Location: `/v2/${name}/manifests/${result.digest}`,
    'Docker-Content-Digest': result.digest,
  };
  if (result.subject) headers['OCI-Subject'] = result.subject;
  sendEmpty(ctx.res, 201, headers);
};

/** `DELETE /v2/<name>/manifests/<ref>`: by digest removes the manifest, by tag the tag. */
export const deleteManifest: Handler = async (ctx) => {
  await ctx.registry.deleteManifest(ctx.params.name!, ctx.params.ref!, { admin: ctx.isAdmin(), actor: actorOf(ctx) });
  sendEmpty(ctx.res, 202);
};
