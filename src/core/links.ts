/**
 * Links built from what users push (README links and images, chart home pages, a Flux
 * artifact's source): only kinds that cannot run script in a viewer's browser.
 *
 *   safeHref        http(s), mailto, a relative path or a #fragment; nothing else
 *   httpUrl         absolute http(s) only (also what safeImageSrc allows)
 *   sourceLink      a Flux source + revision → the commit (or the repository) on a known
 *                   git host, https only
 */

/** C0 controls and space: browsers drop or skip them inside a scheme ("java\tscript:"). */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0020\u007f]/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/** The link when it is http(s), mailto, relative or a fragment; undefined otherwise. */
export function safeHref(raw: string): string | undefined {
  const href = raw.trim();
  if (href === '' || CONTROLS.test(href) || href.includes('\\')) return undefined;
  if (href.startsWith('#')) return href;
  const scheme = SCHEME.exec(href)?.[1]?.toLowerCase();
  if (scheme === 'mailto') return href;
  if (scheme === 'http' || scheme === 'https') return absoluteHttp(href);
  if (scheme !== undefined) return undefined;
  // "//host" is another site in disguise; a colon before the first / ? # would read as a scheme somewhere.
  if (href.startsWith('//')) return undefined;
  const firstSegment = href.split(/[/?#]/, 1)[0]!;
  if (firstSegment.includes(':')) return undefined;
  return href;
}

/** An absolute http(s) URL (a chart's home page, icon, sources); undefined otherwise. */
export function httpUrl(raw: string | undefined): string | undefined {
  const src = (raw ?? '').trim();
  if (CONTROLS.test(src) || src.includes('\\')) return undefined;
  return /^https?:/i.test(src) ? absoluteHttp(src) : undefined;
}

/** An image source rendered Markdown may load: absolute http(s) only. */
export const safeImageSrc = (raw: string): string | undefined => httpUrl(raw);

function absoluteHttp(href: string): string | undefined {
  try {
    const u = new URL(href);
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.hostname === '') return undefined;
    return href;
  } catch {
    return undefined;
  }
}

/** The git hosts a source link is made for, and where each shows a commit. */
const GIT_HOSTS: Readonly<Record<string, { commit: (sha: string) => string; nestedGroups?: true }>> = {
  'github.com': { commit: (sha) => `/commit/${sha}` },
  'gitlab.com': { commit: (sha) => `/-/commit/${sha}`, nestedGroups: true },
  'bitbucket.org': { commit: (sha) => `/commits/${sha}` },
  'codeberg.org': { commit: (sha) => `/commit/${sha}` },
};

const SEGMENT = /^[A-Za-z0-9._-]+$/;

/** The commit of a Flux revision: "main@sha1:<hex>", "sha1:<hex>", "main/<hex>" (flux < 2.1), or bare hex. */
export function revisionCommit(revision: string): string | undefined {
  const m =
    /(?:^|@)sha(?:1|256):([0-9a-f]{7,64})$/i.exec(revision) ??
    /^(?:[^@]*\/)?([0-9a-f]{40}|[0-9a-f]{64})$/i.exec(revision);
  return m?.[1]?.toLowerCase();
}

/**
 * Where a Flux artifact's source and revision are shown: the commit page on GitHub,
 * GitLab, Bitbucket or Codeberg (the repository page when the revision names no
 * commit), for https sources only; undefined for any other source.
 */
export function sourceLink(source: string | undefined, revision: string | undefined): string | undefined {
  if (!source) return undefined;
  let u: URL;
  try {
    u = new URL(source.trim());
  } catch {
    return undefined;
  }
  if (u.protocol !== 'https:' || u.username || u.password || u.port) return undefined;
  const host = GIT_HOSTS[u.hostname.toLowerCase()];
  if (!host) return undefined;
  const parts = u.pathname
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .split('/')
    .filter((p) => p !== '');
  // owner/repository (GitLab: group/…/repository).
  if (parts.length < 2 || (parts.length > 2 && !host.nestedGroups) || !parts.every((p) => SEGMENT.test(p)))
    return undefined;
  const base = `https://${u.hostname.toLowerCase()}/${parts.join('/')}`;
  const sha = revision ? revisionCommit(revision) : undefined;
  return sha ? `${base}${host.commit(sha)}` : base;
}
