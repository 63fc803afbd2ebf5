/** go-yaml v2's Marshal (through sigs.k8s.io/yaml) against what Go writes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goYamlMarshal } from '../../src/gocompat/yaml/marshal.js';

describe('Go YAML, as Helm writes it', () => {
  it('quotes strings that would read back as something else, and picks block styles as go-yaml v2 does', () => {
    const out = goYamlMarshal({
      float: '1.0',
      bool: 'yes',
      empty: '',
      colon: 'foo: bar',
      literal: 'line1\nline2\n',
      keep: 'x\n\n',
      strip: 'a\nb',
      stamp: '2021-10-29T07:02:39.999761537Z',
      hash: 'a #b',
      emoji: '😀',
      tab: 'a\tb',
      int: 100,
      real: 1.5,
      list: [],
      map: {},
      y: 'n',
    });
    assert.equal(
      out,
      [
        'bool: "yes"',
        "colon: 'foo: bar'",
        'emoji: "\\U0001F600"',
        'empty: ""',
        'float: "1.0"',
        "hash: 'a #b'",
        'int: 100',
        'keep: |+',
        '  x',
        '',
        'list: []',
        'literal: |',
        '  line1',
        '  line2',
        'map: {}',
        'real: 1.5',
        'stamp: "2021-10-29T07:02:39.999761537Z"',
        'strip: |-',
        '  a',
        '  b',
        'tab: "a\\tb"',
        '"y": "n"',
        '',
      ].join('\n'),
    );
    // go-yaml's natural key order: non-letters first, digit runs compared as numbers.
    assert.deepEqual(
      Object.keys(
        Object.fromEntries(
          goYamlMarshal({ b10: 1, b9: 1, B: 1, a: 1, _x: 1 })
            .trim()
            .split('\n')
            .map((l) => [l.split(':')[0], 1]),
        ),
      ),
      ['_x', 'B', 'a', 'b9', 'b10'],
    );
  });
});
