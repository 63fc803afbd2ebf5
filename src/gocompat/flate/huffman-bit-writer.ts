/** huffman_bit_writer.go: the bit order, the block-type choice (stored, fixed or dynamic) and the block encodings. */
import { FIXED_LIT, FIXED_OFF, HuffmanEncoder, maxNumLit } from './huffman-code.js';
import { lengthCodes, lengthShift, matchType, offsetCode, offsetMask } from './token.js';

/** deflate.go's largest stored block. */
export const maxStoreBlockSize = 65535;
export const offsetCodeCount = 30;
export const endBlockMarker = 256;
export const lengthCodesStart = 257;
export const codegenCodeCount = 19;
export const badCode = 255;

export const lengthExtraBits = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
export const lengthBase = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 255,
];
export const offsetExtraBits = [
  0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
];
export const offsetBase = [
  0x000000, 0x000001, 0x000002, 0x000003, 0x000004, 0x000006, 0x000008, 0x00000c, 0x000010, 0x000018, 0x000020,
  0x000030, 0x000040, 0x000060, 0x000080, 0x0000c0, 0x000100, 0x000180, 0x000200, 0x000300, 0x000400, 0x000600,
  0x000800, 0x000c00, 0x001000, 0x001800, 0x002000, 0x003000, 0x004000, 0x006000,
];
export const codegenOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** Growable output buffer handed to the sink in chunks. */
export class ByteSink {
  private buf = Buffer.allocUnsafe(64 * 1024);
  private n = 0;
  constructor(private readonly emit: (chunk: Buffer) => void) {}

  byte(b: number): void {
    if (this.n === this.buf.length) this.drain();
    this.buf[this.n++] = b;
  }

  bytes(b: Uint8Array): void {
    this.drain();
    if (b.length > 0) this.emit(Buffer.from(b));
  }

  drain(): void {
    if (this.n === 0) return;
    this.emit(Buffer.from(this.buf.subarray(0, this.n)));
    this.buf = Buffer.allocUnsafe(64 * 1024);
    this.n = 0;
  }
}

/** huffman_bit_writer.go (the bit order and block choices; the 64-bit accumulator is an implementation detail). */
export class HuffmanBitWriter {
  private bits = 0;
  private nbits = 0;
  private readonly literalFreq = new Int32Array(maxNumLit);
  private readonly offsetFreq = new Int32Array(offsetCodeCount);
  private readonly codegen = new Uint8Array(maxNumLit + offsetCodeCount + 1);
  private readonly codegenFreq = new Int32Array(codegenCodeCount);
  private readonly literalEncoding = new HuffmanEncoder(maxNumLit);
  private readonly offsetEncoding = new HuffmanEncoder(offsetCodeCount);
  private readonly codegenEncoding = new HuffmanEncoder(codegenCodeCount);

  constructor(private readonly out: ByteSink) {}

  writeBits(b: number, nb: number): void {
    this.bits |= b << this.nbits;
    this.nbits += nb;
    while (this.nbits >= 8) {
      this.out.byte(this.bits & 0xff);
      this.bits >>>= 8;
      this.nbits -= 8;
    }
  }

  /** Emits a partial byte (zero-padded): Go's flush. */
  flush(): void {
    if (this.nbits > 0) this.out.byte(this.bits & 0xff);
    this.bits = 0;
    this.nbits = 0;
  }

  private writeBytes(b: Uint8Array): void {
    if (this.nbits !== 0) throw new Error('flate: writeBytes with unfinished bits');
    this.out.bytes(b);
  }

  writeStoredHeader(length: number, eof: boolean): void {
    this.writeBits(eof ? 1 : 0, 3);
    this.flush();
    this.writeBits(length & 0xffff, 16);
    this.writeBits(~length & 0xffff, 16);
  }

  private generateCodegen(
    numLiterals: number,
    numOffsets: number,
    litEnc: HuffmanEncoder,
    offEnc: HuffmanEncoder,
  ): void {
    const freq = this.codegenFreq;
    freq.fill(0);
    const codegen = this.codegen;
    for (let i = 0; i < numLiterals; i++) codegen[i] = litEnc.len[i]!;
    for (let i = 0; i < numOffsets; i++) codegen[numLiterals + i] = offEnc.len[i]!;
    codegen[numLiterals + numOffsets] = badCode;
    let size = codegen[0]!;
    let count = 1;
    let outIndex = 0;
    for (let inIndex = 1; size !== badCode; inIndex++) {
      const nextSize = codegen[inIndex]!;
      if (nextSize === size) {
        count++;
        continue;
      }
      if (size !== 0) {
        codegen[outIndex++] = size;
        freq[size]!++;
        count--;
        while (count >= 3) {
          const n = Math.min(6, count);
          codegen[outIndex++] = 16;
          codegen[outIndex++] = n - 3;
          freq[16]!++;
          count -= n;
        }
      } else {
        while (count >= 11) {
          const n = Math.min(138, count);
          codegen[outIndex++] = 18;
          codegen[outIndex++] = n - 11;
          freq[18]!++;
          count -= n;
        }
        if (count >= 3) {
          codegen[outIndex++] = 17;
          codegen[outIndex++] = count - 3;
          freq[17]!++;
          count = 0;
        }
      }
      count--;
      for (; count >= 0; count--) {
        codegen[outIndex++] = size;
        freq[size]!++;
      }
      size = nextSize;
      count = 1;
    }
    codegen[outIndex] = badCode;
  }

