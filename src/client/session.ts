/**
 * One registry host as the client sees it: which scheme reaches it, how it wants to
 * be authenticated, and the tokens earned so far.
 *
 * First contact is `GET /v2/` (docker's ping). Plain HTTP is tried first for loopback
 * hosts and with --insecure (after HTTPS without verification); other hosts get HTTPS
 * with verification. The ping's answer decides the auth mode:
 *   200                     anonymous (a later 401 with a challenge still switches modes)
 *   401 Basic               `Authorization: Basic` with the stored user and password
 *   401 Bearer realm=…      tokens from the realm, per scope set: GET with Basic
 *                           credentials and repeated `scope=` parameters, or POST
 *                           grant_type=refresh_token when an identity token is stored;
 *                           cached until shortly before `expires_in`, fetched again when
 *                           a request is answered 401 (expired, revoked, or more scope
 *                           needed — the challenge's `scope` is added).
 */
import { formatScope, parseScopes, type ResourceScope } from '../core/scope.js';
import { pickChallenge, parseChallenges, type Challenge } from './challenge.js';
import type { Credential, CredentialProvider } from './credentials.js';
import { ClientError, clientError } from './errors.js';
import {
  errorCode,
  isTlsError,
  isTransient,
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  type TlsMode,
} from './http.js';
import { apiHost, isLoopback } from './reference.js';

export type { ResourceScope };

export type AuthMode = { kind: 'none' } | { kind: 'basic' } | { kind: 'bearer'; realm: string; service?: string };

export interface SessionOptions {
  transport: HttpTransport;
  credentials: CredentialProvider;
  /** Allow plain HTTP and unverified TLS for this host. */
  insecure: boolean;
  onWarning?: (message: string) => void;
}

export interface LoginResult {
  /** False when the registry asked for no credentials at all (nothing to verify). */
  verified: boolean;
  scheme: AuthMode['kind'];
  /** A refresh token the token service handed out (stored instead of the password, like docker). */
  identityToken?: string;
}

interface CachedToken {
  token: string;
  scopes: ResourceScope[];
  expiresAt: number;
}

export interface SessionRequest extends Omit<HttpRequest, 'url' | 'tls'> {
  /** A path on the registry ("/v2/…") or an absolute URL (an upload Location). */
  url: string | URL;
  /** The access this request needs (for tokens). */
  scopes: ResourceScope[];
}

export function repositoryScope(repository: string, ...actions: string[]): ResourceScope {
  return { type: 'repository', name: repository, actions };
}

export const CATALOG_SCOPE: ResourceScope = { type: 'registry', name: 'catalog', actions: ['*'] };

function covers(have: readonly ResourceScope[], want: readonly ResourceScope[]): boolean {
  return want.every((w) =>
    have.some(
      (h) =>
        h.type === w.type &&
        h.name === w.name &&
        (h.actions.includes('*') || w.actions.every((a) => h.actions.includes(a))),
    ),
  );
}

function mergeScopes(scopes: readonly ResourceScope[]): ResourceScope[] {
  return parseScopes(scopes.map(formatScope));
}

function basicHeader(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
}

/** The message of a registry or token-service error body, if it has one. */
export async function errorDetail(res: HttpResponse): Promise<{ code?: string; message?: string }> {
  try {
    const text = await res.text(64 * 1024);
    const doc = JSON.parse(text) as {
      errors?: { code?: string; message?: string }[];
      details?: string;
      error?: string;
      error_description?: string;
    };
    const first = doc.errors?.[0];
    if (first)
      return { ...(first.code ? { code: first.code } : {}), ...(first.message ? { message: first.message } : {}) };
    const message = doc.details ?? doc.error_description ?? doc.error;
    return typeof message === 'string' ? { message } : {};
  } catch {
    return {};
  }
}

