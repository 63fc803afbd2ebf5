/**
 * Docker token-auth scopes and the JWT `access` claim (pure, no I/O).
 *
 *   scope         := resourcescope ( " " resourcescope )*
 *   resourcescope := type ":" name ":" action ( "," action )*
 *
 * The type is the text before the first ':', the actions the text after the last
 * one, the name everything between (so `host:5000/app` survives).
 */

/** What a policy can grant on a repository. */
export type Action = 'pull' | 'push' | 'delete';
export const ACTIONS: readonly Action[] = ['pull', 'push', 'delete'];

export function isAction(s: string): s is Action {
  return s === 'pull' || s === 'push' || s === 'delete';
}

/** One resource scope as requested, or one entry of a token's `access` claim. */
export interface ResourceScope {
  type: string;
  name: string;
  actions: string[];
}

const TYPE = /^[a-z0-9]+(?:\([a-z0-9]+\))?$/;

/** `repository(plugin)` is a `repository` for access purposes. */
function normaliseType(type: string): string {
  const paren = type.indexOf('(');
  return paren === -1 ? type : type.slice(0, paren);
}

export function parseResourceScope(text: string): ResourceScope | undefined {
  const first = text.indexOf(':');
  const last = text.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const type = text.slice(0, first);
  const name = text.slice(first + 1, last);
  if (!TYPE.test(type) || name === '') return undefined;
  const actions = text
    .slice(last + 1)
    .split(',')
    .filter((a) => a !== '');
  if (actions.length === 0 || actions.some((a) => !/^(?:[a-z]+|\*)$/.test(a))) return undefined;
  return { type: normaliseType(type), name, actions: [...new Set(actions)] };
}

/**
 * Every scope in the given values (each may hold several, space-separated),
 * merged per resource. Malformed entries are dropped, not errors: a token
 * server grants what it can. At most `max` resources are kept.
 */
export function parseScopes(values: Iterable<string>, max = 64): ResourceScope[] {
  const byKey = new Map<string, ResourceScope>();
  for (const value of values) {
    for (const part of value.split(' ')) {
      if (part === '') continue;
      const scope = parseResourceScope(part);
      if (!scope) continue;
      const key = `${scope.type}:${scope.name}`;
      const seen = byKey.get(key);
      if (seen) seen.actions = [...new Set([...seen.actions, ...scope.actions])];
      else if (byKey.size < max) byKey.set(key, scope);
    }
  }
  return [...byKey.values()];
}

export function formatScope(s: ResourceScope): string {
  return `${s.type}:${s.name}:${s.actions.join(',')}`;
}

/** Does an `access` claim grant `action` on the resource? (`*` grants every action.) */
export function accessGrants(access: readonly ResourceScope[], type: string, name: string, action: string): boolean {
  for (const entry of access) {
    if (normaliseType(entry.type) !== type || entry.name !== name) continue;
    if (entry.actions.includes(action) || entry.actions.includes('*')) return true;
  }
  return false;
}

/** Reads a JWT `access` claim defensively: anything malformed grants nothing. */
export function readAccessClaim(claim: unknown): ResourceScope[] {
  if (!Array.isArray(claim)) return [];
  const out: ResourceScope[] = [];
  for (const e of claim) {
    if (typeof e !== 'object' || e === null) continue;
    const { type, name, actions } = e as Record<string, unknown>;
    if (typeof type !== 'string' || typeof name !== 'string' || !Array.isArray(actions)) continue;
    out.push({ type, name, actions: actions.filter((a): a is string => typeof a === 'string') });
  }
  return out;
}
