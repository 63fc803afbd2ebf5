/**
 * Versions and constraints with the semantics of Masterminds/semver v3, the library
 * Helm uses (node-semver differs: Masterminds rejects a prerelease unless the
 * comparator itself names one, splits ANDs on commas or spaces, and its `=1.2` is a
 * tilde range). Helm's rules built on it:
 *
 *   parseVersion         semver.NewVersion: loose (`v1`, `1.2`, leading zeros)
 *   parseStrictVersion   semver.StrictNewVersion: SemVer 2.0.0 exactly
 *   parseConstraint      semver.NewConstraint: `^1.2`, `~1.4`, `>=1 <2`, `1.2 - 1.4`, `||`, `x`
 */

export interface Version {
  major: bigint;
  minor: bigint;
  patch: bigint;
  pre: string;
  metadata: string;
  original: string;
}

const LOOSE =
  /^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?(\+([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?$/;
const NUM = /^[0-9]+$/;
const ALLOWED = /^[0-9A-Za-z-]+$/;
const UINT64_MAX = 2n ** 64n - 1n;

export class SemverError extends Error {}

function validatePrerelease(p: string): void {
  for (const part of p.split('.')) {
    if (NUM.test(part)) {
      if (part.length > 1 && part[0] === '0') throw new SemverError('version segment starts with 0');
    } else if (!ALLOWED.test(part)) {
      throw new SemverError('invalid prerelease string');
    }
  }
}

function validateMetadata(m: string): void {
  for (const part of m.split('.')) if (!ALLOWED.test(part)) throw new SemverError('invalid metadata string');
}

function uint(s: string): bigint {
  const n = BigInt(s);
  if (n > UINT64_MAX) throw new SemverError('version segment out of range');
  return n;
}

/** semver.NewVersion: a "SemVer-ish" version, coerced into SemVer. */
export function parseVersion(v: string): Version {
  const m = LOOSE.exec(v);
  if (!m) throw new SemverError('invalid semantic version');
  const pre = m[5] ?? '';
  const metadata = m[8] ?? '';
  if (pre) validatePrerelease(pre);
  if (metadata) validateMetadata(metadata);
  return {
    major: uint(m[1]!),
    minor: m[2] ? uint(m[2].slice(1)) : 0n,
    patch: m[3] ? uint(m[3].slice(1)) : 0n,
    pre,
    metadata,
    original: v,
  };
}

/** semver.StrictNewVersion: MAJOR.MINOR.PATCH[-pre][+meta], no "v", no leading zeros. */
export function parseStrictVersion(v: string): Version {
  if (v === '') throw new SemverError('version string empty');
  const parts = v.split('.');
  if (parts.length < 3) throw new SemverError('invalid semantic version');
  const rest = parts.slice(2).join('.');
  let patch = rest;
  let metadata = '';
  let pre = '';
  const plus = patch.indexOf('+');
  if (plus !== -1) {
    metadata = patch.slice(plus + 1);
    patch = patch.slice(0, plus);
    validateMetadata(metadata);
  }
  const dash = patch.indexOf('-');
  if (dash !== -1) {
    pre = patch.slice(dash + 1);
    patch = patch.slice(0, dash);
    validatePrerelease(pre);
  }
  const nums = [parts[0]!, parts[1]!, patch];
  for (const p of nums) {
    if (!NUM.test(p)) throw new SemverError('invalid characters in version');
    if (p.length > 1 && p[0] === '0') throw new SemverError('version segment starts with 0');
  }
  return { major: uint(nums[0]!), minor: uint(nums[1]!), patch: uint(nums[2]!), pre, metadata, original: v };
}

export function isVersion(v: string): boolean {
  try {
    parseVersion(v);
    return true;
  } catch {
    return false;
  }
}

export function isStrictVersion(v: string): boolean {
  try {
    parseStrictVersion(v);
    return true;
  } catch {
    return false;
  }
}

/** Version.String(): the canonical form. */
export function formatVersion(v: Version): string {
  return `${v.major}.${v.minor}.${v.patch}${v.pre ? `-${v.pre}` : ''}${v.metadata ? `+${v.metadata}` : ''}`;
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparePrePart(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return b !== '' ? -1 : 1;
  if (b === '') return a !== '' ? 1 : -1;
  const an = NUM.test(a);
  const bn = NUM.test(b);
  if (an && bn) return cmpBig(BigInt(a), BigInt(b));
  if (an) return -1;
  if (bn) return 1;
  return a > b ? 1 : -1;
}

function comparePrerelease(a: string, b: string): number {
  const ap = a.split('.');
  const bp = b.split('.');
  const n = Math.max(ap.length, bp.length);
  for (let i = 0; i < n; i++) {
    const c = comparePrePart(ap[i] ?? '', bp[i] ?? '');
    if (c !== 0) return c;
  }
  return 0;
}

/** Version.Compare: SemVer precedence, build metadata ignored. */
export function compareVersions(a: Version, b: Version): number {
  const c = cmpBig(a.major, b.major) || cmpBig(a.minor, b.minor) || cmpBig(a.patch, b.patch);
  if (c !== 0) return c;
  if (a.pre === '' && b.pre === '') return 0;
  if (a.pre === '') return 1;
  if (b.pre === '') return -1;
  return comparePrerelease(a.pre, b.pre);
}

// ---------------------------------------------------------------------------------
// Constraints

interface Comparator {
  op: string;
  con: Version;
  orig: string;
  dirty: boolean;
  minorDirty: boolean;
  patchDirty: boolean;
}

const CV = String.raw`v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?`;
const OPS = String.raw`=||!=|>|<|>=|=>|<=|=<|~|~>|\^`;
const CONSTRAINT = new RegExp(String.raw`^\s*(${OPS})\s*(${CV})\s*$`);
const RANGE = new RegExp(String.raw`\s*(${CV})\s+-\s+(${CV})\s*`, 'g');
const FIND = new RegExp(String.raw`(${OPS})\s*(${CV})`, 'g');
const VALID = new RegExp(String.raw`^(\s*(${OPS})\s*(${CV})\s*\,?)+$`);

const isX = (s: string | undefined) => s === 'x' || s === 'X' || s === '*';

function parseComparator(c: string): Comparator {
  if (c.length === 0)
    return { op: '', con: parseStrictVersion('0.0.0'), orig: c, dirty: true, minorDirty: false, patchDirty: false };
  const m = CONSTRAINT.exec(c);
  if (!m) throw new SemverError(`improper constraint: ${c}`);
  // Groups: 1 op, 2 version, 3 major, 4 .minor, 5 .patch, 6 -pre
  let ver = m[2]!;
  let dirty = false;
  let minorDirty = false;
  let patchDirty = false;
  const pre = m[6] ?? '';
  if (isX(m[3]) || !m[3]) {
    ver = '0.0.0';
    dirty = true;
  } else if (isX(m[4]?.slice(1)) || !m[4]) {
    minorDirty = true;
    dirty = true;
    ver = `${m[3]}.0.0${pre}`;
  } else if (isX(m[5]?.slice(1)) || !m[5]) {
    dirty = true;
    patchDirty = true;
    ver = `${m[3]}${m[4]}.0${pre}`;
  }
  let con: Version;
  try {
    con = parseVersion(ver);
  } catch {
    throw new SemverError(`improper constraint: ${c}`);
  }
  return { op: m[1]!, con, orig: m[2]!, dirty, minorDirty, patchDirty };
}

function preCheck(v: Version, c: Comparator): boolean {
  return !(v.pre !== '' && c.con.pre === '');
}

function tilde(v: Version, c: Comparator): boolean {
  if (!preCheck(v, c)) return false;
  if (compareVersions(v, c.con) < 0) return false;
  if (c.con.major === 0n && c.con.minor === 0n && c.con.patch === 0n && !c.minorDirty && !c.patchDirty) return true;
  if (v.major !== c.con.major) return false;
  if (v.minor !== c.con.minor && !c.minorDirty) return false;
  return true;
}

function check(v: Version, c: Comparator): boolean {
  switch (c.op) {
    case '':
    case '=':
      if (!preCheck(v, c)) return false;
      return c.dirty ? tilde(v, c) : compareVersions(v, c.con) === 0;
    case '!=':
      if (c.dirty) {
        if (!preCheck(v, c)) return false;
        if (c.con.major !== v.major) return true;
        if (c.con.minor !== v.minor && !c.minorDirty) return true;
        if (c.minorDirty) return false;
        if (c.con.patch !== v.patch && !c.patchDirty) return true;
        if (c.patchDirty) {
          if (v.pre !== '' || c.con.pre !== '') return comparePrerelease(v.pre, c.con.pre) !== 0;
          return false;
        }
      }
      return compareVersions(v, c.con) !== 0;
    case '>':
      if (!preCheck(v, c)) return false;
      if (!c.dirty) return compareVersions(v, c.con) === 1;
      if (v.major > c.con.major) return true;
      if (v.major < c.con.major) return false;
      if (c.minorDirty) return false;
      if (c.patchDirty) return v.minor > c.con.minor;
      return compareVersions(v, c.con) === 1;
    case '<':
      if (!preCheck(v, c)) return false;
      return compareVersions(v, c.con) < 0;
    case '>=':
    case '=>':
      if (!preCheck(v, c)) return false;
      return compareVersions(v, c.con) >= 0;
    case '<=':
    case '=<':
      if (!preCheck(v, c)) return false;
      if (!c.dirty) return compareVersions(v, c.con) <= 0;
      if (v.major > c.con.major) return false;
      if (v.major === c.con.major && v.minor > c.con.minor && !c.minorDirty) return false;
      return true;
    case '~':
    case '~>':
      return tilde(v, c);
    case '^':
      if (!preCheck(v, c)) return false;
      if (compareVersions(v, c.con) < 0) return false;
      if (c.con.major > 0n || c.minorDirty) return v.major === c.con.major;
      if (c.con.major === 0n && v.major > 0n) return false;
      if (c.con.minor > 0n || c.patchDirty) return v.minor === c.con.minor;
      if (c.con.minor === 0n && v.minor > 0n) return false;
      return c.con.patch === v.patch;
    default:
      return false;
  }
}

export interface Constraint {
  readonly text: string;
  check(v: Version): boolean;
}

/** semver.NewConstraint. */
export function parseConstraint(text: string): Constraint {
  const rewritten = text.replace(RANGE, (_all, from: string, ...rest: string[]) => {
    // The second version is capture group 11 of the whole match; here rest[9] (after from's 9 groups).
    const to = rest[9]!;
    return `>= ${from}, <= ${to}`;
  });
  const ors: Comparator[][] = rewritten.split('||').map((segment) => {
    if (!VALID.test(segment)) throw new SemverError(`improper constraint: ${segment}`);
    const found = [...segment.matchAll(FIND)].map((m) => m[0]);
    return (found.length ? found : [segment]).map(parseComparator);
  });
  return {
    text,
    check: (v) => ors.some((and) => and.every((c) => check(v, c))),
  };
}
