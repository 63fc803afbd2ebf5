import { RegistryError } from '../core/errors.js';
import { formatRFC3339 } from '../gocompat/time.js';

/** A `limit` query value within 1..max (absent: `fallback`), else BAD_REQUEST. */
export function parseLimit(raw: string | null, fallback: number, max: number): number {
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > max) throw new RegistryError('BAD_REQUEST', `limit must be 1 to ${max}`);
  return n;
}

/** Cursors are opaque to clients: base64url JSON of where the next page starts. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(raw: string | null, valid: (v: unknown) => v is T): T | undefined {
  if (raw === null || raw === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!valid(value)) throw new RegistryError('BAD_REQUEST', 'cursor is not one this API handed out');
  return value;
}

/** Epoch ms as RFC 3339 UTC (the project's one formatter); null stays null. */
export function time(ms: number | undefined): string | null {
  return ms === undefined ? null : formatRFC3339(new Date(ms));
}
