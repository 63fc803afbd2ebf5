/**
 * Starts and stops the two registries under test, each as its own process on a
 * free loopback port, and reads their resource use from /proc: peak RSS (VmHWM,
 * reset through clear_refs) and CPU time.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Settings } from './s3-client.js';

export type TargetName = 'stowage' | 'distribution';
export const TARGET_NAMES: readonly TargetName[] = ['stowage', 'distribution'];
export const TARGET_LABELS: Record<TargetName, string> = { stowage: 'Stowage', distribution: 'Distribution' };

/** dist/src/cli/main.js, next to this compiled file (dist/bench/servers.js). */
export const STOWAGE_CLI = path.resolve(fileURLToPath(import.meta.url), '../../src/cli/main.js');

export interface ServerHandle {
  name: TargetName;
  /** http://127.0.0.1:PORT */
  url: string;
  pid: number;
  dataDir: string;
  version: string;
  /**
   * How its offline/online garbage collector reaches the same data: the arguments
   * after `stowage gc` (config and data directory), or Distribution's config file.
   */
  gcArgs: string[];
  /** The environment the server was started with (its GC command gets the same). */
  env: NodeJS.ProcessEnv;
  /** Resets the kernel's peak-RSS mark (VmHWM) to the current RSS. */
  resetPeakRss(): void;
  /** VmHWM in bytes. */
  peakRss(): number;
  /** CPU time used so far (user + system), seconds. */
  cpuSeconds(): number;
  /** Recent output, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

/** A port that was free a moment ago (the registries cannot all report port 0 back at log level warn). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export function which(name: string): string | undefined {
  const dirs = [
    ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean),
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/sbin',
    '/usr/bin',
    '/sbin',
    '/bin',
  ];
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

const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

function procStatus(pid: number, field: string): number {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at ") ".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 overall, 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** GETs url until it answers 200, or throws after timeoutMs. */
async function waitReady(url: string, child: ChildProcess, output: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before answering ${url}:\n${output()}`);
    }
    const status = await new Promise<number>((resolve) => {
      const req = http.get(url, { agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
      req.setTimeout(1000, () => req.destroy());
    });
    if (status === 200) return;
    if (Date.now() > deadline)
      throw new Error(`server did not answer 200 on ${url} within ${timeoutMs} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function track(child: ChildProcess): { output: () => string; exited: Promise<void> } {
  let log = '';
  const onData = (d: Buffer) => {
    log += d.toString('utf8');
    if (log.length > 200_000) log = log.slice(-100_000);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { output: () => log, exited };
}

function handle(
  name: TargetName,
  child: ChildProcess,
  port: number,
  dataDir: string,
  version: string,
  t: ReturnType<typeof track>,
  gcArgs: string[],
  env: NodeJS.ProcessEnv,
): ServerHandle {
  const pid = child.pid!;
  let stopping: Promise<void> | undefined;
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    pid,
    dataDir,
    version,
    gcArgs,
    env,
    resetPeakRss: () => writeFileSync(`/proc/${pid}/clear_refs`, '5'),
    peakRss: () => procStatus(pid, 'VmHWM'),
    cpuSeconds: () => procCpuSeconds(pid),
    output: t.output,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await t.exited;
          clearTimeout(timer);
        }
      })();
      return stopping;
    },
  };
}

/** S3 + PostgreSQL for the `s3+postgres` configuration (absent: the embedded default). */
export interface ScaleOutStorage {
  s3: S3Settings;
  /** Stowage's database and key prefix. */
  pgUrl: string;
  stowagePrefix: string;
  /** Distribution's rootdirectory in the same bucket. */
  distributionRoot: string;
}

export interface StowageOptions {
  cpuProfDir?: string;
  scaleOut?: ScaleOutStorage;
  /** `metrics: { enabled: true }` (GET /metrics on the registry's address). */
  metrics?: boolean;
  /** A pull-through cache entry: repositories under `prefix/` come from `upstream`. */
  proxy?: { prefix: string; upstream: string };
}

/**
 * `stowage serve` from this build: the embedded default storage (fsync on), or S3
 * + PostgreSQL with blob GETs streamed (`redirect: false`, as Distribution's
 * `redirect: disable` below: both registries proxy pulls).
 */
