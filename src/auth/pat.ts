/**
 * Personal access tokens (pure): format, scopes, expiry durations.
 *
 *   stw_<id: 16 hex>_<secret: 43 base64url>
 *
 * The id finds the stored record; only SHA-256(secret) is stored. The secret has
 * 256 bits of entropy, so a fast hash is enough (no bcrypt needed).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { compileGlob } from '../core/repository-glob.js';
import type { Grant } from './policy.js';
import { isAction, type Action, ACTIONS } from '../core/scope.js';

export const PAT_PREFIX = 'stw_';
const PAT = /^stw_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export function generatePat(): { id: string; secret: string; token: string } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, token: `${PAT_PREFIX}${id}_${secret}` };
}

/** Looks like a PAT? (Then it is checked only as one, never as a password.) */
export function parsePat(token: string): { id: string; secret: string } | undefined {
  const m = PAT.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

export function secretMatches(secret: string, stored: Buffer): boolean {
  const h = hashSecret(secret);
  return stored.length === h.length && timingSafeEqual(h, stored);
}

export class PatScopeError extends Error {}

/** `repo-glob:pull,push` (actions: pull, push, delete, *). */
export function parsePatScope(text: string): Grant {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) throw new PatScopeError(`scope "${text}" must be GLOB:ACTIONS, e.g. "alice/**:pull,push"`);
  const glob = text.slice(0, colon);
  try {
    compileGlob(glob);
  } catch (e) {
    throw new PatScopeError((e as Error).message);
  }
  const actions = new Set<Action>();
  for (const a of text.slice(colon + 1).split(',')) {
    if (a === '*') ACTIONS.forEach((x) => actions.add(x));
    else if (isAction(a)) actions.add(a);
    else throw new PatScopeError(`scope "${text}": unknown action "${a}" (pull, push, delete or *)`);
  }
  return { glob, actions: ACTIONS.filter((a) => actions.has(a)) };
}

export function formatPatScope(g: Grant): string {
  return `${g.glob}:${g.actions.join(',')}`;
}

/** `30d`, `12h`, `90m`, `3600s`, `1w` → seconds; `never` → undefined. */
export function parseDuration(text: string): number | undefined {
  if (text === 'never') return undefined;
  const m = /^(\d{1,6})([smhdw])$/.exec(text);
  if (!m) throw new PatScopeError(`duration "${text}" must look like 90m, 12h, 30d, 1w or never`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  const seconds = Number(m[1]) * unit;
  if (seconds <= 0) throw new PatScopeError(`duration "${text}" must be positive`);
  return seconds;
}
