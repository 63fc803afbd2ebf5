import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { RegistryError } from '../core/errors.js';

/** Requests whose body the server cut for sending nothing for too long (server.ts, watchBody). */
const stalledBodies = new WeakSet<IncomingMessage>();

export function markBodyStalled(req: IncomingMessage): void {
  stalledBodies.add(req);
}

export function bodyStalled(req: IncomingMessage): boolean {
  return stalledBodies.has(req);
}

/**
 * The body of a PATCH, ending where the client stopped sending if the server cut it
 * for stalling: the session keeps every byte that arrived, and the client resumes
 * from the offset a GET reports. A connection the client dropped still fails the
 * stream (the chunk is rolled back, as the blob store promises).
 */
export function bodyKeptOnStall(req: IncomingMessage): Readable {
  const out = new PassThrough({ highWaterMark: 1024 * 1024 });
  req.pipe(out);
  req.once('close', () => {
    if (req.complete) return;
    if (bodyStalled(req)) out.end();
    else out.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  });
  return out;
}

/**
 * Reads a small body (manifests) into memory, refusing more than `limit` bytes
 * up front from Content-Length, or as soon as the stream passes it.
 */
export async function readLimitedBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new RegistryError('MANIFEST_TOO_LARGE', `body exceeds ${limit} bytes`, { limit });
  const declared = contentLength(req);
  if (declared !== undefined && declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > limit) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}

/** The request's Content-Length, or undefined when absent (chunked). */
export function contentLength(req: IncomingMessage): number | undefined {
  const v = req.headers['content-length'];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new RegistryError('SIZE_INVALID', 'invalid Content-Length');
  return n;
}

/** True when the request carries a body (chunked, or a non-zero Content-Length). */
export function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const n = contentLength(req);
  return n !== undefined && n > 0;
}
