/**
 * Repository globs (pure): `*` matches within one path component, `**` across
 * components (any text, `/` included), `?` one character other than `/`.
 * `team/*` matches `team/app` but not `team/app/sub`; `team/**` matches both.
 */

const ALLOWED = /^[a-z0-9._\-/*?]+$/;

export class GlobError extends Error {}

export function compileGlob(pattern: string): RegExp {
  if (!ALLOWED.test(pattern)) {
    throw new GlobError(`invalid repository glob "${pattern}": use lowercase names, "/", "*", "**" and "?"`);
  }
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        re += '.*';
        i++;
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else {
      re += c.replace(/[.\-/]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}
