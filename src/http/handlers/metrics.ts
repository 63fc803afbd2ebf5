import { RegistryError } from '../../core/errors.js';
import type { Handler } from '../context.js';
import { serveMetrics } from '../metrics-endpoint.js';

/** `GET /metrics`: Prometheus text exposition, when metrics are served on this address. */
export const metrics: Handler = async (ctx) => {
  if (!ctx.metricsEndpoint) throw new RegistryError('NOT_FOUND', 'metrics are not enabled on this address');
  await serveMetrics(ctx.req, ctx.res, ctx.metricsEndpoint);
};
