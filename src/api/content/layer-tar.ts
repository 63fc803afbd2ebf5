/**
 * A layer blob read as a tarball, for showing what is inside: the stored bytes
 * streamed through gunzip (when they start with gzip's magic, whatever the media
 * type says, as flux reads layers) into the project's one tar reader. Nothing is
 * buffered beyond a tar block or a chunk, and inflating stops at a byte budget, so a
 * gzip bomb costs at most that budget.
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { TarError, TarReader, type TarEntry } from '../../gocompat/tar/reader.js';
import { ContentError } from './content-error.js';

/** Inflating went past the budget: callers show what they have, marked truncated. */
export class InflateLimitError extends Error {}

const isGzip = (b: Buffer) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** The blob's tar bytes: gunzipped when gzip, at most `maxBytes` of them. */
async function* tarBytes(blob: Readable, maxBytes: number): AsyncGenerator<Buffer> {
  const it: AsyncIterator<Buffer> = blob[Symbol.asyncIterator]();
  try {
    let head = Buffer.alloc(0);
    let done = false;
    while (head.length < 2 && !done) {
      const r = await it.next();
      if (r.done) done = true;
      else head = Buffer.concat([head, r.value]);
    }
    const rest = async function* (): AsyncGenerator<Buffer> {
      if (head.length) yield head;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    };
    let total = 0;
    const counted = async function* (chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
      for await (const c of chunks) {
        total += c.length;
        if (total > maxBytes) throw new InflateLimitError(`stopped after ${maxBytes} bytes of the layer`);
        yield c;
      }
    };
    if (!isGzip(head)) {
      yield* counted(rest());
      return;
    }
    const source = Readable.from(rest());
    const gunzip = createGunzip();
    source.on('error', (e) => gunzip.destroy(e));
    source.pipe(gunzip);
    try {
      yield* counted(gunzip);
    } catch (e) {
      if (!String((e as NodeJS.ErrnoException).code).startsWith('Z_')) throw e;
      throw new ContentError('BAD_REQUEST', `the layer is not a valid gzip stream: ${(e as Error).message}`);
    } finally {
      source.destroy();
      gunzip.destroy();
    }
  } finally {
    blob.destroy();
  }
}

/** A tar reader over a layer blob; close() it when done (it releases the blob). */
export function layerTar(blob: Readable, maxInflatedBytes: number): TarReader {
  return TarReader.fromStream(tarBytes(blob, maxInflatedBytes));
}

/** Each member of the tar, until `visit` returns false or the archive ends. Limits surface as InflateLimitError. */
export async function eachEntry(
  tar: TarReader,
  visit: (entry: TarEntry, tar: TarReader) => Promise<boolean> | boolean,
): Promise<void> {
  try {
    for (let e = await tar.next(); e; e = await tar.next()) if (!(await visit(e, tar))) return;
  } catch (e) {
    if (e instanceof TarError)
      throw new ContentError('BAD_REQUEST', `the layer is not a readable tar archive: ${e.message}`);
    throw e;
  } finally {
    await tar.close();
  }
}

/** A member's name as the UI shows it: no leading "./" or "/", no trailing "/". */
export function entryPath(name: string): string {
  return name.replace(/^(\.?\/)+/, '').replace(/\/+$/, '');
}

/** Up to `limit` bytes of the current member's body (the rest is never read). */
export async function readHead(tar: TarReader, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of tar.body()) {
    parts.push(c.subarray(0, limit - n));
    n += Math.min(c.length, limit - n);
    if (n >= limit) break;
  }
  return Buffer.concat(parts);
}