export class RegistrySession {
  readonly registry: string;
  private readonly host: string;
  private readonly opts: SessionOptions;
  private base: URL | undefined;
  private tls: TlsMode = 'verify';
  private mode: AuthMode = { kind: 'none' };
  private ready: Promise<void> | undefined;
  private credential: Promise<Credential | undefined> | undefined;
  private tokens: CachedToken[] = [];
  private readonly inflight = new Map<string, Promise<CachedToken>>();

  constructor(registry: string, opts: SessionOptions) {
    this.registry = registry;
    this.host = apiHost(registry);
    this.opts = opts;
  }

  /** The stored credentials for this registry (looked up once). */
  credentials(): Promise<Credential | undefined> {
    this.credential ??= this.opts.credentials.get(this.registry);
    return this.credential;
  }

  async hasCredentials(): Promise<boolean> {
    return (await this.credentials()) !== undefined;
  }

  get authMode(): AuthMode {
    return this.mode;
  }

  /** Pings the registry once: learns its scheme and auth mode. */
  ensureReady(): Promise<void> {
    this.ready ??= this.probe().catch((e: unknown) => {
      this.ready = undefined;
      throw e;
    });
    return this.ready;
  }

  /** The registry's base URL ("http://localhost:5000/"), once ready. */
  get baseUrl(): URL {
    if (!this.base) throw new Error('session not ready');
    return this.base;
  }

  /** Sends a request with the auth the registry asked for; retries once after a 401 that a new token can fix. */
  async request(req: SessionRequest): Promise<HttpResponse> {
    await this.ensureReady();
    const url = typeof req.url === 'string' ? new URL(req.url, this.baseUrl) : req.url;
    const sameOrigin = url.origin === this.baseUrl.origin;
    let scopes = mergeScopes(req.scopes);
    // `retry: false` marks a body that cannot be sent twice (an upload chunk): the caller recovers.
    const replayable =
      req.retry !== false && (req.body === undefined || typeof req.body === 'function' || Buffer.isBuffer(req.body));
    for (let attempt = 0; ; attempt++) {
      const authorization = sameOrigin ? await this.authorization(scopes) : undefined;
      const headers = { ...req.headers, ...(authorization ? { Authorization: authorization } : {}) };
      const res = await this.opts.transport.send({ ...req, url, headers, tls: this.tls });
      if (res.status !== 401 || attempt > 0 || !sameOrigin || !replayable) return res;
      const challenge = pickChallenge(parseChallenges(res.headerAll('www-authenticate')));
      if (!challenge || !this.adopt(challenge, scopes)) return res;
      if (challenge.scheme === 'bearer' && challenge.params.scope)
        scopes = mergeScopes([...scopes, ...parseScopes([challenge.params.scope])]);
      await res.discard();
    }
  }

