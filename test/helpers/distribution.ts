/**
 * Starts Debian's CNCF Distribution (`docker-registry`, package "docker-registry",
 * v2.8.x) on an ephemeral loopback port with filesystem storage in a temp dir and
 * deletes enabled. Used as the reference registry for registry↔registry copies.
 */
import { spawn } from 'node:child_process';
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { makeTempDir, removeDir, requireTool, trackChild } from './tools.js';

export interface DistributionHandle {
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT */
  host: string;
  dataDir: string;
  pid: number;
  /** Everything the registry logged so far (JSON lines, stdout+stderr). */
  logs(): string;
  stop(): Promise<void>;
}

export interface DistributionOptions {
  deleteEnabled?: boolean;
  startTimeoutMs?: number;
  /** More top-level YAML lines for config.yml (e.g. an `auth:` section). */
  extraConfig?: string[];
}

export async function startDistribution(opts: DistributionOptions = {}): Promise<DistributionHandle> {
  const bin = requireTool('docker-registry');
  const dir = await makeTempDir('distribution');
  const dataDir = path.join(dir, 'data');
  await mkdir(dataDir, { recursive: true });
  const configPath = path.join(dir, 'config.yml');
  // Port 0: the Go listener picks a free port and logs "listening on 127.0.0.1:PORT".
  await writeFile(
    configPath,
    [
      'version: 0.1',
      'log:',
      '  level: info',
      '  formatter: json',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${JSON.stringify(dataDir)}`,
      '  delete:',
      `    enabled: ${opts.deleteEnabled ?? true}`,
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      '  addr: 127.0.0.1:0',
      '  secret: stowage-interop-not-a-secret',
      ...(opts.extraConfig ?? []),
      '',
    ].join('\n'),
  );

  // Drop REGISTRY_* variables: distribution lets them override the config file.
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('REGISTRY_')) env[k] = v;

  const child = spawn(bin, ['serve', configPath], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let log = '';
  const onData = (d: Buffer) => {
    log += d.toString('utf8');
    if (log.length > 2_000_000) log = log.slice(-1_000_000);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const cleanupAfterFailure = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await removeDir(dir);
  };

  let host: string;
  try {
    host = await new Promise<string>((resolve, reject) => {
      const timeoutMs = opts.startTimeoutMs ?? 15_000;
      const timer = setTimeout(
        () => reject(new Error(`docker-registry did not report "listening on" within ${timeoutMs} ms. Log:\n${log}`)),
        timeoutMs,
      );
      const check = () => {
        const m = /listening on (127\.0\.0\.1:\d+)/.exec(log);
        if (m?.[1]) {
          clearTimeout(timer);
          child.stdout.off('data', check);
          child.stderr.off('data', check);
          resolve(m[1]);
        }
      };
      child.stdout.on('data', check);
      child.stderr.on('data', check);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`cannot start docker-registry: ${e.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`docker-registry exited during startup (code ${code}, signal ${signal}). Log:\n${log}`));
      });
    });
  } catch (e) {
    await cleanupAfterFailure();
    throw e;
  }

  let stopped: Promise<void> | undefined;
  return {
    url: `http://${host}`,
    host,
    dataDir,
    pid: child.pid!,
    logs: () => log,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          await exited;
          clearTimeout(timer);
        }
        await removeDir(dir);
      })();
      return stopped;
    },
  };
}
