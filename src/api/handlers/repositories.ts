import { RegistryError } from '../../core/errors.js';
import type { ApiHandler } from '../api-context.js';
import { sendApiJson } from '../api-errors.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100;
/** Names read per store query while filtering by policy and search text. */
const SCAN_BATCH = 500;

/** A `limit` query value within 1..max, else BAD_REQUEST. */
export function parseLimit(raw: string | null, fallback: number, max: number): number {
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > max) throw new RegistryError('BAD_REQUEST', `limit must be 1 to ${max}`);
  return n;
}

/** `GET /api/v1/repositories?q=&kind=&limit=&cursor=`: the repositories the caller may pull, by name. */
export const listRepositories: ApiHandler = async (ctx) => {
  const limit = parseLimit(ctx.query.get('limit'), DEFAULT_LIMIT, MAX_LIMIT);
  const q = (ctx.query.get('q') ?? '').toLowerCase();
  let after = ctx.query.get('cursor') ?? undefined;
  const names: string[] = [];
  let more = true;
  while (names.length <= limit && more) {
    const batch = await ctx.registry.meta.listRepositories({
      n: SCAN_BATCH,
      ...(after === undefined ? {} : { last: after }),
    });
    for (const name of batch.items) {
      if (names.length > limit) break;
      if (name.includes(q) && ctx.can(name, 'pull')) names.push(name);
    }
    more = batch.next !== undefined;
    after = batch.next;
  }
  const shown = names.slice(0, limit);
  const items = [];
  for (const name of shown) {
    const counts = await ctx.registry.meta.repositoryCounts(name);
    items.push({ name, tags: counts.tags });
  }
  sendApiJson(ctx.res, 200, { items, next: names.length > limit ? shown[limit - 1]! : null });
};
