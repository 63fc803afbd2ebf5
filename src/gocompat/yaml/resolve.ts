/**
 * go-yaml v2's resolve.go: what an untagged plain scalar means (YAML 1.1 booleans
 * `yes`/`on`, `017` octal, `1_000`, base-60 floats, timestamps kept as text when
 * decoding into interface{}), and the Go-like values decoding gives.
 */
// ---------------------------------------------------------------------------------
// Go-like values

export class GoInt {
  constructor(readonly value: bigint) {}
}
export class GoFloat {
  constructor(readonly value: number) {}
}
/** A YAML mapping as go-yaml decodes it into interface{}: keys are any scalar. */
export class GoYamlMap {
  constructor(readonly entries: [GoYamlValue, GoYamlValue][]) {}
  get(key: string): GoYamlValue | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i]![0] === key) return this.entries[i]![1];
    return undefined;
  }
  has(key: string): boolean {
    return this.entries.some(([k]) => k === key);
  }
}
export type GoYamlValue = null | boolean | string | GoInt | GoFloat | GoYamlValue[] | GoYamlMap;

// ---------------------------------------------------------------------------------
// go-yaml v2 resolve()

const RESOLVE_MAP = new Map<string, 'bool-true' | 'bool-false' | 'null' | 'float'>();
for (const s of ['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'])
  RESOLVE_MAP.set(s, 'bool-true');
for (const s of ['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'])
  RESOLVE_MAP.set(s, 'bool-false');
for (const s of ['', '~', 'null', 'Null', 'NULL']) RESOLVE_MAP.set(s, 'null');
for (const s of ['.nan', '.NaN', '.NAN', '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF'])
  RESOLVE_MAP.set(s, 'float');

function hintOf(s: string): string {
  if (s === '') return 'N';
  const c = s[0]!;
  if (c === '+' || c === '-') return 'S';
  if (c >= '0' && c <= '9') return 'D';
  if ('yYnNtTfFoO~'.includes(c)) return 'M';
  if (c === '.') return '.';
  return '';
}

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** Go's strconv.ParseInt(s, 0, 64) / ParseUint(s, 0, 64) (after underscores were removed). */
function parseGoInt(s: string, signed: boolean): bigint | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  if (m[1] && !signed) return undefined;
  let body = m[2]!;
  let n: bigint;
  if (/^0[oO]/.test(body)) n = BigInt(`0o${body.slice(2)}`);
  else if (/^0[0-7]+$/.test(body)) n = BigInt(`0o${body.slice(1)}`);
  else {
    if (/^0[xXbB]/.test(body)) body = `0${body[1]!.toLowerCase()}${body.slice(2)}`;
    n = BigInt(body);
  }
  if (m[1] === '-') n = -n;
  if (signed ? n < INT64_MIN || n > INT64_MAX : n > UINT64_MAX) return undefined;
  return n;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** go-yaml v2's parseTimestamp: the formats it tries with time.Parse. */
export function isGoYamlTimestamp(s: string): boolean {
  const m =
    /^(\d{4})-(\d{1,2})-(\d{1,2})(?:([Tt ])(\d{1,2}):(\d{1,2}):(\d{1,2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:\d{2})?)?$/.exec(
      s,
    );
  if (!m) return false;
  const [, y, mo, d, sep, h, mi, se, , zone] = m;
  const month = Number(mo);
  if (month < 1 || month > 12 || Number(d) < 1 || Number(d) > daysIn(Number(y), month)) return false;
  if (sep === undefined) return true;
  if (Number(h) > 23 || Number(mi) > 59 || Number(se) > 59) return false;
  // "2006-1-2 15:4:5.999999999" has no zone; the T forms require one.
  if (sep === ' ') return zone === undefined;
  if (zone === undefined) return false;
  if (zone !== 'Z' && (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(4)) > 59)) return false;
  return true;
}

/** What go-yaml v2 makes of an untagged plain scalar. */
export function goYamlResolve(s: string): GoYamlValue {
  const hint = hintOf(s);
  if (hint === '') return s;
  const known = RESOLVE_MAP.get(s);
  if (known === 'bool-true') return true;
  if (known === 'bool-false') return false;
  if (known === 'null') return null;
  if (known === 'float') {
    const lower = s.toLowerCase();
    return new GoFloat(lower.includes('nan') ? NaN : lower.startsWith('-') ? -Infinity : Infinity);
  }
  if (hint === '.') {
    if (/^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(s)) return new GoFloat(Number(s));
    return s;
  }
  if (hint === 'D' || hint === 'S') {
    if (isGoYamlTimestamp(s)) return s; // decoded into interface{}, v2 keeps the text
    const plain = s.replace(/_/g, '');
    const i = parseGoInt(plain, true) ?? parseGoInt(plain, false);
    if (i !== undefined) return new GoInt(i);
    if (YAML_STYLE_FLOAT.test(plain)) {
      const f = Number(plain);
      if (Number.isFinite(f)) return new GoFloat(f);
    }
  }
  return s;
}

/** True when a string written plain would read back as something else than a string. */
export function resolvesToNonString(s: string): boolean {
  const hint = hintOf(s);
  if (hint === '') return false;
  if (RESOLVE_MAP.has(s)) return true;
  if (hint === '.') return /^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(s);
  if (hint === 'D' || hint === 'S') {
    if (isGoYamlTimestamp(s)) return true;
    const plain = s.replace(/_/g, '');
    if (parseGoInt(plain, true) !== undefined || parseGoInt(plain, false) !== undefined) return true;
    if (YAML_STYLE_FLOAT.test(plain) && Number.isFinite(Number(plain))) return true;
    if (/^-?0b/.test(plain) && /^-?0b[01]+$/.test(plain)) return true;
  }
  return false;
}

export const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
