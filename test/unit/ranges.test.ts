import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseContentRange, parseRangeHeader, uploadRangeHeader } from '../../src/core/ranges.js';
import { throwsCode } from '../helpers/registry-error.js';

function unsatisfiable(header: string, size: number): void {
  throwsCode(
    () => parseRangeHeader(header, size),
    'RANGE_INVALID',
    (e) => {
      assert.equal(e.status, 416);
      assert.deepEqual(e.headers, { 'Content-Range': `bytes */${size}` });
    },
  );
}

describe('Range request header (blob GET)', () => {
  it('resolves the forms clients send', () => {
    // containerd resume / parallel pulls: bytes=<offset>-
    assert.deepEqual(parseRangeHeader('bytes=0-', 100), { start: 0, end: 99 });
    assert.deepEqual(parseRangeHeader('bytes=42-', 100), { start: 42, end: 99 });
    assert.deepEqual(parseRangeHeader('bytes=99-', 100), { start: 99, end: 99 });
    assert.deepEqual(parseRangeHeader('bytes=0-0', 100), { start: 0, end: 0 });
    assert.deepEqual(parseRangeHeader('bytes=10-19', 100), { start: 10, end: 19 });
    assert.deepEqual(parseRangeHeader('bytes=0-99', 100), { start: 0, end: 99 });
  });

  it('clamps a last position beyond the end', () => {
    assert.deepEqual(parseRangeHeader('bytes=10-1000', 100), { start: 10, end: 99 });
    assert.deepEqual(parseRangeHeader('bytes=0-99999999999999999999999', 100), { start: 0, end: 99 });
  });

  it('resolves suffix ranges', () => {
    assert.deepEqual(parseRangeHeader('bytes=-1', 100), { start: 99, end: 99 });
    assert.deepEqual(parseRangeHeader('bytes=-10', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRangeHeader('bytes=-100', 100), { start: 0, end: 99 });
    assert.deepEqual(parseRangeHeader('bytes=-5000', 100), { start: 0, end: 99 });
  });

  it('is lenient about case and whitespace', () => {
    assert.deepEqual(parseRangeHeader('Bytes=1-2', 10), { start: 1, end: 2 });
    assert.deepEqual(parseRangeHeader('BYTES = 1 - 2 ', 10), { start: 1, end: 2 });
  });

  it('answers 416 with Content-Range bytes */size when nothing can be served', () => {
    unsatisfiable('bytes=100-', 100);
    unsatisfiable('bytes=100-200', 100);
    unsatisfiable('bytes=5000-', 100);
    unsatisfiable('bytes=99999999999999999999-', 100);
    unsatisfiable('bytes=-0', 100);
    // An empty blob has no byte to serve.
    unsatisfiable('bytes=0-', 0);
    unsatisfiable('bytes=0-0', 0);
    unsatisfiable('bytes=-1', 0);
  });

  it('ignores the header (whole blob, 200) when it is absent, foreign, multi-range or malformed', () => {
    for (const h of [
      undefined,
      '',
      'bytes=',
      'bytes=-',
      'items=0-5',
      'bytes=0-1,3-4',
      'bytes=a-b',
      'bytes 0-5',
      'bytes=5-2',
      'bytes=1-2-3',
      '0-5',
    ]) {
      assert.equal(parseRangeHeader(h, 100), undefined, JSON.stringify(h));
    }
  });
});

describe('Content-Range on upload chunks', () => {
  it('parses the spec form <start>-<end>, inclusive', () => {
    assert.deepEqual(parseContentRange('0-0'), { start: 0, end: 0 });
    assert.deepEqual(parseContentRange('0-1023'), { start: 0, end: 1023 });
    assert.deepEqual(parseContentRange('1024-2047'), { start: 1024, end: 2047 });
  });

  it('refuses the forms the spec does not write (bytes prefix, /total suffix)', () => {
    assert.deepEqual(parseContentRange(' 5-9 '), { start: 5, end: 9 });
    for (const h of ['bytes 0-9/10', 'bytes=0-9', 'BYTES 10-19/*', '10-19/20', 'bytes 0-1023/1024']) {
      throwsCode(
        () => parseContentRange(h),
        'RANGE_INVALID',
        (e) => assert.equal(e.status, 416),
      );
    }
  });

  it('refuses malformed, reversed and absurd ranges with RANGE_INVALID', () => {
    for (const h of [
      '',
      '5',
      '5-',
      '-5',
      '9-5',
      'a-b',
      '0x1-2',
      '1.5-2',
      '0-9/x',
      '0-9/',
      '0--1',
      '0-9-10',
      'bytes=-5',
      '1 - 2',
      '99999999999999999999-99999999999999999999',
    ]) {
      throwsCode(
        () => parseContentRange(h),
        'RANGE_INVALID',
        (e) => assert.equal(e.status, 416),
      );
    }
  });

  it('does not echo huge headers back', () => {
    throwsCode(
      () => parseContentRange('x'.repeat(10_000)),
      'RANGE_INVALID',
      (e) => {
        assert.ok((e.detail as { contentRange: string }).contentRange.length <= 100);
      },
    );
  });
});

describe('upload progress Range header', () => {
  it('is 0-<last byte>, and 0-0 for an empty session (what clients are built against)', () => {
    assert.equal(uploadRangeHeader(0), '0-0');
    assert.equal(uploadRangeHeader(1), '0-0');
    assert.equal(uploadRangeHeader(2), '0-1');
    assert.equal(uploadRangeHeader(1024), '0-1023');
    assert.equal(uploadRangeHeader(5 * 1024 ** 3), `0-${5 * 1024 ** 3 - 1}`);
  });

  it('always matches the %d-%d shape docker parses, never a bytes= prefix or 0--1', () => {
    for (const n of [0, 1, 7, 1_000_000]) assert.match(uploadRangeHeader(n), /^0-\d+$/);
  });
});
