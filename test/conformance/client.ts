/**
 * The HTTP client of the conformance port: what the Go suite gets from
 * bloodorangeio/reggie (over resty and net/http), kept to the parts the specs
 * rely on:
 *   - paths with `<name>`, `<reference>`, `<digest>` placeholders, filled from
 *     the request (or the default namespace); an unknown placeholder such as
 *     `<ref>` stays in the path (percent-encoded, as Go sends it);
 *   - no credentials on the first try; a 401 with a Bearer challenge fetches a
 *     token from the realm with Basic credentials (scope from the challenge, or
 *     OCI_AUTH_SCOPE) and retries once, a Basic challenge retries with Basic;
 *   - Content-Length is always the real body length (net/http ignores a
 *     Content-Length header a caller sets), and POST/PUT/PATCH without a body
 *     send `Content-Length: 0`;
 *   - redirects are followed (Go's default, e.g. a blob GET answered with 307).
 */
import {
  request as httpRequest,
  Agent as HttpAgent,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';

export interface ClientConfig {
  /** Registry root, e.g. http://127.0.0.1:5000 (a trailing slash is dropped). */
  rootUrl: string;
  /** Default repository (OCI_NAMESPACE). */
  namespace: string;
  username?: string;
  password?: string;
  /** Overrides the scope of Bearer token requests (OCI_AUTH_SCOPE). */
  authScope?: string;
  /** Receives a line per request and response when set (OCI_DEBUG). */
  debug?: (line: string) => void;
}

export interface RequestOptions {
  name?: string;
  reference?: string;
  digest?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  body?: Buffer;
}

export interface ErrorInfo {
  code: string;
  message?: string;
  detail?: unknown;
}

export class Response {
  constructor(
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
    readonly body: Buffer,
  ) {}

  header(name: string): string {
    const v = this.headers[name.toLowerCase()];
    return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
  }

  text(): string {
    return this.body.toString('utf8');
  }

  /** reggie's GetRelativeLocation: path and query of the Location header ('' if unparsable). */
  relativeLocation(): string {
    const loc = this.header('Location');
    try {
      const u = new URL(loc, 'http://relative.invalid');
      return u.pathname + u.search;
    } catch {
      return '';
    }
  }

  /** reggie's GetAbsoluteLocation: the Location header as sent. */
  absoluteLocation(): string {
    return this.header('Location');
  }

  /** reggie's Errors(): the OCI error array; throws when the body is not one. */
  errors(): ErrorInfo[] {
    const parsed = JSON.parse(this.text()) as { errors?: ErrorInfo[] };
    if (!Array.isArray(parsed.errors) || parsed.errors.length === 0)
      throw new Error('body was valid json but could not be parsed');
    return parsed.errors;
  }
}

const USER_AGENT = 'distribution-spec-conformance-tests';
const MAX_REDIRECTS = 10;

/** Go's url.EscapedPath keeps these in a path; everything else non-unreserved is escaped. */
function escapePath(path: string): string {
  return path.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/g, (c) => encodeURIComponent(c));
}

export class Client {
  private readonly root: string;
  private readonly agents = {
    http: new HttpAgent({ keepAlive: true }),
    https: new HttpsAgent({ keepAlive: true, rejectUnauthorized: false }),
  };

  constructor(readonly config: ClientConfig) {
    this.root = config.rootUrl.replace(/\/+$/, '');
  }

  get defaultName(): string {
    return this.config.namespace;
  }

