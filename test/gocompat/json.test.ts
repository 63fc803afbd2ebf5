/** encoding/json's Marshal against what Go writes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GoStruct, goJsonMarshal } from '../../src/gocompat/json.js';

describe('Go JSON (encoding/json)', () => {
  it('writes JSON with encoding/json escaping and field order', () => {
    assert.equal(
      goJsonMarshal(
        new GoStruct([
          ['z', '<a & b>'],
          ['a', { y: 1, x: '\u2028' }],
        ]),
      ),
      '{"z":"\\u003ca \\u0026 b\\u003e","a":{"x":"\\u2028","y":1}}',
    );
  });
});
