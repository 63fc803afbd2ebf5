/**
 * Shared plumbing for test/interop/*.test.ts: per-file setup (registry under
 * test, optional docker-registry, containers sandbox, work dir) with cleanup,
 * skopeo wrappers and a few direct HTTP probes.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { startDistribution, type DistributionHandle } from './distribution.js';
import { startRegistryUnderTest, type RegistryUnderTest } from './registry-under-test.js';
import {
  createContainersSandbox,
  makeTempDir,
  parseJson,
  removeDir,
  requireTools,
  type ContainersSandbox,
  type RunOptions,
  type RunResult,
  type ToolName,
} from './tools.js';

export interface InteropEnv {
  /** the registry under test (Stowage unless STOWAGE_INTEROP_TARGET=distribution) */
  readonly reg: RegistryUnderTest;
  /** Debian's docker-registry, when requested */
  readonly dist: DistributionHandle;
  readonly sb: ContainersSandbox;
  /** scratch directory for layouts/archives, removed after the file */
  readonly work: string;
  /** work/<name> */
  path(name: string): string;
  /** node:test `test()` whose failures carry the registry's log tail */
  test(name: string, fn: (t: TestContext) => Promise<void>, opts?: { timeout?: number }): void;
}

/**
 * Registers before/after hooks for one test file. Missing tools fail the
 * before hook (and so every test in the file) with the apt package to install.
 */
export function setupInterop(opts: { tools: ToolName[]; distribution?: boolean; name: string }): InteropEnv {
  let reg: RegistryUnderTest | undefined;
  let dist: DistributionHandle | undefined;
  let sb: ContainersSandbox | undefined;
  let work: string | undefined;

  before(async () => {
    requireTools('skopeo', ...opts.tools, ...(opts.distribution ? (['docker-registry'] as const) : []));
    work = await makeTempDir(`${opts.name}-work`);
    sb = await createContainersSandbox(opts.name);
    reg = await startRegistryUnderTest();
    if (opts.distribution) dist = await startDistribution();
  });

  after(async () => {
    await Promise.allSettled([reg?.stop(), dist?.stop()]);
    await Promise.allSettled([sb?.cleanup(), work ? removeDir(work) : undefined]);
  });

  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined)
      throw new Error(`interop setup did not complete (${what} missing) — see the before hook error`);
    return v;
  };

  const env: InteropEnv = {
    get reg() {
      return need(reg, 'registry');
    },
    get dist() {
      if (!opts.distribution) throw new Error('setupInterop: pass distribution: true to use docker-registry');
      return need(dist, 'docker-registry');
    },
    get sb() {
      return need(sb, 'containers sandbox');
    },
    get work() {
      return need(work, 'work dir');
    },
    path: (name) => path.join(need(work, 'work dir'), name),
    test(name, fn, testOpts = {}) {
      test(name, { timeout: testOpts.timeout ?? 120_000 }, async (t) => {
        if (reg) t.diagnostic(`registry under test: ${reg.kind} at ${reg.url}`);
        try {
          await fn(t);
        } catch (e) {
          if (e instanceof Error && reg) {
            const logs = reg.logs();
            if (logs) e.message += `\n--- ${reg.kind} log tail ---\n${logs.slice(-8000)}`;
          }
          throw e;
        }
      });
    },
  };
  return env;
}

// ---------------------------------------------------------------------------
// References

export function dockerRef(host: string, repo: string, ref: string): string {
  return ref.startsWith('sha256:') ? `docker://${host}/${repo}@${ref}` : `docker://${host}/${repo}:${ref}`;
}

// ---------------------------------------------------------------------------
// skopeo

/** `skopeo copy` with TLS verification off on both sides (plain-HTTP loopback registries). */
export function skopeoCopy(
  sb: ContainersSandbox,
  src: string,
  dst: string,
  args: readonly string[] = [],
  opts?: RunOptions,
): Promise<RunResult> {
  return sb.skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', ...args, src, dst], opts);
}

