/**
 * A blob download that checks what it delivers and survives dropped connections:
 * the bytes are hashed as they pass, a broken transfer is reopened at the offset
 * reached (`Range: bytes=N-`), and the stream fails with SIZE_MISMATCH or
 * DIGEST_MISMATCH instead of ending if the content is not what the descriptor says.
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Digester, type Descriptor } from './content.js';
import { clientError } from './errors.js';
import { isTransient } from './http.js';
import type { ProgressListener } from './progress.js';

export interface VerifiedStreamOptions {
  /** Names the blob in errors ("blob sha256:… of team/app"). */
  what: string;
  onProgress?: ProgressListener;
  /** Consecutive failures without progress before giving up (default 5). */
  maxFailures?: number;
}

export function verifiedStream(
  desc: Descriptor,
  open: (offset: number) => Promise<Readable>,
  opts: VerifiedStreamOptions,
): Readable {
  const maxFailures = opts.maxFailures ?? 5;
  const emit = opts.onProgress ?? (() => undefined);
  async function* bytes(): AsyncGenerator<Buffer> {
    const digester = new Digester(desc.digest);
    let offset = 0;
    let failures = 0;
    let lastEmit = 0;
    emit({
      type: 'blob',
      action: 'download',
      state: 'start',
      digest: desc.digest,
      size: desc.size,
      transferred: 0,
      mediaType: desc.mediaType,
    });
    // A zero-length blob needs no request: its digest is checked below all the same.
    while (offset < desc.size) {
      let stream: Readable | undefined;
      const before = offset;
      try {
        stream = await open(offset);
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          if (offset + chunk.length > desc.size) {
            stream.destroy();
            throw clientError('SIZE_MISMATCH', { what: opts.what, expected: desc.size, actual: offset + chunk.length });
          }
          digester.update(offset, chunk);
          offset += chunk.length;
          const now = Date.now();
          if (now - lastEmit > 100) {
            lastEmit = now;
            emit({
              type: 'blob',
              action: 'download',
              state: 'progress',
              digest: desc.digest,
              size: desc.size,
              transferred: offset,
            });
          }
          yield chunk;
        }
        if (offset < desc.size)
          throw Object.assign(new Error('the connection closed before the whole blob arrived'), { code: 'ECONNRESET' });
      } catch (e) {
        stream?.destroy();
        if (offset > before) failures = 0;
        if (!isTransient(e) || ++failures > maxFailures) throw e;
        await sleep(Math.min(4000, 200 * 2 ** failures));
      }
    }
    const actual = digester.digest();
    if (actual !== undefined && actual !== desc.digest)
      throw clientError('DIGEST_MISMATCH', { what: opts.what, expected: desc.digest, actual });
    emit({
      type: 'blob',
      action: 'download',
      state: 'done',
      digest: desc.digest,
      size: desc.size,
      transferred: offset,
      result: 'downloaded',
    });
  }
  return Readable.from(bytes(), { objectMode: false, highWaterMark: 1 << 20 });
}

/** Drops the first `skip` bytes of a stream (a registry that answered a Range request with 200). */
export function skipBytes(stream: Readable, skip: number): Readable {
  if (skip === 0) return stream;
  async function* rest(): AsyncGenerator<Buffer> {
    let left = skip;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (left >= chunk.length) {
        left -= chunk.length;
        continue;
      }
      yield left > 0 ? chunk.subarray(left) : chunk;
      left = 0;
    }
  }
  return Readable.from(rest(), { objectMode: false });
}
