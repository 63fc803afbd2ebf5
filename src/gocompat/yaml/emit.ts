/**
 * The parts of go-yaml v2's encoder (encode.go) and emitter (emitterc.go) Helm
 * exercises: block style, sequences not indented under a key, strings quoted only
 * when they would read back as something else, literal blocks for multi-line text,
 * long lines folded after column 80 (v2's default width; Helm never changes it).
 */
import { goFormatFloat } from '../strconv.js';
import { BASE60_FLOAT, resolvesToNonString } from './resolve.js';
import { goYamlKeyLess } from './sorter.js';

/** go-yaml's spelling of a float (".inf", ".nan"). */
export function goYamlFloat(f: number, bits: 32 | 64 = 64): string {
  const s = goFormatFloat(f, bits);
  return s === '+Inf' ? '.inf' : s === '-Inf' ? '-.inf' : s === 'NaN' ? '.nan' : s;
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
  return (
    cp === 0x0a ||
    (cp >= 0x20 && cp <= 0x7e) ||
    (cp >= 0xa0 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff)
  );
}

interface ScalarAnalysis {
  multiline: boolean;
  blockPlainAllowed: boolean;
  singleQuotedAllowed: boolean;
  blockAllowed: boolean;
}

/** yaml_emitter_analyze_scalar (block context; the emitter is in unicode mode). */
function analyzeScalar(value: string): ScalarAnalysis {
  if (value === '')
    return { multiline: false, blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: false };
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
  const a: ScalarAnalysis = {
    multiline: lineBreaks,
    blockPlainAllowed: true,
    singleQuotedAllowed: true,
    blockAllowed: true,
  };
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

export class Emitter {
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

  private writeIndicator(
    indicator: string,
    needWhitespace: boolean,
    isWhitespace: boolean,
    isIndention: boolean,
  ): void {
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
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i > 0 && i < cs.length - 1 && cs[i + 1] !== ' ')
          this.writeIndent();
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
        const short: Record<number, string> = {
          0x00: '0',
          0x07: 'a',
          0x08: 'b',
          0x09: 't',
          0x0a: 'n',
          0x0b: 'v',
          0x0c: 'f',
          0x0d: 'r',
          0x1b: 'e',
          0x22: '"',
          0x5c: '\\',
          0x85: 'N',
          0xa0: '_',
          0x2028: 'L',
          0x2029: 'P',
        };
        const s = short[cp];
        if (s !== undefined) this.put(s);
        else {
          const [letter, width] = cp <= 0xff ? ['x', 2] : cp <= 0xffff ? ['u', 4] : ['U', 8];
          this.put(letter as string);
          for (const d of cp
            .toString(16)
            .toUpperCase()
            .padStart(width as number, '0'))
            this.put(d);
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
    if (cs.length > 0 && (cs[0] === ' ' || isBreak(cs[0]!)))
      this.writeIndicator(String(BEST_INDENT), false, false, false);
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