/** `skopeo copy --digestfile`, returning the digest skopeo reports for the destination. */
export async function skopeoCopyDigest(
  sb: ContainersSandbox,
  src: string,
  dst: string,
  args: readonly string[] = [],
): Promise<string> {
  const file = path.join(sb.dir, 'tmp', `digest-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  await skopeoCopy(sb, src, dst, ['--digestfile', file, ...args]);
  return readDigestFile(file);
}

export async function readDigestFile(file: string): Promise<string> {
  const digest = (await readFile(file, 'utf8')).trim();
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error(`digest file ${file} holds ${JSON.stringify(digest)}`);
  return digest;
}

/** `skopeo inspect --raw [--config]`: the exact bytes served by the registry. */
export async function inspectRaw(
  sb: ContainersSandbox,
  ref: string,
  opts: { config?: boolean; args?: string[] } = {},
): Promise<Buffer> {
  const res = await sb.skopeo([
    ...(opts.args ?? []),
    'inspect',
    '--tls-verify=false',
    '--raw',
    ...(opts.config ? ['--config'] : []),
    ref,
  ]);
  return res.stdoutBytes;
}

export interface SkopeoInspect {
  Name: string;
  Digest: string;
  RepoTags: string[];
  Architecture: string;
  Os: string;
  Variant?: string;
  Layers: string[];
  Labels: Record<string, string> | null;
  Env: string[] | null;
}

/** `skopeo inspect` (parsed); `globalArgs` go before the subcommand (e.g. --override-arch). */
export async function skopeoInspect(
  sb: ContainersSandbox,
  ref: string,
  globalArgs: string[] = [],
): Promise<SkopeoInspect> {
  const res = await sb.skopeo([...globalArgs, 'inspect', '--tls-verify=false', ref]);
  return parseJson<SkopeoInspect>(res.stdout, `skopeo inspect ${ref}`);
}

/** Runs a skopeo command that must fail; returns its stderr. */
export async function skopeoFails(sb: ContainersSandbox, args: readonly string[]): Promise<string> {
  const res = await sb.skopeo(args, { allowFailure: true });
  if (res.code === 0) throw new Error(`expected failure, but succeeded: ${res.command}\n${res.stdout.slice(0, 2000)}`);
  return res.stderr;
}

export async function listTags(sb: ContainersSandbox, host: string, repo: string): Promise<string[]> {
  const res = await sb.skopeo(['list-tags', '--tls-verify=false', `docker://${host}/${repo}`]);
  const parsed = parseJson<{ Repository: string; Tags: string[] | null }>(res.stdout, 'skopeo list-tags');
  return parsed.Tags ?? [];
}

// ---------------------------------------------------------------------------
// Direct HTTP (to look at what the registry says, independent of any client)

export interface HttpProbe {
  status: number;
  headers: Headers;
  body: Buffer;
}

export async function http(
  baseUrl: string,
  method: string,
  urlPath: string,
  init: { headers?: Record<string, string>; body?: Buffer } = {},
): Promise<HttpProbe> {
  const res = await fetch(`${baseUrl}${urlPath}`, {
    method,
    headers: init.headers,
    body: init.body ? new Uint8Array(init.body) : undefined,
    redirect: 'manual',
  });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body };
}

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

/** PUTs manifest bytes under a reference (used to create many tags quickly). */
export async function putManifest(
  baseUrl: string,
  repo: string,
  ref: string,
  body: Buffer,
  mediaType: string,
): Promise<void> {
  const res = await http(baseUrl, 'PUT', `/v2/${repo}/manifests/${ref}`, {
    headers: { 'Content-Type': mediaType },
    body,
  });
  if (res.status !== 201) {
    throw new Error(
      `PUT /v2/${repo}/manifests/${ref} → ${res.status} (expected 201): ${res.body.toString('utf8').slice(0, 500)}`,
    );
  }
}

/** Pretty list of a header set for assertion messages. */
export function describeHeaders(h: Headers): string {
  return [...h.entries()].map(([k, v]) => `${k}: ${v}`).join('\n');
}
