/**
 * The BlobStore contract, as one driver-agnostic suite (like CNCF Distribution's
 * registry/storage/driver/testsuites). Every driver runs it unchanged; the list of
 * drivers is test/storage/drivers.ts. Each test gets a fresh, empty store from the
 * driver's factory.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { read as readFd } from 'node:fs';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { digestBytes, parseDigest, type Algorithm, type Digest } from '../../src/core/digest.js';
import type { ByteRange } from '../../src/core/ranges.js';
import type { BlobBody, BlobStore } from '../../src/storage/blob-store.js';
import { pool } from '../../src/util/pool.js';
import { rejectsCode } from '../helpers/registry-error.js';

export interface BlobStoreFixture {
  store: BlobStore;
  /** Closes whatever is still open and removes everything the store wrote. */
  cleanup(): Promise<void>;
  /**
   * Opens another instance over the same storage, as after a process restart.
   * The suite closes the first instance before calling it and closes the new one
   * itself. Drivers without persistence leave it out; the restart tests then skip.
   */
  reopen?(): Promise<BlobStore>;
}

export type BlobStoreFactory = (t: TestContext) => Promise<BlobStoreFixture>;

// ---- helpers ---------------------------------------------------------------

const enc = (s: string) => Buffer.from(s, 'utf8');

function digestOfBytes(bytes: Uint8Array, algorithm: Algorithm = 'sha256'): Digest {
  return digestBytes(bytes, algorithm);
}

/** A body stream made of the given chunks. */
function body(...chunks: Buffer[]): Readable {
  return Readable.from(chunks);
}

/** A body that delivers `chunks`, then fails like a client that went away. */
function failingBody(chunks: Buffer[], message = 'client went away'): Readable {
  async function* gen() {
    for (const c of chunks) {
      yield c;
      await new Promise((r) => setImmediate(r));
    }
    throw new Error(message);
  }
  return Readable.from(gen());
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(parts);
}

/**
 * The bytes a body delivers for `range` (or all `size` bytes), whichever way the
 * driver chose to serve them, read the way the HTTP layer (or the client) would.
 */
async function bodyBytes(b: BlobBody, size: number, range?: ByteRange): Promise<Buffer> {
  const start = range?.start ?? 0;
  const length = (range ? range.end + 1 : size) - start;
  switch (b.kind) {
    case 'stream':
      return readAll(b.stream);
    case 'file': {
      try {
        const out = Buffer.alloc(length);
        for (let done = 0; done < length;) {
          const { bytesRead: n } = await promisify(readFd)(b.fd, out, done, length - done, start + done);
          assert.ok(n > 0, 'the file ends before the blob does');
          done += n;
        }
        return out;
      } finally {
        await b.close();
      }
    }
    case 'redirect': {
      const res = await fetch(b.url, range ? { headers: { Range: `bytes=${range.start}-${range.end}` } } : {});
      assert.equal(res.status, range ? 206 : 200, `GET ${b.url}`);
      return Buffer.from(await res.arrayBuffer());
    }
  }
}

/** Uploads `bytes` in one session (in `chunks` appends) and commits it. */
async function push(store: BlobStore, bytes: Buffer, chunks = 1, algorithm: Algorithm = 'sha256'): Promise<Digest> {
  const id = randomUUID();
  await store.createUpload(id);
  const step = Math.ceil(bytes.length / chunks) || 1;
  let offset = 0;
  while (offset < bytes.length) {
    const part = bytes.subarray(offset, offset + step);
    offset = await store.appendUpload(id, offset, body(part));
  }
  const d = digestOfBytes(bytes, algorithm);
  assert.deepEqual(await store.commitUpload(id, d), { size: bytes.length });
  return d;
}

async function withStore(
  factory: BlobStoreFactory,
  t: TestContext,
  fn: (f: BlobStoreFixture) => Promise<void>,
): Promise<void> {
  const fixture = await factory(t);
  try {
    await fn(fixture);
  } finally {
    await fixture.cleanup();
  }
}

// ---- the suite -------------------------------------------------------------

