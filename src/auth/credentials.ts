/**
 * What an `Authorization` header carries (pure). `Basic Og==` (empty user and
 * password, podman's "no credentials") is anonymous, like no header at all.
 */
export type Presented =
  | { kind: 'none' }
  | { kind: 'basic'; user: string; secret: string }
  | { kind: 'bearer'; token: string }
  | { kind: 'malformed' };

export function readAuthorization(header: string | undefined): Presented {
  if (header === undefined || header === '') return { kind: 'none' };
  const m = /^([A-Za-z]+) +(\S+) *$/.exec(header);
  if (!m) return { kind: 'malformed' };
  const scheme = m[1]!.toLowerCase();
  const value = m[2]!;
  if (scheme === 'bearer') return { kind: 'bearer', token: value };
  if (scheme !== 'basic') return { kind: 'malformed' };
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return { kind: 'malformed' };
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return { kind: 'malformed' };
  const user = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  if (user === '' && secret === '') return { kind: 'none' };
  return { kind: 'basic', user, secret };
}
