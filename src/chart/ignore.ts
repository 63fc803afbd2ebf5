/**
 * `.helmignore`, with Helm's semantics (pkg/ignore), which are not gitignore's:
 * one pattern per line, `#` comments, surrounding whitespace trimmed, `**` refused,
 * Go `filepath.Match` globs; a pattern without `/` matches the base name, one with a
 * `/` (or a leading `/`) the whole relative path; a trailing `/` matches directories
 * only (and ignoring a directory skips everything under it). `!pattern` is no
 * re-include: a path is ignored when it does NOT match it. First match wins. The
 * default rule `templates/.?*` is always appended.
 */

import { BadPattern, goMatch } from '../gocompat/glob.js';

export class IgnoreSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly pattern: string,
  ) {
    super(message);
  }
}

export { BadPattern, goMatch };

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
