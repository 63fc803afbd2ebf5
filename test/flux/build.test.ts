/**
 * The Flux artifact tarball: byte-identical to what Go's archive/tar + compress/gzip
 * write for the same tree (fixtures/golden.json), header fields, order, ignore rules,
 * single files, and stable digests.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { buildArtifact, collectEntries } from '../../src/flux/build.js';
import { splitUSTARPath } from '../../src/gocompat/tar/format.js';
import { goTarHeader } from '../../src/gocompat/tar/writer.js';
import { DEFAULT_IGNORE_PATHS, IgnoreMatcher, goMatch, splitIgnorePaths } from '../../src/flux/ignore.js';
import { makeTempDir, removeDir } from '../helpers/tools.js';
import { TREES, materialize } from './fixtures.js';

const golden = JSON.parse(
  readFileSync(new URL('../../../test/flux/fixtures/golden.json', import.meta.url), 'utf8'),
) as {
  trees: Record<string, { size: number; digest: string; diffId: string; base64?: string }>;
};

interface Header {
  name: string;
  mode: string;
  uid: string;
  gid: string;
  size: number;
  mtime: string;
  typeflag: string;
  magic: string;
  uname: string;
  gname: string;
  devmajor: string;
}

/** The raw USTAR fields of every header block of an uncompressed tar. */
function headers(tar: Buffer): Header[] {
  const out: Header[] = [];
  const str = (b: Buffer, o: number, l: number) => b.subarray(o, o + l).toString('latin1');
  for (let pos = 0; pos + 512 <= tar.length;) {
    const h = tar.subarray(pos, pos + 512);
    if (h.every((x) => x === 0)) break;
    const size = parseInt(str(h, 124, 11), 8);
    const prefix = str(h, 345, 155).replace(/\0+$/, '');
    const name = str(h, 0, 100).replace(/\0+$/, '');
    out.push({
      name: prefix ? `${prefix}/${name}` : name,
      mode: str(h, 100, 8),
      uid: str(h, 108, 8),
      gid: str(h, 116, 8),
      size,
      mtime: str(h, 136, 12),
      typeflag: str(h, 156, 1),
      magic: str(h, 257, 8),
      uname: str(h, 265, 32),
      gname: str(h, 297, 32),
      devmajor: str(h, 329, 8),
    });
    pos += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

describe('flux artifact tarball', () => {
  let work: string;
  before(async () => {
    work = await makeTempDir('flux-build');
    for (const spec of TREES) await materialize(spec, path.join(work, spec.name));
  });
  after(async () => removeDir(work));

  for (const spec of TREES) {
    for (const variant of ['all', 'default-ignore'] as const) {
      it(`is byte-identical to Go's archive/tar + gzip: ${spec.name} (${variant})`, async () => {
        const out = path.join(work, `${spec.name}-${variant}.tgz`);
        const r = await buildArtifact(path.join(work, spec.name), out, variant === 'all' ? { ignorePaths: [] } : {});
        const want = golden.trees[`${spec.name}/${variant}`]!;
        assert.equal(r.digest, want.digest);
        assert.equal(r.diffId, want.diffId);
        assert.equal(r.size, want.size);
        const bytes = await readFile(out);
        if (want.base64) assert.equal(bytes.toString('base64'), want.base64);
        assert.equal(`sha256:${createHash('sha256').update(bytes).digest('hex')}`, want.digest);
        assert.equal((await stat(out)).mode & 0o777, 0o640, 'written with mode 0640, as flux does');
      });
    }
  }

  it('headers: "." root, names without trailing /, raw modes, uid/gid 0, mtime 0, empty names, USTAR', async () => {
    const tar = gunzipSync(await readFile(path.join(work, 'kustomize-default-ignore.tgz')));
    const hs = headers(tar);
    assert.deepEqual(
      hs.map((h) => h.name),
      [
        '.',
        'README.md',
        'deploy',
        'deploy/base',
        'deploy/base/deployment.yaml',
        'deploy/base/kustomization.yaml',
        'deploy/base/service.yaml',
        'deploy/overlays',
        'deploy/overlays/prod',
        'deploy/overlays/prod/kustomization.yaml',
        'deploy/overlays/prod/patch.yaml',
        'docs',
        'docs/index.md',
        'scripts',
        'scripts/render.sh',
      ],
    );
    const by = new Map(hs.map((h) => [h.name, h]));
    assert.equal(by.get('.')!.mode, '0000755\0');
    assert.equal(by.get('deploy/overlays/prod')!.mode, '0000750\0');
    assert.equal(by.get('deploy/overlays/prod/patch.yaml')!.mode, '0000600\0');
    assert.equal(by.get('scripts/render.sh')!.mode, '0000755\0');
    for (const h of hs) {
      assert.equal(h.uid, '0000000\0');
      assert.equal(h.gid, '0000000\0');
      assert.equal(h.mtime, '00000000000\0');
      assert.equal(h.magic, 'ustar\x0000');
      assert.equal(h.uname, '\0'.repeat(32));
      assert.equal(h.gname, '\0'.repeat(32));
      assert.equal(h.devmajor, '0000000\0');
      assert.equal(h.typeflag, h.name === '.' || !h.name.includes('.') ? '5' : '0');
    }
    // Two zero blocks end the archive, with no padding to a 10 KiB record.
    const blocks = hs.reduce((n, h) => n + 1 + Math.ceil(h.size / 512), 0);
    assert.equal(tar.length, blocks * 512 + 1024);
    assert.ok(tar.subarray(tar.length - 1024).every((b) => b === 0));
  });

  it('headers: setuid/setgid/sticky kept, long names split at the last possible "/", PAX for the rest', async () => {
    const tar = gunzipSync(await readFile(path.join(work, 'edge-all.tgz')));
    const hs = headers(tar);
    const by = new Map(hs.map((h) => [h.name, h]));
    assert.equal(by.get('sticky')!.mode, '0001777\0');
    assert.equal(by.get('setgid')!.mode, '0002755\0');
    assert.equal(by.get('setgid/tool')!.mode, '0004755\0');
    assert.ok(by.has(`${'d'.repeat(70)}/${'f'.repeat(60)}.yaml`), 'split into prefix + name');
    const pax = hs.filter((h) => h.typeflag === 'x').map((h) => h.name);
    assert.deepEqual(
      pax,
      ['PaxHeaders.0/café', 'café/PaxHeaders.0/naïve.yaml', `PaxHeaders.0/${'n'.repeat(120)}.yaml`].map((n) =>
        [...n]
          .filter((c) => c.charCodeAt(0) < 0x80)
          .join('')
          .slice(0, 100),
      ),
    );
    // Byte order of names: "B.yaml" < "a-b.yaml" < "a.yaml"; symlinks and FIFOs are left out.
    const names = hs.filter((h) => h.typeflag !== 'x').map((h) => h.name);
    assert.ok(
      names.indexOf('B.yaml') < names.indexOf('a-b.yaml') && names.indexOf('a-b.yaml') < names.indexOf('a.yaml'),
    );
    assert.ok(!names.includes('link.yaml') && !names.includes('pipe'));
    assert.deepEqual(splitUSTARPath(`${'a'.repeat(50)}/${'b'.repeat(50)}/${'c'.repeat(50)}`), {
      prefix: `${'a'.repeat(50)}/${'b'.repeat(50)}`,
      suffix: 'c'.repeat(50),
    });
    assert.equal(goTarHeader({ name: 'x', type: 'file', mode: 0o644, size: 0 }).length, 512);
  });

  it('is reproducible: the same tree gives the same digest on every build, whatever the file times', async () => {
    const dir = path.join(work, 'kustomize');
    const a = await buildArtifact(dir, path.join(work, 'r1.tgz'));
    await utimes(path.join(dir, 'README.md'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    const b = await buildArtifact(dir, path.join(work, 'r2.tgz'));
    assert.equal(a.digest, b.digest);
    assert.equal(a.digest, golden.trees['kustomize/default-ignore']!.digest);
  });

  it('a single file is staged as flux ≥ 2.9 does: "." (0700) and the file under the umask', async () => {
    const file = path.join(work, 'single.yaml');
    await writeFile(file, 'kind: Namespace\n');
    await chmod(file, 0o666);
    const entries = await collectEntries(file, { umask: 0o022 });
    assert.deepEqual(
      entries.map((e) => [e.name, e.type, e.mode.toString(8)]),
      [
        ['.', 'dir', '700'],
        ['single.yaml', 'file', '644'],
      ],
    );
    const png = path.join(work, 'pic.png');
    await writeFile(png, 'x');
    assert.deepEqual(
      (await collectEntries(png)).map((e) => e.name),
      ['.'],
      'the default ignore patterns apply to the file too',
    );
  });

  it('a --path that is a symlink to a directory archives the directory', async () => {
    const link = path.join(work, 'link-to-kustomize');
    await symlink(path.join(work, 'kustomize'), link);
    const r = await buildArtifact(link, path.join(work, 'via-link.tgz'));
    assert.equal(r.digest, golden.trees['kustomize/default-ignore']!.digest);
  });

  it('refuses a missing path with a hint', async () => {
    await assert.rejects(collectEntries(path.join(work, 'nope')), /source path does not exist/);
  });
});

describe('ignore patterns (fluxcd/pkg sourceignore, go-git matcher)', () => {
  const m = (patterns: string[]) => new IgnoreMatcher(patterns);

  it('defaults exclude VCS files and binaries at any depth', () => {
    const d = m(DEFAULT_IGNORE_PATHS);
    for (const [p, dir] of [
      ['.git', true],
      ['.git/config', false],
      ['sub/.git/HEAD', false],
      ['.gitignore', false],
      ['a/b/logo.PNG', false],
      ['a/b/logo.png', false],
      ['x.tar.gz', false],
      ['y.zip', false],
    ] as const) {
      assert.equal(d.excludes(p, dir), p !== 'a/b/logo.PNG', p);
    }
    assert.equal(d.excludes('.git', false), false, '.git/ only matches directories');
    assert.equal(d.excludes('deploy/app.yaml', false), false);
  });

  it('simple names match any component; slashes anchor; ** spans directories; last match wins', () => {
    assert.equal(m(['foo']).excludes('a/foo/b.yaml', false), true);
    assert.equal(m(['/foo']).excludes('a/foo', true), false);
    assert.equal(m(['/foo']).excludes('foo/x', false), true);
    assert.equal(m(['a/**/z.yaml']).excludes('a/z.yaml', false), true);
    assert.equal(m(['a/**/z.yaml']).excludes('a/b/c/z.yaml', false), true);
    assert.equal(m(['a/**/z.yaml']).excludes('b/z.yaml', false), false);
    assert.equal(m(['**/secret.yaml']).excludes('x/y/secret.yaml', false), true);
    assert.equal(m(['*.yaml', '!keep.yaml']).excludes('d/keep.yaml', false), false);
    assert.equal(m(['!keep.yaml', '*.yaml']).excludes('d/keep.yaml', false), true);
    assert.equal(m(['dir/']).excludes('dir', false), false);
    assert.equal(m(['dir/']).excludes('dir', true), true);
    assert.equal(m(['# comment', '', '  ']).patterns.length, 0);
    assert.equal(m(['trailing   ']).excludes('trailing', false), true);
  });

  it('excluded directories are not pruned: children are tested one by one', async () => {
    const work = await makeTempDir('flux-ignore');
    try {
      await mkdir(path.join(work, 'skip'));
      await writeFile(path.join(work, 'skip', 'keep.yaml'), 'k');
      await writeFile(path.join(work, 'skip', 'drop.yaml'), 'd');
      const names = (await collectEntries(work, { ignorePaths: ['/skip', '!keep.yaml'] })).map((e) => e.name);
      assert.deepEqual(names, ['.', 'skip/keep.yaml']);
    } finally {
      await removeDir(work);
    }
  });

  it('Go filepath.Match: classes, negation, escapes, bad patterns never match', () => {
    assert.equal(goMatch('*.y?ml', 'a.yaml'), true);
    assert.equal(goMatch('[a-c]*', 'beta'), true);
    assert.equal(goMatch('[^a-c]*', 'beta'), false);
    assert.equal(goMatch('\\*', '*'), true);
    assert.equal(goMatch('[', '['), false);
    assert.equal(goMatch('a[', 'a['), false);
    assert.equal(goMatch('ü?', 'üx'), true);
  });

  it('--ignore-paths values are comma-separated and repeatable (cobra StringSlice)', () => {
    assert.deepEqual(splitIgnorePaths(['a,b', 'c', '"d,e",f']), ['a', 'b', 'c', 'd,e', 'f']);
  });
});
