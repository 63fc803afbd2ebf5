import { tcpRelay } from './tcp-proxy.js';

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
  const requests: string[] = [];
  const relay = await tcpRelay(host!, Number(portText), (client) => {
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
  });
  return {
    url: `http://127.0.0.1:${relay.port}`,
    requests,
    count: (method, path) =>
      requests.filter((r) => r.startsWith(`${method} `) && path.test(r.slice(method.length + 1))).length,
    stop: relay.stop,
    start: relay.start,
  };
}
