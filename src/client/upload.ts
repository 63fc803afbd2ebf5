/**
 * Blob upload, the way a careful client does it:
 *
 *   HEAD /v2/<name>/blobs/<digest>              200 → nothing to do
 *   POST …/blobs/uploads/?mount=<d>&from=<repo> 201 → mounted (same registry); 202 → use that session
 *   POST …/blobs/uploads/                       202 + Location
 *   small blob:  PUT <loc>?digest=<d> with the whole body
 *   large blob:  PATCH <loc> (Content-Range a-b) per chunk, then PUT <loc>?digest=<d>
 *
 * A chunk that fails (dropped connection, 5xx, 416, 401) is not repeated blindly: the
 * client asks the session where it stands (`GET <loc>` → `Range: 0-N`), reopens the
 * source at N+1 and continues. A lost session (404) starts over. Bytes are hashed as
 * they go, once each and in order, so a source that does not match its digest is
 * caught before the final PUT.
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Digester, type BlobSource, type Descriptor } from './content.js';
import { ClientError, clientError } from './errors.js';
import { isTransient, type HttpResponse } from './http.js';
import type { ProgressListener } from './progress.js';
import { repositoryScope, type SessionRequest } from './session.js';

export type UploadResult = 'uploaded' | 'mounted' | 'exists';

/** What the uploader needs from a repository. */
export interface UploadTarget {
  readonly registry: string;
  readonly name: string;
  request(req: SessionRequest): Promise<HttpResponse>;
  /** Turns an error response into the catalog's error (always throws). */
  raise(res: HttpResponse, operation: string, what?: string): Promise<never>;
  blobExists(digest: string, opts?: { push?: boolean }): Promise<number | undefined>;
}

export interface UploadOptions {
  /** Repositories on the same registry that may hold the blob. */
  mountFrom?: readonly string[];
  /** Blobs up to this size go in one PUT; larger ones in PATCH chunks of this size. */
  chunkSize: number;
  onProgress?: ProgressListener;
  /** Attempts that make no progress before giving up (default 5). */
  maxFailures?: number;
  /** Skip the existence check (the caller just did it). */
  skipExistsCheck?: boolean;
}

/** Pulls exactly `n` bytes at a time out of a stream, keeping what is left for the next chunk. */
class ChunkReader {
  private readonly it: AsyncIterator<Buffer>;
  private pending: Buffer | undefined;

  constructor(private readonly stream: Readable) {
    this.it = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  take(n: number, onChunk: (chunk: Buffer) => void): Readable {
    return Readable.from(this.chunks(n, onChunk), { objectMode: false });
  }

  private async *chunks(n: number, onChunk: (chunk: Buffer) => void): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      let buf = this.pending;
      this.pending = undefined;
      if (!buf) {
        const r = await this.it.next();
        if (r.done) throw new Error('the source ended before the blob was complete');
        buf = r.value;
      }
      if (buf.length > left) {
        this.pending = buf.subarray(left);
        buf = buf.subarray(0, left);
      }
      left -= buf.length;
      onChunk(buf);
      yield buf;
    }
  }

  destroy(): void {
    this.stream.destroy();
  }
}

/** `Range: 0-N` of an upload session → bytes it holds: N+1 ("0-0" means 0 or 1 byte: `hint`, what we expect, decides). */
function heldBytes(range: string | undefined, hint: number): number | undefined {
  const m = /^(?:bytes=)?(\d+)-(\d+)$/.exec(range?.trim() ?? '');
  if (!m) return undefined;
  const end = Number(m[2]);
  if (end === 0) return hint === 1 ? 1 : 0;
  return end + 1;
}

class RetryableUploadError extends Error {
  constructor(
    message: string,
    readonly restart = false,
  ) {
    super(message);
  }
}

