/**
 * Checks that HTML built from pushed content is inert in a browser: only the tags and
 * attributes the Markdown renderer writes, no event handler, every link and image of
 * a safe kind (src/core/links.ts).
 */
import assert from 'node:assert/strict';
import { safeHref } from '../../src/core/links.js';

/** Every tag of `html` and its attributes (the renderer's output is regular enough to scan). */
export function tagsOf(html: string): { name: string; attrs: Record<string, string> }[] {
  const out: { name: string; attrs: Record<string, string> }[] = [];
  for (const m of html.matchAll(/<\/?([a-zA-Z0-9]+)([^>]*)>/g)) {
    const attrs: Record<string, string> = {};
    for (const a of m[2]!.matchAll(/([^\s=]+)(?:="([^"]*)")?/g)) attrs[a[1]!.toLowerCase()] = a[2] ?? '';
    out.push({ name: m[1]!.toLowerCase(), attrs });
  }
  return out;
}

const ALLOWED_TAGS = new Set(
  'p h1 h2 h3 h4 h5 h6 a img em strong code pre blockquote ul ol li hr br table thead tbody tr th td s'.split(' '),
);
const ALLOWED_ATTRS = new Set([
  'href',
  'src',
  'alt',
  'title',
  'rel',
  'class',
  'loading',
  'referrerpolicy',
  'start',
  'style',
]);

/** The HTML is inert: known tags, no event handlers, every link and image of a safe kind. */
export function assertInert(html: string): void {
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /<(iframe|object|embed|svg|math|form|input|style|base|meta|link)\b/i);
  for (const t of tagsOf(html)) {
    assert.ok(ALLOWED_TAGS.has(t.name), `tag <${t.name}>`);
    for (const [k, v] of Object.entries(t.attrs)) {
      assert.ok(ALLOWED_ATTRS.has(k) && !k.startsWith('on'), `attribute ${k} on <${t.name}>`);
      assert.doesNotMatch(v, /javascript:|data:|vbscript:/i, `${k}="${v}"`);
      if (k === 'style') assert.match(v, /^text-align:(left|right|center)$/);
    }
    if (t.attrs.href !== undefined) assert.ok(safeHref(t.attrs.href.replace(/&amp;/g, '&')), t.attrs.href);
    if (t.attrs.src !== undefined) assert.match(t.attrs.src, /^https?:\/\//);
  }
}
