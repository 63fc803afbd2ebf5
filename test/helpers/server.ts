import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { resolveConfig, type ServeConfig } from '../../src/config/config.js';
import { startRegistry } from '../../src/app.js';

/** dist/src/cli/main.js, next to this compiled helper. */
export const CLI = resolve(fileURLToPath(import.meta.url), '../../../src/cli/main.js');

export interface CliResult {
  stdout: string;
  stderr: string;
  /** The exit code (0 on success). */
  code: number;
}

/** Runs the `stowage` CLI as its own process; a non-zero exit is returned, not thrown. */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
    });
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const x = e as CliResult;
    return { stdout: x.stdout, stderr: x.stderr, code: x.code };
  }
}

export interface StowageProcess {
  url: string;
  /** "127.0.0.1:PORT", as clients write it in references. */
  host: string;
  dataDir: string;
  pid: number;
  child: ChildProcess;
  /** Log lines (JSON) printed so far. */
  logs: string[];
  /** SIGTERM and wait; removes the data dir unless it was given. */
  stop(): Promise<void>;
  /** Sends a signal (default SIGKILL) and waits for exit; keeps the data dir. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `stowage serve` as a child process on a free loopback port. */
export async function startStowage(
  opts: {
    dataDir?: string;
    env?: Record<string, string>;
    args?: string[];
    /** Run under `ulimit -n` this low (the shell's builtin sets it, then execs node). */
    maxOpenFiles?: number;
  } = {},
): Promise<StowageProcess> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'stowage-test-')));
  const argv = [process.execPath, CLI, 'serve', '--addr', '127.0.0.1:0', '--data', dataDir, ...(opts.args ?? [])];
  const [command, ...args] =
    opts.maxOpenFiles === undefined
      ? argv
      : ['bash', '-c', `ulimit -n ${opts.maxOpenFiles} && exec "$@"`, 'bash', ...argv];
  const child = spawn(command!, args, {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const host = await new Promise<string>((res, rej) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => rej(new Error(`stowage did not start in 20s: ${stderr}`)), 20_000);
    lines.on('line', (line) => {
      logs.push(line);
      try {
        const entry = JSON.parse(line) as { msg?: string; address?: string };
        if (entry.msg === 'listening' && entry.address) {
          clearTimeout(timer);
          res(entry.address);
        }
      } catch {
        /* not JSON */
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`stowage exited with ${code} before listening: ${stderr}`));
    });
  });
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return {
    url: `http://${host}`,
    host,
    dataDir,
    pid: child.pid!,
    child,
    logs,
    kill,
    async stop() {
      await kill('SIGTERM');
      if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface InProcessStowage {
  url: string;
  host: string;
  dataDir: string;
  config: ServeConfig;
  /** host:port of the separate metrics listener, when `metrics.address` is set. */
  metricsAddress?: string;
  stop(): Promise<void>;
}

/** Starts the registry inside the test process (fast; for HTTP-level tests). */
export async function startInProcess(overrides: Partial<ServeConfig> = {}): Promise<InProcessStowage> {
  const dataDir = overrides.data ?? (await mkdtemp(join(tmpdir(), 'stowage-test-')));
  const config = resolveConfig({}, {}, { addr: '127.0.0.1:0', ...overrides, data: dataDir });
  const running = await startRegistry(config, pino({ level: 'silent' }));
  return {
    url: `http://${running.address}`,
    host: running.address,
    dataDir,
    config,
    ...(running.metricsAddress ? { metricsAddress: running.metricsAddress } : {}),
    async stop() {
      await running.shutdown();
      if (!overrides.data) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** One access-log line of a Stowage process (msg "request"). */
export interface LoggedRequest {
  method: string;
  path: string;
  status: number;
  ua?: string;
}

/** The requests a Stowage process logged, from log line `from` on (a mark taken earlier with logs.length). */
export function loggedRequests(proc: Pick<StowageProcess, 'logs'>, from = 0): LoggedRequest[] {
  const out: LoggedRequest[] = [];
  for (const line of proc.logs.slice(from)) {
    try {
      const entry = JSON.parse(line) as Partial<LoggedRequest> & { msg?: string };
      if (
        entry.msg === 'request' &&
        typeof entry.method === 'string' &&
        typeof entry.path === 'string' &&
        typeof entry.status === 'number'
      ) {
        out.push({
          method: entry.method,
          path: entry.path,
          status: entry.status,
          ...(entry.ua ? { ua: entry.ua } : {}),
        });
      }
    } catch {
      // not a JSON line
    }
  }
  return out;
}
