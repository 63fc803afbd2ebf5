/**
 * The ignore rules of `flux push|build|diff artifact --ignore-paths`: gitignore
 * patterns as fluxcd/pkg's sourceignore reads them (go-git's matcher), rooted at
 * the directory being archived.
 *
 *   - lines starting with `#` and blank lines are skipped; trailing spaces are
 *     trimmed unless escaped (`\ `); a leading `!` re-includes;
 *   - a trailing `/` matches directories only;
 *   - a pattern without `/` is matched (Go `filepath.Match`) against every
 *     component of the path, so `*.png` and `foo` apply at any depth;
 *   - a pattern with `/` is matched component by component from the root, `**`
 *     standing for zero or more directories; matching a directory matches what
 *     is below it;
 *   - the last pattern that matches decides.
 *
 * Excluded directories are not pruned by the archiver (their children are tested
 * one by one), which this module leaves to its caller.
 */

/** What `flux push artifact` excludes when `--ignore-paths` is not given. */
export const DEFAULT_IGNORE_PATHS = ['.git/', '.gitignore', '.gitmodules', '.gitattributes', '*.jpg', '*.jpeg', '*.gif', '*.png', '*.wmv', '*.flv', '*.tar.gz', '*.zip'];

type Result = 'none' | 'exclude' | 'include';

class BadPattern extends Error {}

