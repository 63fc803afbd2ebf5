import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { RegistryError } from '../core/errors.js';
import type { Metrics } from '../metrics/metrics.js';
import { sendError } from './respond.js';

/** What `/metrics` serves and who may read it. */
export interface MetricsEndpoint {
  metrics: Metrics;
  /** Scrapers must send `Authorization: Bearer <token>` (absent: open). */
  bearerToken?: string;
}

/** Writes the exposition, or throws UNAUTHORIZED when the bearer token is missing or wrong. */
export async function serveMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  endpoint: MetricsEndpoint,
): Promise<void> {
  if (endpoint.bearerToken !== undefined && !bearerMatches(req.headers.authorization, endpoint.bearerToken)) {
    throw new RegistryError('UNAUTHORIZED', 'metrics need a bearer token', undefined, {
      'WWW-Authenticate': 'Bearer realm="metrics"',
    });
  }
  const { contentType, body } = await endpoint.metrics.exposition();
  const bytes = Buffer.from(body);
  res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': bytes.length, 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1]!);
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** The separate listener (`metrics.address`): `/metrics` and nothing else. */
export function createMetricsServer(endpoint: MetricsEndpoint): Server {
  const server = createServer(
    { keepAliveTimeout: 65_000, headersTimeout: 30_000, requestTimeout: 30_000 },
    (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const run = async () => {
        if (path !== '/metrics') throw new RegistryError('NOT_FOUND', 'only /metrics is served here');
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          res.setHeader('Allow', 'GET, HEAD');
          throw new RegistryError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here`);
        }
        await serveMetrics(req, res, endpoint);
      };
      run().catch((e: unknown) => sendError(req, res, e));
    },
  );
  return server;
}
