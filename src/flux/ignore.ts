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

import { BadPattern, goMatch as goFilepathMatch } from '../gocompat/glob.js';

/** What `flux push artifact` excludes when `--ignore-paths` is not given. */
export const DEFAULT_IGNORE_PATHS = [
  '.git/',
  '.gitignore',
  '.gitmodules',
  '.gitattributes',
  '*.jpg',
  '*.jpeg',
  '*.gif',
  '*.png',
  '*.wmv',
  '*.flv',
  '*.tar.gz',
  '*.zip',
];

type Result = 'none' | 'exclude' | 'include';

/** Go's `filepath.Match(pattern, name)` (a malformed pattern matches nothing, as the matcher treats errors). */
export function goMatch(pattern: string, name: string): boolean {
  try {
    return goFilepathMatch(pattern, name);
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
