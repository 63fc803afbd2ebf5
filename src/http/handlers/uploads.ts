import { uploadRangeHeader } from '../../core/ranges.js';
import { actorOf } from '../actor.js';
import type { Handler, RequestContext } from '../context.js';
import { sendEmpty } from '../respond.js';
import { bodyKeptOnStall, bodyStalled, contentLength, hasBody } from '../request-body.js';

function uploadLocation(name: string, id: string): string {
  return `/v2/${name}/blobs/uploads/${id}`;
}

function blobLocation(name: string, digest: string): string {
  return `/v2/${name}/blobs/${digest}`;
}

function sendProgress(ctx: RequestContext, status: number, id: string, size: number): void {
  sendEmpty(ctx.res, status, {
    Location: uploadLocation(ctx.params.name!, id),
    Range: uploadRangeHeader(size),
    'Docker-Upload-UUID': id,
  });
}

function sendCreated(ctx: RequestContext, digest: string): void {
  sendEmpty(ctx.res, 201, { Location: blobLocation(ctx.params.name!, digest), 'Docker-Content-Digest': digest });
}

/**
 * `POST /v2/<name>/blobs/uploads/`: starts a session (202), mounts from another
 * repository (`mount`+`from`, 201 or a fresh session), or takes a whole blob in
 * one request (`digest`, 201).
 */
export const startUpload: Handler = async (ctx) => {
  const { registry, query, req } = ctx;
  const name = ctx.params.name!;
  const mount = query.get('mount');
  if (mount !== null) {
    const from = query.get('from') ?? undefined;
    const mounted = await registry.mountBlob(name, mount, from, (repo) => ctx.canPull(repo), {
      actor: actorOf(ctx),
    });
    if (mounted) {
      sendCreated(ctx, mounted.digest);
      return;
    }
  }
  const owner = ctx.principal();
  const digest = query.get('digest');
  const monolithic = digest !== null && mount === null;
  // A monolithic push says its size up front: a quota refuses it before the session exists.
  const declared = monolithic ? { digest, size: contentLength(req) } : {};
  const upload = await registry.startUpload(name, owner, declared);
  if (monolithic) {
    // A failed monolithic push leaves nothing behind: the client never learnt the session.
    const done = await registry
      .completeUpload(name, upload.id, owner, digest, req, undefined, contentLength(req))
      .catch(async (e: unknown) => {
        await registry.cancelUpload(name, upload.id, owner).catch(() => undefined);
        throw e;
      });
    sendCreated(ctx, done.digest);
    return;
  }
  sendProgress(ctx, 202, upload.id, 0);
};

/** `GET /v2/<name>/blobs/uploads/<id>`: how much the session holds. */
export const uploadStatus: Handler = async (ctx) => {
  const state = await ctx.registry.uploadStatus(ctx.params.name!, ctx.params.id!, ctx.principal());
  sendProgress(ctx, 204, state.id, state.size);
};

/** `PATCH`: appends a chunk, streamed (no Content-Range) or ranged. */
export const patchUpload: Handler = async (ctx) => {
  const { req } = ctx;
  const range = req.headers['content-range'];
  const state = await ctx.registry.appendUpload(
    ctx.params.name!,
    ctx.params.id!,
    ctx.principal(),
    bodyKeptOnStall(req),
    range,
    contentLength(req),
  );
  if (bodyStalled(req)) {
    // The connection is gone; the log says what happened and what was kept.
    ctx.res.statusCode = 408;
    ctx.log.info({ size: state.size }, 'body stalled: connection cut, the session keeps the bytes that arrived');
    return;
  }
  sendProgress(ctx, 202, state.id, state.size);
};

/** `PUT ?digest=`: closes the session, with or without a last chunk. */
export const finishUpload: Handler = async (ctx) => {
  const { req } = ctx;
  const range = req.headers['content-range'];
  const body = hasBody(req) ? req : undefined;
  const done = await ctx.registry.completeUpload(
    ctx.params.name!,
    ctx.params.id!,
    ctx.principal(),
    ctx.query.get('digest') ?? undefined,
    body,
    range,
    body === undefined ? undefined : contentLength(req),
  );
  sendCreated(ctx, done.digest);
};

/** `DELETE`: cancels the session. */
export const cancelUpload: Handler = async (ctx) => {
  await ctx.registry.cancelUpload(ctx.params.name!, ctx.params.id!, ctx.principal());
  sendEmpty(ctx.res, 204);
};
