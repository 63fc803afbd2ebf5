import { parsePageRequest } from '../../core/pagination.js';
import type { Handler } from '../context.js';
import { sendJson } from '../respond.js';
import { nextLink } from './links.js';

/** `GET /v2/`: the API version check every client starts with. */
export const base: Handler = async ({ res }) => {
  sendJson(res, 200, {});
};

/** `GET /v2/_catalog`: repositories the caller may pull, paged with Link. */
export const catalog: Handler = async (ctx) => {
  const page = parsePageRequest(ctx.query.get('n'), ctx.query.get('last'));
  const result = await ctx.registry.catalog(page, (name) => ctx.canPull(name));
  const headers: Record<string, string> = {};
  if (result.next !== undefined) headers.Link = nextLink('/v2/_catalog', result.next, page.n ?? result.items.length);
  sendJson(ctx.res, 200, { repositories: result.items }, 'application/json', headers);
};

export const health: Handler = async ({ res }) => {
  sendJson(res, 200, { status: 'ok' });
};

/** `GET /readyz`: 200 while both stores answer and the server is not shutting down. */
export const ready: Handler = async ({ res, state, registry }) => {
  if (!state.ready) return sendJson(res, 503, { status: 'shutting down' });
  const storage = await registry.checkStorage();
  const ok = storage.blobs === 'ok' && storage.metadata === 'ok';
  sendJson(res, ok ? 200 : 503, { status: ok ? 'ready' : 'storage unavailable', ...storage });
};
