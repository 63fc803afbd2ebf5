/**
 * Running external interop tools (skopeo, podman, buildah, umoci, docker-registry)
 * with useful failure messages, plus an isolated containers/* configuration
 * sandbox so tests never touch the host's image store or registry settings.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';

/** Debian package that provides each tool (CI installs these with apt-get). */
export const APT_PACKAGES = {
  skopeo: 'skopeo',
  podman: 'podman',
  buildah: 'buildah',
  umoci: 'umoci',
  'docker-registry': 'docker-registry',
  dockerd: 'docker.io',
  containerd: 'containerd',
  ctr: 'containerd',
  chromium: 'chromium',
  nginx: 'nginx',
} as const;

export type ToolName = keyof typeof APT_PACKAGES;

const SEARCH_EXTRA = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Absolute path of an executable on PATH (plus the usual sbin dirs), or undefined. */
export function which(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SEARCH_EXTRA];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

const resolved = new Map<string, string>();

/**
 * Returns the absolute path of a required tool. Missing tools are a hard
 * failure (never a skip) naming the Debian package to install.
 */
export function requireTool(name: ToolName): string {
  const cached = resolved.get(name);
  if (cached) return cached;
  const found = which(name);
  if (!found) {
    const pkg = APT_PACKAGES[name];
    throw new Error(
      `Required interop tool "${name}" was not found on PATH. ` +
        `Install the Debian package "${pkg}" (apt-get install -y ${pkg}); ` +
        `CI installs it in .ci/run. Interop tests are never skipped.`,
    );
  }
  resolved.set(name, found);
  return found;
}

/** Fails fast (in a before() hook) when any of the tools is missing. */
export function requireTools(...names: ToolName[]): void {
  const missing = names.filter((n) => !which(n));
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((n) => APT_PACKAGES[n]))];
    throw new Error(
      `Required interop tool(s) missing: ${missing.join(', ')}. ` +
        `Install with: apt-get install -y ${pkgs.join(' ')} (interop tests are never skipped).`,
    );
  }
  for (const n of names) requireTool(n);
}

// ---------------------------------------------------------------------------
// Child process bookkeeping: whatever happens, do not leave processes behind.

const liveChildren = new Set<ChildProcess>();

/** Registers a long-running child so it is SIGKILLed if the test process exits. */
export function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

const exitHooks = new Set<() => void>();

/**
 * Runs fn (synchronously) if the test process exits before the returned
 * function is called: for daemons that are not children (they outlive the
 * script that started them), such as the services of scripts/services/.
 */
export function onExit(fn: () => void): () => void {
  exitHooks.add(fn);
  return () => exitHooks.delete(fn);
}

function killAllChildren(): void {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const hook of exitHooks) {
    try {
      hook();
    } catch {
      // best effort at exit
    }
  }
}

process.once('exit', killAllChildren);
// The test runner cancels a file by signalling it; default signal handling
// would skip 'exit' handlers and orphan registries.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    killAllChildren();
    process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const)[sig]);
  });
}

// ---------------------------------------------------------------------------

export interface RunOptions {
  env?: Record<string, string | undefined>;
  /** Replace the environment instead of extending process.env. */
  replaceEnv?: boolean;
  cwd?: string;
  /** Default 180 s; the process is SIGKILLed on expiry and the call fails. */
  timeoutMs?: number;
  input?: string | Buffer;
  /** Resolve instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
}

export interface RunResult {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** stdout as raw bytes (e.g. `skopeo inspect --raw` manifests, digests matter) */
  stdoutBytes: Buffer;
  stderr: string;
  durationMs: number;
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function formatCommand(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map(quote).join(' ');
}

function tail(s: string, max = 6000): string {
  return s.length <= max ? s : `…(${s.length - max} chars omitted)…\n${s.slice(-max)}`;
}

export class CommandError extends Error {
  constructor(
    message: string,
    readonly result: RunResult,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** Runs a command to completion; throws a CommandError with full context on failure. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const command = formatCommand(cmd, args);
  const timeoutMs = opts.timeoutMs ?? 180_000;
  const env: NodeJS.ProcessEnv = opts.replaceEnv ? {} : { ...process.env };
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const started = Date.now();
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(cmd, [...args], {
      cwd: opts.cwd,
      env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    trackChild(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT') {
        const pkg = (APT_PACKAGES as Record<string, string>)[path.basename(cmd)];
        reject(
          new Error(
            `Cannot execute "${cmd}": not found.` +
              (pkg ? ` Install the Debian package "${pkg}" (apt-get install -y ${pkg}).` : ''),
          ),
        );
      } else {
        reject(new Error(`Cannot execute ${command}: ${e.message}`));
      }
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      const result: RunResult = {
        command,
        code,
        signal,
        stdout: stdoutBytes.toString('utf8'),
        stdoutBytes,
        stderr: Buffer.concat(err).toString('utf8'),
        durationMs: Date.now() - started,
      };
      if (timedOut) {
        reject(
          new CommandError(
            `Command timed out after ${timeoutMs} ms: ${command}\n` +
              `--- stderr ---\n${tail(result.stderr)}\n--- stdout ---\n${tail(result.stdout)}`,
            result,
          ),
        );
        return;
      }
      if (code !== 0 && !opts.allowFailure) {
        reject(
          new CommandError(
            `Command failed (exit ${code ?? `signal ${signal}`}) after ${result.durationMs} ms: ${command}\n` +
              `--- stderr ---\n${tail(result.stderr)}\n--- stdout ---\n${tail(result.stdout)}`,
            result,
          ),
        );
        return;
      }
      resolve(result);
    });
  });
}

