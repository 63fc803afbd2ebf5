/**
 * YAML as Helm reads and writes it: sigs.k8s.io/yaml on top of go-yaml v2.
 *
 *   goYamlParse      YAML text → Go-like values, resolving plain scalars with go-yaml v2's
 *                    rules (YAML 1.1 booleans `yes`/`on`, `017` octal, `1_000`, timestamps
 *                    kept as strings, as v2 does when decoding into interface{}).
 *   goYamlMarshal    JSON-shaped values → the bytes go-yaml v2's Marshal writes: map keys
 *                    in its "natural" order, block style, sequences not indented under a
 *                    key, strings quoted only when they would read back as something else,
 *                    literal blocks for multi-line text, and long lines folded after
 *                    column 80 (v2's default width; Helm never changes it).
 *   goFormatFloat    strconv.FormatFloat(f, 'g', -1, 32|64).
 *
 * Helm's Chart.yaml in a package, `helm show chart`, and Chart.lock are all
 * `yaml.Marshal` of a struct, i.e. JSON first, then this.
 */
import { isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node as YamlNode, Scalar } from 'yaml';
import { compareUtf8 } from '../util/go-json.js';

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
for (const s of ['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']) RESOLVE_MAP.set(s, 'bool-true');
for (const s of ['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']) RESOLVE_MAP.set(s, 'bool-false');
for (const s of ['', '~', 'null', 'Null', 'NULL']) RESOLVE_MAP.set(s, 'null');
for (const s of ['.nan', '.NaN', '.NAN', '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF']) RESOLVE_MAP.set(s, 'float');

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
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:([Tt ])(\d{1,2}):(\d{1,2}):(\d{1,2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:\d{2})?)?$/.exec(s);
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
function resolvesToNonString(s: string): boolean {
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

const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;

// ---------------------------------------------------------------------------------
// Parsing

export class GoYamlError extends Error {}

function toGoValue(doc: Document, node: unknown, depth = 0): GoYamlValue {
  if (depth > 200) throw new GoYamlError('document is nested too deeply');
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return toGoValue(doc, node.resolve(doc), depth + 1);
  if (isScalar(node)) {
    const value = node.value;
    const text = typeof value === 'string' ? value : value === null || value === undefined ? '' : String(value);
    const tag = node.tag;
    if (tag) {
      const short = tag.replace(/^tag:yaml\.org,2002:/, '!!');
      if (short === '!!str' || short === '!!binary' || short === '!') return text;
      if (short === '!!null') return null;
      const resolved = goYamlResolve(text);
      if (short === '!!int' && resolved instanceof GoInt) return resolved;
      if (short === '!!float') return resolved instanceof GoInt ? new GoFloat(Number(resolved.value)) : resolved instanceof GoFloat ? resolved : text;
      if (short === '!!bool' && typeof resolved === 'boolean') return resolved;
      if (short === '!!timestamp') return text;
      return text;
    }
    if (node.type === Scalar.PLAIN) return goYamlResolve(text);
    return text;
  }
  if (isSeq(node)) return node.items.map((i) => toGoValue(doc, i, depth + 1));
  if (isMap(node)) {
    const entries: [GoYamlValue, GoYamlValue][] = [];
    const set = (k: GoYamlValue, v: GoYamlValue, override: boolean) => {
      const at = entries.findIndex(([x]) => sameKey(x, k));
      if (at === -1) entries.push([k, v]);
      else if (override) entries[at] = [k, v];
    };
    const merges: GoYamlMap[] = [];
    for (const pair of node.items) {
      const keyNode = pair.key as YamlNode | null;
      if (isScalar(keyNode) && keyNode.type === Scalar.PLAIN && !keyNode.tag && keyNode.value === '<<') {
        const v = toGoValue(doc, pair.value, depth + 1);
        if (v instanceof GoYamlMap) merges.push(v);
        else if (Array.isArray(v)) for (const m of v) if (m instanceof GoYamlMap) merges.push(m);
        continue;
      }
      set(toGoValue(doc, keyNode, depth + 1), toGoValue(doc, pair.value, depth + 1), true);
    }
    for (const m of merges) for (const [k, v] of m.entries) set(k, v, false);
    return new GoYamlMap(entries);
  }
  throw new GoYamlError('unsupported YAML node');
}

function sameKey(a: GoYamlValue, b: GoYamlValue): boolean {
  if (a instanceof GoInt && b instanceof GoInt) return a.value === b.value;
  if (a instanceof GoFloat && b instanceof GoFloat) return a.value === b.value;
  return a === b;
}

/** Parses one YAML document the way go-yaml v2 decodes it into interface{}. */
export function goYamlParse(text: string): GoYamlValue {
  const doc = parseDocument(text, { schema: 'failsafe', uniqueKeys: false, strict: false, prettyErrors: true });
  const err = doc.errors[0];
  if (err) throw new GoYamlError(err.message.split('\n')[0]!);
  return toGoValue(doc, doc.contents);
}

/** The source text of a top-level mapping's scalar values ("1.0" for `version: 1.0`). */
export function goYamlTopLevelScalars(text: string): Map<string, string> {
  const out = new Map<string, string>();
  try {
    const doc = parseDocument(text, { schema: 'failsafe', uniqueKeys: false, strict: false });
    if (doc.errors.length || !isMap(doc.contents)) return out;
    for (const pair of doc.contents.items) {
      if (isScalar(pair.key) && isScalar(pair.value) && typeof pair.value.value === 'string') out.set(String(pair.key.value), pair.value.value);
    }
  } catch {
    /* unparsable: no source text */
  }
  return out;
}

// ---------------------------------------------------------------------------------
// strconv.FormatFloat(f, 'g', -1, bits)

function shortestDigits(f: number, bits: 32 | 64): { digits: string; dp: number } {
  let exp: string;
  if (bits === 64) {
    exp = Math.abs(f).toExponential();
  } else {
    const target = Math.fround(Math.abs(f));
    exp = target.toExponential(8);
    for (let p = 1; p <= 9; p++) {
      const s = target.toExponential(p - 1);
      if (Math.fround(Number(s)) === target) {
        exp = s;
        break;
      }
    }
  }
  const [mant, e] = exp.split('e') as [string, string];
  const digits = mant.replace('.', '').replace(/0+$/, '') || '0';
  return { digits, dp: Number(e) + 1 };
}

export function goFormatFloat(f: number, bits: 32 | 64 = 64): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  const neg = f < 0 || Object.is(f, -0);
  if (f === 0) return neg ? '-0' : '0';
  const { digits, dp } = shortestDigits(f, bits);
  const nd = digits.length;
  const exp = dp - 1;
  let s: string;
  if (exp < -4 || exp >= 6) {
    const mant = nd > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp);
    s = `${mant}e${exp < 0 ? '-' : '+'}${e < 10 ? `0${e}` : e}`;
  } else if (dp <= 0) {
    s = `0.${'0'.repeat(-dp)}${digits}`;
  } else if (dp >= nd) {
    s = digits + '0'.repeat(dp - nd);
  } else {
    s = `${digits.slice(0, dp)}.${digits.slice(dp)}`;
  }
  return neg ? `-${s}` : s;
}

