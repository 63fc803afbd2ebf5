/**
 * A small DER reader (pure) for what node:crypto does not expose: certificate
 * extensions (Fulcio identity, SCTs), RFC 3161 TSTInfo and CMS SignedData. Plus the
 * one encoder needed: re-wrapping a TBSCertificate without its SCT extension (the
 * precertificate an SCT signs).
 *
 *   const cert = readDer(bytes);                  // { tag, bytes (whole TLV), content }
 *   const [tbs] = children(cert);
 *   oidString(node) / timeValue(node) / integerValue(node)
 */

export class DerError extends Error {}

export interface DerNode {
  /** The identifier octet (class, constructed bit and number; all tags here fit one octet). */
  tag: number;
  /** The whole TLV. */
  bytes: Buffer;
  /** The value octets. */
  content: Buffer;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Context-specific tag `[n]`, constructed or primitive. */
export const ctx = (n: number, constructed = true): number => (constructed ? 0xa0 : 0x80) | n;

/** Reads the TLV at `offset`; `exact` demands it spans the buffer to its end. */
export function readDer(buf: Buffer, offset = 0, exact = true): DerNode {
  if (offset + 2 > buf.length) throw new DerError('truncated DER');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not used here');
  let len = buf[offset + 1]!;
  let header = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError(n === 0 ? 'indefinite length is not DER' : 'DER length too large');
    if (offset + 2 + n > buf.length) throw new DerError('truncated DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[offset + 2 + i]!;
    if (len < 0x80 || buf[offset + 2] === 0) throw new DerError('non-minimal DER length');
    header += n;
  }
  const end = offset + header + len;
  if (end > buf.length) throw new DerError('DER value runs past its buffer');
  if (exact && end !== buf.length) throw new DerError('trailing bytes after DER value');
  return { tag, bytes: buf.subarray(offset, end), content: buf.subarray(offset + header, end) };
}

/** The elements of a constructed value. */
export function children(node: DerNode): DerNode[] {
  if (!(node.tag & 0x20)) throw new DerError(`tag 0x${node.tag.toString(16)} is not constructed`);
  const out: DerNode[] = [];
  let off = 0;
  while (off < node.content.length) {
    const child = readDer(node.content, off, false);
    out.push(child);
    off += child.bytes.length;
  }
  return out;
}

/** `node` must carry `tag`; returns it for chaining. */
export function expectTag(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (!node || node.tag !== tag)
    throw new DerError(
      `${what}: expected tag 0x${tag.toString(16)}, found ${node ? `0x${node.tag.toString(16)}` : 'nothing'}`,
    );
  return node;
}

export function oidString(node: DerNode): string {
  expectTag(node, TAG.OID, 'OID');
  const b = node.content;
  if (b.length === 0) throw new DerError('empty OID');
  const parts: number[] = [];
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if (!(b[i]! & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  const first = parts.shift()!;
  const a = first < 80 ? Math.floor(first / 40) : 2;
  return [a, first - a * 40, ...parts].join('.');
}

export function integerValue(node: DerNode): bigint {
  expectTag(node, TAG.INTEGER, 'INTEGER');
  if (node.content.length === 0) throw new DerError('empty INTEGER');
  let v = BigInt(`0x${node.content.toString('hex')}`);
  if (node.content[0]! & 0x80) v -= 1n << BigInt(node.content.length * 8);
  return v;
}

/** UTCTime or GeneralizedTime (with optional fractional seconds), always Z. */
export function timeValue(node: DerNode): Date {
  const s = node.content.toString('latin1');
  let m: RegExpMatchArray | null;
  if (node.tag === TAG.UTC_TIME) {
    m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
    if (!m) throw new DerError(`bad UTCTime ${s}`);
    const yy = Number(m[1]);
    return new Date(
      Date.UTC(
        yy >= 50 ? 1900 + yy : 2000 + yy,
        Number(m[2]) - 1,
        Number(m[3]),
        Number(m[4]),
        Number(m[5]),
        Number(m[6]),
      ),
    );
  }
  if (node.tag === TAG.GENERALIZED_TIME) {
    m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d+))?Z$/.exec(s);
    if (!m) throw new DerError(`bad GeneralizedTime ${s}`);
    const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
    return new Date(
      Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms),
    );
  }
  throw new DerError(`tag 0x${node.tag.toString(16)} is not a time`);
}

/** A TLV with the given tag around `content` (minimal length). */
export function encodeTlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, content]);
}
