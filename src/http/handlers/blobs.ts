import { pipeline } from 'node:stream/promises';
import { parseRangeHeader } from '../../core/ranges.js';
import type { Handler } from '../context.js';
import { sendEmpty } from '../respond.js';

/** `GET`/`HEAD /v2/<name>/blobs/<digest>`, with single-range support. */
export const getBlob: Handler = async (ctx) => {
  const { req, res, registry } = ctx;
  const name = ctx.params.name!;
  const { digest, size } = await registry.statBlob(name, ctx.params.ref!);
  const range = parseRangeHeader(req.headers.range, size);
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': digest,
    'Accept-Ranges': 'bytes',
    ETag: `"${digest}"`,
    'Cache-Control': 'max-age=31536000',
  };
  if (range) {
    headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
    headers['Content-Length'] = range.end - range.start + 1;
  } else {
    headers['Content-Length'] = size;
  }
  const status = range ? 206 : 200;
  if (req.method === 'HEAD' || size === 0) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const stream = await registry.readBlob(name, digest, range);
  res.writeHead(status, headers);
  await pipeline(stream, res);
};

/** `DELETE /v2/<name>/blobs/<digest>`: unlinks the blob from this repository. */
export const deleteBlob: Handler = async (ctx) => {
  await ctx.registry.deleteBlob(ctx.params.name!, ctx.params.ref!);
  sendEmpty(ctx.res, 202);
};
