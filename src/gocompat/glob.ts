/**
 * Go's path/filepath.Match (Unix: separator "/", "\\" escapes), on code points —
 * shared by `.helmignore` (src/chart/ignore.ts) and flux's `--ignore-paths`
 * (src/flux/ignore.ts), which differ only in the rules built on it. Pure.
 */

/** Go's filepath.ErrBadPattern. */
export class BadPattern extends Error {
  constructor() {
    super('syntax error in pattern');
  }
}

function scanChunk(p: string[]): { star: boolean; chunk: string[]; rest: string[] } {
  let star = false;
  while (p.length > 0 && p[0] === '*') {
    p = p.slice(1);
    star = true;
  }
  let inrange = false;
  let i = 0;
  scan: for (; i < p.length; i++) {
    switch (p[i]) {
      case '\\':
        if (i + 1 < p.length) i++;
        break;
      case '[':
        inrange = true;
        break;
      case ']':
        inrange = false;
        break;
      case '*':
        if (!inrange) break scan;
        break;
    }
  }
  return { star, chunk: p.slice(0, i), rest: p.slice(i) };
}

function getEsc(chunk: string[]): { r: string; rest: string[] } {
  if (chunk.length === 0 || chunk[0] === '-' || chunk[0] === ']') throw new BadPattern();
  if (chunk[0] === '\\') {
    chunk = chunk.slice(1);
    if (chunk.length === 0) throw new BadPattern();
  }
  const r = chunk[0]!;
  const rest = chunk.slice(1);
  if (rest.length === 0) throw new BadPattern();
  return { r, rest };
}

/** Matches `chunk` at the start of `s`; the rest of `s`, or undefined. Throws BadPattern. */
function matchChunk(chunk: string[], s: string[]): string[] | undefined {
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    switch (chunk[0]) {
      case '[': {
        let r = '';
        if (!failed) {
          r = s[0]!;
          s = s.slice(1);
        }
        chunk = chunk.slice(1);
        let negated = false;
        if (chunk.length > 0 && chunk[0] === '^') {
          negated = true;
          chunk = chunk.slice(1);
        }
        let match = false;
        let nrange = 0;
        for (;;) {
          if (chunk.length > 0 && chunk[0] === ']' && nrange > 0) {
            chunk = chunk.slice(1);
            break;
          }
          const lo = getEsc(chunk);
          chunk = lo.rest;
          let hi = lo.r;
          if (chunk[0] === '-') {
            const h = getEsc(chunk.slice(1));
            hi = h.r;
            chunk = h.rest;
          }
          const rc = r.codePointAt(0) ?? -1;
          if (lo.r.codePointAt(0)! <= rc && rc <= hi.codePointAt(0)!) match = true;
          nrange++;
        }
        if (match === negated) failed = true;
        break;
      }
      case '?':
        if (!failed) {
          if (s[0] === '/') failed = true;
          s = s.slice(1);
        }
        chunk = chunk.slice(1);
        break;
      default:
        if (chunk[0] === '\\') {
          chunk = chunk.slice(1);
          if (chunk.length === 0) throw new BadPattern();
        }
        if (!failed) {
          if (chunk[0] !== s[0]) failed = true;
          s = s.slice(1);
        }
        chunk = chunk.slice(1);
    }
  }
  return failed ? undefined : s;
}

/** Go's filepath.Match(pattern, name); throws BadPattern for malformed patterns. */
export function goMatch(pattern: string, name: string): boolean {
  let p = Array.from(pattern);
  let n = Array.from(name);
  outer: while (p.length > 0) {
    const { star, chunk, rest } = scanChunk(p);
    p = rest;
    if (star && chunk.length === 0) return !n.includes('/');
    const t = matchChunk(chunk, n);
    if (t !== undefined && (t.length === 0 || p.length > 0)) {
      n = t;
      continue;
    }
    if (star) {
      for (let i = 0; i < n.length && n[i] !== '/'; i++) {
        const t2 = matchChunk(chunk, n.slice(i + 1));
        if (t2 !== undefined) {
          if (p.length === 0 && t2.length > 0) continue;
          n = t2;
          continue outer;
        }
      }
    }
    // Before failing, check the rest of the pattern is well-formed.
    while (p.length > 0) {
      const next = scanChunk(p);
      p = next.rest;
      matchChunk(next.chunk, []);
    }
    return false;
  }
  return n.length === 0;
}