/** Runs a command expected to fail; throws if it succeeds. */
export async function runExpectFailure(
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const result = await run(cmd, args, { ...opts, allowFailure: true });
  if (result.code === 0) {
    throw new Error(
      `Command unexpectedly succeeded: ${result.command}\n--- stdout ---\n${tail(result.stdout)}\n--- stderr ---\n${tail(result.stderr)}`,
    );
  }
  return result;
}

// ---------------------------------------------------------------------------
// Temp dirs

/**
 * This machine's first IPv4 address that is not loopback: for TLS checks, which the
 * client skips on loopback. None is a failure, never a skip.
 */
export function externalAddress(): string {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  throw new Error('no non-loopback IPv4 address: this test needs one (TLS is not verified on loopback)');
}

export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `stowage-${prefix}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

// ---------------------------------------------------------------------------
// containers/* sandbox

/**
 * An isolated configuration for skopeo / podman / buildah:
 *  - vfs storage under a temp graphroot/runroot (works as root inside
 *    unprivileged containers; no overlay/fuse needed, nothing to unmount);
 *  - containers.conf moving podman's tmp_dir/static_dir/volume_path/network
 *    config and image copy temp files into the sandbox, events off, cgroupfs;
 *  - registries.conf with no search registries (no short-name resolution);
 *  - an "accept anything" signature policy passed explicitly (--policy,
 *    --signature-policy), so the host /etc/containers/policy.json is irrelevant;
 *  - an empty auth file and HOME so no stored credentials leak in.
 * Plain-HTTP registries need --tls-verify=false (podman/buildah/skopeo inspect)
 * or --src-tls-verify=false/--dest-tls-verify=false (skopeo copy); the helpers
 * below add them.
 *
 * Not isolated (no knob exists for root): containers/image's blob info cache
 * /var/lib/containers/cache/blob-info-cache-v1.boltdb, and netavark's
 * /run/containers/networks. Both are harmless for these tests.
 */
export interface ContainersSandbox {
  dir: string;
  env: Record<string, string>;
  policyPath: string;
  /** `skopeo --policy … --tmpdir … <args>` */
  skopeo(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** `podman --root … --runroot … --storage-driver vfs <args>` */
  podman(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** `buildah --root … --runroot … --storage-driver vfs <args>` */
  buildah(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  cleanup(): Promise<void>;
}

export async function createContainersSandbox(name = 'containers'): Promise<ContainersSandbox> {
  const dir = await makeTempDir(name);
  const p = (...parts: string[]) => path.join(dir, ...parts);
  const graphroot = p('storage', 'root');
  const runroot = p('storage', 'run');
  for (const d of [
    graphroot,
    runroot,
    p('tmp'),
    p('libpod-tmp'),
    p('static'),
    p('volumes'),
    p('net'),
    p('home'),
    p('registries.d'),
  ]) {
    await mkdir(d, { recursive: true });
  }
  const toml = (s: string) => JSON.stringify(s); // JSON strings are valid TOML basic strings
  await writeFile(
    p('storage.conf'),
    `[storage]\ndriver = "vfs"\ngraphroot = ${toml(graphroot)}\nrunroot = ${toml(runroot)}\n`,
  );
  await writeFile(
    p('containers.conf'),
    [
      '[engine]',
      `tmp_dir = ${toml(p('libpod-tmp'))}`,
      `static_dir = ${toml(p('static'))}`,
      `volume_path = ${toml(p('volumes'))}`,
      `image_copy_tmp_dir = ${toml(p('tmp'))}`,
      'events_logger = "none"',
      'cgroup_manager = "cgroupfs"',
      '[network]',
      `network_config_dir = ${toml(p('net'))}`,
      '',
    ].join('\n'),
  );
  await writeFile(p('registries.conf'), 'unqualified-search-registries = []\nshort-name-mode = "disabled"\n');
  const policyPath = p('policy.json');
  await writeFile(policyPath, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  await writeFile(p('auth.json'), JSON.stringify({ auths: {} }));

  const env: Record<string, string> = {
    CONTAINERS_STORAGE_CONF: p('storage.conf'),
    CONTAINERS_CONF: p('containers.conf'),
    CONTAINERS_REGISTRIES_CONF: p('registries.conf'),
    REGISTRY_AUTH_FILE: p('auth.json'),
    HOME: p('home'),
    TMPDIR: p('tmp'),
    XDG_CONFIG_HOME: p('home', '.config'),
    XDG_DATA_HOME: p('home', '.local', 'share'),
  };
  const withEnv = (opts?: RunOptions): RunOptions => ({ ...opts, env: { ...env, ...(opts?.env ?? {}) } });
  const storageFlags = ['--root', graphroot, '--runroot', runroot, '--storage-driver', 'vfs'];

  return {
    dir,
    env,
    policyPath,
    skopeo: (args, opts) =>
      run(
        requireTool('skopeo'),
        ['--policy', policyPath, '--registries.d', p('registries.d'), '--tmpdir', p('tmp'), ...args],
        withEnv(opts),
      ),
    podman: (args, opts) => run(requireTool('podman'), [...storageFlags, ...args], withEnv(opts)),
    buildah: (args, opts) => run(requireTool('buildah'), [...storageFlags, ...args], withEnv(opts)),
    cleanup: () => removeDir(dir),
  };
}

/** Parses JSON output of a tool with a helpful error. */
export function parseJson<T = unknown>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`Could not parse ${what} as JSON: ${(e as Error).message}\n${tail(text, 2000)}`);
  }
}