/** go-yaml's spelling of a float (".inf", ".nan"). */
export function goYamlFloat(f: number, bits: 32 | 64 = 64): string {
  const s = goFormatFloat(f, bits);
  return s === '+Inf' ? '.inf' : s === '-Inf' ? '-.inf' : s === 'NaN' ? '.nan' : s;
}

// ---------------------------------------------------------------------------------
// Marshalling: a port of the parts of go-yaml v2's encoder and emitter Helm exercises.

/** go-yaml v2's keyList.Less for string keys: letters before digits runs compared numerically. */
export function goYamlKeyLess(a: string, b: string): boolean {
  const ar = Array.from(a);
  const br = Array.from(b);
  const isLetter = (c: string) => /\p{L}/u.test(c);
  const isDigit = (c: string | undefined) => c !== undefined && /\p{Nd}/u.test(c);
  for (let i = 0; i < ar.length && i < br.length; i++) {
    if (ar[i] === br[i]) continue;
    const al = isLetter(ar[i]!);
    const bl = isLetter(br[i]!);
    if (al && bl) return ar[i]!.codePointAt(0)! < br[i]!.codePointAt(0)!;
    if (al || bl) return bl;
    let an = 0n;
    let bn = 0n;
    if (ar[i] === '0' || br[i] === '0') {
      for (let j = i - 1; j >= 0 && isDigit(ar[j]); j--) {
        if (ar[j] !== '0') {
          an = 1n;
          bn = 1n;
          break;
        }
      }
    }
    let ai = i;
    for (; ai < ar.length && isDigit(ar[ai]); ai++) an = an * 10n + BigInt(ar[ai]!.codePointAt(0)! - 48);
    let bi = i;
    for (; bi < br.length && isDigit(br[bi]); bi++) bn = bn * 10n + BigInt(br[bi]!.codePointAt(0)! - 48);
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return ar[i]!.codePointAt(0)! < br[i]!.codePointAt(0)!;
  }
  return ar.length < br.length;
}

