/**
 * Shared plumbing for test/auth: registries with auth on (in process or as a
 * child process), users, self-signed TLS certificates, and an HTTP(S) client
 * that can pick its source address (127.0.0.x) to act as different clients.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { hashPassword } from '../../src/auth/password.js';
import { formatHtpasswd } from '../../src/auth/htpasswd.js';
import type { ServeConfig } from '../../src/config/config.js';
import { PatStore } from '../../src/auth/pat-store.js';
import { SqliteMetadataStore } from '../../src/storage/sqlite/sqlite-metadata-store.js';
import { startInProcess, startStowage, type StowageProcess } from '../helpers/server.js';

export const PASSWORDS = {
  alice: 'alice-password-1',
  bob: 'bob-password-22',
  admin: 'admin-password-333',
  carol: 'carol-password-4444',
} as const;
export type TestUser = keyof typeof PASSWORDS;

/** A ghcr-like policy: own namespace, a public area, a team, an admin. */
export const POLICY = {
  admins: ['admin'],
  groups: { team: ['alice', 'carol'] },
  public: ['public/**'],
  rules: [
    { repositories: ['{user}', '{user}/**'], who: ['{user}'], actions: ['pull', 'push', 'delete'] },
    { repositories: ['team/**'], who: ['group:team'], actions: ['pull', 'push'] },
    { repositories: ['shared/**'], who: ['authenticated'], actions: ['pull'] },
  ],
};

/** Writes an htpasswd file with the test users (bcrypt cost 4: fast). */
export async function writeUsers(
  path: string,
  users: readonly TestUser[] = ['alice', 'bob', 'admin', 'carol'],
): Promise<void> {
  const entries = new Map<string, string>();
  for (const u of users) entries.set(u, await hashPassword(PASSWORDS[u], 4));
  await writeFile(path, formatHtpasswd(entries), { mode: 0o600 });
}

export interface TlsFiles {
  dir: string;
  cert: string;
  key: string;
  /** PEM bytes of the certificate (its own CA). */
  ca: Buffer;
  /** A directory with ca.crt, for skopeo/podman --cert-dir. */
  certDir: string;
}

/** Self-signed certificate for 127.0.0.1 and localhost (or the subjectAltNames given), made with openssl. */
export async function makeTls(dir: string, altNames = ['IP:127.0.0.1', 'DNS:localhost']): Promise<TlsFiles> {
  await mkdir(dir, { recursive: true });
  const cert = join(dir, 'tls.crt');
  const key = join(dir, 'tls.key');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=stowage-test',
      '-addext',
      `subjectAltName=${altNames.join(',')}`,
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'pipe' },
  );
  const certDir = join(dir, 'certs.d');
  await mkdir(certDir, { recursive: true });
  const ca = await readFile(cert);
  await writeFile(join(certDir, 'ca.crt'), ca);
  return { dir, cert, key, ca, certDir };
}

export interface AuthServer {
  url: string;
  host: string;
  dataDir: string;
  htpasswd: string;
  ca?: Buffer;
  stop(): Promise<void>;
}

export interface AuthServerOptions {
  mode?: 'token' | 'basic';
  /** Extra `auth:` settings (snake_case as in YAML). */
  auth?: Record<string, unknown>;
  tls?: TlsFiles;
  users?: readonly TestUser[];
  /** Top-level settings (camelCase, as in ServeConfig). */
  config?: Partial<ServeConfig>;
}

function authSection(htpasswd: string, o: AuthServerOptions): Record<string, unknown> {
  return { mode: o.mode ?? 'token', htpasswd, policy: POLICY, ...o.auth };
}

