/**
 * Go's `compress/gzip` Writer at the default level, byte for byte: the gzip framing
 * (header `1f 8b 08 FLG MTIME 00 ff`, optional EXTRA / NAME / COMMENT, CRC-32 and
 * size) around flate/deflate.ts. Flux, Helm, opa and every Go tool that calls
 * `gzip.NewWriter` compress this way; the output does not depend on how the input is
 * split into writes. Checked against Go's own output (test/gocompat/gzip.test.ts).
 *
 *   const gz = new GoGzipWriter((chunk) => out.push(chunk));
 *   gz.write(bytes); …; gz.close();
 */
import { crc32 } from 'node:zlib';
import { GoDeflater } from './flate/deflate.js';
import { ByteSink } from './flate/huffman-bit-writer.js';

export interface GzipHeaderOptions {
  /** FNAME (Latin-1); Go leaves it empty. */
  name?: string;
  /** FCOMMENT (Latin-1); Helm writes "Helm". */
  comment?: string;
  /** FEXTRA bytes; Helm writes its own. */
  extra?: Buffer;
  /** MTIME seconds (Go writes 0 unless ModTime is after the epoch). */
  mtime?: number;
}

/** gzip.Writer (default level, OS 255) writing to `emit`. */
export class GoGzipWriter {
  private readonly sink: ByteSink;
  private readonly deflater: GoDeflater;
  private crc = 0;
  private size = 0;
  private wroteHeader = false;

  constructor(
    emit: (chunk: Buffer) => void,
    private readonly header: GzipHeaderOptions = {},
  ) {
    this.sink = new ByteSink(emit);
    this.deflater = new GoDeflater(this.sink);
  }

  private writeHeader(): void {
    this.wroteHeader = true;
    const h = this.header;
    const flags = (h.extra ? 0x04 : 0) | (h.name ? 0x08 : 0) | (h.comment ? 0x10 : 0);
    const head = Buffer.alloc(10);
    head[0] = 0x1f;
    head[1] = 0x8b;
    head[2] = 8;
    head[3] = flags;
    if (h.mtime && h.mtime > 0) head.writeUInt32LE(h.mtime >>> 0, 4);
    head[8] = 0;
    head[9] = 255;
    this.sink.bytes(head);
    if (h.extra) {
      const len = Buffer.alloc(2);
      len.writeUInt16LE(h.extra.length);
      this.sink.bytes(len);
      this.sink.bytes(h.extra);
    }
    if (h.name) this.sink.bytes(Buffer.concat([Buffer.from(h.name, 'latin1'), Buffer.from([0])]));
    if (h.comment) this.sink.bytes(Buffer.concat([Buffer.from(h.comment, 'latin1'), Buffer.from([0])]));
  }

  write(data: Uint8Array): void {
    if (!this.wroteHeader) this.writeHeader();
    this.size = (this.size + data.length) >>> 0;
    this.crc = crc32(data, this.crc);
    this.deflater.write(data);
  }

  close(): void {
    if (!this.wroteHeader) this.writeHeader();
    this.deflater.close();
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.crc, 0);
    trailer.writeUInt32LE(this.size, 4);
    this.sink.bytes(trailer);
  }
}

/** Compresses a buffer as Go's `gzip.NewWriter` + Write + Close would. */
export function goGzip(data: Uint8Array, header?: GzipHeaderOptions): Buffer {
  const chunks: Buffer[] = [];
  const gz = new GoGzipWriter((c) => chunks.push(c), header);
  gz.write(data);
  gz.close();
  return Buffer.concat(chunks);
}
