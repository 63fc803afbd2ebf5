/**
 * Go's archive/tar, both ways: the writer against tar streams Go wrote (the Helm
 * vectors; the flux trees of test/flux/fixtures/golden.json are checked in
 * test/flux/build.test.ts), the reader against every header form the archives
 * Stowage reads use (USTAR prefix, PAX, GNU long names, base-256) and what it refuses.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { BLOCK, formatOctal, formatString, parseString, setUstarFormat } from '../../src/gocompat/tar/format.js';
import { TarError, TarReader, looksLikeTar, type TarEntry } from '../../src/gocompat/tar/reader.js';
import {
  TAR_TRAILER,
  TarHeaderError,
  goTarEntry,
  goTarHeader,
  tarPadding,
  type TarHeader,
} from '../../src/gocompat/tar/writer.js';
import { vector } from '../chart/helpers.js';
import { makeTempDir, removeDir } from '../helpers/tools.js';

async function readAll(tar: TarReader): Promise<(TarEntry & { data: Buffer })[]> {
  const out: (TarEntry & { data: Buffer })[] = [];
  for (let e = await tar.next(); e; e = await tar.next()) out.push({ ...e, data: await tar.readBody() });
  return out;
}

const fromBytes = (b: Buffer, chunk = 700) =>
  TarReader.fromStream(
    Readable.from(
      Array.from({ length: Math.ceil(b.length / chunk) }, (_, i) => b.subarray(i * chunk, (i + 1) * chunk)),
    ),
  );

/** A raw header block, for the forms Go's writer never produces (GNU, sparse). */
function rawBlock(name: string, typeflag: string, size: number): Buffer {
  const b = Buffer.alloc(BLOCK);
  formatString(b, 'name', name);
  formatOctal(b, 'mode', 0o644);
  formatOctal(b, 'uid', 0);
  formatOctal(b, 'gid', 0);
  formatOctal(b, 'size', size);
  formatOctal(b, 'mtime', 0);
  b.write(typeflag, 156, 'latin1');
  setUstarFormat(b);
  return b;
}

const withBody = (h: Buffer, body: Buffer) => Buffer.concat([h, body, tarPadding(body.length)]);

describe('Go tar writer', () => {
  for (const name of ['oci-dependent-chart-0.1.0.tgz', 'signtest-0.1.0.tgz']) {
    it(`writes the tar Go wrote for ${name}, header for header`, async () => {
      const real = gunzipSync(vector(name));
      const entries = await readAll(fromBytes(real));
      const mine = Buffer.concat([
        ...entries.map((e) => goTarEntry({ name: e.name, type: 'file', mode: e.mode, mtime: e.mtime }, e.data)),
        TAR_TRAILER,
      ]);
      assert.ok(mine.equals(real));
    });
  }

  it('prefers USTAR (prefix split), and PAX records sorted for what USTAR cannot hold', () => {
    const split = `${'d'.repeat(120)}/f.yaml`;
    const u = goTarHeader({ name: split, type: 'file', mode: 0o644, size: 1 });
    assert.equal(u.length, BLOCK);
    assert.equal(parseString(u, 'prefix'), 'd'.repeat(120));
    assert.equal(parseString(u, 'name'), 'f.yaml');

    const p = goTarHeader({
      name: 'dir/ünïcode',
      type: 'symlink',
      mode: 0o777,
      linkname: 'l'.repeat(101),
      mtime: 8 ** 11,
    });
    assert.equal(String.fromCharCode(p[156]!), 'x');
    assert.equal(parseString(p, 'name'), 'dir/PaxHeaders.0/ncode');
    const records = p.subarray(BLOCK, BLOCK + parseInt(parseString(p, 'size'), 8)).toString('utf8');
    assert.equal(records, `115 linkpath=${'l'.repeat(101)}\n20 mtime=8589934592\n22 path=dir/ünïcode\n`);
    const main = p.subarray(2 * BLOCK);
    assert.equal(parseString(main, 'name'), 'dir/ncode', 'the ASCII remnant');
    assert.equal(parseString(main, 'mtime'), '00000000000', 'a value that does not fit is written as 0');
    assert.equal(main.subarray(148, 156).toString('latin1').slice(6), '\0 ');
  });

  it('rounds ModTime to the second and writes a zero ModTime as 0', () => {
    assert.equal(
      parseString(goTarHeader({ name: 'a', type: 'file', mode: 0o644, mtime: 1700000000.5 }), 'mtime'),
      (1700000001).toString(8),
    );
    assert.equal(parseString(goTarHeader({ name: 'a', type: 'file', mode: 0o644 }), 'mtime'), '00000000000');
  });

  it('refuses what Go refuses', () => {
    assert.throws(() => goTarHeader({ name: 'a/', type: 'file', mode: 0o644 }), TarHeaderError);
    assert.throws(() => goTarHeader({ name: 'a\0b', type: 'file', mode: 0o644 }), TarHeaderError);
  });
});

