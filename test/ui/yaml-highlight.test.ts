/** The UI's YAML highlighter: it keeps the text exactly and tells keys, strings, numbers, booleans and comments apart. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenizeYaml, type Token } from '../../web/yaml-highlight.js';

const VALUES = `# Default values for hello.
replicaCount: 1
image:
  repository: "nginx"   # the image
  tag: ''
  pullPolicy: IfNotPresent
ports: [80, 443]
enabled: true
nothing: null
ratio: 0.25
anchors:
  base: &base
    a: 1
  copy: *base
script: |
  echo "not: a key"
  # not a comment either
after: done
list:
  - name: first
  - second
url: http://example.com:8080/x
`;

function of(type: Token['type'], tokens: Token[]): string[] {
  return tokens.filter((t) => t.type === type).map((t) => t.text);
}

test('the tokens put back together are the text, byte for byte', () => {
  for (const text of [
    VALUES,
    '',
    'a',
    'key:',
    '- - x',
    '"unterminated',
    'a: "b\\"c" # d',
    '---\nx: 1\n...\n',
    '\n\n  \n',
  ]) {
    assert.equal(
      tokenizeYaml(text)
        .map((t) => t.text)
        .join(''),
      text,
    );
  }
});

test('keys, scalars by type, comments, anchors and block scalars', () => {
  const tokens = tokenizeYaml(VALUES);
  assert.deepEqual(of('key', tokens), [
    'replicaCount',
    'image',
    'repository',
    'tag',
    'pullPolicy',
    'ports',
    'enabled',
    'nothing',
    'ratio',
    'anchors',
    'base',
    'a',
    'copy',
    'script',
    'after',
    'list',
    'name',
    'url',
  ]);
  assert.deepEqual(of('comment', tokens), ['# Default values for hello.', '# the image']);
  assert.deepEqual(of('num', tokens), ['1', '0.25', '1']);
  assert.deepEqual(of('bool', tokens), ['true', 'null']);
  assert.deepEqual(of('anchor', tokens), ['&base', '*base']);
  const strings = of('str', tokens);
  assert.ok(strings.includes('"nginx"'));
  assert.ok(strings.includes("''"));
  assert.ok(strings.includes('IfNotPresent'));
  assert.ok(strings.includes('http://example.com:8080/x'), 'a colon inside a URL is not a key');
  // The block scalar's lines are string content, even when they look like a key or a comment.
  assert.ok(strings.includes('  echo "not: a key"'));
  assert.ok(strings.includes('  # not a comment either'));
});
