/**
 * The layer readers of the UI's API (src/api/content/layer-files.ts) over real tar
 * bytes from the project's tar writer, gzipped or not, streamed in chunks: what they
 * list and show, and that each limit (10,000 entries, 1 MiB of text, the inflate
 * budget) holds and stops the reading early instead of consuming the whole blob.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { goTarEntry, goTarHeader, TAR_TRAILER } from '../../src/gocompat/tar/writer.js';
import { CONTENT_LIMITS } from '../../src/core/file-view.js';
import { listLayerFiles, readLayerFile } from '../../src/api/content/layer-files.js';
import { ContentError } from '../../src/api/content/content-error.js';

const file = (name: string, body: string | Buffer, mode = 0o644) =>
  goTarEntry({ name, type: 'file', mode }, Buffer.isBuffer(body) ? body : Buffer.from(body));
const dir = (name: string) => goTarEntry({ name, type: 'dir', mode: 0o755 }, Buffer.alloc(0));
const tar = (...members: Buffer[]) => Buffer.concat([...members, TAR_TRAILER]);

/** A blob stream in 16 KiB chunks that counts how many bytes the reader pulled from it. */
function source(chunks: Iterable<Buffer> | Buffer): { stream: Readable; consumed: () => number } {
  let consumed = 0;
  const parts: Iterable<Buffer> = Buffer.isBuffer(chunks) ? split(chunks, 16 * 1024) : chunks;
  const stream = Readable.from(
    (function* () {
      for (const p of parts) {
        consumed += p.length;
        yield p;
      }
    })(),
    { highWaterMark: 1 },
  );
  return { stream, consumed: () => consumed };
}

function* split(b: Buffer, n: number): Generator<Buffer> {
  for (let i = 0; i < b.length; i += n) yield b.subarray(i, i + n);
}

const rejectsContent = async (p: Promise<unknown>, code: string, re: RegExp) =>
  assert.rejects(p, (e: unknown) => e instanceof ContentError && e.code === code && re.test(e.message));

describe('layer file listing', () => {
  const layer = tar(
    dir('./app/'),
    file('./app/README.md', '# hi\n'),
    file('app/run.sh', '#!/bin/sh\n', 0o755),
    goTarEntry({ name: 'app/latest', type: 'symlink', mode: 0o777, linkname: 'run.sh' }, Buffer.alloc(0)),
    goTarEntry({ name: 'app/again', type: 'hardlink', mode: 0o644, linkname: 'app/run.sh' }, Buffer.alloc(0)),
    file('/policy/x.rego', 'package x\n'),
  );

  for (const [label, bytes] of [
    ['gzip', gzipSync(layer)],
    ['plain tar', layer],
  ] as const) {
    it(`lists every member with its type, size and mode (${label})`, async () => {
      const src = source(bytes);
      const listing = await listLayerFiles(src.stream);
      assert.deepEqual(listing, {
        truncated: false,
        entries: [
          { path: 'app', type: 'dir', size: 0, mode: 0o755 },
          { path: 'app/README.md', type: 'file', size: 5, mode: 0o644 },
          { path: 'app/run.sh', type: 'file', size: 10, mode: 0o755 },
          { path: 'app/latest', type: 'symlink', size: 0, mode: 0o777, link: 'run.sh' },
          { path: 'app/again', type: 'file', size: 0, mode: 0o644, link: 'app/run.sh' },
          { path: 'policy/x.rego', type: 'file', size: 10, mode: 0o644 },
        ],
      });
      assert.equal(src.stream.destroyed, true, 'the blob stream is released');
    });
  }

  it('stops at 10,000 entries of a 20,000-entry tarball, without reading the rest', async () => {
    const members = Array.from({ length: 20_000 }, (_, i) => file(`f/${i}.txt`, `${i}\n`));
    const bytes = tar(...members);
    const src = source(bytes);
    const listing = await listLayerFiles(src.stream);
    assert.equal(listing.entries.length, CONTENT_LIMITS.entries);
    assert.equal(listing.truncated, true);
    assert.equal(listing.entries.at(-1)!.path, `f/${CONTENT_LIMITS.entries - 1}.txt`);
    assert.ok(src.consumed() < bytes.length * 0.6, `read ${src.consumed()} of ${bytes.length} bytes`);
    assert.equal(src.stream.destroyed, true);
  });

  it('is not truncated at exactly 10,000 entries', async () => {
    const members = Array.from({ length: CONTENT_LIMITS.entries }, (_, i) => file(`f/${i}`, ''));
    const listing = await listLayerFiles(source(gzipSync(tar(...members))).stream);
    assert.equal(listing.entries.length, CONTENT_LIMITS.entries);
    assert.equal(listing.truncated, false);
  });

  it('stops inflating a gzip bomb at the budget and says the listing is truncated', async () => {
    const bomb = gzipBomb();
    const src = source(bomb.chunks);
    const listing = await listLayerFiles(src.stream);
    assert.equal(listing.truncated, true);
    assert.deepEqual(listing.entries, [{ path: 'zeros', type: 'file', size: bomb.fileSize, mode: 0o644 }]);
    // 256 MiB inflated of 4 GiB: about a sixteenth of the compressed bytes.
    assert.ok(src.consumed() < bomb.compressedSize / 8, `read ${src.consumed()} of ${bomb.compressedSize} bytes`);
    await rejectsContent(readLayerFile(source(gzipBomb().chunks).stream, 'after'), 'TOO_LARGE', /past the first/);
  });

  it('refuses what is not a tar archive, or not whole gzip', async () => {
    await rejectsContent(
      listLayerFiles(source(Buffer.from('{"not":"a tarball"}'.repeat(40))).stream),
      'BAD_REQUEST',
      /not a readable tar archive/,
    );
    const gz = gzipSync(tar(file('a', randomBytes(100_000))));
    await rejectsContent(readLayerFile(source(gz.subarray(0, gz.length / 2)).stream, 'b'), 'BAD_REQUEST', /gzip|tar/);
  });
});

