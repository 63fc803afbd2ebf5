import { RegistryError } from './errors.js';

export interface PageRequest {
  /** At most this many entries; undefined = the server's default page. */
  n?: number;
  /** Start strictly after this value. */
  last?: string;
}

/** Parses `n` and `last` query values; a bad `n` is PAGINATION_NUMBER_INVALID. */
export function parsePageRequest(n: string | null, last: string | null): PageRequest {
  const page: PageRequest = {};
  if (n !== null && n !== '') {
    if (!/^\d+$/.test(n) || !Number.isSafeInteger(Number(n))) {
      throw new RegistryError('PAGINATION_NUMBER_INVALID', 'n must be a non-negative integer', { n });
    }
    page.n = Number(n);
  }
  if (last !== null && last !== '') page.last = last;
  return page;
}

export interface Page<T> {
  items: T[];
  /** The cursor for the next page, when there is one. */
  next?: string;
}

/** Largest page a list answers at once; bigger `n` is clamped and paged with Link. */
export const MAX_PAGE = 10_000;

/**
 * Answers a page request from a store that can list entries after a cursor:
 * fetches one more row than asked to learn whether a next page exists.
 */
export async function paginate(
  page: PageRequest,
  fetch: (after: string, limit: number) => string[] | Promise<string[]>,
): Promise<Page<string>> {
  if (page.n === 0) return { items: [] };
  const n = Math.min(page.n ?? MAX_PAGE, MAX_PAGE);
  const rows = await fetch(page.last ?? '', n + 1);
  if (rows.length <= n) return { items: rows };
  const items = rows.slice(0, n);
  return { items, next: items[items.length - 1] };
}
