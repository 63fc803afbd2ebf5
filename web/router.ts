/** Client routes (the contract's): `/`, `/signin`, `/r/<name>`, `/r/<name>/-/m/<ref>`, `/r/<name>/-/m/<ref>/files`. */

export type Route =
  | { page: 'repositories'; q: string; kind: string }
  | { page: 'signin'; next: string }
  | { page: 'repository'; name: string }
  | { page: 'artifact'; name: string; ref: string }
  | { page: 'files'; name: string; ref: string; path: string | null; layer: string | null }
  | { page: 'not-found'; path: string };

export function parseRoute(pathname: string, search: string): Route {
  const params = new URLSearchParams(search);
  if (pathname === '/' || pathname === '')
    return { page: 'repositories', q: params.get('q') ?? '', kind: params.get('kind') ?? '' };
  if (pathname === '/signin') return { page: 'signin', next: safeNext(params.get('next')) };
  const m = /^\/r\/(.+?)(?:\/-\/m\/([^/]+)(\/files)?)?\/?$/.exec(pathname);
  if (m) {
    let name: string;
    let ref: string | undefined;
    try {
      name = decodeURIComponent(m[1]!);
      ref = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    } catch {
      return { page: 'not-found', path: pathname };
    }
    if (ref === undefined) return { page: 'repository', name };
    if (m[3]) return { page: 'files', name, ref, path: params.get('path'), layer: params.get('layer') };
    return { page: 'artifact', name, ref };
  }
  return { page: 'not-found', path: pathname };
}

/** Only a path on this site is a place to go back to after signing in. */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export const paths = {
  home: (q = '', kind = '') => {
    const p = new URLSearchParams();
    if (q) p.set('q', q);
    if (kind) p.set('kind', kind);
    const s = p.toString();
    return s ? `/?${s}` : '/';
  },
  signin: (next?: string) => (next && next !== '/' ? `/signin?next=${encodeURIComponent(next)}` : '/signin'),
  repository: (name: string) => `/r/${name}`,
  artifact: (name: string, ref: string) => `/r/${name}/-/m/${ref}`,
  files: (name: string, ref: string, path?: string, layer?: string | null) => {
    const p = new URLSearchParams();
    if (path) p.set('path', path);
    if (layer) p.set('layer', layer);
    const s = p.toString();
    return `/r/${name}/-/m/${ref}/files${s ? `?${s}` : ''}`;
  },
};