/** The registry in this process with auth on (fast; for HTTP-level tests). */
export async function startAuthInProcess(o: AuthServerOptions = {}): Promise<AuthServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'stowage-auth-'));
  const htpasswd = join(dataDir, 'htpasswd');
  await writeUsers(htpasswd, o.users);
  const overrides = {
    ...o.config,
    data: dataDir,
    fsync: false,
    auth: authSection(htpasswd, o),
    ...(o.tls ? { tls: { cert: o.tls.cert, key: o.tls.key } } : {}),
  } as unknown as Partial<ServeConfig>;
  const s = await startInProcess(overrides);
  return {
    url: `${o.tls ? 'https' : 'http'}://${s.host}`,
    host: s.host,
    dataDir,
    htpasswd,
    ...(o.tls ? { ca: o.tls.ca } : {}),
    async stop() {
      await s.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface AuthProcess extends AuthServer {
  proc: StowageProcess;
  configPath: string;
}

/** `stowage serve --config <file>` as a child process with auth on (for real clients). */
export async function startAuthProcess(o: AuthServerOptions & { logLevel?: string } = {}): Promise<AuthProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), 'stowage-auth-'));
  const htpasswd = join(dataDir, 'htpasswd');
  await writeUsers(htpasswd, o.users);
  const configPath = join(dataDir, 'config.yaml');
  const doc: Record<string, unknown> = { fsync: false, auth: authSection(htpasswd, o) };
  if (o.tls) doc.tls = { cert: o.tls.cert, key: o.tls.key };
  await writeFile(configPath, toYaml(doc));
  const proc = await startStowage({
    dataDir,
    args: ['--config', configPath, ...(o.logLevel ? ['--log-level', o.logLevel] : [])],
  });
  return {
    url: `${o.tls ? 'https' : 'http'}://${proc.host}`,
    host: proc.host,
    dataDir,
    htpasswd,
    configPath,
    proc,
    ...(o.tls ? { ca: o.tls.ca } : {}),
    async stop() {
      await proc.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json<T = any>(): T;
}

export interface CallOptions {
  headers?: OutgoingHttpHeaders;
  body?: Buffer | string;
  /** Source address (127.0.0.x) to look like another client. */
  from?: string;
  ca?: Buffer;
}

/** One request over HTTP or HTTPS (trusting `ca`), on a fresh connection. */
export function call(base: string, method: string, path: string, o: CallOptions = {}): Promise<Res> {
  const url = new URL(base);
  const body = o.body === undefined ? undefined : Buffer.from(o.body);
  const headers: OutgoingHttpHeaders = { ...o.headers, ...(body ? { 'Content-Length': body.length } : {}) };
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<Res>((resolve, reject) => {
    const r = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers,
        agent: false,
        ...(o.from ? { localAddress: o.from } : {}),
        ...(o.ca ? { ca: o.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        });
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}

export function basic(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
}

export function bearer(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}

/** GET /token with Basic credentials (or none) for the given scopes; returns the parsed body. */
export async function fetchToken(
  s: { url: string; ca?: Buffer },
  creds: { user: string; secret: string } | undefined,
  scopes: string[],
  extra: Record<string, string> = {},
): Promise<{ token: string; access_token: string; expires_in: number; issued_at: string; refresh_token?: string }> {
  const q = new URLSearchParams({ service: 'stowage', ...extra });
  for (const s of scopes) q.append('scope', s);
  const res = await call(s.url, 'GET', `/token?${q}`, {
    headers: creds ? { Authorization: basic(creds.user, creds.secret) } : {},
    ...(s.ca ? { ca: s.ca } : {}),
  });
  if (res.status !== 200) throw new Error(`GET /token → ${res.status}: ${res.text}`);
  return res.json();
}

/** Claims of a JWT, unverified (to look at what was issued). */
export function claimsOf(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
}

export function headerOf(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'));
}

/** Pushes a tiny OCI image (config + one layer + manifest) with the given auth headers; returns the manifest status. */
export async function pushTinyImage(
  s: { url: string; ca?: Buffer },
  repo: string,
  tag: string,
  headers: OutgoingHttpHeaders,
): Promise<number> {
  const { createHash } = await import('node:crypto');
  const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const opts = (extra: CallOptions = {}): CallOptions => ({
    ...extra,
    headers: { ...headers, ...extra.headers },
    ...(s.ca ? { ca: s.ca } : {}),
  });
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
  );
  const layer = Buffer.from(`layer of ${repo}:${tag}`);
  for (const blob of [config, layer]) {
    const res = await call(
      s.url,
      'POST',
      `/v2/${repo}/blobs/uploads/?digest=${digest(blob)}`,
      opts({ body: blob, headers: { 'Content-Type': 'application/octet-stream' } }),
    );
    if (res.status !== 201) return res.status;
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digest(layer), size: layer.length }],
    }),
  );
  const res = await call(
    s.url,
    'PUT',
    `/v2/${repo}/manifests/${tag}`,
    opts({ body: manifest, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } }),
  );
  return res.status;
}

/**
 * Personal access tokens of a registry's data directory, through a database
 * connection of their own, as `stowage token` works beside a running server.
 */
export function openPats(dataDir: string): PatStore & { close(): Promise<void> } {
  const meta = new SqliteMetadataStore(join(dataDir, 'stowage.db'));
  return Object.assign(new PatStore(meta), { close: () => meta.close() });
}
