/**
 * `.helmignore`, with Helm's semantics (pkg/ignore), which are not gitignore's:
 * one pattern per line, `#` comments, surrounding whitespace trimmed, `**` refused,
 * Go `filepath.Match` globs; a pattern without `/` matches the base name, one with a
 * `/` (or a leading `/`) the whole relative path; a trailing `/` matches directories
 * only (and ignoring a directory skips everything under it). `!pattern` is no
 * re-include: a path is ignored when it does NOT match it. First match wins. The
 * default rule `templates/.?*` is always appended.
 */

export class IgnoreSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly pattern: string,
  ) {
    super(message);
  }
}

export class BadPattern extends Error {
  constructor() {
    super('syntax error in pattern');
  }
}

// ---------------------------------------------------------------------------------
// Go's path/filepath.Match (Unix: separator "/", "\\" escapes), on code points.

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

// ---------------------------------------------------------------------------------

interface Pattern {
  raw: string;
  negate: boolean;
  mustDir: boolean;
  match: (path: string) => boolean;
}

export class IgnoreRules {
  private readonly patterns: Pattern[] = [];

  /** Parses `.helmignore` text (the default rule is added by `withDefaults`). */
  static parse(text: string): IgnoreRules {
    const r = new IgnoreRules();
    // bufio.Scanner lines: split on \n, a trailing \r dropped (TrimSpace drops it anyway).
    const lines = text.split('\n');
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    lines.forEach((line, i) => r.add(line, i + 1));
    return r;
  }

  static empty(): IgnoreRules {
    return new IgnoreRules();
  }

  /** Adds Helm's default rule: dotfiles in templates/. */
  withDefaults(): this {
    this.add('templates/.?*', 0);
    return this;
  }

  get size(): number {
    return this.patterns.length;
  }

  private add(line: string, lineNo: number): void {
    let rule = line.trim();
    if (rule === '' || rule.startsWith('#')) return;
    if (rule.includes('**')) throw new IgnoreSyntaxError('double-star (**) syntax is not supported', lineNo, rule);
    try {
      goMatch(rule, 'abc');
    } catch {
      throw new IgnoreSyntaxError('syntax error in pattern', lineNo, rule);
    }
    const raw = rule;
    let negate = false;
    if (rule.startsWith('!')) {
      negate = true;
      rule = rule.slice(1);
    }
    let mustDir = false;
    if (rule.endsWith('/')) {
      mustDir = true;
      rule = rule.slice(0, -1);
    }
    const safe = (pattern: string, name: string) => {
      try {
        return goMatch(pattern, name);
      } catch {
        return false;
      }
    };
    let match: (p: string) => boolean;
    if (rule.startsWith('/')) {
      const anchored = rule.slice(1);
      match = (p) => safe(anchored, p);
    } else if (rule.includes('/')) {
      const whole = rule;
      match = (p) => safe(whole, p);
    } else {
      const base = rule;
      match = (p) => safe(base, goBase(p));
    }
    this.patterns.push({ raw, negate, mustDir, match });
  }

  /** Should this chart-relative path ("templates/x.yaml") be left out? */
  ignores(path: string, isDir: boolean): boolean {
    if (path === '' || path === '.' || path === './') return false;
    for (const p of this.patterns) {
      if (p.negate) {
        if (p.mustDir && !isDir) return true;
        if (!p.match(path)) return true;
        continue;
      }
      if (p.mustDir && !isDir) continue;
      if (p.match(path)) return true;
    }
    return false;
  }
}

/** Go's filepath.Base. */
function goBase(p: string): string {
  if (p === '') return '.';
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  const i = trimmed.lastIndexOf('/');
  return i === -1 ? trimmed : trimmed.slice(i + 1);
}