  /**
   * Checks credentials the way `docker login` does, without using stored ones: an
   * anonymous ping, then Basic against /v2/ or a token (asking for a refresh token)
   * that /v2/ must accept.
   */
  async login(username: string, secret: string): Promise<LoginResult> {
    this.credential = Promise.resolve({ username, password: secret });
    await this.ensureReady();
    const mode = this.mode;
    if (mode.kind === 'none') return { verified: false, scheme: 'none' };
    if (mode.kind === 'basic') {
      const res = await this.opts.transport.send({
        method: 'GET',
        url: new URL('/v2/', this.baseUrl),
        headers: { Authorization: basicHeader(username, secret) },
        tls: this.tls,
      });
      if (res.status === 200) {
        await res.discard();
        return { verified: true, scheme: 'basic' };
      }
      const detail = await errorDetail(res);
      if (res.status === 401 || res.status === 403)
        throw clientError('LOGIN_FAILED', {
          registry: this.registry,
          ...(detail.message ? { detail: detail.message } : {}),
        });
      throw clientError(
        'REGISTRY_ERROR',
        { registry: this.registry, operation: 'the login check', status: res.status, ...detail },
        { status: res.status },
      );
    }
    const realm = this.realmUrl(mode);
    realm.searchParams.set('account', username);
    realm.searchParams.set('client_id', 'stowage');
    realm.searchParams.set('offline_token', 'true');
    if (mode.service) realm.searchParams.set('service', mode.service);
    const res = await this.tokenRequest({
      method: 'GET',
      url: realm,
      headers: { Authorization: basicHeader(username, secret) },
    });
    if (res.status === 401 || res.status === 403) {
      const detail = await errorDetail(res);
      throw clientError('LOGIN_FAILED', {
        registry: this.registry,
        ...(detail.message ? { detail: detail.message } : {}),
      });
    }
    const body = await this.readToken(res, realm);
    const check = await this.opts.transport.send({
      method: 'GET',
      url: new URL('/v2/', this.baseUrl),
      headers: { Authorization: `Bearer ${body.token}` },
      tls: this.tls,
    });
    await check.discard();
    if (check.status !== 200)
      throw clientError('LOGIN_FAILED', {
        registry: this.registry,
        detail: `the registry refused the token its token service issued (HTTP ${check.status})`,
      });
    return { verified: true, scheme: 'bearer', ...(body.refreshToken ? { identityToken: body.refreshToken } : {}) };
  }

  // --- probing ---------------------------------------------------------------------

  private async probe(): Promise<void> {
    type Candidate = { proto: 'http:' | 'https:'; tls: TlsMode };
    const candidates: Candidate[] = isLoopback(this.host)
      ? [
          { proto: 'http:', tls: 'insecure' },
          { proto: 'https:', tls: 'insecure' },
        ]
      : this.opts.insecure
        ? [
            { proto: 'https:', tls: 'insecure' },
            { proto: 'http:', tls: 'insecure' },
          ]
        : [{ proto: 'https:', tls: 'verify' }];
    // Boxed: whatever the first candidate threw is kept, even a thrown undefined.
    let first: { error: unknown } | undefined;
    for (const c of candidates) {
      try {
        if (await this.ping(c.proto, c.tls, false)) return;
      } catch (e) {
        first ??= { error: e };
        if (!isProtocolMismatch(e)) break;
      }
    }
    if (first === undefined)
      throw clientError('NOT_A_REGISTRY', { url: `${candidates[0]!.proto}//${this.host}/v2/`, status: 400 });
    if (!isTransient(first.error)) throw first.error;
    // The connection broke rather than being refused: once more, with retries (a flaky network).
    const c = candidates[0]!;
    if (await this.ping(c.proto, c.tls, true)) return;
    throw first.error;
  }

  /** True when the registry answered like a registry; false for a plain-HTTP/TLS mismatch. */
  private async ping(proto: 'http:' | 'https:', tls: TlsMode, retry: boolean): Promise<boolean> {
    const url = new URL(`${proto}//${this.host}/v2/`);
    const res = await this.opts.transport.send({ method: 'GET', url, tls, retry, timeoutMs: 30_000 });
    if (res.status === 400) {
      const text = await res.text(4096).catch(() => '');
      if (/HTTP request to an HTTPS server/i.test(text)) return false;
      throw clientError('NOT_A_REGISTRY', { url: url.toString(), status: 400 });
    }
    this.base = new URL(`${proto}//${this.host}/`);
    this.tls = tls;
    if (res.status === 401) {
      const challenge = pickChallenge(parseChallenges(res.headerAll('www-authenticate')));
      await res.discard();
      this.mode = challenge ? toMode(challenge) : { kind: 'basic' };
      return true;
    }
    await res.discard();
    if (res.status >= 200 && res.status < 300) {
      this.mode = { kind: 'none' };
      return true;
    }
    if (res.status >= 500 || res.status === 429)
      throw clientError(
        'REGISTRY_ERROR',
        { registry: this.registry, operation: 'GET /v2/', status: res.status },
        { status: res.status, retryAfter: res.header('retry-after') },
      );
    throw clientError('NOT_A_REGISTRY', { url: url.toString(), status: res.status }, { status: res.status });
  }

