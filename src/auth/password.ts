/**
 * bcrypt hashing and verification (bcryptjs, pure JS, asynchronous so a check
 * never blocks the event loop for its whole ~50–100 ms).
 */
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';

export const DEFAULT_COST = 10;

const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A well-formed bcrypt hash at `cost` that no password matches (random salt and
 * digest, not computed: building it costs nothing). Checking an unknown user's
 * password against it takes as long as checking a real one of that cost, so
 * response times do not reveal which user names exist.
 */
export function dummyHash(cost: number): string {
  let tail = '';
  for (const b of randomBytes(53)) tail += BCRYPT_ALPHABET[b & 63];
  return `$2y$${String(cost).padStart(2, '0')}$${tail}`;
}

/** The cost a bcrypt hash was made with, or undefined when it is not a bcrypt hash. */
export function hashCost(hash: string): number | undefined {
  const m = /^\$2[abxy]?\$(\d{2})\$/.exec(hash);
  return m ? Number(m[1]) : undefined;
}

/** A `$2y$` hash, as `htpasswd -B` writes (same algorithm as `$2b$`). */
export async function hashPassword(password: string, cost = DEFAULT_COST): Promise<string> {
  const hash = await bcrypt.hash(password, await bcrypt.genSalt(cost));
  return hash.replace(/^\$2[ab]\$/, '$2y$');
}

/**
 * Constant-time verification; `hash` undefined (unknown user) still costs one
 * bcrypt run, against `dummy` (a dummyHash at the cost real users have).
 */
export async function verifyPassword(
  password: string,
  hash: string | undefined,
  dummy: string = dummyHash(DEFAULT_COST),
): Promise<boolean> {
  const ok = await bcrypt.compare(password, hash ?? dummy);
  return ok && hash !== undefined;
}
