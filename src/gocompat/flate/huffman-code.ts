/** huffman_code.go: length-limited canonical Huffman codes, built exactly as Go builds them. */
/** The literal/length alphabet: 256 literals, end of block, 29 length codes. */
export const maxNumLit = 286;

const MAX_INT32 = 0x7fffffff;

export function reverseBits(n: number, bitLength: number): number {
  let v = (n << (16 - bitLength)) & 0xffff;
  let r = 0;
  for (let i = 0; i < 16; i++) {
    r = (r << 1) | (v & 1);
    v >>= 1;
  }
  return r;
}

interface LiteralNode {
  literal: number;
  freq: number;
}

/** huffman_code.go: a length-limited canonical Huffman code, built exactly as Go builds it. */
export class HuffmanEncoder {
  readonly code: Uint16Array;
  readonly len: Uint8Array;
  private readonly bitCount = new Int32Array(17);

  constructor(size: number) {
    this.code = new Uint16Array(size);
    this.len = new Uint8Array(size);
  }

  bitLength(freq: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < freq.length; i++) if (freq[i] !== 0) total += freq[i]! * this.len[i]!;
    return total;
  }

  private bitCounts(list: LiteralNode[], maxBitsIn: number): Int32Array {
    const n = list.length;
    const l = [...list, { literal: 0xffff, freq: MAX_INT32 }];
    let maxBits = maxBitsIn;
    if (maxBits > n - 1) maxBits = n - 1;
    const levels = Array.from({ length: 16 }, () => ({
      level: 0,
      lastFreq: 0,
      nextCharFreq: 0,
      nextPairFreq: 0,
      needed: 0,
    }));
    const leafCounts = Array.from({ length: 16 }, () => new Int32Array(16));
    for (let level = 1; level <= maxBits; level++) {
      levels[level] = {
        level,
        lastFreq: l[1]!.freq,
        nextCharFreq: l[2]!.freq,
        nextPairFreq: l[0]!.freq + l[1]!.freq,
        needed: 0,
      };
      leafCounts[level]![level] = 2;
      if (level === 1) levels[level]!.nextPairFreq = MAX_INT32;
    }
    levels[maxBits]!.needed = 2 * n - 4;
    let level = maxBits;
    for (;;) {
      const lv = levels[level]!;
      if (lv.nextPairFreq === MAX_INT32 && lv.nextCharFreq === MAX_INT32) {
        lv.needed = 0;
        levels[level + 1]!.nextPairFreq = MAX_INT32;
        level++;
        continue;
      }
      const prevFreq = lv.lastFreq;
      if (lv.nextCharFreq < lv.nextPairFreq) {
        const nn = leafCounts[level]![level]! + 1;
        lv.lastFreq = lv.nextCharFreq;
        leafCounts[level]![level] = nn;
        lv.nextCharFreq = l[nn]!.freq;
      } else {
        lv.lastFreq = lv.nextPairFreq;
        leafCounts[level]!.set(leafCounts[level - 1]!.subarray(0, level), 0);
        levels[lv.level - 1]!.needed = 2;
      }
      if (--lv.needed === 0) {
        if (lv.level === maxBits) break;
        levels[lv.level + 1]!.nextPairFreq = prevFreq + lv.lastFreq;
        level++;
      } else {
        while (levels[level - 1]!.needed > 0) level--;
      }
    }
    if (leafCounts[maxBits]![maxBits] !== n) throw new Error('flate: leafCounts[maxBits][maxBits] != n');
    const bitCount = this.bitCount.subarray(0, maxBits + 1);
    let bits = 1;
    const counts = leafCounts[maxBits]!;
    for (let lvl = maxBits; lvl > 0; lvl--) {
      bitCount[bits] = counts[lvl]! - counts[lvl - 1]!;
      bits++;
    }
    return bitCount;
  }

  private assignEncodingAndSize(bitCount: Int32Array, listIn: LiteralNode[]): void {
    let code = 0;
    let list = listIn;
    for (let n = 0; n < bitCount.length; n++) {
      const bits = bitCount[n]!;
      code = (code << 1) & 0xffff;
      if (n === 0 || bits === 0) continue;
      const chunk = list.slice(list.length - bits).sort((a, b) => a.literal - b.literal);
      for (const node of chunk) {
        this.code[node.literal] = reverseBits(code, n);
        this.len[node.literal] = n;
        code = (code + 1) & 0xffff;
      }
      list = list.slice(0, list.length - bits);
    }
  }

  generate(freq: ArrayLike<number>, maxBits: number): void {
    const list: LiteralNode[] = [];
    for (let i = 0; i < freq.length; i++) {
      if (freq[i] !== 0) list.push({ literal: i, freq: freq[i]! });
      else this.len[i] = 0;
    }
    if (list.length <= 2) {
      list.forEach((node, i) => {
        this.code[node.literal] = i;
        this.len[node.literal] = 1;
      });
      return;
    }
    list.sort((a, b) => (a.freq === b.freq ? a.literal - b.literal : a.freq - b.freq));
    this.assignEncodingAndSize(this.bitCounts(list, maxBits), list);
  }
}

function fixedLiteralEncoding(): HuffmanEncoder {
  const h = new HuffmanEncoder(maxNumLit);
  for (let ch = 0; ch < maxNumLit; ch++) {
    let bits: number;
    let size: number;
    if (ch < 144) [bits, size] = [ch + 48, 8];
    else if (ch < 256) [bits, size] = [ch + 400 - 144, 9];
    else if (ch < 280) [bits, size] = [ch - 256, 7];
    else [bits, size] = [ch + 192 - 280, 8];
    h.code[ch] = reverseBits(bits, size);
    h.len[ch] = size;
  }
  return h;
}

function fixedOffsetEncoding(): HuffmanEncoder {
  const h = new HuffmanEncoder(30);
  for (let ch = 0; ch < 30; ch++) {
    h.code[ch] = reverseBits(ch, 5);
    h.len[ch] = 5;
  }
  return h;
}

export const FIXED_LIT = fixedLiteralEncoding();
export const FIXED_OFF = fixedOffsetEncoding();
