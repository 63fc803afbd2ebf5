import { RegistryError } from '../../core/errors.js';
import type { Handler } from '../context.js';

/** `GET`/`POST /token`: the token endpoint of token auth (src/auth/token-endpoint.ts). */
export const token: Handler = async (ctx) => {
  if (!ctx.tokenEndpoint)
    throw new RegistryError('NOT_FOUND', 'no token endpoint: token authentication is not configured');
  await ctx.tokenEndpoint(ctx);
};