  /** Builds the URL as reggie's NewRequest does: placeholders filled, then joined to the root. */
  url(path: string, o: RequestOptions = {}): URL {
    const replacements: Record<string, string | undefined> = {
      '<name>': o.name || this.config.namespace,
      '<reference>': o.reference,
      '<digest>': o.digest,
    };
    for (const [k, v] of Object.entries(replacements)) if (v) path = path.split(k).join(v);
    if (/<name>|<reference>|<digest>|<session_id>/.test(path)) throw new Error(`request is invalid: ${path}`);
    const [p, q] = splitQuery(path.replace(/^\//, ''));
    const url = new URL(`${this.root}/${escapePath(p)}${q === undefined ? '' : `?${q}`}`);
    for (const [k, v] of Object.entries(o.query ?? {})) url.searchParams.set(k, v);
    return url;
  }

  async do(method: string, path: string, o: RequestOptions = {}): Promise<Response> {
    const url = this.url(path, o);
    const first = await this.send(method, url, o.headers ?? {}, o.body);
    if (first.status !== 401) return first;
    const auth = await this.authorization(first);
    if (!auth) return first;
    return this.send(method, url, { ...o.headers, Authorization: auth }, o.body);
  }

  /** Closes kept-alive connections. */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private async authorization(challenged: Response): Promise<string | undefined> {
    const raw = challenged.header('WWW-Authenticate');
    if (!raw) return undefined;
    const { username = '', password = '' } = this.config;
    const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    if (/^basic\b/i.test(raw)) return basic;
    const params: Record<string, string> = {};
    for (const m of raw.matchAll(/([a-zA-Z]+)="(.+?)"/g)) params[m[1]!.toLowerCase()] = m[2]!;
    if (!params.realm) return undefined;
    const tokenUrl = new URL(params.realm);
    if (params.service) tokenUrl.searchParams.set('service', params.service);
    const scope = this.config.authScope || params.scope;
    if (scope) tokenUrl.searchParams.set('scope', scope);
    const res = await this.send('GET', tokenUrl, { Accept: 'application/json', Authorization: basic });
    const body = JSON.parse(res.text()) as { token?: string; access_token?: string };
    const token = body.token || body.access_token;
    return token ? `Bearer ${token}` : undefined;
  }

  private async send(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body?: Buffer,
    hops = 0,
  ): Promise<Response> {
    const res = await this.once(method, url, headers, body);
    const location = res.header('Location');
    if ([301, 302, 303, 307, 308].includes(res.status) && location && hops < MAX_REDIRECTS) {
      // Go keeps the method and body on 307/308 and turns the rest into a body-less GET.
      const keep = res.status === 307 || res.status === 308;
      const next = new URL(location, url);
      const sameHost = next.host === url.host;
      const h = { ...headers };
      if (!sameHost) delete h.Authorization;
      return this.send(keep || method === 'HEAD' ? method : 'GET', next, h, keep ? body : undefined, hops + 1);
    }
    return res;
  }

  private once(method: string, url: URL, headers: Record<string, string>, body?: Buffer): Promise<Response> {
    const out: OutgoingHttpHeaders = { 'User-Agent': USER_AGENT };
    for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() !== 'content-length') out[k] = v;
    if (body !== undefined) out['Content-Length'] = body.length;
    else if (method === 'POST' || method === 'PUT' || method === 'PATCH') out['Content-Length'] = 0;
    const https = url.protocol === 'https:';
    const send = https ? httpsRequest : httpRequest;
    this.config.debug?.(
      `> ${method} ${url.pathname}${url.search} ${JSON.stringify(redact(out))}${body?.length ? ` (${body.length} bytes)` : ''}`,
    );
    return new Promise<Response>((resolve, reject) => {
      const req = send(url, { method, headers: out, agent: https ? this.agents.https : this.agents.http }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const r = new Response(res.statusCode ?? 0, res.headers, Buffer.concat(chunks));
          this.config.debug?.(
            `< ${r.status} ${JSON.stringify(res.headers)} ${r.body.length > 0 && r.body.length < 2048 ? r.text() : `(${r.body.length} bytes)`}`,
          );
          resolve(r);
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}

function splitQuery(path: string): [string, string | undefined] {
  const i = path.indexOf('?');
  return i < 0 ? [path, undefined] : [path.slice(0, i), path.slice(i + 1)];
}

function redact(h: OutgoingHttpHeaders): OutgoingHttpHeaders {
  return h.Authorization ? { ...h, Authorization: '<redacted>' } : h;
}
