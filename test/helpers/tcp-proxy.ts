import { createServer, connect, type Server, type Socket } from 'node:net';

/** A loopback TCP relay to host:port that can be stopped and started again on the same port (to play an outage). */
export interface TcpRelay {
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** `onClient` sees each client connection before it is piped (to read its request lines). */
export async function tcpRelay(
  host: string,
  targetPort: number,
  onClient?: (client: Socket) => void,
): Promise<TcpRelay> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const relay: TcpRelay = {
    port: 0,
    start: () =>
      new Promise<void>((resolve, reject) => {
        server = createServer((client) => {
          const upstream = connect(targetPort, host);
          sockets.add(client).add(upstream);
          onClient?.(client);
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
        server.listen(relay.port, '127.0.0.1', () => {
          relay.port = (server!.address() as { port: number }).port;
          resolve();
        });
      }),
    stop: async () => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server = undefined;
    },
  };
  await relay.start();
  return relay;
}

/** A TCP proxy in front of a service (PostgreSQL) that a test can cut and restore, to play an outage. */
export async function cuttableProxy(
  target: URL,
): Promise<{ url: string; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const relay = await tcpRelay(target.hostname, Number(target.port));
  const url = new URL(target.href);
  url.port = String(relay.port);
  return { url: url.href, cut: relay.stop, restore: relay.start, close: relay.stop };
}
