/**
 * Serves the web UI built into the package: the compiled front end (dist/web/*.js)
 * and its page, styles and icon (web/). Everything is read once at start (a few
 * hundred KB) and held in memory, with gzip precomputed. Assets live under
 * `/assets/<build hash>/`, so they can be cached for a year; the page itself is
 * revalidated (ETag) on every load. Every other path outside the APIs gets the page
 * (the client routes). A strict CSP: only this origin's scripts and styles run.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { UiMount } from '../http/ui-mount.js';

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/**
 * The UI's own paths: its client routes (web/router.ts) and its assets. Everything else,
 * `/v1/` probes and typos included, stays the registry's: an OCI 404, never a page.
 */
const UI_PATHS = /^\/(?:|signin|r\/.+|assets\/.+)$/;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.html': 'text/html; charset=utf-8',
};

interface Asset {
  body: Buffer;
  gzip: Buffer;
  type: string;
  etag: string;
}

/** Where the package keeps the UI: compiled scripts in dist/web, the page and styles in web/. */
export function defaultUiDirs(): { scripts: string; statics: string } {
  // This file runs as dist/src/ui/static-ui.js.
  return {
    scripts: fileURLToPath(new URL('../../web/', import.meta.url)),
    statics: fileURLToPath(new URL('../../../web/', import.meta.url)),
  };
}

function asset(body: Buffer, type: string): Asset {
  return {
    body,
    gzip: gzipSync(body, { level: 9 }),
    type,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
  };
}

async function filesOf(dir: string, exts: readonly string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const name of (await readdir(dir)).sort()) {
    if (exts.includes(extname(name))) out.set(name, await readFile(join(dir, name)));
  }
  return out;
}

export class StaticUi implements UiMount {
  private constructor(
    private readonly page: Asset,
    private readonly assets: Map<string, Asset>,
    /** `/assets/<build hash>/` */
    readonly prefix: string,
  ) {}

  /** Reads the built UI; fails when the build is missing (index.html or main.js). */
  static async load(dirs = defaultUiDirs()): Promise<StaticUi> {
    const files = new Map([
      ...(await filesOf(dirs.scripts, ['.js', '.map'])),
      ...(await filesOf(dirs.statics, ['.css', '.svg'])),
    ]);
    if (!files.has('main.js')) throw new Error(`the web UI is not built: no main.js in ${dirs.scripts}`);
    const template = await readFile(join(dirs.statics, 'index.html'), 'utf8');
    // The build hash covers every asset: a new build means new URLs, so old caches never mix in.
    const build = createHash('sha256');
    for (const [name, body] of files) build.update(name).update('\0').update(body).update('\0');
    const prefix = `/assets/${build.digest('hex').slice(0, 16)}/`;
    const assets = new Map<string, Asset>();
    for (const [name, body] of files) assets.set(name, asset(body, TYPES[extname(name)] ?? 'application/octet-stream'));
    // Every module is preloaded, so the browser fetches them in parallel, not import by import.
    const preload = [...files.keys()]
      .filter((n) => n.endsWith('.js') && n !== 'main.js')
      .map((n) => `<link rel="modulepreload" href="${prefix}${n}" />`)
      .join('\n    ');
    const html = template.replaceAll('%ASSETS%/', prefix).replace('%PRELOAD%', preload);
    return new StaticUi(asset(Buffer.from(html), TYPES['.html']!), assets, prefix);
  }

  owns(method: string, path: string): boolean {
    return (method === 'GET' || method === 'HEAD') && UI_PATHS.test(path);
  }

  handle(req: IncomingMessage, res: ServerResponse, path: string): void {
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    if (path.startsWith('/assets/')) {
      const found = path.startsWith(this.prefix) ? this.assets.get(path.slice(this.prefix.length)) : undefined;
      if (!found) {
        // An asset of another build (or none): a 404, never the page in a script's place.
        res.statusCode = 404;
        res.setHeader('Cache-Control', 'no-store');
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.end(req.method === 'HEAD' ? undefined : 'not found\n');
        return;
      }
      res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      this.send(req, res, found);
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    this.send(req, res, this.page);
  }

  private send(req: IncomingMessage, res: ServerResponse, a: Asset): void {
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) && a.gzip.length < a.body.length;
    // The gzip bytes are another representation: another ETag.
    const etag = gzip ? `${a.etag.slice(0, -1)}-gz"` : a.etag;
    res.setHeader('ETag', etag);
    res.setHeader('Vary', 'Accept-Encoding');
    res.setHeader('Content-Type', a.type);
    const inm = req.headers['if-none-match'];
    if (inm && inm.split(',').some((t) => t.trim() === etag || t.trim() === `W/${etag}`)) {
      res.statusCode = 304;
      res.end();
      return;
    }
    const body = gzip ? a.gzip : a.body;
    if (gzip) res.setHeader('Content-Encoding', 'gzip');
    res.setHeader('Content-Length', body.length);
    res.statusCode = 200;
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}
