import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { ListObjectsV2Command, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { digestBytes } from '../../src/core/digest.js';
import { S3BlobStore, MIN_PART_BYTES, type S3BlobStoreOptions } from '../../src/storage/s3/s3-blob-store.js';
import { removeS3Objects, s3Options } from './drivers.js';

// The BlobStore contract runs in contracts.test.ts; these are S3's own rules.

/** Every key under the store's prefix, and its unfinished multipart uploads. */
async function leftovers(store: S3BlobStore, o: S3BlobStoreOptions): Promise<{ keys: string[]; multipart: string[] }> {
  const listed = await store.client.send(new ListObjectsV2Command({ Bucket: o.bucket, Prefix: o.prefix }));
  const mp = await store.client.send(new ListMultipartUploadsCommand({ Bucket: o.bucket, Prefix: o.prefix }));
  return {
    keys: (listed.Contents ?? []).map((c) => c.Key!.slice(o.prefix!.length)).sort(),
    multipart: (mp.Uploads ?? []).map((u) => u.Key!),
  };
}

const body = (...chunks: Buffer[]) => Readable.from(chunks);

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('s3 blob store specifics', () => {
  async function fresh() {
    const o = await s3Options();
    const store = new S3BlobStore(o);
    return {
      o,
      store,
      done: async () => {
        await store.close();
        await removeS3Objects(o);
      },
    };
  }

  it('chunks of every size, across parts, alternating between two replicas, give the exact bytes', async () => {
    const { o, store, done } = await fresh();
    const other = new S3BlobStore(o);
    try {
      const bytes = randomBytes(2 * MIN_PART_BYTES * 2 + 12345); // several 8 MiB parts plus a tail
      // 1 byte, tiny, just under and over a part, then the rest: each append on the other replica.
      const sizes = [1, 100, MIN_PART_BYTES - 1, 3 * 1024 * 1024, 9 * 1024 * 1024, 1];
      const id = randomUUID();
      await store.createUpload(id);
      let offset = 0;
      let turn = 0;
      for (const size of [...sizes, bytes.length]) {
        if (offset >= bytes.length) break;
        const part = bytes.subarray(offset, Math.min(bytes.length, offset + size));
        const replica = turn++ % 2 ? other : store;
        // Each append arrives in uneven stream chunks.
        const cut = Math.floor(part.length / 3);
        offset = await replica.appendUpload(id, offset, body(part.subarray(0, cut), part.subarray(cut)));
        assert.equal(await (turn % 2 ? store : other).uploadSize(id), offset, 'the other replica sees the new size');
      }
      assert.equal(offset, bytes.length);
      const d = digestBytes(bytes);
      assert.equal(await store.stat(d.value), undefined, 'nothing is readable before the commit');
      assert.deepEqual(await other.commitUpload(id, d), { size: bytes.length });
      assert.ok((await readAll(await store.read(d.value))).equals(bytes));
      assert.ok(
        (await readAll(await store.read(d.value, { start: MIN_PART_BYTES - 5, end: MIN_PART_BYTES + 5 }))).equals(
          bytes.subarray(MIN_PART_BYTES - 5, MIN_PART_BYTES + 6),
        ),
      );
      // A range across parts.
      const long = { start: 1024 * 1024 + 7, end: bytes.length - 3 };
      assert.ok((await readAll(await store.read(d.value, long))).equals(bytes.subarray(long.start, long.end + 1)));
      // Exactly one object remains: the blob at its content address; no multipart upload is left open.
      assert.deepEqual(await leftovers(store, o), {
        keys: [`blobs/sha256/${d.hex.slice(0, 2)}/${d.hex}`],
        multipart: [],
      });
    } finally {
      await other.close();
      await done();
    }
  });

  it('a failed append in the middle of a part leaves the session as it was, and nothing behind', async () => {
    const { o, store, done } = await fresh();
    try {
      const id = randomUUID();
      await store.createUpload(id);
      const first = randomBytes(1000);
      await store.appendUpload(id, 0, body(first));
      async function* failing() {
        yield randomBytes(9 * 1024 * 1024); // one part sent, then the client goes away
        throw new Error('client went away');
      }
      await assert.rejects(store.appendUpload(id, 1000, Readable.from(failing())));
      assert.equal(await store.uploadSize(id), 1000);
      assert.deepEqual((await leftovers(store, o)).multipart, [], 'the multipart upload that append opened is aborted');
      const rest = randomBytes(6 * 1024 * 1024);
      await store.appendUpload(id, 1000, body(rest));
      const all = Buffer.concat([first, rest]);
      const d = digestBytes(all);
      await store.commitUpload(id, d);
      assert.ok((await readAll(await store.read(d.value))).equals(all));
      await store.createUpload(randomUUID()); // an open session: its state is all it has
      const left = await leftovers(store, o);
      assert.equal(left.keys.filter((k) => k.startsWith('uploads/')).length, 1);
      assert.deepEqual(left.multipart, []);
    } finally {
      await done();
    }
  });

  it('chunks of declared length are streamed as one part each, tail included, on either replica', async () => {
    const { o, store, done } = await fresh();
    const other = new S3BlobStore(o);
    try {
      const MiB = 1024 * 1024;
      // A tail; tail + 8 MiB as one part; 8 MiB as one part; a tail; too big for one part (cut as before).
      const sizes = [3 * MiB, 8 * MiB, 8 * MiB, MiB + 7, 17 * MiB];
      const bytes = randomBytes(sizes.reduce((a, b) => a + b));
      const id = randomUUID();
      await store.createUpload(id);
      let offset = 0;
      for (const [i, size] of sizes.entries()) {
        const part = bytes.subarray(offset, offset + size);
        const cut = Math.floor(part.length / 3);
        offset = await (i % 2 ? other : store).appendUpload(
          id,
          offset,
          body(part.subarray(0, cut), part.subarray(cut)),
          part.length,
        );
        assert.equal(await (i % 2 ? store : other).uploadSize(id), offset);
      }
      const d = digestBytes(bytes);
      assert.deepEqual(await other.commitUpload(id, d), { size: bytes.length });
      assert.ok((await readAll(await store.read(d.value))).equals(bytes));
      assert.deepEqual(await leftovers(store, o), {
        keys: [`blobs/sha256/${d.hex.slice(0, 2)}/${d.hex}`],
        multipart: [],
      });
    } finally {
      await other.close();
      await done();
    }
  });

  it('a declared chunk that fails is rolled back, one that ends early is kept as far as it came', async () => {
    const { o, store, done } = await fresh();
    try {
      const MiB = 1024 * 1024;
      const id = randomUUID();
      await store.createUpload(id);
      const first = randomBytes(1000);
      await store.appendUpload(id, 0, body(first), first.length);
      async function* failing() {
        yield randomBytes(6 * MiB);
        throw new Error('client went away');
      }
      await assert.rejects(store.appendUpload(id, 1000, Readable.from(failing()), 9 * MiB), /client went away/);
      assert.equal(await store.uploadSize(id), 1000);
      assert.deepEqual((await leftovers(store, o)).multipart, [], 'the multipart upload that append opened is aborted');
      const tooLong = randomBytes(7 * MiB);
      await assert.rejects(store.appendUpload(id, 1000, body(tooLong), 6 * MiB), { code: 'SIZE_INVALID' });
      assert.equal(await store.uploadSize(id), 1000);
      // Cut short without an error (the server stops reading a stalled body): what arrived stays.
      const cutShort = randomBytes(6 * MiB);
      assert.equal(await store.appendUpload(id, 1000, body(cutShort), 9 * MiB), 1000 + cutShort.length);
      const all = Buffer.concat([first, cutShort]);
      const d = digestBytes(all);
      await store.commitUpload(id, d);
      assert.ok((await readAll(await store.read(d.value))).equals(all));
      assert.deepEqual((await leftovers(store, o)).multipart, []);
    } finally {
      await done();
    }
  });

  it('a wrong digest after parts were written leaves no object and no multipart upload', async () => {
    const { o, store, done } = await fresh();
    try {
      const id = randomUUID();
      await store.createUpload(id);
      await store.appendUpload(id, 0, body(randomBytes(11 * 1024 * 1024)));
      await assert.rejects(store.commitUpload(id, digestBytes(Buffer.from('other'))), { code: 'DIGEST_INVALID' });
      assert.deepEqual(await leftovers(store, o), { keys: [], multipart: [] });
    } finally {
      await done();
    }
  });

  it('hands out presigned URLs that fetch the blob without credentials', async () => {
    const { o, store, done } = await fresh();
    try {
      const bytes = randomBytes(4096);
      const id = randomUUID();
      await store.createUpload(id);
      await store.appendUpload(id, 0, body(bytes));
      const d = digestBytes(bytes);
      await store.commitUpload(id, d);
      const redirected = await store.body(d.value);
      assert.equal(redirected.kind, 'redirect', 'a redirect by default');
      const url = redirected.kind === 'redirect' ? redirected.url : '';
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes));
      const ranged = await fetch(url, { headers: { Range: 'bytes=10-19' } });
      assert.equal(ranged.status, 206);
      assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(10, 20)));
      await store.check();
      // redirect: false, for buckets clients cannot reach: a stream (with Range).
      const streaming = new S3BlobStore({ ...o, redirect: false });
      try {
        const b = await streaming.body(d.value, { range: { start: 100, end: 199 }, localFile: true });
        assert.equal(b.kind, 'stream');
        assert.ok(b.kind === 'stream' && (await readAll(b.stream)).equals(bytes.subarray(100, 200)));
      } finally {
        await streaming.close();
      }
    } finally {
      await done();
    }
  });
});
