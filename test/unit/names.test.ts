import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_NAME_LENGTH,
  assertRepositoryName,
  assertTag,
  isValidRepositoryName,
  isValidTag,
} from '../../src/core/names.js';
import { throwsCode } from '../helpers/registry-error.js';

describe('repository name grammar', () => {
  it('accepts what the spec regex accepts', () => {
    for (const ok of [
      'a',
      '0',
      'alpine',
      'library/alpine',
      'bitnami/charts/redis',
      'a.b',
      'a_b',
      'a__b',
      'a-b',
      'a--b',
      'a-----b',
      'a.b_c__d-e',
      'gcr.io/distroless/static-debian12',
      'ghcr.io/fluxcd/source-controller',
      'a/b/c/d/e/f/g',
      '0.1/2_3',
      // Path keywords are legal components: routing must match from the right.
      'team/blobs/x',
      'foo/manifests/bar',
      'v2/tags/list',
      'a/uploads',
      'referrers',
    ]) {
      assert.equal(isValidRepositoryName(ok), true, ok);
      assert.equal(assertRepositoryName(ok), ok);
    }
  });

  it('rejects uppercase, leading/trailing separators and malformed separator runs', () => {
    for (const bad of [
      '',
      'A',
      'Alpine',
      'library/Alpine',
      'a..b',
      'a...b',
      '.a',
      'a.',
      '-a',
      'a-',
      '_a',
      'a_',
      '__a',
      'a__',
      'a___b',
      'a____b',
      'a.-b',
      'a-.b',
      'a_-b',
      'a._b',
      '/a',
      'a/',
      'a//b',
      'a/./b',
      'a/../b',
      '../a',
      '..',
      '.',
      '_catalog',
      '_oci/ext',
      'a b',
      'a:b',
      'a@b',
      'a+b',
      'a\\b',
      'a\nb',
      'a\n',
      'a%2fb',
      'ä',
      'caf\u00e9',
    ]) {
      assert.equal(isValidRepositoryName(bad), false, JSON.stringify(bad));
      throwsCode(() => assertRepositoryName(bad), 'NAME_INVALID');
    }
  });

  it('caps the name at 255 characters', () => {
    assert.equal(MAX_NAME_LENGTH, 255);
    assert.equal(isValidRepositoryName('a'.repeat(255)), true);
    assert.equal(isValidRepositoryName('a'.repeat(256)), false);
    const twoComponents = `${'a'.repeat(127)}/${'b'.repeat(127)}`;
    assert.equal(twoComponents.length, 255);
    assert.equal(isValidRepositoryName(twoComponents), true);
    assert.equal(isValidRepositoryName(`${twoComponents}c`), false);
    throwsCode(
      () => assertRepositoryName('a'.repeat(256)),
      'NAME_INVALID',
      (e) => assert.equal(e.status, 400),
    );
  });

  it('does not echo megabytes back in the error detail', () => {
    throwsCode(
      () => assertRepositoryName('A'.repeat(100_000)),
      'NAME_INVALID',
      (e) => {
        assert.ok((e.detail as { name: string }).name.length <= 300);
      },
    );
  });

  it('refuses pathological separator runs, and never runs the grammar on more than 255 characters', () => {
    // The grammar is unambiguous (separators and components share no character), so
    // matching is linear; the length cap bounds it. No clock: the cap is checked first,
    // which an over-long "name" that cannot even be read shows.
    assert.equal(isValidRepositoryName(`${'a-'.repeat(120)}!`), false);
    assert.equal(isValidRepositoryName(`${'a.'.repeat(127)}`), false);
    assert.equal(isValidRepositoryName(`${'a__'.repeat(80)}`), false);
    const unreadable = {
      length: 256,
      toString(): string {
        throw new Error('the grammar ran on an over-long name');
      },
    } as unknown as string;
    assert.equal(isValidRepositoryName(unreadable), false);
  });
});

describe('tag grammar', () => {
  it('accepts the spec regex, case-sensitive, up to 128 characters', () => {
    for (const ok of [
      'latest',
      'LATEST',
      'v1.0.0',
      'v1.0.0-rc.1',
      '1',
      '_',
      '_x',
      'A',
      'a__b..c--d',
      '0.1.0',
      'sha256-44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
      'sha256-44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a.sig',
      'buildcache',
      'a'.repeat(128),
    ]) {
      assert.equal(isValidTag(ok), true, ok);
      assert.equal(assertTag(ok), ok);
    }
  });

  it('rejects leading . or -, colons, slashes, spaces and overlong tags', () => {
    for (const bad of [
      '',
      '.latest',
      '-latest',
      'a'.repeat(129),
      'v1:2',
      'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
      'a/b',
      'a+b',
      'a b',
      'a@b',
      'ä',
      'x\n',
      '\nx',
    ]) {
      assert.equal(isValidTag(bad), false, JSON.stringify(bad));
      throwsCode(
        () => assertTag(bad),
        'TAG_INVALID',
        (e) => assert.equal(e.status, 400),
      );
    }
  });
});
