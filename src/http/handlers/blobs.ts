import { pipeline } from 'node:stream/promises';
import { parseRangeHeader } from '../../core/ranges.js';
import type { Handler } from '../context.js';
import { sendEmpty } from '../respond.js';
import { responseSocket, sendFileAvailable, sendFileBody, sendFileTarget } from '../send-file.js';

/**
 * Smaller bodies take the stream: one read and one write, where sendfile costs a
 * thread-pool round trip and a flush of the head first. (At 1 MiB, sendfile already
 * doubles the bench's pull figure; the exact break-even was not measured.)
 */
const SENDFILE_MIN_BYTES = 256 * 1024;

/** `GET`/`HEAD /v2/<name>/blobs/<digest>`, with single-range support. */
export const getBlob: Handler = async (ctx) => {
  const { req, res, registry } = ctx;
  const name = ctx.params.name!;
  const blob = await registry.statBlob(name, ctx.params.ref!);
  const { digest, size } = blob;
  const range = parseRangeHeader(req.headers.range, size);
  const start = range?.start ?? 0;
  const length = range ? range.end - range.start + 1 : size;
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': digest,
    'Accept-Ranges': 'bytes',
    ETag: `"${digest}"`,
    'Cache-Control': 'max-age=31536000',
    'Content-Length': length,
  };
  if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
  const status = range ? 206 : 200;
  if (req.method === 'HEAD' || size === 0) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const socket = length >= SENDFILE_MIN_BYTES && sendFileAvailable() ? await responseSocket(res) : undefined;
  const localFile = socket !== undefined && sendFileTarget(socket) !== undefined;
  const body = await registry.blobBody(name, blob, { ...(range ? { range } : {}), localFile });
  switch (body.kind) {
    case 'redirect':
      // Object stores hand the bytes out themselves (like Distribution's `redirect`);
      // the client repeats its Range there.
      res.writeHead(307, { Location: body.url, 'Docker-Content-Digest': digest, 'Content-Length': 0 });
      res.end();
      return;
    case 'file':
      res.writeHead(status, headers);
      res.flushHeaders();
      await sendFileBody(socket, body, start, length);
      res.end();
      return;
    case 'stream':
      res.writeHead(status, headers);
      await pipeline(body.stream, res);
  }
};

/** `DELETE /v2/<name>/blobs/<digest>`: unlinks the blob from this repository. */
export const deleteBlob: Handler = async (ctx) => {
  await ctx.registry.deleteBlob(ctx.params.name!, ctx.params.ref!);
  sendEmpty(ctx.res, 202);
};
