import { RegistryError } from '../../core/errors.js';
import { isArtifactKind, type ArtifactKind } from '../../core/artifact-kind.js';
import type { ApiHandler } from '../api-context.js';
import { sendApiJson } from '../api-errors.js';
import { decodeCursor, encodeCursor, parseLimit, time } from '../paging.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100;
/** Names read per store query while filtering by policy. */
const SCAN_BATCH = 500;
/** Names looked at for one page at most: a caller who sees little of a huge registry gets a shorter page and a cursor. */
const SCAN_LIMIT = 20_000;

const isName = (v: unknown): v is { after: string } =>
  typeof v === 'object' && v !== null && typeof (v as { after?: unknown }).after === 'string';

/**
 * `GET /api/v1/repositories?q=&kind=&limit=&cursor=`: the repositories the caller
 * may pull, in name order. The store filters by text and kind on its indexes; the
 * policy filters what it returns, batch by batch.
 */
export const listRepositories: ApiHandler = async (ctx) => {
  const limit = parseLimit(ctx.query.get('limit'), DEFAULT_LIMIT, MAX_LIMIT);
  const q = (ctx.query.get('q') ?? '').trim().toLowerCase();
  const kindText = ctx.query.get('kind') ?? '';
  if (kindText !== '' && !isArtifactKind(kindText))
    throw new RegistryError('BAD_REQUEST', `unknown kind "${kindText.slice(0, 50)}"`);
  const kind = kindText === '' ? undefined : (kindText as ArtifactKind);
  let after = decodeCursor(ctx.query.get('cursor'), isName)?.after;
  const names: string[] = [];
  let scanned = 0;
  let exhausted = false;
  // One visible name past the page tells whether there is a next page.
  while (names.length <= limit && scanned < SCAN_LIMIT) {
    const batch = await ctx.registry.meta.searchRepositories({
      limit: SCAN_BATCH,
      ...(q !== '' ? { q } : {}),
      ...(kind ? { kind } : {}),
      ...(after !== undefined ? { after } : {}),
    });
    for (const name of batch) {
      scanned++;
      after = name;
      if (ctx.can(name, 'pull')) names.push(name);
      if (names.length > limit) break;
    }
    if (batch.length < SCAN_BATCH) {
      exhausted = names.length <= limit;
      break;
    }
  }
  const shown = names.slice(0, limit);
  const summaries = await ctx.registry.meta.repositorySummaries(shown);
  // Past the page: continue after its last name; scan cut short: after the last name looked at.
  const next = names.length > limit ? shown[limit - 1]! : exhausted || after === undefined ? undefined : after;
  sendApiJson(ctx.res, 200, {
    items: summaries.map((s) => ({
      name: s.name,
      kind: s.kind,
      tags: s.tags,
      size: s.size,
      lastPush: time(s.lastPush),
    })),
    next: next === undefined ? null : encodeCursor({ after: next }),
  });
};
