/**
 * Auth negotiation and transport behaviour against small fake registries whose
 * every request is recorded: Bearer with scoped tokens (GET with Basic and repeated
 * scope parameters, POST refresh grants, caching, refresh after a 401), Basic,
 * anonymous registries that challenge late, retries, and HTTPS on a loopback port.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HttpTransport } from '../../src/client/http.js';
import { RegistryClient, StaticCredentials, type ClientError, type Credential } from '../../src/client/index.js';
import { makeTls } from '../auth/helpers.js';
import { makeTempDir, removeDir } from '../helpers/tools.js';

interface TokenRequest {
  method: string;
  scopes: string[];
  authorization?: string;
  account?: string;
  form?: Record<string, string>;
  query: Record<string, string>;
}

interface Fake {
  url: string;
  host: string;
  tokenRequests: TokenRequest[];
  requests: string[];
  /** Tokens issued so far stop working. */
  revokeAll(): void;
  close(): Promise<void>;
}

const USERS: Record<string, string> = { alice: 'pw-alice' };

/** A registry with a token service on the same origin (mode bearer), or Basic, or open-then-401. */
async function fakeRegistry(
  mode: 'bearer' | 'basic' | 'late',
  opts: { failFirst?: number; server?: (h: http.RequestListener) => http.Server } = {},
): Promise<Fake> {
  const tokenRequests: TokenRequest[] = [];
  const requests: string[] = [];
  const valid = new Map<string, string[]>();
  let counter = 0;
  let failures = opts.failFirst ?? 0;
  let base = '';
  const challenge = (scope?: string, error?: string) =>
    mode === 'basic'
      ? 'Basic realm="fake"'
      : `Bearer realm="${base}/token",service="fake"${scope ? `,scope="${scope}"` : ''}${error ? `,error="${error}"` : ''}`;
  const handler: http.RequestListener = (req, res) => {
    const url = new URL(req.url!, base);
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      requests.push(`${req.method} ${url.pathname}`);
      if (failures > 0 && url.pathname !== '/v2/') {
        failures--;
        res.writeHead(503).end();
        return;
      }
      if (url.pathname === '/token') {
        const form = req.method === 'POST' ? Object.fromEntries(new URLSearchParams(body)) : undefined;
        const scopes = form ? (form.scope ?? '').split(' ').filter(Boolean) : url.searchParams.getAll('scope');
        tokenRequests.push({
          method: req.method!,
          scopes,
          ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
          ...(url.searchParams.get('account') ? { account: url.searchParams.get('account')! } : {}),
          ...(form ? { form } : {}),
          query: Object.fromEntries(url.searchParams),
        });
        let ok = true;
        if (req.headers.authorization) {
          const [user, pw] = Buffer.from(req.headers.authorization.split(' ')[1]!, 'base64').toString().split(':');
          ok = USERS[user!] === pw;
        }
        if (form && form.grant_type === 'refresh_token') ok = form.refresh_token === 'refresh-1';
        if (!ok) {
          res
            .writeHead(401, { 'Content-Type': 'application/json' })
            .end(JSON.stringify({ details: 'incorrect username or password' }));
          return;
        }
        const token = `t${++counter}`;
        valid.set(token, scopes);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(
          JSON.stringify({
            token,
            access_token: token,
            expires_in: 300,
            ...(url.searchParams.get('offline_token') === 'true' ? { refresh_token: 'refresh-1' } : {}),
          }),
        );
        return;
      }
      const auth = req.headers.authorization ?? '';
      const m = /^\/v2\/(.+)\/(tags\/list|manifests\/[^/]+)$/.exec(url.pathname);
      const need = m ? `repository:${m[1]}:${req.method === 'PUT' ? 'pull,push' : 'pull'}` : undefined;
      let allowed: boolean;
      if (mode === 'basic') {
        const [user, pw] = Buffer.from(auth.replace(/^Basic /, ''), 'base64')
          .toString()
          .split(':');
        allowed = auth.startsWith('Basic ') && USERS[user!] === pw;
      } else if (mode === 'late' && url.pathname === '/v2/') {
        allowed = true;
      } else {
        const scopes = valid.get(auth.replace(/^Bearer /, ''));
        allowed =
          scopes !== undefined &&
          (!need ||
            scopes.some((s) => s === need || (need.endsWith(':pull') && s === need.replace(/:pull$/, ':pull,push'))));
        if (scopes && need && !allowed) {
          res.writeHead(401, { 'WWW-Authenticate': challenge(need, 'insufficient_scope') }).end();
          return;
        }
      }
      if (!allowed) {
        res
          .writeHead(401, { 'WWW-Authenticate': challenge(need), 'Content-Type': 'application/json' })
          .end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
        return;
      }
      if (url.pathname === '/v2/') {
        res.writeHead(200).end('{}');
      } else if (m?.[2] === 'tags/list') {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ name: m[1], tags: ['v1'] }));
      } else {
        res
          .writeHead(404, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
      }
    });
  };
  const server = opts.server ? opts.server(handler) : http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  base = `${server instanceof https.Server ? 'https' : 'http'}://${host}`;
  return {
    url: base,
    host,
    tokenRequests,
    requests,
    revokeAll: () => valid.clear(),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function clientFor(fake: Fake, cred?: Credential): RegistryClient {
  return new RegistryClient({
    credentials: new StaticCredentials(cred ? { [fake.host]: cred } : {}),
    retryDelayMs: 10,
  });
}

describe('auth negotiation', () => {
  const fakes: Fake[] = [];
  const clients: RegistryClient[] = [];
  const start = async (...a: Parameters<typeof fakeRegistry>) => {
    const f = await fakeRegistry(...a);
    fakes.push(f);
    return f;
  };
  const client = (f: Fake, cred?: Credential) => {
    const c = clientFor(f, cred);
    clients.push(c);
    return c;
  };
  after(async () => {
    for (const c of clients) c.close();
    await Promise.all(fakes.map((f) => f.close()));
  });

  it('Bearer, anonymous: a token per scope from the realm, no Authorization on the token request', async () => {
    const f = await start('bearer');
    assert.deepEqual(await client(f).repository(`${f.host}/team/app`).tags(), ['v1']);
    assert.equal(f.tokenRequests.length, 1);
    assert.deepEqual(f.tokenRequests[0]!.scopes, ['repository:team/app:pull']);
    assert.equal(f.tokenRequests[0]!.query.service, 'fake');
    assert.equal(f.tokenRequests[0]!.authorization, undefined);
  });

  it('Bearer with a password: Basic on GET <realm>, account=, tokens cached per scope set', async () => {
    const f = await start('bearer');
    const c = client(f, { username: 'alice', password: 'pw-alice' });
    const repo = c.repository(`${f.host}/team/app`);
    await repo.tags();
    await repo.tags();
    await c.repository(`${f.host}/team/other`).tags();
    assert.equal(f.tokenRequests.length, 2, 'one token per repository scope, reused');
    assert.equal(f.tokenRequests[0]!.authorization, `Basic ${Buffer.from('alice:pw-alice').toString('base64')}`);
    assert.equal(f.tokenRequests[0]!.account, 'alice');
    assert.deepEqual(f.tokenRequests[1]!.scopes, ['repository:team/other:pull']);
  });

  it('fetches a new token when the registry stops accepting the old one (one retry)', async () => {
    const f = await start('bearer');
    const c = client(f, { username: 'alice', password: 'pw-alice' });
    const repo = c.repository(`${f.host}/team/app`);
    await repo.tags();
    f.revokeAll();
    assert.deepEqual(await repo.tags(), ['v1']);
    assert.equal(f.tokenRequests.length, 2);
  });

  it('adds the scope an insufficient_scope challenge names, sending every scope as its own parameter', async () => {
    const f = await start('bearer');
    const c = client(f, { username: 'alice', password: 'pw-alice' });
    const repo = c.repository(`${f.host}/team/app`);
    // The request declares only pull on another repository; the challenge asks for team/app.
    const res = await repo.request({
      method: 'GET',
      url: '/v2/team/app/tags/list',
      scopes: [{ type: 'repository', name: 'elsewhere', actions: ['pull'] }],
    });
    assert.equal(res.status, 200);
    await res.discard();
    assert.deepEqual(f.tokenRequests.at(-1)!.scopes.sort(), ['repository:elsewhere:pull', 'repository:team/app:pull']);
  });

  it('uses an identity token with POST grant_type=refresh_token', async () => {
    const f = await start('bearer');
    await client(f, { username: 'alice', identityToken: 'refresh-1' }).repository(`${f.host}/team/app`).tags();
    const t = f.tokenRequests[0]!;
    assert.equal(t.method, 'POST');
    assert.deepEqual(t.form, {
      grant_type: 'refresh_token',
      refresh_token: 'refresh-1',
      client_id: 'stowage',
      service: 'fake',
      scope: 'repository:team/app:pull',
    });
  });

  it('reports refused credentials with how to log in again', async () => {
    const f = await start('bearer');
    await assert.rejects(
      client(f, { username: 'alice', password: 'wrong' }).repository(`${f.host}/team/app`).tags(),
      (e: ClientError) => {
        assert.equal(e.code, 'UNAUTHORIZED');
        assert.match(e.message, /refused the stored credentials.*incorrect username or password/);
        assert.match(e.hint ?? '', new RegExp(`stowage login ${f.host}`));
        return true;
      },
    );
  });

  it('logs in like docker: offline token requested, refresh token returned, /v2/ checked', async () => {
    const f = await start('bearer');
    const c = client(f);
    const r = await c.login(f.host, 'alice', 'pw-alice');
    assert.deepEqual(r, { verified: true, scheme: 'bearer', identityToken: 'refresh-1' });
    const t = f.tokenRequests[0]!;
    assert.equal(t.query.offline_token, 'true');
    assert.equal(t.query.client_id, 'stowage');
    assert.equal(t.query.account, 'alice');
    assert.deepEqual(t.scopes, []);
    await assert.rejects(
      c.login(f.host, 'alice', 'nope'),
      (e: ClientError) => e.code === 'LOGIN_FAILED' && /incorrect username or password/.test(e.message),
    );
  });

  it('Basic registries: credentials on every request; without them a 401 that says how to log in', async () => {
    const f = await start('basic');
    assert.deepEqual(await client(f, { username: 'alice', password: 'pw-alice' }).repository(`${f.host}/a`).tags(), [
      'v1',
    ]);
    assert.deepEqual(await client(f).login(f.host, 'alice', 'pw-alice'), { verified: true, scheme: 'basic' });
    await assert.rejects(
      client(f).repository(`${f.host}/a`).tags(),
      (e: ClientError) =>
        e.code === 'UNAUTHORIZED' && /requires authentication/.test(e.message) && /stowage login/.test(e.hint ?? ''),
    );
  });

  it('follows a challenge that only arrives on a later request (open /v2/)', async () => {
    const f = await start('late');
    assert.deepEqual(
      await client(f, { username: 'alice', password: 'pw-alice' }).repository(`${f.host}/team/app`).tags(),
      ['v1'],
    );
    assert.equal(f.tokenRequests.length, 1);
    assert.equal((await client(f).login(f.host, 'alice', 'x')).verified, false, 'nothing to verify against');
  });

  it('retries 5xx answers with backoff', async () => {
    const f = await start('bearer', { failFirst: 2 });
    assert.deepEqual(await client(f).repository(`${f.host}/team/app`).tags(), ['v1']);
    assert.ok(f.requests.filter((r) => r === 'GET /token').length >= 1);
  });

  it('a missing tag lists the tags that exist', async () => {
    const f = await start('bearer');
    await assert.rejects(
      client(f).repository(`${f.host}/team/app`).resolve('v9'),
      (e: ClientError) => e.code === 'MANIFEST_NOT_FOUND' && /has the tag: v1/.test(e.hint ?? ''),
    );
  });
});

describe('transport', () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir('client-tls');
  });
  after(async () => {
    await removeDir(dir);
  });

  it('speaks HTTPS to a loopback port that does not speak plain HTTP', async () => {
    const tls = await makeTls(path.join(dir, 'tls'));
    const f = await fakeRegistry('bearer', {
      server: (h) => https.createServer({ cert: tls.ca, key: readFileSync(tls.key) }, h),
    });
    const c = clientFor(f);
    try {
      const p = await c.ping(f.host);
      assert.equal(p.url, `https://${f.host}/`);
      assert.deepEqual(await c.repository(`${f.host}/team/app`).tags(), ['v1']);
    } finally {
      c.close();
      await f.close();
    }
  });

  it('verifies certificates against --ca-file, and says how to proceed when it cannot', async () => {
    const tls = await makeTls(path.join(dir, 'tls-verify'));
    const server = https.createServer({ cert: tls.ca, key: readFileSync(tls.key) }, (_req, res) =>
      res.writeHead(200).end('{}'),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}/v2/`);
    const plain = new HttpTransport({ retries: 0 });
    const trusting = new HttpTransport({ ca: tls.ca, retries: 0 });
    try {
      await assert.rejects(
        plain.send({ method: 'GET', url, tls: 'verify' }),
        (e: ClientError) => e.code === 'TLS_FAILED' && /--ca-file/.test(e.hint ?? ''),
      );
      assert.equal((await trusting.send({ method: 'GET', url, tls: 'verify' })).status, 200);
      assert.equal((await plain.send({ method: 'GET', url, tls: 'insecure' })).status, 200);
    } finally {
      plain.close();
      trusting.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it('says when nothing listens, and where', async () => {
    const c = new RegistryClient({ credentials: new StaticCredentials({}), retryDelayMs: 1 });
    try {
      await assert.rejects(
        c.repository('127.0.0.1:1/x').tags(),
        (e: ClientError) =>
          e.code === 'CONNECTION_FAILED' &&
          /127\.0\.0\.1:1/.test(e.message) &&
          /is the registry running/.test(e.hint ?? ''),
      );
    } finally {
      c.close();
    }
  });
});
