/**
 * `WWW-Authenticate` challenges and the scope a request needs (pure).
 * Parameters are always quoted; `scope` lists what the request needs so
 * clients that learn auth from any 401 (containerd, oras, ggcr) ask for it.
 */
import type { Access } from '../http/routes.js';
import { formatScope, type ResourceScope } from '../core/scope.js';

/** Scopes a request needs: push routes ask for pull too (clients request both). */
export function requiredScopes(access: Access, repository: string | undefined, mountFrom?: string): ResourceScope[] {
  if (access === 'catalog') return [{ type: 'registry', name: 'catalog', actions: ['*'] }];
  if (repository === undefined || (access !== 'pull' && access !== 'push' && access !== 'delete')) return [];
  const actions = access === 'push' ? ['pull', 'push'] : [access];
  const scopes: ResourceScope[] = [{ type: 'repository', name: repository, actions }];
  if (mountFrom !== undefined && mountFrom !== repository)
    scopes.push({ type: 'repository', name: mountFrom, actions: ['pull'] });
  return scopes;
}

function quote(v: string): string {
  return `"${v.replace(/["\\]/g, '\\$&')}"`;
}

export function bearerChallenge(p: {
  realm: string;
  service: string;
  scopes?: ResourceScope[];
  error?: 'invalid_token' | 'insufficient_scope';
}): string {
  const parts = [`realm=${quote(p.realm)}`, `service=${quote(p.service)}`];
  if (p.scopes && p.scopes.length > 0) parts.push(`scope=${quote(p.scopes.map(formatScope).join(' '))}`);
  if (p.error) parts.push(`error=${quote(p.error)}`);
  return `Bearer ${parts.join(',')}`;
}

export function basicChallenge(realm: string): string {
  return `Basic realm=${quote(realm)},charset="UTF-8"`;
}

/** distribution's 401 detail: the access that was needed. */
export function accessDetail(scopes: ResourceScope[]): { Type: string; Name: string; Action: string }[] {
  return scopes.flatMap((s) => s.actions.map((a) => ({ Type: s.type, Name: s.name, Action: a })));
}

const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The token endpoint on the origin the client used (only for a server reachable on loopback alone). */
export function defaultRealm(host: string | undefined, tls: boolean): string {
  const h = host !== undefined && HOST.test(host) ? host : 'localhost';
  return `${tls ? 'https' : 'http'}://${h}/token`;
}

export interface RealmSettings {
  /** A configured token endpoint URL: always used. */
  realm?: string;
  /** The registry's public origin: the realm is its /token. */
  publicUrl?: string;
  /** Host headers the realm may follow; any other Host gets the first one. */
  allowedHosts: readonly string[];
  tls: boolean;
}

/**
 * Where 401s send clients for a token. Never an unchecked Host header when the
 * configuration says where the registry lives (config.ts refuses to listen
 * beyond loopback without one of these).
 */
export function realmFor(o: RealmSettings): (host: string | undefined) => string {
  if (o.realm !== undefined) return () => o.realm!;
  if (o.publicUrl !== undefined) return () => `${o.publicUrl}/token`;
  const [first] = o.allowedHosts;
  if (first === undefined) return (host) => defaultRealm(host, o.tls);
  const allowed = new Set(o.allowedHosts);
  return (host) =>
    defaultRealm(host !== undefined && allowed.has(host.toLowerCase()) ? host.toLowerCase() : first, o.tls);
}
