/**
 * Semantic versions and constraints as `flux list artifacts --filter-semver` reads
 * them: tags parse strictly as X.Y.Z[-pre][+build] after leading "v"s are dropped
 * (fluxcd/pkg version.ParseVersion), constraints follow Masterminds/semver v3:
 *
 *   comparators  =, !=, >, <, >=, =>, <=, =<, ~ (~>), ^, and bare versions (=)
 *   versions     may be partial or wildcard: 1, 1.2, 1.2.x, 1.*, *, x
 *   ranges       "1.2 - 1.4.5" (inclusive); AND with spaces or commas; OR with ||
 *   pre-releases a version with a pre-release only satisfies a comparator that
 *                itself names a pre-release
 *
 * Pure: no I/O.
 */

export interface Version {
  major: number;
  minor: number;
  patch: number;
  prerelease: string[];
  original: string;
}

const STRICT = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** A tag as a version, or undefined when flux would skip it. */
export function parseTagVersion(tag: string): Version | undefined {
  const m = STRICT.exec(tag.replace(/^v+/, ''));
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), prerelease: m[4] ? m[4].split('.') : [], original: tag };
}

function comparePre(a: string[], b: string[]): number {
  if (a.length === 0 && b.length === 0) return 0;
  if (a.length === 0) return 1;
  if (b.length === 0) return -1;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d < 0 ? -1 : 1;
    } else if (xn) return -1;
    else if (yn) return 1;
    else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export function compareVersions(a: Version, b: Version): number {
  for (const k of ['major', 'minor', 'patch'] as const) if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  return comparePre(a.prerelease, b.prerelease);
}

export class ConstraintError extends Error {}

interface Partial {
  major?: number;
  minor?: number;
  patch?: number;
  prerelease: string[];
  /** Which parts were given (not wildcards). */
  given: number;
}

const PARTIAL = /^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

function parsePartial(s: string): Partial {
  const m = PARTIAL.exec(s);
  if (!m) throw new ConstraintError(`improper constraint: ${s}`);
  const part = (x: string | undefined) => (x === undefined || /^[xX*]$/.test(x) ? undefined : Number(x));
  const major = part(m[1]);
  const minor = major === undefined ? undefined : part(m[2]);
  const patch = minor === undefined ? undefined : part(m[3]);
  const given = major === undefined ? 0 : minor === undefined ? 1 : patch === undefined ? 2 : 3;
  return { ...(major !== undefined ? { major } : {}), ...(minor !== undefined ? { minor } : {}), ...(patch !== undefined ? { patch } : {}), prerelease: m[4] ? m[4].split('.') : [], given };
}

const v = (major: number, minor: number, patch: number, prerelease: string[] = []): Version => ({ major, minor, patch, prerelease, original: '' });
const floor = (p: Partial): Version => v(p.major ?? 0, p.minor ?? 0, p.patch ?? 0, p.prerelease);

/** The exclusive upper bound of a partial version ("1.2" → 1.3.0, "1" → 2.0.0); undefined for "*". */
function ceilingOf(p: Partial): Version | undefined {
  if (p.given === 0) return undefined;
  if (p.given === 1) return v(p.major! + 1, 0, 0);
  if (p.given === 2) return v(p.major!, p.minor! + 1, 0);
  return undefined;
}

type Test = (x: Version) => boolean;

function comparator(op: string, p: Partial): Test {
  const lo = floor(p);
  const hi = ceilingOf(p);
  const cmp = (x: Version, y: Version) => compareVersions(x, y);
  switch (op) {
    case '':
    case '=':
      if (p.given < 3) return (x) => cmp(x, lo) >= 0 && (hi === undefined || cmp(x, hi) < 0);
      return (x) => cmp(x, lo) === 0;
    case '!=':
      if (p.given < 3) return (x) => !(cmp(x, lo) >= 0 && (hi === undefined || cmp(x, hi) < 0));
      return (x) => cmp(x, lo) !== 0;
    case '>':
      if (p.given === 0) return () => false;
      if (p.given < 3) return (x) => cmp(x, hi!) >= 0;
      return (x) => cmp(x, lo) > 0;
    case '>=':
    case '=>':
      return (x) => cmp(x, lo) >= 0;
    case '<':
      return (x) => cmp(x, lo) < 0;
    case '<=':
    case '=<':
      if (p.given < 3) return hi === undefined ? () => true : (x) => cmp(x, hi) < 0;
      return (x) => cmp(x, lo) <= 0;
    case '~':
    case '~>': {
      const top = p.given <= 1 ? v((p.major ?? 0) + 1, 0, 0) : v(p.major!, p.minor! + 1, 0);
      if (p.given === 0) return () => true;
      return (x) => cmp(x, lo) >= 0 && cmp(x, top) < 0;
    }
    case '^': {
      if (p.given === 0) return () => true;
      let top: Version;
      if (p.major! > 0 || p.given === 1) top = v(p.major! + 1, 0, 0);
      else if (p.minor! > 0 || p.given === 2) top = v(0, p.minor! + 1, 0);
      else top = v(0, 0, p.patch! + 1);
      return (x) => cmp(x, lo) >= 0 && cmp(x, top) < 0;
    }
    default:
      throw new ConstraintError(`improper constraint operator: ${op}`);
  }
}

const COMPARATOR = /^(!=|>=|=>|<=|=<|~>|>|<|=|~|\^)?\s*(\S+)$/;

/** A Masterminds-style constraint; `test` says whether a version satisfies it. */
export function parseConstraint(input: string): { test(x: Version): boolean } {
  const text = input.trim();
  if (text === '') throw new ConstraintError('empty constraint');
  const groups = text.split('||').map((g) => g.trim());
  const compiled: { test: Test; pre: boolean }[][] = groups.map((group) => {
    // "1.2 - 1.4.5" hyphen ranges first, then comparators split on commas/spaces (an operator may be followed by a space).
    const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(group);
    if (hyphen) {
      const a = parsePartial(hyphen[1]!);
      const b = parsePartial(hyphen[2]!);
      return [
        { test: comparator('>=', a), pre: a.prerelease.length > 0 },
        { test: comparator('<=', b), pre: b.prerelease.length > 0 },
      ];
    }
    const tokens = group
      .replace(/(!=|>=|=>|<=|=<|~>|>|<|=|~|\^)\s+/g, '$1')
      .split(/[\s,]+/)
      .filter(Boolean);
    if (tokens.length === 0) return [{ test: () => true, pre: false }];
    return tokens.map((t) => {
      const m = COMPARATOR.exec(t);
      if (!m) throw new ConstraintError(`improper constraint: ${t}`);
      const p = parsePartial(m[2]!);
      return { test: comparator(m[1] ?? '', p), pre: p.prerelease.length > 0 };
    });
  });
  return {
    test: (x) => compiled.some((group) => group.every((c) => (x.prerelease.length > 0 && !c.pre ? false : c.test(x)))),
  };
}
