/**
 * Markdown from pushed artifacts (a chart's README, a *.md file) rendered to HTML a
 * browser can show without running anything: markdown-it with raw HTML off (so
 * `<script>`, `<img onerror>` and every other tag arrive as text), links only
 * http(s), mailto, relative or #fragment (src/core/links.ts), images only absolute
 * http(s), and every link marked rel="nofollow noopener noreferrer". The renderer
 * writes no attribute but href, src, alt, title, rel, loading, referrerpolicy and a
 * code fence's class (language-…, escaped).
 */
import MarkdownIt from 'markdown-it';
import { safeHref, safeImageSrc } from '../../core/links.js';

const md = new MarkdownIt({ html: false, linkify: false, typographer: false });

// Links the parser may make at all (inline, reference, autolink): the safe kinds only.
md.validateLink = (url: string) => safeHref(url) !== undefined;

const escapeHtml = md.utils.escapeHtml;

// Checked again where HTML is written, so no rule added later can slip a link past.
md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
  const token = tokens[idx]!;
  const href = safeHref(token.attrGet('href') ?? '');
  const title = token.attrGet('title');
  token.attrs = [];
  if (href !== undefined) token.attrSet('href', href);
  if (title) token.attrSet('title', title);
  token.attrSet('rel', 'nofollow noopener noreferrer');
  return self.renderToken(tokens, idx, options);
};

md.renderer.rules.image = (tokens, idx, options, env, self) => {
  const token = tokens[idx]!;
  const alt = self.renderInlineAsText(token.children ?? [], options, env);
  const src = safeImageSrc(token.attrGet('src') ?? '');
  if (src === undefined) return escapeHtml(alt);
  const title = token.attrGet('title');
  return `<img src="${escapeHtml(src)}" alt="${escapeHtml(alt)}"${title ? ` title="${escapeHtml(title)}"` : ''} loading="lazy" referrerpolicy="no-referrer">`;
};

/** Sanitised HTML for a Markdown document. */
export function renderMarkdown(text: string): string {
  return md.render(text);
}
