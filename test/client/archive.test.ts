/** The tar code and archive detection, offline. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import zlib, { gzipSync } from 'node:zlib';
import { indexTar, resolveMember } from '../../src/client/archive/tar-index.js';
import { TarWriter } from '../../src/gocompat/tar/writer.js';
import { ImageArchive, type ClientError } from '../../src/client/index.js';
import { createSimpleLayout, createTar, randomLayer, readTar, writeDockerArchive } from '../helpers/oci-fixtures.js';
import { makeTempDir, removeDir, which } from '../helpers/tools.js';
import { writeContainerdArchive, writeDocker25Archive } from './helpers.js';

describe('tar', () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir('client-tar');
  });
  after(async () => {
    await removeDir(dir);
  });

  it('writes what a tar reader reads: streamed bodies, long paths via PAX, directories, symlinks', async () => {
    const file = path.join(dir, 'w.tar');
    const out = createWriteStream(file);
    const tar = new TarWriter(out);
    const long = `${'deep/'.repeat(40)}file.txt`;
    await tar.add({ name: 'a.txt', type: 'file', mode: 0o644 }, Buffer.from('hello'));
    await tar.add({ name: 'dir/', type: 'dir', mode: 0o755 });
    await tar.add(
      { name: 'dir/streamed.bin', type: 'file', mode: 0o644, size: 3000 },
      Readable.from([Buffer.alloc(1000, 1), Buffer.alloc(2000, 2)]),
    );
    await tar.add({ name: long, type: 'file', mode: 0o644 }, Buffer.from('long'));
    await tar.add({ name: 'link', type: 'symlink', mode: 0o777, linkname: 'dir/streamed.bin' });
    await tar.finish();
    out.end();
    await finished(out);
    const members = readTar(await readFile(file));
    assert.deepEqual(
      members.map((m) => [m.path, m.type]),
      [
        ['a.txt', 'file'],
        ['dir/', 'dir'],
        ['dir/streamed.bin', 'file'],
        [long, 'file'],
        ['link', 'symlink'],
      ],
    );
    assert.equal(members[2]!.data.length, 3000);
    const index = await indexTar(file);
    assert.equal(index.get(long)?.size, 4);
    const resolved = resolveMember(index, 'link');
    assert.equal(resolved?.path, 'dir/streamed.bin');
    const bytes = (await readFile(file)).subarray(resolved!.offset, resolved!.offset + resolved!.size);
    assert.equal(bytes.subarray(999, 1001).toString('hex'), '0102');
  });

  it('refuses a stream that does not deliver the announced size', async () => {
    const tar = new TarWriter(createWriteStream(path.join(dir, 'bad.tar')));
    await assert.rejects(
      tar.add({ name: 'x', type: 'file', mode: 0o644, size: 10 }, Readable.from([Buffer.alloc(5)])),
      /5 bytes instead of the announced 10/,
    );
  });

  it('indexes ./-prefixed names and keeps symlinks from escaping the archive', async () => {
    const file = path.join(dir, 'odd.tar');
    await writeFile(
      file,
      createTar([
        { path: './manifest.json', data: '[]' },
        { path: 'evil', type: 'symlink', linkname: '../../etc/passwd' },
        { path: 'a/b/up', type: 'symlink', linkname: '../../manifest.json' },
      ]),
    );
    const index = await indexTar(file);
    assert.ok(index.has('manifest.json'));
    assert.equal(resolveMember(index, 'evil'), undefined);
    assert.equal(resolveMember(index, 'a/b/up')?.path, 'manifest.json');
  });
});

describe('archive detection', () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir('client-archive');
  });
  after(async () => {
    await removeDir(dir);
  });

  it('tells the generations apart and names their images', async () => {
    const { image } = await createSimpleLayout(path.join(dir, 'layout'), { tag: 'v1' });
    const layout = await ImageArchive.open(path.join(dir, 'layout'));
    assert.equal(layout.format, 'oci-layout');
    assert.deepEqual(
      layout.images.map((i) => [i.names, i.id]),
      [[['v1'], image.digest]],
    );
    await layout.close();

    await writeDockerArchive(path.join(dir, 'legacy.tar'), {
      layers: [randomLayer('x')],
      repoTags: ['app:v1', 'app:latest'],
    });
    const legacy = await ImageArchive.open(path.join(dir, 'legacy.tar'));
    assert.equal(legacy.format, 'docker-save-legacy');
    assert.deepEqual(legacy.images[0]!.names, ['app:v1', 'app:latest']);
    assert.equal(legacy.select('docker.io/library/app:latest'), legacy.images[0]);
    await legacy.close();

    const d25 = await writeDocker25Archive(path.join(dir, 'd25.tar'), { repoTags: ['app:v1', 'app:v2'] });
    const v25 = await ImageArchive.open(d25.file);
    assert.equal(v25.format, 'docker-save-oci');
    assert.equal(v25.images.length, 1, 'one image with two names');
    assert.deepEqual(v25.images[0]!.names, ['docker.io/library/app:v1', 'v1', 'docker.io/library/app:v2', 'v2']);
    await v25.close();

    const ctr = await writeContainerdArchive(path.join(dir, 'ctr.tar'), {
      name: 'multi:v1',
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
      present: 1,
    });
    await writeFile(path.join(dir, 'ctr.tar.gz'), gzipSync(await readFile(ctr.file)));
    const gz = await ImageArchive.open(path.join(dir, 'ctr.tar.gz'));
    assert.equal(gz.format, 'docker-save-oci');
    const prepared = await gz.prepare(gz.select('multi:v1'));
    assert.notEqual(prepared.root.digest, ctr.indexDigest, 'a partial index is rebuilt');
    assert.match(prepared.notes[0]!, /1 of the 2 manifests/);
    await gz.close();
  });

  // Node ≥ 22.15 decompresses zstd itself; Node 20 and 22.14 call the zstd program.
  const nodeZstd = typeof (zlib as unknown as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';

  it('reads zstd-compressed archives (through the zstd program where Node cannot)', async () => {
    assert.ok(which('zstd'), 'the zstd program is missing: apt-get install zstd (scripts/test.sh installs it)');
    const plain = path.join(dir, 'z.tar');
    await writeDockerArchive(plain, { layers: [randomLayer('z')], repoTags: ['z:v1'] });
    execFileSync('zstd', ['-q', '-f', plain, '-o', `${plain}.zst`]);
    const a = await ImageArchive.open(`${plain}.zst`);
    assert.deepEqual(a.images[0]!.names, ['z:v1']);
    assert.equal((await a.prepare(a.select())).root.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    await a.close();
  });

  it(
    'says to install zstd when the program is missing',
    { skip: nodeZstd && 'this Node decompresses zstd itself: no program to miss' },
    async () => {
      const file = path.join(dir, 'nozstd.tar.zst');
      await writeFile(file, Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]));
      const saved = process.env.PATH;
      process.env.PATH = path.join(dir, 'no-programs-here');
      try {
        await assert.rejects(ImageArchive.open(file), /`zstd` program is not installed: install it or decompress/);
      } finally {
        process.env.PATH = saved;
      }
    },
  );

  it('explains what is wrong with unusable input', async () => {
    const check = async (name: string, content: Buffer | string, pattern: RegExp) => {
      await writeFile(path.join(dir, name), content);
      await assert.rejects(
        ImageArchive.open(path.join(dir, name)),
        (e: ClientError) => e.code === 'ARCHIVE_INVALID' && pattern.test(e.message),
        name,
      );
    };
    await check('text.txt', 'hello, not a tar', /neither a tar archive nor a directory/);
    await check('empty-tar.tar', createTar([{ path: 'readme', data: 'x' }]), /neither index.json/);
    await check('old.tar', createTar([{ path: 'repositories', data: '{}' }]), /pre-Docker-1.10/);
    await check('bad-json.tar', createTar([{ path: 'manifest.json', data: '[{' }]), /not valid JSON/);
    await check(
      'corrupt.tar.gz',
      Buffer.concat([gzipSync(Buffer.alloc(2048)).subarray(0, 20), Buffer.alloc(100, 7)]),
      /corrupt gzip|neither/,
    );
    await assert.rejects(ImageArchive.open(path.join(dir, 'nope.tar')), /no such file/);
  });

  it('asks which image when an archive holds several', async () => {
    const file = path.join(dir, 'two.tar');
    await writeDockerArchive(file, { layers: [randomLayer('y')], repoTags: ['one:v1'] });
    const layoutDir = path.join(dir, 'two-layout');
    const { layout } = await createSimpleLayout(layoutDir, { tag: 'a' });
    await layout.addImage({ layers: [randomLayer('z')], tag: 'b' });
    const a = await ImageArchive.open(layoutDir);
    assert.throws(
      () => a.select(),
      (e: ClientError) => e.code === 'ARCHIVE_AMBIGUOUS' && e.usage && /a, b/.test(e.message),
    );
    assert.equal(a.select('b').names[0], 'b');
    assert.throws(
      () => a.select('c'),
      (e: ClientError) => e.code === 'ARCHIVE_IMAGE_NOT_FOUND' && /a, b/.test(e.hint ?? ''),
    );
    await a.close();
  });
});
