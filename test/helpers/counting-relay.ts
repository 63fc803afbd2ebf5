import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP relay in front of a real registry that records the HTTP request lines
 * passing through it (to count upstream fetches) and can be stopped and started again
 * on the same port (to play an outage).
 */
export interface CountingRelay {
  /** http://127.0.0.1:PORT */
  url: string;
  /** "METHOD /path" of every request relayed so far. */
  requests: string[];
  /** How many recorded requests match. */
  count(method: string, path: RegExp): number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

const REQUEST_LINE = /^(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP\/1\.[01]$/;

export async function countingRelay(targetHost: string): Promise<CountingRelay> {
  const [host, portText] = targetHost.split(':');
  const sockets = new Set<Socket>();
  const requests: string[] = [];
  let server: Server | undefined;
  let port = 0;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(Number(portText), host);
        sockets.add(client).add(upstream);
        // Request heads, read line by line; the bodies (uploads) are skipped only by not matching.
        let pending = '';
        client.on('data', (chunk: Buffer) => {
          pending += chunk.toString('latin1');
          const lines = pending.split('\r\n');
          pending = lines.pop()!.slice(-4096);
          for (const line of lines) {
            const m = REQUEST_LINE.exec(line);
            if (m) requests.push(`${m[1]} ${m[2]}`);
          }
        });
        client.pipe(upstream).pipe(client);
        const end = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', end).on('close', end);
        upstream.on('error', end).on('close', end);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  const stop = async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  };
  await start();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (method, path) =>
      requests.filter((r) => r.startsWith(`${method} `) && path.test(r.slice(method.length + 1))).length,
    stop,
    start,
  };
}