  private dynamicSize(litEnc: HuffmanEncoder, offEnc: HuffmanEncoder, extraBits: number): [number, number] {
    let numCodegens = codegenCodeCount;
    while (numCodegens > 4 && this.codegenFreq[codegenOrder[numCodegens - 1]!] === 0) numCodegens--;
    const header =
      3 +
      5 +
      5 +
      4 +
      3 * numCodegens +
      this.codegenEncoding.bitLength(this.codegenFreq) +
      this.codegenFreq[16]! * 2 +
      this.codegenFreq[17]! * 3 +
      this.codegenFreq[18]! * 7;
    return [header + litEnc.bitLength(this.literalFreq) + offEnc.bitLength(this.offsetFreq) + extraBits, numCodegens];
  }

  private fixedSize(extraBits: number): number {
    return 3 + FIXED_LIT.bitLength(this.literalFreq) + FIXED_OFF.bitLength(this.offsetFreq) + extraBits;
  }

  private writeCode(enc: HuffmanEncoder, i: number): void {
    this.writeBits(enc.code[i]!, enc.len[i]!);
  }

  private writeDynamicHeader(numLiterals: number, numOffsets: number, numCodegens: number, eof: boolean): void {
    this.writeBits(eof ? 5 : 4, 3);
    this.writeBits(numLiterals - 257, 5);
    this.writeBits(numOffsets - 1, 5);
    this.writeBits(numCodegens - 4, 4);
    for (let i = 0; i < numCodegens; i++) this.writeBits(this.codegenEncoding.len[codegenOrder[i]!]!, 3);
    let i = 0;
    for (;;) {
      const codeWord = this.codegen[i++]!;
      if (codeWord === badCode) break;
      this.writeCode(this.codegenEncoding, codeWord);
      if (codeWord === 16) this.writeBits(this.codegen[i++]!, 2);
      else if (codeWord === 17) this.writeBits(this.codegen[i++]!, 3);
      else if (codeWord === 18) this.writeBits(this.codegen[i++]!, 7);
    }
  }

  private indexTokens(tokens: Uint32Array, n: number): [number, number] {
    this.literalFreq.fill(0);
    this.offsetFreq.fill(0);
    for (let k = 0; k < n; k++) {
      const t = tokens[k]!;
      if (t < matchType) {
        this.literalFreq[t]!++;
        continue;
      }
      this.literalFreq[lengthCodesStart + lengthCodes[(t - matchType) >>> lengthShift]!]!++;
      this.offsetFreq[offsetCode(t & offsetMask)]!++;
    }
    let numLiterals = maxNumLit;
    while (this.literalFreq[numLiterals - 1] === 0) numLiterals--;
    let numOffsets = offsetCodeCount;
    while (numOffsets > 0 && this.offsetFreq[numOffsets - 1] === 0) numOffsets--;
    if (numOffsets === 0) {
      this.offsetFreq[0] = 1;
      numOffsets = 1;
    }
    this.literalEncoding.generate(this.literalFreq, 15);
    this.offsetEncoding.generate(this.offsetFreq, 15);
    return [numLiterals, numOffsets];
  }

  private writeTokens(tokens: Uint32Array, n: number, le: HuffmanEncoder, oe: HuffmanEncoder): void {
    for (let k = 0; k < n; k++) {
      const t = tokens[k]!;
      if (t < matchType) {
        this.writeCode(le, t);
        continue;
      }
      const length = (t - matchType) >>> lengthShift;
      const lc = lengthCodes[length]!;
      this.writeCode(le, lc + lengthCodesStart);
      const extraLengthBits = lengthExtraBits[lc]!;
      if (extraLengthBits > 0) this.writeBits(length - lengthBase[lc]!, extraLengthBits);
      const offset = t & offsetMask;
      const oc = offsetCode(offset);
      this.writeCode(oe, oc);
      const extraOffsetBits = offsetExtraBits[oc]!;
      if (extraOffsetBits > 0) this.writeBits(offset - offsetBase[oc]!, extraOffsetBits);
    }
  }

  /** Chooses stored, fixed or dynamic Huffman — whichever is smallest — as Go's writeBlock does. `tokens` has room for the end marker. */
  writeBlock(tokens: Uint32Array, count: number, eof: boolean, input: Uint8Array | null): void {
    tokens[count] = endBlockMarker;
    const n = count + 1;
    const [numLiterals, numOffsets] = this.indexTokens(tokens, n);
    let extraBits = 0;
    const storable = input !== null && input.length <= maxStoreBlockSize;
    const storedSize = storable ? (input.length + 5) * 8 : 0;
    if (storable) {
      for (let lc = lengthCodesStart + 8; lc < numLiterals; lc++)
        extraBits += this.literalFreq[lc]! * lengthExtraBits[lc - lengthCodesStart]!;
      for (let oc = 4; oc < numOffsets; oc++) extraBits += this.offsetFreq[oc]! * offsetExtraBits[oc]!;
    }
    let lit = FIXED_LIT;
    let off = FIXED_OFF;
    let size = this.fixedSize(extraBits);
    this.generateCodegen(numLiterals, numOffsets, this.literalEncoding, this.offsetEncoding);
    this.codegenEncoding.generate(this.codegenFreq, 7);
    const [dynamicSize, numCodegens] = this.dynamicSize(this.literalEncoding, this.offsetEncoding, extraBits);
    if (dynamicSize < size) {
      size = dynamicSize;
      lit = this.literalEncoding;
      off = this.offsetEncoding;
    }
    if (storable && storedSize < size) {
      this.writeStoredHeader(input.length, eof);
      this.writeBytes(input);
      return;
    }
    if (lit === FIXED_LIT) this.writeBits(eof ? 3 : 2, 3);
    else this.writeDynamicHeader(numLiterals, numOffsets, numCodegens, eof);
    this.writeTokens(tokens, n, lit, off);
  }
}
