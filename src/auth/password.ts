/**
 * bcrypt hashing and verification (bcryptjs, pure JS, asynchronous so a check
 * never blocks the event loop for its whole ~50–100 ms).
 */
import bcrypt from 'bcryptjs';

export const DEFAULT_COST = 10;

/**
 * A valid hash of a random string nobody knows, at the default cost: checking
 * an unknown user's password against it takes as long as checking a real one,
 * so response times do not reveal which user names exist.
 */
const DUMMY_HASH = '$2y$10$kgKHHKfD/M0UVAiLaAvdzOciKI/AWM5QuwfUJZBzYedlWVYwJMf.C';

/** A `$2y$` hash, as `htpasswd -B` writes (same algorithm as `$2b$`). */
export async function hashPassword(password: string, cost = DEFAULT_COST): Promise<string> {
  const hash = await bcrypt.hash(password, await bcrypt.genSalt(cost));
  return hash.replace(/^\$2[ab]\$/, '$2y$');
}

/** Constant-time verification; `hash` undefined (unknown user) still costs one bcrypt run. */
export async function verifyPassword(password: string, hash: string | undefined): Promise<boolean> {
  const ok = await bcrypt.compare(password, hash ?? DUMMY_HASH);
  return ok && hash !== undefined;
}
