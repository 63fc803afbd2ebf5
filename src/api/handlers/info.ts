import { packageVersion } from '../../util/package-version.js';
import type { ApiHandler } from '../api-context.js';
import { sendApiJson } from '../api-errors.js';
import { registryHost } from '../registry-host.js';

/** `GET /api/v1/info`: the version, the host to pull from, which optional features are on. */
export const info: ApiHandler = async (ctx) => {
  const o = ctx.options;
  sendApiJson(ctx.res, 200, {
    version: packageVersion(),
    registryHost: registryHost(ctx.req, o),
    features: {
      lifecycle: (o.retention?.length ?? 0) > 0,
      quotas: (o.quotas?.length ?? 0) > 0,
    },
  });
};
