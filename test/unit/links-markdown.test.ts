/**
 * What pushed content may turn into in a viewer's browser: the link rules
 * (src/core/links.ts), the Markdown renderer (src/api/content/markdown.ts) fed the
 * usual script-injection tricks, and the text view of file bytes (src/core/file-view.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { httpUrl, revisionCommit, safeHref, sourceLink } from '../../src/core/links.js';
import { looksBinary, textView, utf8Boundary } from '../../src/core/file-view.js';
import { renderMarkdown } from '../../src/api/content/markdown.js';
import { assertInert } from '../helpers/html-inert.js';

describe('safe links', () => {
  it('allows http(s), mailto, relative paths and fragments', () => {
    for (const ok of [
      'https://example.com/a?b#c',
      'http://x.y',
      'mailto:a@b.c',
      'docs/a.md',
      '../up.md',
      '/abs',
      '#top',
      '?q=1',
    ])
      assert.equal(safeHref(ok), ok, ok);
  });
  it('refuses every other scheme, however it is disguised', () => {
    for (const bad of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      ' javascript:alert(1)',
      'java\tscript:alert(1)',
      'java\nscript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      'file:///etc/passwd',
      '//evil.example/x',
      '\\\\evil.example\\x',
      'a:b/c',
      'https://',
      '',
    ])
      assert.equal(safeHref(bad), undefined, JSON.stringify(bad));
  });
  it('image sources and chart links are absolute http(s) only', () => {
    assert.equal(httpUrl('https://x.y/i.png'), 'https://x.y/i.png');
    for (const bad of ['/i.png', 'data:image/png;base64,AAAA', 'javascript:1', undefined, ''])
      assert.equal(httpUrl(bad), undefined, String(bad));
  });
});

describe('Flux source links', () => {
  const sha = '0123456789abcdef0123456789abcdef01234567';
  it('links the commit on GitHub, GitLab (nested groups), Bitbucket and Codeberg', () => {
    assert.equal(
      sourceLink('https://github.com/org/app.git', `main@sha1:${sha}`),
      `https://github.com/org/app/commit/${sha}`,
    );
    assert.equal(
      sourceLink('https://gitlab.com/g/sub/app', `v1.0.0@sha1:${sha}`),
      `https://gitlab.com/g/sub/app/-/commit/${sha}`,
    );
    assert.equal(
      sourceLink('https://bitbucket.org/team/app/', `sha1:${sha}`),
      `https://bitbucket.org/team/app/commits/${sha}`,
    );
    assert.equal(sourceLink('https://codeberg.org/o/r', `main/${sha}`), `https://codeberg.org/o/r/commit/${sha}`);
  });
  it('links the repository when the revision names no commit', () => {
    assert.equal(sourceLink('https://github.com/org/app', 'v1.2.3'), 'https://github.com/org/app');
  });
  it('makes no link for other hosts, other schemes, or odd paths', () => {
    for (const src of [
      'http://github.com/org/app',
      'ssh://git@github.com/org/app',
      'git@github.com:org/app.git',
      'https://example.com/org/app',
      'https://github.com/org',
      'https://github.com/a/b/c',
      'https://user:pw@github.com/org/app',
      'https://github.com:8443/org/app',
      'https://github.com/org/app%22onmouseover=x',
      'javascript:alert(1)',
    ])
      assert.equal(sourceLink(src, `sha1:${sha}`), undefined, src);
    assert.equal(sourceLink(undefined, 'x'), undefined);
  });
  it('reads the commit of each revision format', () => {
    assert.equal(revisionCommit(`main@sha1:${sha}`), sha);
    assert.equal(revisionCommit(`refs/heads/main@sha256:${'a'.repeat(64)}`), 'a'.repeat(64));
    assert.equal(revisionCommit(sha.toUpperCase()), sha);
    assert.equal(revisionCommit('main'), undefined);
  });
});

describe('Markdown rendering', () => {
  const attacks = [
    '<script>alert(1)</script>',
    '[x](javascript:alert(1))',
    '<img src=x onerror=alert(1)>',
    '[r][a]\n\n[a]: javascript:alert(2)',
    '<javascript:alert(3)>',
    '![i](javascript:alert(4))',
    '![i](data:image/svg+xml;base64,PHN2Zz4=)',
    '[d](data:text/html,<script>alert(5)</script>)',
    '[v](JaVaScRiPt:alert(6))',
    '[e](&#106;avascript:alert(7))',
    '[t](java&#x09;script:alert(8))',
    '<a href="javascript:alert(9)">y</a>',
    '<div onmouseover="alert(10)">hover</div>',
    '```js" onload="alert(11)\ncode\n```',
    '[x](https://ok.example "t\\" onmouseover=\\"alert(12)")',
    '<svg><script>alert(13)</script></svg>',
    '<iframe src="https://evil.example"></iframe>',
    '| a |\n|:-:|\n| <b onclick=alert(14)>b</b> |',
  ];
  it('the inertness check itself refuses live HTML', () => {
    for (const live of [
      '<script>1</script>',
      '<a href="javascript:x">y</a>',
      '<img src="x" onerror="y">',
      '<div>z</div>',
    ])
      assert.throws(() => assertInert(live), live);
  });
  for (const md of attacks) {
    it(`renders inert: ${JSON.stringify(md)}`, () => assertInert(renderMarkdown(md)));
  }
  it('keeps ordinary Markdown: headings, safe links, http(s) images, code', () => {
    const html = renderMarkdown(
      '# Title\n\nSee [docs](docs/a.md), [site](https://example.com) and ![logo](https://example.com/l.png).\n\n```yaml\na: 1\n```\n',
    );
    assert.match(html, /<h1>Title<\/h1>/);
    assert.match(html, /<a href="docs\/a.md" rel="nofollow noopener noreferrer">docs<\/a>/);
    assert.match(html, /<a href="https:\/\/example.com" rel="nofollow noopener noreferrer">site<\/a>/);
    assert.match(html, /<img src="https:\/\/example.com\/l.png" alt="logo"/);
    assert.match(html, /<pre><code class="language-yaml">a: 1\n<\/code><\/pre>/);
    assertInert(html);
  });
  it('shows the alt text of an image that is not http(s)', () => {
    assert.equal(renderMarkdown('![the logo](logo.png)'), '<p>the logo</p>\n');
  });
});

describe('text view of file bytes', () => {
  it('finds UTF-8 character boundaries', () => {
    const b = Buffer.from('aé€😀');
    assert.equal(utf8Boundary(b, 2), 1);
    assert.equal(utf8Boundary(b, 3), 3);
    assert.equal(utf8Boundary(b, 5), 3);
    assert.equal(utf8Boundary(b, 6), 6);
    assert.equal(utf8Boundary(b, 9), 6);
    assert.equal(utf8Boundary(b, 10), 10);
  });
  it('calls NUL bytes and invalid UTF-8 binary, but not a character cut at a limit', () => {
    assert.equal(looksBinary(Buffer.from('plain\n')), false);
    assert.equal(looksBinary(Buffer.from([0x61, 0, 0x62])), true);
    assert.equal(looksBinary(Buffer.from([0xc3, 0x28])), true);
    assert.equal(looksBinary(Buffer.from('aé').subarray(0, 2), false), false);
  });
  it('drops a BOM and marks text cut at the limit', () => {
    assert.deepEqual(textView(Buffer.from('\ufeffhi'), 5), { text: 'hi', binary: false, truncated: false });
    assert.deepEqual(textView(Buffer.from('abcdef'), 6, 4), { text: 'abcd', binary: false, truncated: true });
  });
});
