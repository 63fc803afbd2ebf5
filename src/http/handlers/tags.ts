import { parsePageRequest } from '../../core/pagination.js';
import type { Handler } from '../context.js';
import { sendJson } from '../respond.js';
import { nextLink } from './links.js';

/** `GET /v2/<name>/tags/list[?n=&last=]` in byte order. */
export const listTags: Handler = async (ctx) => {
  const name = ctx.params.name!;
  const page = parsePageRequest(ctx.query.get('n'), ctx.query.get('last'));
  const result = await ctx.registry.listTags(name, page);
  const headers: Record<string, string> = {};
  if (result.next !== undefined)
    headers.Link = nextLink(`/v2/${name}/tags/list`, result.next, page.n ?? result.items.length);
  sendJson(ctx.res, 200, { name, tags: result.items }, 'application/json', headers);
};