const BEST_WIDTH = 80;
const BEST_INDENT = 2;

type Style = 'plain' | 'single' | 'double' | 'literal';

function isBreak(c: string): boolean {
  return c === '\r' || c === '\n' || c === '\u0085' || c === '\u2028' || c === '\u2029';
}
function isBlank(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}
function isBlankz(c: string | undefined): boolean {
  return c === undefined || isBlank(c) || isBreak(c) || c === '\0';
}
function isPrintable(c: string): boolean {
  const cp = c.codePointAt(0)!;
  return cp === 0x0a || (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff);
}

interface ScalarAnalysis {
  multiline: boolean;
  blockPlainAllowed: boolean;
  singleQuotedAllowed: boolean;
  blockAllowed: boolean;
}

/** yaml_emitter_analyze_scalar (block context; the emitter is in unicode mode). */
function analyzeScalar(value: string): ScalarAnalysis {
  if (value === '') return { multiline: false, blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: false };
  const cs = Array.from(value);
  let blockIndicators = false;
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let precededByWhitespace = true;
  let previousSpace = false;
  let previousBreak = false;
  if (value.startsWith('---') || value.startsWith('...')) blockIndicators = true;
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i]!;
    const followedByWhitespace = i + 1 >= cs.length || isBlank(cs[i + 1]);
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(c)) blockIndicators = true;
      else if ((c === '?' || c === ':' || c === '-') && followedByWhitespace) blockIndicators = true;
    } else if ((c === ':' && followedByWhitespace) || (c === '#' && precededByWhitespace)) {
      blockIndicators = true;
    }
    if (!isPrintable(c)) special = true;
    if (c === ' ') {
      if (i === 0) leadingSpace = true;
      if (i === cs.length - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (isBreak(c)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (i === cs.length - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = isBlankz(c);
  }
  const a: ScalarAnalysis = { multiline: lineBreaks, blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: true };
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) a.blockPlainAllowed = false;
  if (trailingSpace) a.blockAllowed = false;
  if (breakSpace) {
    a.blockPlainAllowed = false;
    a.singleQuotedAllowed = false;
  }
  if (spaceBreak || special) {
    a.blockPlainAllowed = false;
    a.singleQuotedAllowed = false;
    a.blockAllowed = false;
  }
  if (lineBreaks) a.blockPlainAllowed = false;
  if (blockIndicators) a.blockPlainAllowed = false;
  return a;
}

class Emitter {
  private readonly out: string[] = [];
  private column = 0;
  private indent = -1;
  private readonly indents: number[] = [];
  private whitespace = true;
  private indention = true;
  private openEnded = false;

  result(): string {
    return this.out.join('');
  }

  private put(c: string): void {
    this.out.push(c);
    this.column++;
  }
  private putBreak(): void {
    this.out.push('\n');
    this.column = 0;
  }
  private writeBreak(c: string): void {
    if (c === '\n') this.putBreak();
    else {
      this.out.push(c);
      this.column = 0;
    }
  }

  private writeIndent(): void {
    const indent = Math.max(this.indent, 0);
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) this.putBreak();
    while (this.column < indent) this.put(' ');
    this.whitespace = true;
    this.indention = true;
  }

  private writeIndicator(indicator: string, needWhitespace: boolean, isWhitespace: boolean, isIndention: boolean): void {
    if (needWhitespace && !this.whitespace) this.put(' ');
    for (const c of indicator) this.put(c);
    this.whitespace = isWhitespace;
    this.indention = this.indention && isIndention;
    this.openEnded = false;
  }

  private increaseIndent(flow: boolean, indentless: boolean): void {
    this.indents.push(this.indent);
    if (this.indent < 0) this.indent = flow ? BEST_INDENT : 0;
    else if (!indentless) this.indent += BEST_INDENT;
  }
  private popIndent(): void {
    this.indent = this.indents.pop()!;
  }

  document(v: unknown): void {
    this.node(v, { mapping: false, simpleKey: false });
    // Document end: a final line break, and "..." after an open-ended scalar.
    this.writeIndent();
    if (this.openEnded) {
      this.writeIndicator('...', true, false, false);
      this.writeIndent();
    }
  }

  private node(v: unknown, ctx: { mapping: boolean; simpleKey: boolean }): void {
    if (Array.isArray(v)) {
      if (v.length === 0) this.emptyFlow('[', ']');
      else this.blockSequence(v, ctx.mapping);
      return;
    }
    if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v as object);
      if (keys.length === 0) this.emptyFlow('{', '}');
      else this.blockMapping(v as Record<string, unknown>, keys);
      return;
    }
    this.scalarValue(v, ctx.simpleKey);
  }

  private emptyFlow(open: string, close: string): void {
    this.writeIndicator(open, true, true, false);
    this.increaseIndent(true, false);
    this.popIndent();
    this.writeIndicator(close, false, false, false);
  }

  private blockSequence(items: unknown[], mappingContext: boolean): void {
    this.increaseIndent(false, mappingContext && !this.indention);
    for (const item of items) {
      this.writeIndent();
      this.writeIndicator('-', true, false, true);
      this.node(item, { mapping: false, simpleKey: false });
    }
    this.popIndent();
  }

  private blockMapping(obj: Record<string, unknown>, keys: string[]): void {
    const sorted = [...keys].sort((a, b) => (goYamlKeyLess(a, b) ? -1 : goYamlKeyLess(b, a) ? 1 : 0));
    this.increaseIndent(false, false);
    for (const k of sorted) {
      this.writeIndent();
      const a = analyzeScalar(k);
      if (!a.multiline && Buffer.byteLength(k) <= 128) {
        this.scalarValue(k, true);
        this.writeIndicator(':', false, false, false);
      } else {
        this.writeIndicator('?', true, false, true);
        this.scalarValue(k, false);
        this.writeIndent();
        this.writeIndicator(':', true, false, true);
      }
      this.node(obj[k], { mapping: true, simpleKey: false });
    }
    this.popIndent();
  }

  private scalarValue(v: unknown, simpleKey: boolean): void {
    let text: string;
    let style: Style;
    if (v === null || v === undefined) {
      text = 'null';
      style = 'plain';
    } else if (typeof v === 'boolean') {
      text = v ? 'true' : 'false';
      style = 'plain';
    } else if (typeof v === 'number') {
      const json = JSON.stringify(v);
      text = /^-?\d+$/.test(json) ? json : goYamlFloat(v);
      style = 'plain';
    } else if (typeof v === 'bigint') {
      text = v.toString();
      style = 'plain';
    } else {
      text = String(v);
      const canUsePlain = !resolvesToNonString(text) && !BASE60_FLOAT.test(text);
      style = text.includes('\n') ? 'literal' : canUsePlain ? 'plain' : 'double';
    }
    const a = analyzeScalar(text);
    // yaml_emitter_select_scalar_style (block context, no tags)
    if (simpleKey && a.multiline) style = 'double';
    if (style === 'plain') {
      if (!a.blockPlainAllowed) style = 'single';
      if (text === '' && simpleKey) style = 'single';
    }
    if (style === 'single' && !a.singleQuotedAllowed) style = 'double';
    if (style === 'literal' && (!a.blockAllowed || simpleKey)) style = 'double';

    this.increaseIndent(true, false);
    const allowBreaks = !simpleKey;
    if (style === 'plain') this.writePlain(text, allowBreaks);
    else if (style === 'single') this.writeSingleQuoted(text, allowBreaks);
    else if (style === 'double') this.writeDoubleQuoted(text, allowBreaks);
    else this.writeLiteral(text);
    this.popIndent();
  }

  private writePlain(value: string, allowBreaks: boolean): void {
    if (!this.whitespace) this.put(' ');
    const cs = Array.from(value);
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i]!;
      if (c === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && cs[i + 1] !== ' ') this.writeIndent();
        else this.put(c);
        spaces = true;
      } else if (isBreak(c)) {
        if (!breaks && c === '\n') this.putBreak();
        this.writeBreak(c);
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        this.put(c);
        this.indention = false;
        spaces = false;
        breaks = false;
      }
    }
    this.whitespace = false;
    this.indention = false;
  }

  private writeSingleQuoted(value: string, allowBreaks: boolean): void {
    this.writeIndicator("'", true, false, false);
    const cs = Array.from(value);
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i]!;
      if (c === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i > 0 && i < cs.length - 1 && cs[i + 1] !== ' ') this.writeIndent();
        else this.put(c);
        spaces = true;
      } else if (isBreak(c)) {
        if (!breaks && c === '\n') this.putBreak();
        this.writeBreak(c);
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        if (c === "'") this.put("'");
        this.put(c);
        this.indention = false;
        spaces = false;
        breaks = false;
      }
    }
    this.writeIndicator("'", false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  private writeDoubleQuoted(value: string, allowBreaks: boolean): void {
    let spaces = false;
    this.writeIndicator('"', true, false, false);
    const cs = Array.from(value);
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i]!;
      const cp = c.codePointAt(0)!;
      if (!isPrintable(c) || cp === 0xfeff || isBreak(c) || c === '"' || c === '\\') {
        this.put('\\');
        const short: Record<number, string> = { 0x00: '0', 0x07: 'a', 0x08: 'b', 0x09: 't', 0x0a: 'n', 0x0b: 'v', 0x0c: 'f', 0x0d: 'r', 0x1b: 'e', 0x22: '"', 0x5c: '\\', 0x85: 'N', 0xa0: '_', 0x2028: 'L', 0x2029: 'P' };
        const s = short[cp];
        if (s !== undefined) this.put(s);
        else {
          const [letter, width] = cp <= 0xff ? ['x', 2] : cp <= 0xffff ? ['u', 4] : ['U', 8];
          this.put(letter as string);
          for (const d of cp.toString(16).toUpperCase().padStart(width as number, '0')) this.put(d);
        }
        spaces = false;
      } else if (c === ' ') {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i > 0 && i < cs.length - 1) {
          this.writeIndent();
          if (cs[i + 1] === ' ') this.put('\\');
        } else {
          this.put(c);
        }
        spaces = true;
      } else {
        this.put(c);
        spaces = false;
      }
    }
    this.writeIndicator('"', false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  private writeLiteral(value: string): void {
    this.writeIndicator('|', true, false, false);
    // Block scalar hints: an indentation indicator when the text starts with a space
    // or break, then the chomping indicator.
    const cs = Array.from(value);
    if (cs.length > 0 && (cs[0] === ' ' || isBreak(cs[0]!))) this.writeIndicator(String(BEST_INDENT), false, false, false);
    this.openEnded = false;
    let chomp = '';
    if (cs.length === 0) chomp = '-';
    else if (!isBreak(cs[cs.length - 1]!)) chomp = '-';
    else if (cs.length === 1) {
      chomp = '+';
      this.openEnded = true;
    } else if (isBreak(cs[cs.length - 2]!)) {
      chomp = '+';
      this.openEnded = true;
    }
    // (Writing the indicator clears open_ended again, as in go-yaml v2.)
    if (chomp) this.writeIndicator(chomp, false, false, false);
    this.putBreak();
    this.indention = true;
    this.whitespace = true;
    let breaks = true;
    for (const c of cs) {
      if (isBreak(c)) {
        this.writeBreak(c);
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        this.put(c);
        this.indention = false;
        breaks = false;
      }
    }
  }
}

/**
 * sigs.k8s.io/yaml's Marshal of a value already in JSON shape (what json.Marshal of
 * a Go struct produced): objects become mappings with sorted keys.
 */
export function goYamlMarshal(v: unknown): string {
  const e = new Emitter();
  e.document(v);
  return e.result();
}

export { compareUtf8 };
