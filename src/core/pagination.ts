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
