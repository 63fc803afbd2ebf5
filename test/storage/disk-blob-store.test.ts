import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { digestBytes } from '../../src/core/digest.js';
import { DiskBlobStore } from '../../src/storage/disk/disk-blob-store.js';
import { DiskLayout } from '../../src/storage/disk/layout.js';

// The BlobStore contract runs in contracts.test.ts; these are the disk layout's own rules.
describe('disk blob store specifics', () => {
  async function fresh() {
    const root = await mkdtemp(join(tmpdir(), 'stowage-disk-'));
    return {
      root,
      store: await DiskBlobStore.open(root, { fsync: false }),
      done: () => rm(root, { recursive: true, force: true }),
    };
  }

  it('lays blobs out as blobs/<alg>/<first two hex>/<hex> and leaves no session file behind', async () => {
    const { root, store, done } = await fresh();
    try {
      const bytes = Buffer.from('layout');
      const id = randomUUID();
      await store.createUpload(id);
      await store.appendUpload(id, 0, Readable.from([bytes]));
      const d = digestBytes(bytes);
      await store.commitUpload(id, d);
      const path = join(root, 'blobs', 'sha256', d.hex.slice(0, 2), d.hex);
      assert.deepEqual(await readFile(path), bytes);
      assert.equal(new DiskLayout(root).blobPath(d.value), path);
      assert.deepEqual(await readdir(join(root, 'uploads')), []);

      const d512 = digestBytes(bytes, 'sha512');
      const id2 = randomUUID();
      await store.createUpload(id2);
      await store.appendUpload(id2, 0, Readable.from([bytes]));
      await store.commitUpload(id2, d512);
      assert.ok((await stat(join(root, 'blobs', 'sha512', d512.hex.slice(0, 2), d512.hex))).isFile());
    } finally {
      await done();
    }
  });

  it('creates its directories on open, and opening twice is harmless', async () => {
    const root = join(await mkdtemp(join(tmpdir(), 'stowage-disk-')), 'nested', 'data');
    try {
      await DiskBlobStore.open(root);
      await DiskBlobStore.open(root);
      assert.deepEqual((await readdir(root)).sort(), ['blobs', 'uploads']);
    } finally {
      await rm(join(root, '..', '..'), { recursive: true, force: true });
    }
  });

  it('never turns a session id that is not a UUID into a path', async () => {
    const { store, done } = await fresh();
    try {
      for (const bad of ['../../etc/passwd', '..', 'x', `${randomUUID()}/..`, randomUUID().toUpperCase()]) {
        await assert.rejects(store.createUpload(bad), /invalid upload id/, bad);
        await assert.rejects(store.uploadSize(bad), /invalid upload id/, bad);
      }
      assert.throws(() => new DiskLayout('/data').uploadPath('../blobs'), /invalid upload id/);
    } finally {
      await done();
    }
  });

  it('listUploads ignores stray files that are not session ids', async () => {
    const { root, store, done } = await fresh();
    try {
      const id = randomUUID();
      await store.createUpload(id);
      await writeFile(join(root, 'uploads', '.DS_Store'), 'x');
      await writeFile(join(root, 'uploads', 'notes.txt'), 'x');
      assert.deepEqual(await store.listUploads(), [id]);
    } finally {
      await done();
    }
  });

  it('refuses to create the same session twice', async () => {
    const { store, done } = await fresh();
    try {
      const id = randomUUID();
      await store.createUpload(id);
      await store.appendUpload(id, 0, Readable.from([Buffer.from('keep')]));
      await assert.rejects(store.createUpload(id));
      assert.equal(await store.uploadSize(id), 4);
    } finally {
      await done();
    }
  });

  it('keeps at most maxOpenFiles session files open, closing the least recently used; none while a session is idle after POST', async () => {
    const root = await mkdtemp(join(tmpdir(), 'stowage-disk-'));
    const store = await DiskBlobStore.open(root, { fsync: false, maxOpenFiles: 3 });
    // Descriptors of this process that point into the uploads directory (Linux /proc).
    const openSessionFiles = async () => {
      let n = 0;
      for (const fd of await readdir('/proc/self/fd')) {
        const target = await readlink(join('/proc/self/fd', fd)).catch(() => '');
        if (target.startsWith(join(root, 'uploads') + '/')) n++;
      }
      return n;
    };
    try {
      const ids = Array.from({ length: 10 }, () => randomUUID());
      for (const id of ids) await store.createUpload(id);
      assert.equal(await openSessionFiles(), 0, 'a session that has received nothing holds no descriptor');
      for (const round of [0, 1, 2]) {
        for (const id of round === 1 ? [...ids].reverse() : ids) {
          await store.appendUpload(id, round, Readable.from([Buffer.from(String(round))]));
          assert.ok((await openSessionFiles()) <= 3, `round ${round}: at most 3 session files open`);
        }
      }
      assert.equal(await openSessionFiles(), 3);
      // Every session kept its bytes and running hash across the closes.
      for (const id of ids) {
        assert.equal(await store.uploadSize(id), 3);
        await store.commitUpload(id, digestBytes(Buffer.from('012')));
      }
      assert.equal(await openSessionFiles(), 0, 'committed sessions closed their files');
    } finally {
      await store.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
