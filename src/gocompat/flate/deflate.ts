/**
 * deflate.go: Go's `compress/flate` compressor at the default level (6) — lazy
 * matching on hash chains, block boundaries every 16 Ki tokens or 64 KiB stored —
 * writing through huffman-bit-writer.ts. Zlib at any level produces other deflate
 * bytes, so a Go tool's digest can only be reproduced with this port.
 */
import { HuffmanBitWriter, type ByteSink } from './huffman-bit-writer.js';
import { lengthShift, matchType } from './token.js';

const windowSize = 1 << 15;
const windowMask = windowSize - 1;
const baseMatchLength = 3;
const minMatchLength = 4;
const maxMatchLength = 258;
const baseMatchOffset = 1;
const maxFlateBlockTokens = 1 << 14;
const hashBits = 17;
const hashSize = 1 << hashBits;
const maxHashOffset = 1 << 24;
const MAX_INT32 = 0x7fffffff;
const hashmul = 0x1e35a7bd;

// Level 6 ("DefaultCompression"): good, lazy, nice, chain; fastSkipHashing = never.
const GOOD = 8;
const LAZY = 16;
const NICE = 128;
const CHAIN = 128;

/** deflate.go's compressor at level 6. */
export class GoDeflater {
  private readonly w: HuffmanBitWriter;
  private readonly window = new Uint8Array(2 * windowSize);
  private readonly hashHead = new Uint32Array(hashSize);
  private readonly hashPrev = new Uint32Array(windowSize);
  private readonly tokens = new Uint32Array(maxFlateBlockTokens + 1);
  private ntokens = 0;
  private chainHead = -1;
  private hashOffset = 1;
  private index = 0;
  private windowEnd = 0;
  private blockStart = 0;
  private byteAvailable = false;
  private length = minMatchLength - 1;
  private offset = 0;
  private maxInsertIndex = 0;
  private sync = false;
  private closed = false;

  constructor(private readonly sink: ByteSink) {
    this.w = new HuffmanBitWriter(sink);
  }

  private fill(b: Uint8Array): number {
    if (this.index >= 2 * windowSize - (minMatchLength + maxMatchLength)) {
      this.window.copyWithin(0, windowSize, 2 * windowSize);
      this.index -= windowSize;
      this.windowEnd -= windowSize;
      this.blockStart = this.blockStart >= windowSize ? this.blockStart - windowSize : MAX_INT32;
      this.hashOffset += windowSize;
      if (this.hashOffset > maxHashOffset) {
        const delta = this.hashOffset - 1;
        this.hashOffset -= delta;
        this.chainHead -= delta;
        for (let i = 0; i < this.hashPrev.length; i++)
          this.hashPrev[i] = this.hashPrev[i]! > delta ? this.hashPrev[i]! - delta : 0;
        for (let i = 0; i < this.hashHead.length; i++)
          this.hashHead[i] = this.hashHead[i]! > delta ? this.hashHead[i]! - delta : 0;
      }
    }
    const n = Math.min(b.length, this.window.length - this.windowEnd);
    this.window.set(b.subarray(0, n), this.windowEnd);
    this.windowEnd += n;
    return n;
  }

  private writeBlock(index: number): void {
    if (index > 0) {
      const window = this.blockStart <= index ? this.window.subarray(this.blockStart, index) : null;
      this.blockStart = index;
      this.w.writeBlock(this.tokens, this.ntokens, false, window);
    }
    this.ntokens = 0;
  }

  private hash4(i: number): number {
    const w = this.window;
    const v = (w[i + 3]! | (w[i + 2]! << 8) | (w[i + 1]! << 16) | (w[i]! << 24)) >>> 0;
    return Math.imul(v, hashmul) >>> (32 - hashBits);
  }