  /** Switches to what a 401 challenge asks for; false when retrying cannot help. */
  private adopt(challenge: Challenge, scopes: ResourceScope[]): boolean {
    const next = toMode(challenge);
    if (next.kind === 'basic') {
      if (this.mode.kind === 'basic') return false;
      this.mode = next;
      return true;
    }
    if (next.kind === 'bearer') {
      this.mode = next;
      // Whatever we held for these scopes did not do: forget it.
      this.tokens = this.tokens.filter((t) => !covers(t.scopes, scopes));
      return true;
    }
    return false;
  }

  // --- credentials on requests --------------------------------------------------------

  private async authorization(scopes: ResourceScope[]): Promise<string | undefined> {
    const mode = this.mode;
    if (mode.kind === 'none') return undefined;
    const cred = await this.credentials();
    if (mode.kind === 'basic')
      return cred?.username !== undefined && cred.password !== undefined
        ? basicHeader(cred.username, cred.password)
        : undefined;
    if (cred?.registryToken) return `Bearer ${cred.registryToken}`;
    return `Bearer ${(await this.token(mode, scopes)).token}`;
  }

  private async token(mode: Extract<AuthMode, { kind: 'bearer' }>, scopes: ResourceScope[]): Promise<CachedToken> {
    const now = Date.now();
    this.tokens = this.tokens.filter((t) => t.expiresAt > now);
    const hit = this.tokens.find((t) => covers(t.scopes, scopes));
    if (hit) return hit;
    const key = scopes.map(formatScope).sort().join(' ');
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.fetchToken(mode, scopes).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private realmUrl(mode: Extract<AuthMode, { kind: 'bearer' }>): URL {
    let realm: URL;
    try {
      realm = new URL(mode.realm);
    } catch {
      throw clientError('TOKEN_FAILED', {
        registry: this.registry,
        realm: mode.realm,
        detail: 'the challenge’s realm is not an absolute URL',
      });
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') {
      throw clientError('TOKEN_FAILED', {
        registry: this.registry,
        realm: mode.realm,
        detail: 'the realm is not an http(s) URL',
      });
    }
    if (
      realm.protocol === 'http:' &&
      this.baseUrl.protocol === 'https:' &&
      !this.opts.insecure &&
      !isLoopback(realm.host)
    ) {
      throw clientError('TOKEN_FAILED', {
        registry: this.registry,
        realm: mode.realm,
        detail:
          'refusing to send credentials to a plain-HTTP token service of an HTTPS registry (use --insecure to allow)',
      });
    }
    return realm;
  }

  private tokenRequest(req: Omit<HttpRequest, 'tls'>): Promise<HttpResponse> {
    const tls: TlsMode =
      req.url.host === this.baseUrl.host
        ? this.tls
        : this.opts.insecure || isLoopback(req.url.host)
          ? 'insecure'
          : 'verify';
    return this.opts.transport.send({ ...req, tls, timeoutMs: 30_000 });
  }

  private async fetchToken(mode: Extract<AuthMode, { kind: 'bearer' }>, scopes: ResourceScope[]): Promise<CachedToken> {
    const cred = await this.credentials();
    const realm = this.realmUrl(mode);
    const scopeText = scopes.map(formatScope);
    let res: HttpResponse | undefined;
    if (cred?.identityToken) {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: cred.identityToken,
        client_id: 'stowage',
      });
      if (mode.service) form.set('service', mode.service);
      if (scopeText.length) form.set('scope', scopeText.join(' '));
      res = await this.tokenRequest({
        method: 'POST',
        url: realm,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(form.toString()),
      });
      if (res.status === 404 || res.status === 405) {
        await res.discard();
        res = undefined; // no OAuth2 endpoint: fall back to GET below
      }
    }
    if (!res) {
      const url = new URL(realm);
      if (mode.service) url.searchParams.set('service', mode.service);
      for (const s of scopeText) url.searchParams.append('scope', s);
      const user = cred?.username;
      const secret = cred?.password ?? cred?.identityToken;
      if (user) url.searchParams.set('account', user);
      res = await this.tokenRequest({
        method: 'GET',
        url,
        headers: user !== undefined && secret !== undefined ? { Authorization: basicHeader(user, secret) } : {},
      });
    }
    if (res.status === 401 || res.status === 403) {
      const detail = await errorDetail(res);
      throw clientError(
        'UNAUTHORIZED',
        {
          registry: this.registry,
          what: scopes.length ? scopeText.join(' ') : 'a token',
          loggedIn: cred !== undefined,
          ...(detail.message ? { detail: detail.message } : {}),
        },
        { status: res.status },
      );
    }
    const body = await this.readToken(res, realm);
    const cached: CachedToken = { token: body.token, scopes, expiresAt: body.expiresAt };
    this.tokens.push(cached);
    return cached;
  }

  private async readToken(
    res: HttpResponse,
    realm: URL,
  ): Promise<{ token: string; refreshToken?: string; expiresAt: number }> {
    if (res.status !== 200) {
      const detail = await errorDetail(res);
      throw clientError(
        'TOKEN_FAILED',
        {
          registry: this.registry,
          realm: realm.origin + realm.pathname,
          status: res.status,
          detail: detail.message ?? 'unexpected answer',
        },
        { status: res.status, retryAfter: res.header('retry-after') },
      );
    }
    let doc: {
      token?: unknown;
      access_token?: unknown;
      refresh_token?: unknown;
      expires_in?: unknown;
      issued_at?: unknown;
    };
    try {
      doc = await res.json(1024 * 1024);
    } catch (e) {
      throw clientError('TOKEN_FAILED', {
        registry: this.registry,
        realm: realm.origin + realm.pathname,
        detail: `unreadable answer (${(e as Error).message})`,
      });
    }
    const token =
      typeof doc.token === 'string' && doc.token
        ? doc.token
        : typeof doc.access_token === 'string'
          ? doc.access_token
          : '';
    if (!token)
      throw clientError('TOKEN_FAILED', {
        registry: this.registry,
        realm: realm.origin + realm.pathname,
        detail: 'the answer holds no token',
      });
    const expiresIn = typeof doc.expires_in === 'number' && doc.expires_in >= 60 ? doc.expires_in : 60;
    const issued = typeof doc.issued_at === 'string' ? Date.parse(doc.issued_at) : NaN;
    const start = Number.isNaN(issued) || issued > Date.now() ? Date.now() : issued;
    // Renew 15 s early so a request never leaves with a token about to expire.
    const expiresAt = start + expiresIn * 1000 - 15_000;
    return {
      token,
      expiresAt,
      ...(typeof doc.refresh_token === 'string' && doc.refresh_token ? { refreshToken: doc.refresh_token } : {}),
    };
  }
}

function toMode(c: Challenge): AuthMode {
  if (c.scheme === 'bearer' && c.params.realm)
    return { kind: 'bearer', realm: c.params.realm, ...(c.params.service ? { service: c.params.service } : {}) };
  if (c.scheme === 'basic') return { kind: 'basic' };
  return { kind: 'none' };
}

/** Failures that mean "this scheme is wrong" (TLS to a plain-HTTP port or the reverse). */
function isProtocolMismatch(e: unknown): boolean {
  const cause = e instanceof ClientError ? (e.cause ?? e) : e;
  if (e instanceof ClientError && e.code === 'TLS_FAILED') return true;
  const code = errorCode(cause) ?? '';
  return (
    isTlsError(cause) ||
    code === 'ECONNRESET' ||
    code.startsWith('HPE_') ||
    (cause as Error)?.message === 'socket hang up'
  );
}
