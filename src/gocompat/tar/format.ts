/**
 * The tar block layout and its field codecs, as Go's `archive/tar` (format.go,
 * strconv.go) defines them: one place for the offsets, the octal / base-256 numbers,
 * the checksum, PAX records and the USTAR name split. Pure; the writer and the reader
 * in this folder are the only users.
 */

export const BLOCK = 512;
/** Go's maxSpecialFileSize: the largest PAX or GNU long-name record read or written. */
export const MAX_SPECIAL_FILE_SIZE = 1 << 20;

/** Field offsets and lengths of a V7 / USTAR header block. */
export const F = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  chksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  uname: [265, 32],
  gname: [297, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
} as const satisfies Record<string, readonly [number, number]>;

export type Field = keyof typeof F;

export const TYPE = {
  reg: '0',
  regA: '\0',
  link: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
  cont: '7',
  xHeader: 'x',
  xGlobalHeader: 'g',
  gnuSparse: 'S',
  gnuLongName: 'L',
  gnuLongLink: 'K',
} as const;

/** Go's isASCII: every rune below 0x80 and not NUL. */
export function isASCII(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80 || c === 0) return false;
  }
  return true;
}

/** Go's toASCII: drops non-ASCII runes and NULs. */
export function toASCII(s: string): string {
  if (isASCII(s)) return s;
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80 && c !== 0) out += ch;
  }
  return out;
}

/** Go's fitsOctal: does x fit in an n-byte octal field (n-1 digits and a NUL)? */
export function fitsOctal(x: number, n: number): boolean {
  return x >= 0 && (n >= 22 || x < 8 ** (n - 1));
}

/** formatter.formatString: copy, NUL-terminate when shorter; a truncated name may not end in "/". */
export function formatString(h: Buffer, field: Field, s: string): void {
  const [offset, size] = F[field];
  const b = Buffer.from(s, 'utf8');
  b.copy(h, offset, 0, Math.min(b.length, size));
  if (b.length < size) h[offset + b.length] = 0;
  if (b.length > size && h[offset + size - 1] === 0x2f) {
    let n = size;
    while (n > 0 && h[offset + n - 1] === 0x2f) n--;
    h[offset + n] = 0;
  }
}

/** formatter.formatOctal: zero-padded octal leaving room for a NUL; values that do not fit become 0. */
export function formatOctal(h: Buffer, field: Field | readonly [number, number], x: number): void {
  const [offset, size] = typeof field === 'string' ? F[field] : field;
  const v = fitsOctal(x, size) ? x : 0;
  const s = v.toString(8).padStart(size - 1, '0');
  Buffer.from(s, 'latin1').copy(h, offset, 0, Math.min(s.length, size));
  if (s.length < size) h[offset + s.length] = 0;
}

/** The checksum: the sum of the block's bytes with the checksum field counted as spaces. */
export function computeChecksum(h: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum;
}

/** block.SetFormat for USTAR and PAX: the magic, the version, then the checksum ("%06o\0 "). */
export function setUstarFormat(h: Buffer): void {
  h.write('ustar\0', F.magic[0], 'latin1');
  h.write('00', F.version[0], 'latin1');
  formatOctal(h, [148, 7], computeChecksum(h));
  h[155] = 0x20;
}

/** A NUL-terminated (or field-filling) string field. */
export function parseString(h: Buffer, field: Field): string {
  const [offset, size] = F[field];
  const s = h.subarray(offset, offset + size);
  const nul = s.indexOf(0);
  return s.subarray(0, nul === -1 ? size : nul).toString('utf8');
}

/** parser.parseNumeric: octal text, or GNU base-256 (big-endian, high bit set). */
export function parseNumeric(h: Buffer, field: Field): number {
  const [offset, size] = F[field];
  const first = h[offset]!;
  if (first & 0x80) {
    let n = first & 0x7f;
    for (let i = 1; i < size; i++) n = n * 256 + h[offset + i]!;
    return n;
  }
  const s = h
    .subarray(offset, offset + size)
    .toString('latin1')
    .replace(/^[ \0]+|[ \0]+$/g, '');
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) return NaN;
  return parseInt(s, 8);
}

/** Does the block's checksum field match its bytes? */
export function checksumOk(h: Buffer): boolean {
  return parseNumeric(h, 'chksum') === computeChecksum(h);
}

/** Is the block all zeros (the end-of-archive marker)? */
export function isZeroBlock(h: Buffer): boolean {
  for (let i = 0; i < h.length; i++) if (h[i] !== 0) return false;
  return true;
}

/** formatPAXRecord: "<len> key=value\n", the length counting itself. */
export function formatPaxRecord(key: string, value: string): string {
  let size = Buffer.byteLength(key) + Buffer.byteLength(value) + 3;
  size += String(size).length;
  let record = `${size} ${key}=${value}\n`;
  if (Buffer.byteLength(record) !== size) {
    size = Buffer.byteLength(record);
    record = `${size} ${key}=${value}\n`;
  }
  return record;
}

/** parsePAX: the records of an extended header; undefined when a record is malformed. */
export function parsePaxRecords(data: Buffer): Map<string, string> | undefined {
  const out = new Map<string, string>();
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp === -1) return undefined;
    const lenText = data.subarray(i, sp).toString('latin1');
    const len = /^[0-9]+$/.test(lenText) ? parseInt(lenText, 10) : NaN;
    if (!Number.isFinite(len) || len <= sp - i + 1 || i + len > data.length || data[i + len - 1] !== 0x0a)
      return undefined;
    const record = data.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq <= 0) return undefined;
    out.set(record.slice(0, eq), record.slice(eq + 1));
    i += len;
  }
  return out;
}

/** Go's splitUSTARPath: the longest prefix (≤ 155 bytes) that leaves a name of ≤ 100 bytes. */
export function splitUSTARPath(name: string): { prefix: string; suffix: string } | undefined {
  let length = name.length;
  if (length <= 100 || !isASCII(name)) return undefined;
  if (length > 155 + 1) length = 155 + 1;
  else if (name[length - 1] === '/') length--;
  const i = name.slice(0, length).lastIndexOf('/');
  const nlen = name.length - i - 1;
  const plen = i;
  if (i <= 0 || nlen > 100 || nlen === 0 || plen > 155) return undefined;
  return { prefix: name.slice(0, i), suffix: name.slice(i + 1) };
}

/** The padding after a body of `size` bytes. */
export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