export function blobStoreSuite(driver: string, factory: BlobStoreFactory): void {
  // it() returns a promise the runner awaits itself: the wrapper hands back nothing.
  const test = (name: string, fn: (f: BlobStoreFixture, t: TestContext) => Promise<void>): void => {
    it(name, (t) => withStore(factory, t, (f) => fn(f, t)));
  };

  describe(`BlobStore contract: ${driver}`, () => {
    describe('upload sessions', () => {
      test('a new session holds zero bytes; an unknown session has no size', async ({ store }) => {
        const id = randomUUID();
        assert.equal(await store.uploadSize(id), undefined);
        await store.createUpload(id);
        assert.equal(await store.uploadSize(id), 0);
        assert.equal(await store.uploadSize(randomUUID()), undefined);
      });

      test('appends return the new size and concatenate in order', async ({ store }) => {
        const id = randomUUID();
        await store.createUpload(id);
        assert.equal(await store.appendUpload(id, 0, body(enc('hello '))), 6);
        assert.equal(await store.appendUpload(id, 6, body(enc('wor'), enc('ld'))), 11);
        assert.equal(await store.uploadSize(id), 11);
        // An empty chunk is legal and changes nothing.
        assert.equal(await store.appendUpload(id, 11, body()), 11);
        const d = digestOfBytes(enc('hello world'));
        assert.deepEqual(await store.commitUpload(id, d), { size: 11 });
        assert.deepEqual(await readAll(await store.read(d.value)), enc('hello world'));
      });

      test('append at the wrong offset is RANGE_INVALID with the resync Range, and changes nothing', async ({
        store,
      }) => {
        const id = randomUUID();
        await store.createUpload(id);
        // The HTTP layer forwards this header on the 416 so clients can resync.
        await rejectsCode(store.appendUpload(id, 1, body(enc('x'))), 'RANGE_INVALID', (e) =>
          assert.equal(e.headers.Range, '0-0'),
        );
        await store.appendUpload(id, 0, body(enc('12345')));
        for (const offset of [0, 4, 6, 100]) {
          await rejectsCode(store.appendUpload(id, offset, body(enc('junk'))), 'RANGE_INVALID', (e) => {
            assert.equal(e.status, 416);
            assert.equal(e.headers.Range, '0-4');
          });
          assert.equal(await store.uploadSize(id), 5);
        }
        // A retried chunk (same range again) is refused too.
        await rejectsCode(store.appendUpload(id, 0, body(enc('12345'))), 'RANGE_INVALID');
        const d = digestOfBytes(enc('12345'));
        assert.deepEqual(await store.commitUpload(id, d), { size: 5 });
        assert.deepEqual(await readAll(await store.read(d.value)), enc('12345'));
      });

      test('append to an unknown session is BLOB_UPLOAD_UNKNOWN', async ({ store }) => {
        await rejectsCode(store.appendUpload(randomUUID(), 0, body(enc('x'))), 'BLOB_UPLOAD_UNKNOWN');
      });

      test('a body that fails midway rolls the session back to where it was', async ({ store }) => {
        const id = randomUUID();
        await store.createUpload(id);
        await store.appendUpload(id, 0, body(enc('abc')));
        const big = [Buffer.alloc(1 << 20, 0x78), Buffer.alloc(1 << 20, 0x79), Buffer.alloc(12345, 0x7a)];
        await assert.rejects(store.appendUpload(id, 3, failingBody(big)), /client went away/);
        assert.equal(await store.uploadSize(id), 3);
        // The running hash was rolled back too: appending and committing still verifies.
        assert.equal(await store.appendUpload(id, 3, body(enc('def'))), 6);
        await assert.rejects(store.appendUpload(id, 6, failingBody([enc('ghi')])), /client went away/);
        assert.equal(await store.uploadSize(id), 6);
        const d = digestOfBytes(enc('abcdef'));
        assert.deepEqual(await store.commitUpload(id, d), { size: 6 });
        assert.deepEqual(await readAll(await store.read(d.value)), enc('abcdef'));
      });

      test('a body that fails before any byte leaves an empty session usable', async ({ store }) => {
        const id = randomUUID();
        await store.createUpload(id);
        await assert.rejects(store.appendUpload(id, 0, failingBody([])), /client went away/);
        assert.equal(await store.uploadSize(id), 0);
        await store.appendUpload(id, 0, body(enc('ok')));
        assert.deepEqual(await store.commitUpload(id, digestOfBytes(enc('ok'))), { size: 2 });
      });

      test('concurrent appends to one session are serialized: one wins, the other gets RANGE_INVALID', async ({
        store,
      }) => {
        const id = randomUUID();
        await store.createUpload(id);
        const a = Buffer.alloc(256 * 1024, 0x61);
        const b = Buffer.alloc(256 * 1024, 0x62);
        const results = await Promise.allSettled([
          store.appendUpload(id, 0, body(a)),
          store.appendUpload(id, 0, body(b)),
        ]);
        const ok = results.filter((r) => r.status === 'fulfilled');
        const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        assert.equal(ok.length, 1);
        assert.equal(failed.length, 1);
        await rejectsCode(Promise.reject(failed[0]!.reason), 'RANGE_INVALID');
        assert.equal(await store.uploadSize(id), a.length);
        const winner = results[0]!.status === 'fulfilled' ? a : b;
        assert.deepEqual(await store.commitUpload(id, digestOfBytes(winner)), { size: winner.length });
      });

      test('sessions are independent of each other', async ({ store }) => {
        const [x, y] = [randomUUID(), randomUUID()];
        await store.createUpload(x);
        await store.createUpload(y);
        await store.appendUpload(x, 0, body(enc('x1')));
        await store.appendUpload(y, 0, body(enc('y1')));
        await store.appendUpload(x, 2, body(enc('x2')));
        await store.appendUpload(y, 2, body(enc('y2')));
        const dx = digestOfBytes(enc('x1x2'));
        const dy = digestOfBytes(enc('y1y2'));
        await store.commitUpload(y, dy);
        await store.commitUpload(x, dx);
        assert.deepEqual(await readAll(await store.read(dx.value)), enc('x1x2'));
        assert.deepEqual(await readAll(await store.read(dy.value)), enc('y1y2'));
      });

      test('deleteUpload discards the bytes and is idempotent', async ({ store }) => {
        const id = randomUUID();
        await store.createUpload(id);
        await store.appendUpload(id, 0, body(enc('doomed')));
        await store.deleteUpload(id);
        assert.equal(await store.uploadSize(id), undefined);
        await store.deleteUpload(id);
        await store.deleteUpload(randomUUID());
        await rejectsCode(store.commitUpload(id, digestOfBytes(enc('doomed'))), 'BLOB_UPLOAD_UNKNOWN');
        assert.equal(await store.stat(digestOfBytes(enc('doomed')).value), undefined);
      });

      test('listUploads names exactly the sessions whose bytes exist', async ({ store }) => {
        assert.deepEqual(await store.listUploads(), []);
        const [kept, deleted, committed, empty] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
        for (const id of [kept, deleted, committed, empty]) await store.createUpload(id);
        await store.appendUpload(kept, 0, body(enc('k')));
        await store.appendUpload(committed, 0, body(enc('c')));
        await store.deleteUpload(deleted);
        await store.commitUpload(committed, digestOfBytes(enc('c')));
        assert.deepEqual((await store.listUploads()).sort(), [kept, empty].sort());
      });
    });

    describe('commit', () => {
      test('with the wrong digest: DIGEST_INVALID, the session is gone and no blob appears', async ({ store }) => {
        const id = randomUUID();
        await store.createUpload(id);
        await store.appendUpload(id, 0, body(enc('actual bytes')));
        const claimed = digestOfBytes(enc('other bytes'));
        await rejectsCode(store.commitUpload(id, claimed), 'DIGEST_INVALID', (e) => assert.equal(e.status, 400));
        assert.equal(await store.uploadSize(id), undefined);
        assert.ok(!(await store.listUploads()).includes(id));
        assert.equal(await store.stat(claimed.value), undefined);
        assert.equal(await store.stat(digestOfBytes(enc('actual bytes')).value), undefined);
        await rejectsCode(store.commitUpload(id, digestOfBytes(enc('actual bytes'))), 'BLOB_UPLOAD_UNKNOWN');
      });

      test('of an unknown session: BLOB_UPLOAD_UNKNOWN', async ({ store }) => {
        await rejectsCode(store.commitUpload(randomUUID(), digestOfBytes(enc('x'))), 'BLOB_UPLOAD_UNKNOWN');
      });

      test('makes the bytes a blob: stat, whole read and ranged reads', async ({ store }) => {
        const bytes = randomBytes(1000);
        const d = await push(store, bytes, 3);
        assert.deepEqual(await store.stat(d.value), { size: 1000 });
        assert.deepEqual(await readAll(await store.read(d.value)), bytes);
        for (const [start, end] of [
          [0, 0],
          [10, 19],
          [999, 999],
          [0, 999],
          [500, 998],
        ] as const) {
          assert.deepEqual(
            await readAll(await store.read(d.value, { start, end })),
            bytes.subarray(start, end + 1),
            `${start}-${end}`,
          );
        }
      });

      test('the zero-length blob', async ({ store }) => {
        const id = randomUUID();
        await store.createUpload(id);
        const d = parseDigest('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
        assert.deepEqual(await store.commitUpload(id, d), { size: 0 });
        assert.deepEqual(await store.stat(d.value), { size: 0 });
        assert.equal((await readAll(await store.read(d.value))).length, 0);
      });

      test('is idempotent for a blob that already exists', async ({ store }) => {
        const bytes = enc('layer content pushed twice');
        const first = await push(store, bytes);
        const second = await push(store, bytes, 2);
        assert.equal(second.value, first.value);
        assert.deepEqual(await store.stat(first.value), { size: bytes.length });
        assert.deepEqual(await readAll(await store.read(first.value)), bytes);
        assert.deepEqual(await store.listUploads(), []);
      });

      test('concurrent commits of the same digest all succeed (parallel pushes)', async ({ store }) => {
        const bytes = randomBytes(512 * 1024 + 3);
        const d = digestOfBytes(bytes);
        const ids = Array.from({ length: 5 }, () => randomUUID());
        for (const id of ids) {
          await store.createUpload(id);
          await store.appendUpload(id, 0, body(bytes.subarray(0, 1000)));
          await store.appendUpload(id, 1000, body(bytes.subarray(1000)));
        }
        const results = await Promise.all(ids.map((id) => store.commitUpload(id, d)));
        assert.deepEqual(
          results,
          ids.map(() => ({ size: bytes.length })),
        );
        assert.deepEqual(await readAll(await store.read(d.value)), bytes);
        assert.deepEqual(await store.listUploads(), []);
      });

      test('sha512 digests are verified and addressable', async ({ store }) => {
        const bytes = enc('sha512 please');
        const d512 = await push(store, bytes, 2, 'sha512');
        assert.equal(d512.algorithm, 'sha512');
        assert.deepEqual(await store.stat(d512.value), { size: bytes.length });
        assert.deepEqual(await readAll(await store.read(d512.value, { start: 7, end: 12 })), enc('please'));
        // The same bytes under sha256 are a different blob.
        assert.equal(await store.stat(digestOfBytes(bytes).value), undefined);
        const d256 = await push(store, bytes);
        assert.deepEqual(await store.stat(d256.value), { size: bytes.length });

        const id = randomUUID();
        await store.createUpload(id);
        await store.appendUpload(id, 0, body(bytes));
        await rejectsCode(store.commitUpload(id, digestOfBytes(enc('not these'), 'sha512')), 'DIGEST_INVALID');
        assert.equal(await store.uploadSize(id), undefined);
      });

      test('multi-megabyte blobs in uneven chunks hash correctly', async ({ store }) => {
        const bytes = randomBytes(3 * 1024 * 1024 + 7);
        const id = randomUUID();
        await store.createUpload(id);
        let offset = 0;
        for (const size of [1, 65_537, 1_000_000, 2_000_000]) {
          const part = bytes.subarray(offset, offset + size);
          // Each append itself arrives in several stream chunks.
          const pieces = [part.subarray(0, Math.floor(part.length / 3)), part.subarray(Math.floor(part.length / 3))];
          offset = await store.appendUpload(id, offset, body(...pieces));
        }
        offset = await store.appendUpload(id, offset, body(bytes.subarray(offset)));
        assert.equal(offset, bytes.length);
        const d = digestOfBytes(bytes);
        assert.deepEqual(await store.commitUpload(id, d), { size: bytes.length });
        assert.ok((await readAll(await store.read(d.value))).equals(bytes));
      });
    });

    describe('committed blobs', () => {
      test('reading a missing blob is BLOB_UNKNOWN and stat says undefined', async ({ store }) => {
        const d = digestOfBytes(enc('never pushed')).value;
        assert.equal(await store.stat(d), undefined);
        await rejectsCode(store.read(d), 'BLOB_UNKNOWN', (e) => assert.equal(e.status, 404));
        await rejectsCode(store.read(d, { start: 0, end: 0 }), 'BLOB_UNKNOWN');
      });

      test('body() serves the whole blob and ranges, and a local file only to a caller that takes one', async ({
        store,
      }) => {
        const bytes = randomBytes(300_000);
        const d = await push(store, bytes, 2);
        for (const localFile of [false, true]) {
          for (const range of [
            undefined,
            { start: 0, end: 0 },
            { start: 1000, end: 199_999 },
            { start: 299_999, end: 299_999 },
          ]) {
            const b = await store.body(d.value, { ...(range ? { range } : {}), localFile });
            if (!localFile) assert.notEqual(b.kind, 'file', 'a file only when the caller can send one');
            const want = range ? bytes.subarray(range.start, range.end + 1) : bytes;
            assert.ok((await bodyBytes(b, bytes.length, range)).equals(want), `${b.kind} ${JSON.stringify(range)}`);
          }
        }
        assert.ok(
          (await bodyBytes(await store.body(d.value), bytes.length)).equals(bytes),
          'no request: the whole blob',
        );
      });

      test('body() of a missing blob is BLOB_UNKNOWN (or a redirect to a 404), however it is asked for', async ({
        store,
      }) => {
        const d = digestOfBytes(enc('never pushed')).value;
        for (const localFile of [false, true]) {
          for (const range of [undefined, { start: 0, end: 3 }]) {
            const answer = store.body(d, { localFile, ...(range ? { range } : {}) });
            const redirect = await answer.then(
              (b) => b,
              () => undefined,
            );
            if (redirect?.kind === 'redirect') assert.equal((await fetch(redirect.url)).status, 404, redirect.url);
            else await rejectsCode(answer, 'BLOB_UNKNOWN', (e) => assert.equal(e.status, 404));
          }
        }
      });

      test('a body handed out before the blob is deleted still delivers every byte', async ({ store }) => {
        const bytes = randomBytes(64 * 1024);
        const d = await push(store, bytes);
        const bodies = [await store.body(d.value, { localFile: true }), await store.body(d.value)];
        await store.deleteBlobs([d.value]);
        for (const b of bodies) {
          // A redirect is the object store's to honour; files and streams are the driver's.
          if (b.kind === 'redirect') continue;
          assert.ok((await bodyBytes(b, bytes.length)).equals(bytes), b.kind);
        }
        assert.equal(await store.stat(d.value), undefined);
      });

      test('deleteBlobs removes the bytes; deleting again (or a missing blob) is harmless', async ({ store }) => {
        const d = await push(store, enc('to be collected'));
        await store.deleteBlobs([d.value]);
        assert.equal(await store.stat(d.value), undefined);
        await rejectsCode(store.read(d.value), 'BLOB_UNKNOWN');
        await store.deleteBlobs([d.value]);
        await store.deleteBlobs([digestOfBytes(enc('never there')).value]);
        await store.deleteBlobs([]);
        // And it can be pushed again.
        await push(store, enc('to be collected'));
        assert.deepEqual(await store.stat(d.value), { size: 15 });
      });

      test('listBlobs names every committed blob with its size and time, and no session', async ({ store }) => {
        const before = Date.now() - 1000;
        const a = await push(store, enc('first'));
        const b = await push(store, enc('second blob'));
        await store.createUpload(randomUUID());
        const listed = [];
        for await (const x of store.listBlobs()) listed.push(x);
        listed.sort((x, y) => (x.digest < y.digest ? -1 : 1));
        assert.deepEqual(
          listed.map((x) => ({ digest: x.digest, size: x.size })),
          [
            { digest: a.value, size: 5 },
            { digest: b.value, size: 11 },
          ].sort((x, y) => (x.digest < y.digest ? -1 : 1)),
        );
        assert.ok(listed.every((x) => x.modifiedAt >= before && x.modifiedAt <= Date.now() + 1000));
        await store.deleteBlobs([a.value]);
        const after = [];
        for await (const x of store.listBlobs()) after.push(x.digest);
        assert.deepEqual(after, [b.value]);
      });

      test('deleteBlobs removes many at once, absent ones among them', async ({ store }) => {
        const kept = await push(store, enc('kept'));
        const gone: string[] = Array.from({ length: 40 }, (_, i) => digestOfBytes(enc(`garbage ${i}`)).value);
        await pool([...gone.keys()], 16, async (i) => void (await push(store, enc(`garbage ${i}`))));
        await store.deleteBlobs([...gone, digestOfBytes(enc('never there')).value]);
        const left = [];
        for await (const x of store.listBlobs()) left.push(x.digest);
        assert.deepEqual(left, [kept.value]);
      });

      test('listBlobs leaves out what skip names, and yields the rest with size and time', async ({ store }) => {
        const a = await push(store, enc('known'));
        const b = await push(store, enc('unknown'));
        const listed = [];
        for await (const x of store.listBlobs((d) => d === a.value)) listed.push(x);
        assert.deepEqual(
          listed.map((x) => ({ digest: x.digest, size: x.size })),
          [{ digest: b.value, size: 7 }],
        );
        assert.ok(listed[0]!.modifiedAt > 0);
      });
    });

    describe('operations', () => {
      test('check resolves while the store is usable', async ({ store }) => {
        await store.check();
      });
    });

    describe('restart', () => {
      test('a new instance sees committed blobs and open sessions', async (f, t) => {
        if (!f.reopen) return t.skip(`${driver} has no persistence`);
        const blob = await push(f.store, enc('survives'));
        const id = randomUUID();
        await f.store.createUpload(id);
        await f.store.appendUpload(id, 0, body(enc('half')));
        await f.store.close();
        const again = await f.reopen();
        try {
          assert.deepEqual(await again.stat(blob.value), { size: 8 });
          assert.deepEqual(await readAll(await again.read(blob.value)), enc('survives'));
          assert.equal(await again.uploadSize(id), 4);
          assert.deepEqual(await again.listUploads(), [id]);
        } finally {
          await again.close();
        }
      });

      test('commit after a restart rehashes the stored bytes (the running hash is lost)', async (f, t) => {
        if (!f.reopen) return t.skip(`${driver} has no persistence`);
        const [resumed, direct, wrong] = [randomUUID(), randomUUID(), randomUUID()];
        for (const id of [resumed, direct, wrong]) {
          await f.store.createUpload(id);
          await f.store.appendUpload(id, 0, body(enc('part1')));
        }
        await f.store.close();
        const again = await f.reopen();
        try {
          // Resumed: more bytes after the restart, then commit.
          assert.equal(await again.appendUpload(resumed, 5, body(enc('part2'))), 10);
          const d1 = digestOfBytes(enc('part1part2'));
          assert.deepEqual(await again.commitUpload(resumed, d1), { size: 10 });
          assert.deepEqual(await readAll(await again.read(d1.value)), enc('part1part2'));
          // Committed straight away.
          const d2 = digestOfBytes(enc('part1'));
          assert.deepEqual(await again.commitUpload(direct, d2), { size: 5 });
          // And a wrong digest is still caught.
          await rejectsCode(again.commitUpload(wrong, digestOfBytes(enc('part1!'))), 'DIGEST_INVALID');
          assert.equal(await again.uploadSize(wrong), undefined);
          // A failed append after the restart still rolls back.
          const id = randomUUID();
          await again.createUpload(id);
          await again.appendUpload(id, 0, body(enc('abc')));
          await assert.rejects(again.appendUpload(id, 3, failingBody([enc('xyz')])));
          assert.equal(await again.uploadSize(id), 3);
          assert.deepEqual(await again.commitUpload(id, digestOfBytes(enc('abc'))), { size: 3 });
        } finally {
          await again.close();
        }
      });
    });
  });
}
