/**
 * nginx (Debian) in front of a registry, playing a rate-limited upstream: while the
 * limit is on it answers every request itself with `429 Too Many Requests`, a
 * `Retry-After` and the registry's TOOMANYREQUESTS error body, as Docker Hub does;
 * otherwise it proxies. Switched by a file nginx tests per request (`if (-f …)`), so
 * a test decides exactly which requests are refused (a `limit_req` rate would make
 * that depend on timing). Its access log tells which requests reached it.
 */
import { spawnSync } from 'node:child_process';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeTempDir, removeDir, requireTool } from './tools.js';

export interface LoggedRequest {
  status: number;
  method: string;
  path: string;
}

export interface RateLimiter {
  /** http://127.0.0.1:PORT */
  url: string;
  host: string;
  /** Refuse (429) every request from now on, or proxy them again. */
  limit(on: boolean): Promise<void>;
  /** Every request that reached nginx so far, in order (its own probe requests left out). */
  requests(): Promise<LoggedRequest[]>;
  stop(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

export async function startRateLimiter(backend: string, retryAfterSeconds: number): Promise<RateLimiter> {
  const nginx = requireTool('nginx');
  const dir = await makeTempDir('rate-limiter');
  // Run as root, nginx's workers are nobody: they must be able to look for the flag.
  await chmod(dir, 0o755);
  const port = await freePort();
  const flag = path.join(dir, 'limited');
  const body = JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'rate limit exceeded' }] });
  await writeFile(
    path.join(dir, 'nginx.conf'),
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  log_format requests '$status $request_method $uri';
  access_log ${dir}/access.log requests;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 0;
    proxy_request_buffering off;
    proxy_buffering off;
    proxy_http_version 1.1;
    proxy_set_header Host $http_host;
    location / {
      default_type application/json;
      if (-f ${flag}) {
        add_header Retry-After ${retryAfterSeconds} always;
        return 429 '${body}';
      }
      proxy_pass http://${backend};
    }
  }
}
`,
  );
  const started = spawnSync(nginx, ['-e', `${dir}/error.log`, '-p', dir, '-c', `${dir}/nginx.conf`], {
    encoding: 'utf8',
  });
  if (started.status !== 0) {
    const log = await readFile(`${dir}/error.log`, 'utf8').catch(() => '');
    throw new Error(`nginx did not start: ${started.stderr}${log}`);
  }
  let pid = 0;
  for (let i = 0; i < 100 && !pid; i++) {
    pid = Number((await readFile(`${dir}/nginx.pid`, 'utf8').catch(() => '')).trim());
    if (!pid) await sleep(50);
  }
  if (!pid) throw new Error('nginx wrote no pid file');
  let probes = 0;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    async limit(on) {
      if (on) await writeFile(flag, '');
      else await rm(flag, { force: true });
    },
    async requests() {
      // nginx logs a request after answering it: a probe answered and logged means every
      // request answered before it is logged too.
      const probe = `/_probe/${probes++}`;
      await (await fetch(`http://127.0.0.1:${port}${probe}`)).arrayBuffer();
      for (;;) {
        const lines = (await readFile(`${dir}/access.log`, 'utf8').catch(() => '')).split('\n').filter(Boolean);
        if (!lines.some((l) => l.endsWith(` ${probe}`))) {
          await sleep(20);
          continue;
        }
        return lines
          .map((line) => {
            const [status, method, uri] = line.split(' ');
            return { status: Number(status), method: method!, path: uri! };
          })
          .filter((r) => !r.path.startsWith('/_probe/'));
      }
    },
    async stop() {
      try {
        process.kill(pid, 'SIGTERM');
        while (isAlive(pid)) await sleep(50);
      } catch {
        // Already gone.
      }
      await removeDir(dir);
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