export async function startStowage(dataDir: string, opts: StowageOptions = {}): Promise<ServerHandle> {
  await mkdir(dataDir, { recursive: true });
  const port = await freePort();
  const config: Record<string, unknown> = {};
  if (opts.metrics) config.metrics = { enabled: true };
  // The default tag TTL (300 s): within a run, a cached tag is not asked upstream again.
  if (opts.proxy) config.proxy = [{ prefix: opts.proxy.prefix, upstreams: [opts.proxy.upstream] }];
  if (opts.scaleOut) {
    const { s3, pgUrl, stowagePrefix } = opts.scaleOut;
    config.storage = {
      blobs: {
        driver: 's3',
        endpoint: s3.endpoint,
        region: s3.region,
        bucket: s3.bucket,
        access_key_id: s3.accessKeyId,
        secret_access_key: s3.secretAccessKey,
        path_style: true,
        prefix: stowagePrefix,
        redirect: false,
      },
      metadata: { driver: 'postgres', url: pgUrl, pool: 20 },
    };
  }
  const configArgs: string[] = [];
  if (Object.keys(config).length > 0) {
    const file = path.join(dataDir, 'config.json');
    // JSON is YAML: no serializer needed.
    await writeFile(file, JSON.stringify(config, null, 2));
    configArgs.push('--config', file);
  }
  const env: NodeJS.ProcessEnv = {};
  // STOWAGE_* variables would override the defaults under test (fsync, log level);
  // AWS_* ones are kept from both registries' SDKs alike.
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STOWAGE_') && !k.startsWith('AWS_')) env[k] = v;
  const nodeArgs = opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [];
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      STOWAGE_CLI,
      'serve',
      ...configArgs,
      '--addr',
      `127.0.0.1:${port}`,
      '--data',
      dataDir,
      '--log-level',
      'warn',
    ],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const t = track(child);
  try {
    await waitReady(`http://127.0.0.1:${port}/v2/`, child, t.output);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const pkg = JSON.parse(readFileSync(path.resolve(STOWAGE_CLI, '../../../../package.json'), 'utf8')) as {
    version: string;
  };
  return handle(
    'stowage',
    child,
    port,
    dataDir,
    `stowage ${pkg.version} (node ${process.version})`,
    t,
    [...configArgs, '--data', dataDir],
    env,
  );
}

/**
 * Debian's docker-registry (CNCF Distribution 2.8.x), deletes on: filesystem
 * storage, or its `s3` driver on the same bucket as Stowage under its own
 * rootdirectory, with `redirect: disable` (blob GETs proxied, as Stowage's).
 * With `proxyRemoteUrl`, in proxy mode (`proxy: remoteurl:`): a pull-through
 * cache of that one upstream, which refuses pushes.
 */
export async function startDistribution(
  dir: string,
  scaleOut?: ScaleOutStorage,
  proxyRemoteUrl?: string,
): Promise<ServerHandle> {
  const bin = which('docker-registry');
  if (!bin) {
    throw new Error(
      'docker-registry is not installed: apt-get install -y docker-registry (or run with --target stowage)',
    );
  }
  const dataDir = path.join(dir, 'data');
  await mkdir(dataDir, { recursive: true });
  const port = await freePort();
  const configPath = path.join(dir, 'config.yml');
  // 2.8 forces path-style addressing when regionendpoint is set (forcepathstyle is
  // the 3.x spelling, given for it and ignored by 2.8); v4auth is 2.8's default, stated.
  const storage = scaleOut
    ? [
        '  s3:',
        `    accesskey: ${JSON.stringify(scaleOut.s3.accessKeyId)}`,
        `    secretkey: ${JSON.stringify(scaleOut.s3.secretAccessKey)}`,
        `    region: ${JSON.stringify(scaleOut.s3.region)}`,
        `    regionendpoint: ${JSON.stringify(scaleOut.s3.endpoint)}`,
        '    forcepathstyle: true',
        `    bucket: ${JSON.stringify(scaleOut.s3.bucket)}`,
        `    secure: ${scaleOut.s3.endpoint.startsWith('https:')}`,
        '    v4auth: true',
        `    rootdirectory: ${JSON.stringify(scaleOut.distributionRoot)}`,
        '  redirect:',
        '    disable: true',
      ]
    : ['  filesystem:', `    rootdirectory: ${JSON.stringify(dataDir)}`];
  // The stock Debian config's storage settings (in-memory blob descriptor cache),
  // minus auth and health checks; access log off, as Stowage logs at warn.
  await writeFile(
    configPath,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  formatter: json',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  cache:',
      '    blobdescriptor: inmemory',
      ...storage,
      '  delete:',
      '    enabled: true',
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '  secret: stowage-bench-not-a-secret',
      ...(proxyRemoteUrl ? ['proxy:', `  remoteurl: ${JSON.stringify(proxyRemoteUrl)}`] : []),
      '',
    ].join('\n'),
  );
  // REGISTRY_* variables would override the config file; AWS_* ones reach the S3
  // driver's SDK (an AWS_CA_BUNDLE makes 2.8 panic at start).
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('REGISTRY_') && !k.startsWith('AWS_')) env[k] = v;
  const child = spawn(bin, ['serve', configPath], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const t = track(child);
  try {
    await waitReady(`http://127.0.0.1:${port}/v2/`, child, t.output);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const v = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  const version = (v.stdout || v.stderr || 'docker-registry').trim().split('\n')[0]!;
  return handle('distribution', child, port, dataDir, version, t, [configPath], env);
}
