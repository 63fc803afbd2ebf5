/**
 * Stowage as the docker engine and containerd tests see it: a child process with
 * no auth or with token auth (the ghcr-like policy of test/auth/helpers), plus an
 * admin's view of what it holds and of the requests it logged, so each test can
 * check the registry side of what the client claims.
 */
import { PASSWORDS, bearer, call, fetchToken, startAuthProcess, type TestUser } from '../auth/helpers.js';
import { CLI, loggedRequests, startStowage, type LoggedRequest, type StowageProcess } from './server.js';
import { run } from './tools.js';

export type AuthMode = 'none' | 'token';

export interface StoredManifest {
  status: number;
  contentType: string;
  digest: string;
  body: Buffer;
}

export interface EngineRegistry {
  readonly mode: AuthMode;
  /** 127.0.0.1:PORT */
  readonly host: string;
  readonly url: string;
  readonly proc: StowageProcess;
  /** user:password for a client, or nothing when the registry has no auth */
  creds(user: TestUser): { user: string; secret: string } | undefined;
  /** A manifest as the admin sees it (GET with every manifest media type accepted). */
  manifest(repo: string, ref: string): Promise<StoredManifest>;
  tags(repo: string): Promise<string[]>;
  /** Position in the request log; pass it to requests() to see what came after. */
  mark(): number;
  requests(from?: number): LoggedRequest[];
  /** `stowage token create` (token mode only): a personal access token for user. */
  createPat(user: TestUser, scope: string): Promise<string>;
  stop(): Promise<void>;
}

const ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export async function startEngineRegistry(mode: AuthMode): Promise<EngineRegistry> {
  const auth = mode === 'token' ? await startAuthProcess() : undefined;
  const proc = auth ? auth.proc : await startStowage();
  const url = `http://${proc.host}`;
  const adminHeaders = async (scope: string) =>
    auth ? bearer((await fetchToken(auth, { user: 'admin', secret: PASSWORDS.admin }, [scope])).token) : {};
  return {
    mode,
    host: proc.host,
    url,
    proc,
    creds: (user) => (auth ? { user, secret: PASSWORDS[user] } : undefined),
    async manifest(repo, ref) {
      const res = await call(url, 'GET', `/v2/${repo}/manifests/${ref}`, {
        headers: { Accept: ACCEPT, ...(await adminHeaders(`repository:${repo}:pull`)) },
      });
      return {
        status: res.status,
        contentType: String(res.headers['content-type'] ?? ''),
        digest: String(res.headers['docker-content-digest'] ?? ''),
        body: Buffer.from(res.text, 'utf8'),
      };
    },
    async tags(repo) {
      const res = await call(url, 'GET', `/v2/${repo}/tags/list`, {
        headers: await adminHeaders(`repository:${repo}:pull`),
      });
      if (res.status !== 200) throw new Error(`GET /v2/${repo}/tags/list → ${res.status}: ${res.text}`);
      return [...(res.json<{ tags: string[] }>().tags ?? [])].sort();
    },
    mark: () => proc.logs.length,
    requests: (from = 0) => loggedRequests(proc, from),
    async createPat(user, scope) {
      if (!auth) throw new Error('createPat: the registry has no auth');
      const r = await run(process.execPath, [
        CLI,
        'token',
        'create',
        '--config',
        auth.configPath,
        '--data',
        auth.dataDir,
        '--user',
        user,
        '--scope',
        scope,
        '--expires',
        '1d',
      ]);
      return r.stdout.trim();
    },
    stop: () => (auth ? auth.stop() : proc.stop()),
  };
}