  private findMatch(
    pos: number,
    prevHead: number,
    prevLength: number,
    lookahead: number,
  ): { length: number; offset: number; ok: boolean } {
    const win = this.window;
    const minMatchLook = Math.min(maxMatchLength, lookahead);
    const winLen = pos + minMatchLook;
    const nice = Math.min(NICE, winLen - pos);
    let tries = CHAIN;
    let length = prevLength;
    let offset = 0;
    let ok = false;
    if (length >= GOOD) tries >>= 2;
    let wEnd = win[pos + length]!;
    const minIndex = pos - windowSize;
    for (let i = prevHead; tries > 0; tries--) {
      if (wEnd === win[i + length]) {
        let n = 0;
        while (n < minMatchLook && win[i + n] === win[pos + n]) n++;
        if (n > length && (n > minMatchLength || pos - i <= 4096)) {
          length = n;
          offset = pos - i;
          ok = true;
          if (n >= nice) break;
          wEnd = win[pos + n]!;
        }
      }
      if (i === minIndex) break;
      i = this.hashPrev[i & windowMask]! - this.hashOffset;
      if (i < minIndex || i < 0) break;
    }
    return { length, offset, ok };
  }

  private deflate(): void {
    if (this.windowEnd - this.index < minMatchLength + maxMatchLength && !this.sync) return;
    this.maxInsertIndex = this.windowEnd - (minMatchLength - 1);
    const win = this.window;
    for (;;) {
      const lookahead = this.windowEnd - this.index;
      if (lookahead < minMatchLength + maxMatchLength) {
        if (!this.sync) break;
        if (lookahead === 0) {
          if (this.byteAvailable) {
            this.tokens[this.ntokens++] = win[this.index - 1]!;
            this.byteAvailable = false;
          }
          if (this.ntokens > 0) this.writeBlock(this.index);
          break;
        }
      }
      if (this.index < this.maxInsertIndex) {
        const h = this.hash4(this.index);
        this.chainHead = this.hashHead[h]!;
        this.hashPrev[this.index & windowMask] = this.chainHead;
        this.hashHead[h] = this.index + this.hashOffset;
      }
      const prevLength = this.length;
      const prevOffset = this.offset;
      this.length = minMatchLength - 1;
      this.offset = 0;
      const minIndex = Math.max(this.index - windowSize, 0);
      if (this.chainHead - this.hashOffset >= minIndex && lookahead > prevLength && prevLength < LAZY) {
        const m = this.findMatch(this.index, this.chainHead - this.hashOffset, minMatchLength - 1, lookahead);
        if (m.ok) {
          this.length = m.length;
          this.offset = m.offset;
        }
      }
      if (prevLength >= minMatchLength && this.length <= prevLength) {
        this.tokens[this.ntokens++] =
          (matchType + ((prevLength - baseMatchLength) << lengthShift) + (prevOffset - baseMatchOffset)) >>> 0;
        const newIndex = this.index + prevLength - 1;
        let index = this.index;
        for (index++; index < newIndex; index++) {
          if (index < this.maxInsertIndex) {
            const h = this.hash4(index);
            this.hashPrev[index & windowMask] = this.hashHead[h]!;
            this.hashHead[h] = index + this.hashOffset;
          }
        }
        this.index = index;
        this.byteAvailable = false;
        this.length = minMatchLength - 1;
        if (this.ntokens === maxFlateBlockTokens) this.writeBlock(this.index);
      } else {
        if (this.byteAvailable) {
          const i = this.index - 1;
          this.tokens[this.ntokens++] = win[i]!;
          if (this.ntokens === maxFlateBlockTokens) this.writeBlock(i + 1);
        }
        this.index++;
        this.byteAvailable = true;
      }
    }
  }

  write(data: Uint8Array): void {
    if (this.closed) throw new Error('flate: write after close');
    let b = data;
    while (b.length > 0) {
      this.deflate();
      b = b.subarray(this.fill(b));
    }
  }

  close(): void {
    if (this.closed) return;
    this.sync = true;
    this.deflate();
    this.w.writeStoredHeader(0, true);
    this.w.flush();
    this.sink.drain();
    this.closed = true;
  }
}