describe('tar reader', () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir('gocompat-tar');
  });
  after(async () => removeDir(dir));

  const sample = (): Buffer => {
    const h = (x: Omit<TarHeader, 'size'>, body = Buffer.alloc(0)) => goTarEntry(x, body);
    return Buffer.concat([
      h({ name: 'dir/', type: 'dir', mode: 0o755 }),
      h({ name: 'dir/a.txt', type: 'file', mode: 0o600, mtime: 1234 }, Buffer.from('hello')),
      h({ name: `${'long/'.repeat(40)}x`, type: 'file', mode: 0o644 }, Buffer.alloc(1500, 7)),
      h({ name: 'café.yaml', type: 'file', mode: 0o644 }, Buffer.from('non-ascii')),
      h({ name: 'link', type: 'symlink', mode: 0o777, linkname: 't'.repeat(150) }),
      withBody(rawBlock('././@LongLink', 'L', 201), Buffer.from(`${'g'.repeat(200)}\0`)),
      h({ name: 'ignored-by-gnu-name', type: 'file', mode: 0o644 }, Buffer.from('gnu')),
      withBody(rawBlock('././@LongLink', 'K', 120), Buffer.from('k'.repeat(120))),
      h({ name: 'hard', type: 'hardlink', mode: 0o644, linkname: 'short' }),
      TAR_TRAILER,
    ]);
  };

  const check = (entries: (TarEntry & { data?: Buffer })[]) => {
    assert.deepEqual(
      entries.map((e) => [e.name, e.type, e.size]),
      [
        ['dir/', 'dir', 0],
        ['dir/a.txt', 'file', 5],
        [`${'long/'.repeat(40)}x`, 'file', 1500],
        ['café.yaml', 'file', 9],
        ['link', 'symlink', 0],
        ['g'.repeat(200), 'file', 3],
        ['hard', 'hardlink', 0],
      ],
    );
    assert.equal(entries[1]!.mode, 0o600);
    assert.equal(entries[1]!.mtime, 1234);
    assert.equal(entries[4]!.linkname, 't'.repeat(150));
    assert.equal(entries[6]!.linkname, 'k'.repeat(120));
  };

  it('reads USTAR prefixes, PAX and GNU long names and links from a stream, in any chunking', async () => {
    for (const chunk of [1, 511, 512, 700, 1 << 16]) {
      const entries = await readAll(fromBytes(sample(), chunk));
      check(entries);
      assert.equal(entries[2]!.data.length, 1500);
      assert.equal(entries[5]!.data.toString(), 'gnu');
    }
  });

  it('reads a file by seeking over bodies, with each body’s offset', async () => {
    const file = path.join(dir, 'sample.tar');
    const bytes = sample();
    await writeFile(file, bytes);
    const tar = await TarReader.fromFile(file);
    const entries: TarEntry[] = [];
    for (let e = await tar.next(); e; e = await tar.next()) entries.push(e);
    await tar.close();
    check(entries);
    assert.equal(bytes.subarray(entries[1]!.offset, entries[1]!.offset + 5).toString(), 'hello');
  });

  it('skips what a consumer leaves unread, also mid-body', async () => {
    const tar = fromBytes(sample());
    const names: string[] = [];
    for (let e = await tar.next(); e; e = await tar.next()) {
      names.push(e.name);
      if (e.size > 1000) for await (const _ of tar.body()) break;
    }
    assert.equal(names.length, 7);
  });

  it('refuses sparse files, malformed and oversized records, bad checksums and truncation', async () => {
    const refuse = async (b: Buffer, re: RegExp) =>
      assert.rejects(readAll(fromBytes(b)), (e: Error) => e instanceof TarError && re.test(e.message));
    await refuse(Buffer.concat([rawBlock('sparse', 'S', 0), TAR_TRAILER]), /sparse/);
    const paxSparse = Buffer.from('22 GNU.sparse.major=1\n');
    await refuse(
      Buffer.concat([
        withBody(rawBlock('PaxHeaders.0/x', 'x', paxSparse.length), paxSparse),
        rawBlock('x', '0', 0),
        TAR_TRAILER,
      ]),
      /sparse/,
    );
    const bad = Buffer.from('99 path=x\n');
    await refuse(
      Buffer.concat([withBody(rawBlock('PaxHeaders.0/x', 'x', bad.length), bad), rawBlock('x', '0', 0), TAR_TRAILER]),
      /malformed PAX/,
    );
    await refuse(
      Buffer.concat([rawBlock('PaxHeaders.0/x', 'x', (1 << 20) + 1), Buffer.alloc((1 << 20) + 512)]),
      /oversized/,
    );
    const damaged = sample();
    damaged[10] = 0x41;
    await refuse(damaged, /checksum/);
    await refuse(sample().subarray(0, 3 * BLOCK + 100), /truncated/);
    await refuse(sample().subarray(0, 700), /truncated/);
  });

  it('sniffs tar headers', () => {
    assert.ok(looksLikeTar(sample().subarray(0, BLOCK)));
    assert.ok(!looksLikeTar(Buffer.alloc(BLOCK)));
    assert.ok(!looksLikeTar(Buffer.alloc(BLOCK, 0x41)));
  });
});
