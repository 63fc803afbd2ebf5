import type { IncomingMessage } from 'node:http';
import type { ApiOptions } from './api-context.js';

const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The host pull commands name: the configured public URL's, else the Host the
 * request used (one of allowed_hosts when those are set), else the listening address.
 */
export function registryHost(req: IncomingMessage, o: Pick<ApiOptions, 'publicUrl' | 'allowedHosts'>): string {
  if (o.publicUrl !== undefined) return new URL(o.publicUrl).host;
  const host = req.headers.host?.toLowerCase();
  const [first] = o.allowedHosts;
  if (first !== undefined) return host !== undefined && o.allowedHosts.includes(host) ? host : first;
  if (host !== undefined && HOST.test(host)) return host;
  const local = req.socket.localAddress ?? 'localhost';
  const addr = local.includes(':') && !local.startsWith('::ffff:') ? `[${local}]` : local.replace(/^::ffff:/, '');
  return `${addr}:${req.socket.localPort ?? ''}`;
}
