/**
 * OPA bundles: layout as `opa build` writes it, the checks OPA makes on load, and
 * OPA's own test vectors (shared/reference/vectors/opa).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import {
  BundleError,
  bundleTarball,
  encodeManifest,
  modulePackage,
  overlappingRoots,
  parseManifest,
  readPolicyDir,
  rootsContain,
} from '../../src/policy/bundle.js';
import { makeTempDir, removeDir } from '../helpers/tools.js';
import { PEOPLEFINDER, writePolicyDir } from './fixtures.js';

/** shared/reference/vectors/opa, beside the repository (CI) or under /work/shared. */
function vector(name: string): Buffer {
  for (const base of [
    new URL('../../../../shared/reference/vectors/opa/', import.meta.url).pathname,
    '/work/shared/reference/vectors/opa/',
  ]) {
    const p = path.join(base, name);
    if (existsSync(p)) return readFileSync(p);
  }
  throw new Error(`OPA vector ${name} not found (expected shared/reference/vectors/opa beside the repository)`);
}

describe('OPA bundle layout and checks', () => {
  let work: string;
  before(async () => {
    work = await makeTempDir('policy-bundle');
  });
  after(async () => removeDir(work));

  it('.manifest is re-encoded exactly as opa writes it (OPA’s latest_bundle_data/.manifest)', () => {
    const v = vector('download-testdata-latest_bundle_data.manifest');
    assert.ok(encodeManifest(parseManifest(v)).equals(v));
    assert.equal(
      encodeManifest({ revision: 'r', roots: ['a'], rego_version: 1, metadata: { b: 1, a: '<' } }).toString(),
      '{"revision":"r","roots":["a"],"rego_version":1,"metadata":{"a":"\\u003c","b":1}}\n',
    );
  });

  it('a directory becomes /data.json, other data, modules, then /.manifest last; mode 0600, mtime 0', async () => {
    const dir = path.join(work, 'pf');
    await writePolicyDir(dir, PEOPLEFINDER);
    const b = await readPolicyDir(dir);
    assert.deepEqual(
      b.files.map((f) => f.path),
      ['data.json', 'peoplefinder/roles/data.json', 'peoplefinder/authz.rego', 'peoplefinder/util.rego', '.manifest'],
    );
    assert.deepEqual(b.modules, [
      { path: 'peoplefinder/authz.rego', package: 'peoplefinder.authz' },
      { path: 'peoplefinder/util.rego', package: 'peoplefinder.util-x' },
    ]);
    const tar = gunzipSync(bundleTarball(b.files));
    const names: string[] = [];
    for (let pos = 0; pos + 512 <= tar.length;) {
      const h = tar.subarray(pos, pos + 512);
      if (h.every((x) => x === 0)) break;
      names.push(h.subarray(0, 100).toString('latin1').replace(/\0+$/, ''));
      assert.equal(h.subarray(100, 108).toString('latin1'), '0000600\0');
      assert.equal(h.subarray(136, 148).toString('latin1'), '00000000000\0');
      const size = parseInt(h.subarray(124, 135).toString('latin1'), 8);
      pos += 512 + Math.ceil(size / 512) * 512;
    }
    assert.deepEqual(names, [
      '/data.json',
      '/peoplefinder/roles/data.json',
      '/peoplefinder/authz.rego',
      '/peoplefinder/util.rego',
      '/.manifest',
    ]);
    assert.ok(bundleTarball(b.files).equals(bundleTarball(b.files)), 'deterministic');
  });

  it('without data.json or .manifest: {} is written and no manifest', async () => {
    const dir = path.join(work, 'bare');
    await writePolicyDir(dir, { 'x.rego': 'package x\n' });
    const b = await readPolicyDir(dir, {});
    assert.deepEqual(
      b.files.map((f) => [f.path, f.bytes.toString()]),
      [
        ['data.json', '{}\n'],
        ['x.rego', 'package x\n'],
      ],
    );
    const withRev = await readPolicyDir(dir, { revision: 'abc' });
    assert.equal(withRev.files.at(-1)!.bytes.toString(), '{"revision":"abc"}\n');
  });

  it('refuses what OPA would refuse to load', async () => {
    const cases: [string, Record<string, string>, RegExp][] = [
      ['norego', { 'data.json': '{}' }, /has no \.rego files/],
      ['nopkg', { 'a.rego': 'allow := true\n' }, /no package declaration/],
      [
        'outside',
        { '.manifest': '{"roots":["a"]}', 'b.rego': 'package b\n' },
        /do not permit 'b' in module '\/b\.rego'/,
      ],
      [
        'data',
        { '.manifest': '{"roots":["a"]}', 'a.rego': 'package a\n', 'data.json': '{"a":{},"z":1}' },
        /do not permit data at path '\/z'/,
      ],
      ['overlap', { '.manifest': '{"roots":["a","a/b"]}', 'a.rego': 'package a\n' }, /overlapped roots/],
      ['badjson', { '.manifest': '{roots', 'a.rego': 'package a\n' }, /not valid JSON/],
      ['badroots', { '.manifest': '{"roots":"a"}', 'a.rego': 'package a\n' }, /"roots" must be an array of strings/],
    ];
    for (const [name, files, re] of cases) {
      const dir = path.join(work, name);
      await writePolicyDir(dir, files);
      await assert.rejects(readPolicyDir(dir), (e: unknown) => e instanceof BundleError && re.test(e.message), name);
    }
  });

  it('package paths and roots', () => {
    assert.equal(modulePackage('# c\npackage a.b["c-d"].e\n'), 'a/b/c-d/e');
    assert.equal(modulePackage('x := 1'), undefined);
    assert.ok(rootsContain([''], 'anything'));
    assert.ok(rootsContain(['a/b'], 'a/b/c') && !rootsContain(['a/b'], 'a/bc') && !rootsContain(['a/b'], 'a'));
    assert.deepEqual(overlappingRoots(['x', 'y/z', 'x/q']), ['x', 'x/q']);
    assert.equal(overlappingRoots(['x', 'y']), undefined);
  });
});