export async function uploadBlob(
  target: UploadTarget,
  desc: Descriptor,
  source: BlobSource,
  opts: UploadOptions,
): Promise<UploadResult> {
  const emit = opts.onProgress ?? (() => undefined);
  const push = repositoryScope(target.name, 'pull', 'push');
  const maxFailures = opts.maxFailures ?? 5;
  const event = (state: 'start' | 'progress' | 'done', transferred: number, result?: UploadResult) =>
    emit({
      type: 'blob',
      action: 'upload',
      state,
      digest: desc.digest,
      size: desc.size,
      transferred,
      mediaType: desc.mediaType,
      ...(result ? { result } : {}),
    });

  event('start', 0);
  if (!opts.skipExistsCheck && (await target.blobExists(desc.digest, { push: true })) !== undefined) {
    event('done', desc.size, 'exists');
    return 'exists';
  }

  const uploadsPath = `/v2/${target.name}/blobs/uploads/`;
  let location: URL | undefined;
  for (const from of (opts.mountFrom ?? []).filter((r) => r !== target.name).slice(0, 3)) {
    const q = new URLSearchParams({ mount: desc.digest, from });
    const res = await target.request({
      method: 'POST',
      url: `${uploadsPath}?${q}`,
      scopes: [push, repositoryScope(from, 'pull')],
    });
    if (res.status === 201) {
      await res.discard();
      event('done', desc.size, 'mounted');
      return 'mounted';
    }
    if (res.status === 202 && res.header('location')) {
      location = new URL(res.header('location')!, res.url);
      await res.discard();
      break; // not mountable from there: upload into the session it opened
    }
    // No pull on `from` (distribution answers 401), or no mounts at all: upload instead.
    await res.discard();
  }

  const digester = new Digester(desc.digest);
  let failures = 0;
  let lastEmit = 0;
  const progress = (transferred: number) => {
    const now = Date.now();
    if (now - lastEmit > 100) {
      lastEmit = now;
      event('progress', transferred);
    }
  };

  const start = async (): Promise<URL> => {
    const res = await target.request({ method: 'POST', url: uploadsPath, scopes: [push] });
    if (
      (res.status === 202 || res.status === 201 || res.status === 200 || res.status === 204) &&
      res.header('location')
    ) {
      await res.discard();
      return new URL(res.header('location')!, res.url);
    }
    return target.raise(res, `starting an upload of ${desc.digest} to ${target.name}`, `pushing to ${target.name}`);
  };

  const finishUrl = (loc: URL) => {
    const u = new URL(loc);
    u.searchParams.set('digest', desc.digest);
    return u;
  };

  const checkLocalDigest = async (loc: URL) => {
    const actual = digester.hashed === desc.size ? digester.digest() : undefined;
    if (actual !== undefined && actual !== desc.digest) {
      await target.request({ method: 'DELETE', url: loc, scopes: [push] }).then(
        (r) => r.discard(),
        () => undefined,
      );
      throw clientError('DIGEST_MISMATCH', {
        what: `blob ${desc.digest} (source content)`,
        expected: desc.digest,
        actual,
      });
    }
  };

  /** After a failure: did the blob make it anyway (a commit whose answer was lost)? */
  const landed = async (): Promise<boolean> => {
    const there = await target.blobExists(desc.digest, { push: true }).catch(() => undefined);
    if (there === undefined) return false;
    event('done', desc.size, 'uploaded');
    return true;
  };

  const failed = async (res: HttpResponse, operation: string): Promise<never> => {
    if (res.status >= 500 || res.status === 429 || res.status === 416 || res.status === 401 || res.status === 408) {
      await res.discard();
      throw new RetryableUploadError(`${operation}: HTTP ${res.status}`);
    }
    if (res.status === 404) {
      await res.discard();
      throw new RetryableUploadError(`${operation}: the upload session is gone`, true);
    }
    return target.raise(res, operation, `pushing to ${target.name}`);
  };

  const handle = async (e: unknown, progressMade: boolean): Promise<void> => {
    if (progressMade) failures = 0;
    const retryable = e instanceof RetryableUploadError || isTransient(e);
    if (!retryable || ++failures > maxFailures) {
      if (e instanceof ClientError) throw e;
      throw clientError(
        'UPLOAD_FAILED',
        { repository: target.name, digest: desc.digest, detail: (e as Error).message ?? String(e) },
        { cause: e },
      );
    }
    await sleep(Math.min(5000, 250 * 2 ** failures));
  };

  // Small blobs: one PUT with the body; on failure, a fresh session.
  if (desc.size <= opts.chunkSize) {
    for (;;) {
      try {
        location ??= await start();
        const loc = location;
        const res = await target.request({
          method: 'PUT',
          url: finishUrl(loc),
          scopes: [push],
          headers: { 'Content-Type': 'application/octet-stream' },
          contentLength: desc.size,
          retry: false,
          body: async () => {
            let position = 0;
            return tap(
              await source.open(0),
              (chunk) => {
                position += chunk.length;
                if (position > desc.size)
                  throw new Error(`the source holds more than the ${desc.size} bytes its descriptor says`);
                digester.update(position - chunk.length, chunk);
                progress(position);
              },
              () => {
                if (position !== desc.size) throw new Error(`the source ended after ${position} of ${desc.size} bytes`);
              },
            );
          },
        });
        if (res.status >= 200 && res.status < 300) {
          await res.discard();
          await checkLocalDigest(loc);
          event('done', desc.size, 'uploaded');
          return 'uploaded';
        }
        if (res.status === 400) await checkLocalDigest(loc);
        await failed(res, `uploading ${desc.digest} to ${target.name}`);
      } catch (e) {
        location = undefined;
        await handle(e, false);
        if (await landed()) return 'uploaded';
      }
    }
  }

  // Large blobs: PATCH chunks with Content-Range, resuming from what the session holds.
  let offset = 0;
  let reader: ChunkReader | undefined;
  for (;;) {
    const before = offset;
    try {
      location ??= await start();
      while (offset < desc.size) {
        const end = Math.min(offset + opts.chunkSize, desc.size) - 1;
        reader ??= new ChunkReader(await source.open(offset));
        let position = offset;
        const body = reader.take(end - offset + 1, (chunk) => {
          digester.update(position, chunk);
          position += chunk.length;
          progress(position);
        });
        const res = await target.request({
          method: 'PATCH',
          url: location,
          scopes: [push],
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${end}` },
          contentLength: end - offset + 1,
          retry: false,
          body: () => body,
        });
        if (res.status !== 202 && res.status !== 204 && res.status !== 201)
          await failed(res, `uploading a chunk of ${desc.digest} to ${target.name}`);
        await res.discard();
        if (res.header('location')) location = new URL(res.header('location')!, res.url);
        const held = heldBytes(res.header('range'), end + 1);
        offset = held !== undefined && held !== end + 1 ? held : end + 1;
        if (held !== undefined && held !== end + 1) {
          reader.destroy();
          reader = undefined;
        }
        failures = 0;
      }
      reader?.destroy();
      reader = undefined;
      const res = await target.request({ method: 'PUT', url: finishUrl(location), scopes: [push], retry: false });
      if (res.status >= 200 && res.status < 300) {
        await res.discard();
        await checkLocalDigest(location);
        event('done', desc.size, 'uploaded');
        return 'uploaded';
      }
      if (res.status === 400) await checkLocalDigest(location);
      await failed(res, `completing the upload of ${desc.digest} to ${target.name}`);
    } catch (e) {
      reader?.destroy();
      reader = undefined;
      await handle(e, offset > before);
      // Where does the session stand?
      if (location && !(e instanceof RetryableUploadError && e.restart)) {
        try {
          const res = await target.request({ method: 'GET', url: location, scopes: [push] });
          if (res.status === 204 || res.status === 200) {
            await res.discard();
            if (res.header('location')) location = new URL(res.header('location')!, res.url);
            offset = heldBytes(res.header('range'), offset) ?? 0;
            continue;
          }
          await res.discard();
        } catch {
          /* fall through: start over */
        }
      }
      location = undefined;
      offset = 0;
      if (await landed()) return 'uploaded';
    }
  }
}

/** Calls `fn` for every chunk passing through, and `end` when the stream is done (either may throw). */
function tap(stream: Readable, fn: (chunk: Buffer) => void, end: () => void): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      fn(chunk);
      yield chunk;
    }
    end();
  }
  return Readable.from(gen(), { objectMode: false });
}
