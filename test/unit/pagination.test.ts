import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePageRequest } from '../../src/core/pagination.js';
import { throwsCode } from '../helpers/registry-error.js';

describe('pagination query (n, last)', () => {
  it('reads absent and empty values as "not given"', () => {
    assert.deepEqual(parsePageRequest(null, null), {});
    assert.deepEqual(parsePageRequest('', ''), {});
    assert.deepEqual(parsePageRequest(null, ''), {});
  });

  it('reads n as a non-negative integer, including 0 and leading zeros', () => {
    assert.deepEqual(parsePageRequest('10', null), { n: 10 });
    assert.deepEqual(parsePageRequest('0', null), { n: 0 });
    assert.deepEqual(parsePageRequest('007', null), { n: 7 });
    assert.deepEqual(parsePageRequest('9007199254740991', null), { n: Number.MAX_SAFE_INTEGER });
  });

  it('passes last through verbatim (it is a value, not an index)', () => {
    assert.deepEqual(parsePageRequest('2', 'v1.0'), { n: 2, last: 'v1.0' });
    assert.deepEqual(parsePageRequest(null, 'library/alpine'), { last: 'library/alpine' });
    assert.deepEqual(parsePageRequest(null, '0'), { last: '0' });
  });

  it('answers a bad n with PAGINATION_NUMBER_INVALID (400)', () => {
    for (const n of [
      '-1',
      'abc',
      '1.5',
      '1e3',
      ' 1',
      '1 ',
      '+1',
      '0x10',
      'NaN',
      'Infinity',
      '99999999999999999999',
      '１',
    ]) {
      throwsCode(
        () => parsePageRequest(n, null),
        'PAGINATION_NUMBER_INVALID',
        (e) => {
          assert.equal(e.status, 400);
          assert.deepEqual(e.detail, { n });
        },
      );
    }
  });
});