/** Go's scanChunk: leading stars, then the chunk up to the next unbracketed star. */
function scanChunk(pattern: string[]): { star: boolean; chunk: string[]; rest: string[] } {
  let p = pattern;
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

function getEsc(chunk: string[]): { r: number; rest: string[] } {
  let c = chunk;
  if (c.length === 0 || c[0] === '-' || c[0] === ']') throw new BadPattern();
  if (c[0] === '\\') {
    c = c.slice(1);
    if (c.length === 0) throw new BadPattern();
  }
  const r = c[0]!.codePointAt(0)!;
  const rest = c.slice(1);
  if (rest.length === 0) throw new BadPattern();
  return { r, rest };
}

/** Go's matchChunk: the rest of `s` after `chunk` matched its start, or undefined. */
function matchChunk(chunkIn: string[], sIn: string[]): string[] | undefined {
  let chunk = chunkIn;
  let s = sIn;
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    const c = chunk[0]!;
    if (c === '[') {
      let r = -1;
      if (!failed) {
        r = s[0]!.codePointAt(0)!;
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
        if (lo.r <= r && r <= hi) match = true;
        nrange++;
      }
      if (match === negated) failed = true;
    } else if (c === '?') {
      if (!failed) {
        if (s[0] === '/') failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    } else {
      if (c === '\\') {
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

function match(patternStr: string, nameStr: string): boolean {
  let pattern = [...patternStr];
  let name = [...nameStr];
  outer: while (pattern.length > 0) {
    const { star, chunk, rest } = scanChunk(pattern);
    pattern = rest;
    if (star && chunk.length === 0) return !name.includes('/');
    const t = matchChunk(chunk, name);
    if (t !== undefined && (t.length === 0 || pattern.length > 0)) {
      name = t;
      continue;
    }
    if (star) {
      for (let i = 0; i < name.length && name[i] !== '/'; i++) {
        const t2 = matchChunk(chunk, name.slice(i + 1));
        if (t2 !== undefined) {
          if (pattern.length === 0 && t2.length > 0) continue;
          name = t2;
          continue outer;
        }
      }
    }
    while (pattern.length > 0) {
      const next = scanChunk(pattern);
      pattern = next.rest;
      matchChunk(next.chunk, []);
    }
    return false;
  }
  return name.length === 0;
}

/** Go's `filepath.Match(pattern, name)` (a malformed pattern matches nothing, as the matcher treats errors). */
export function goMatch(pattern: string, name: string): boolean {
  try {
    return match(pattern, name);
  } catch (e) {
    if (e instanceof BadPattern) return false;
    throw e;
  }
}

export interface IgnorePattern {
  inclusion: boolean;
  dirOnly: boolean;
  isGlob: boolean;
  parts: string[];
}

export function parsePattern(line: string): IgnorePattern {
  let p = line;
  let inclusion = false;
  if (p.startsWith('!')) {
    inclusion = true;
    p = p.slice(1);
  }
  if (!p.endsWith('\\ ')) p = p.replace(/ +$/, '');
  let dirOnly = false;
  if (p.endsWith('/')) {
    dirOnly = true;
    p = p.slice(0, -1);
  }
  return { inclusion, dirOnly, isGlob: p.includes('/'), parts: p.split('/') };
}

function simpleNameMatch(p: IgnorePattern, path: string[], isDir: boolean): boolean {
  for (let i = 0; i < path.length; i++) {
    if (!goMatch(p.parts[0]!, path[i]!)) continue;
    if (p.dirOnly && !isDir && i === path.length - 1) return false;
    return true;
  }
  return false;
}

function globMatch(p: IgnorePattern, pathIn: string[], isDir: boolean): boolean {
  let path = pathIn;
  let matched = false;
  let canTraverse = false;
  for (let i = 0; i < p.parts.length; i++) {
    const pattern = p.parts[i]!;
    if (pattern === '') {
      canTraverse = false;
      continue;
    }
    if (pattern === '**') {
      if (i === p.parts.length - 1) break;
      canTraverse = true;
      continue;
    }
    if (pattern.includes('**')) return false;
    if (path.length === 0) return false;
    if (canTraverse) {
      canTraverse = false;
      while (path.length > 0) {
        const e = path[0]!;
        path = path.slice(1);
        if (goMatch(pattern, e)) {
          matched = true;
          break;
        } else if (path.length === 0) {
          matched = false;
        }
      }
    } else {
      if (!goMatch(pattern, path[0]!)) return false;
      matched = true;
      path = path.slice(1);
    }
  }
  if (matched && p.dirOnly && !isDir && path.length === 0) matched = false;
  return matched;
}

function matchPattern(p: IgnorePattern, path: string[], isDir: boolean): Result {
  if (path.length === 0) return 'none';
  const ok = p.isGlob ? globMatch(p, path, isDir) : simpleNameMatch(p, path, isDir);
  if (!ok) return 'none';
  return p.inclusion ? 'include' : 'exclude';
}

/**
 * A matcher for the lines of `--ignore-paths` (each value may hold several
 * comma-separated patterns, as flux's StringSlice flag splits them).
 */
export class IgnoreMatcher {
  readonly patterns: IgnorePattern[];

  constructor(lines: readonly string[]) {
    this.patterns = lines.filter((s) => !s.startsWith('#') && s.trim().length > 0).map(parsePattern);
  }

  /** Is `relPath` (slash-separated, relative to the archive root; "" or "." for the root) excluded? */
  excludes(relPath: string, isDir: boolean): boolean {
    if (relPath === '' || relPath === '.') return false;
    const path = relPath.split('/');
    for (let i = this.patterns.length - 1; i >= 0; i--) {
      const r = matchPattern(this.patterns[i]!, path, isDir);
      if (r !== 'none') return r === 'exclude';
    }
    return false;
  }
}

/** `--ignore-paths a,b --ignore-paths c` → patterns, as cobra's StringSlice reads them (CSV per value). */
export function splitIgnorePaths(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (v === '') continue;
    out.push(...parseCsvLine(v));
  }
  return out;
}

/** One CSV record (encoding/csv): commas separate fields, double quotes quote them. */
function parseCsvLine(s: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  let atStart = true;
  while (i < s.length) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"') {
        if (s[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"' && atStart) {
      quoted = true;
      atStart = false;
      i++;
      continue;
    }
    if (c === ',') {
      out.push(field);
      field = '';
      atStart = true;
      i++;
      continue;
    }
    field += c;
    atStart = false;
    i++;
  }
  out.push(field);
  return out;
}