describe('one file of a layer', () => {
  it('returns a text file, and renders Markdown to sanitised HTML', async () => {
    const layer = gzipSync(tar(file('docs/a.txt', 'hello\n'), file('docs/README.md', '# T\n\n<script>x</script>')));
    assert.deepEqual(await readLayerFile(source(layer).stream, 'docs/a.txt'), {
      path: 'docs/a.txt',
      size: 6,
      binary: false,
      text: 'hello\n',
      truncated: false,
      html: null,
    });
    const md = await readLayerFile(source(layer).stream, './docs/README.md');
    assert.equal(md.html, '<h1>T</h1>\n<p>&lt;script&gt;x&lt;/script&gt;</p>\n');
  });

  it('reads 1 MiB of a 5 MiB file and stops there', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 'a');
    const bytes = tar(file('big.log', big), file('after', 'x'));
    const src = source(bytes);
    const view = await readLayerFile(src.stream, 'big.log');
    assert.equal(view.size, big.length);
    assert.equal(view.truncated, true);
    assert.equal(view.binary, false);
    assert.equal(view.text!.length, CONTENT_LIMITS.textBytes);
    assert.ok(src.consumed() < 2 * 1024 * 1024, `read ${src.consumed()} of ${bytes.length} bytes`);
    assert.equal(src.stream.destroyed, true);
  });

  it('cuts text on a character boundary', async () => {
    const text = 'é'.repeat(CONTENT_LIMITS.textBytes); // 2 bytes each: twice the limit
    const view = await readLayerFile(source(gzipSync(tar(file('u.txt', text)))).stream, 'u.txt');
    assert.equal(view.truncated, true);
    assert.equal(view.text, 'é'.repeat(CONTENT_LIMITS.textBytes / 2));
  });

  it('says a file is binary instead of returning its bytes', async () => {
    const layer = gzipSync(
      tar(
        file('bin/tool', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2])),
        file('l1', Buffer.from([0xff, 0xfe, 0x41])),
      ),
    );
    for (const p of ['bin/tool', 'l1']) {
      const view = await readLayerFile(source(layer).stream, p);
      assert.equal(view.binary, true, p);
      assert.equal(view.text, null, p);
    }
  });

  it('answers NOT_FOUND for a missing path, BAD_REQUEST for a directory', async () => {
    const layer = gzipSync(tar(dir('d/'), file('d/f', 'x')));
    await rejectsContent(readLayerFile(source(layer).stream, 'nope'), 'NOT_FOUND', /not in the layer/);
    await rejectsContent(readLayerFile(source(layer).stream, 'd'), 'BAD_REQUEST', /directory/);
  });

  it('looks through 10,000 entries at most', async () => {
    const members = Array.from({ length: 20_000 }, (_, i) => file(`f/${i}`, ''));
    const src = source(tar(...members));
    await rejectsContent(readLayerFile(src.stream, 'f/15000'), 'TOO_LARGE', /first 10000 entries/);
    assert.equal((await readLayerFile(source(tar(...members)).stream, 'f/9999')).size, 0);
  });
});

/**
 * A gzip stream of a tar holding one 4 GiB file of zeros: gzip members concatenated
 * (a valid gzip stream), the same 1 MiB-of-zeros member repeated, so it costs a few
 * MiB to hold and nothing to build.
 */
function gzipBomb(): { chunks: Buffer[]; compressedSize: number; fileSize: number } {
  const fileSize = 4 * 1024 * 1024 * 1024;
  const head = gzipSync(goTarHeader({ name: 'zeros', type: 'file', mode: 0o644, size: fileSize }));
  const mib = gzipSync(Buffer.alloc(1024 * 1024));
  const chunks = [
    head,
    ...Array.from({ length: fileSize / (1024 * 1024) }, () => mib),
    gzipSync(tar(file('after', 'x'))),
  ];
  return { chunks, compressedSize: chunks.reduce((n, c) => n + c.length, 0), fileSize };
}
