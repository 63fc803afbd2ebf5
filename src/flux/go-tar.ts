/**
 * Tar headers exactly as Go's `archive/tar` Writer encodes the headers flux builds
 * (`tar.FileInfoHeader` with uid/gid 0, empty user/group names and zero times):
 *
 *   USTAR when the name is ASCII and fits (≤ 100 bytes, or split at the *last*
 *   possible "/" into a ≤ 155-byte prefix and a ≤ 100-byte name); otherwise a PAX
 *   extended header named `<dir>/PaxHeaders.0/<file>` (mode, uid, gid and mtime 0,
 *   device fields left empty) carrying `path` (and `size` past 8 GiB), followed by a
 *   header whose name is the ASCII-only remnant of the path, cut at 100 bytes.
 *
 * Numeric fields are zero-padded octal with a NUL (`0000644\0`), mtime is Unix 0,
 * devmajor/devminor are `0000000\0`, the checksum is six octal digits, NUL, space.
 * The archive ends with two zero blocks and no padding to a 10 KiB record.
 */

export const BLOCK = 512;
const MAX_OCTAL_SIZE = 0o77777777777;

export interface GoTarEntry {
  /** Slash-separated name as flux writes it (`.`, `deploy`, `deploy/app.yaml`). */
  name: string;
  type: 'file' | 'dir';
  /** Permission bits plus setuid/setgid/sticky (what Go's FileInfoHeader keeps). */
  mode: number;
  /** File size; 0 for directories. */
  size: number;
}

function isASCII(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** Go's toASCII: drops non-ASCII characters and NULs. */
function toASCII(s: string): string {
  if (isASCII(s) && !s.includes('\0')) return s;
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80 && c !== 0) out += ch;
  }
  return out;
}

/** Go's splitUSTARPath: the longest prefix that fits, or undefined. */
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

/** formatString: copy at most `length` bytes, NUL-terminate when there is room. */
function putString(h: Buffer, s: string, offset: number, length: number): void {
  const b = Buffer.from(s, 'latin1'); // callers pass ASCII
  b.copy(h, offset, 0, Math.min(b.length, length));
}

/** formatOctal: zero-padded to length-1 digits plus NUL; values that do not fit become 0. */
function putOctal(h: Buffer, n: number, offset: number, length: number): void {
  const max = 8 ** (length - 1) - 1;
  const v = n >= 0 && n <= max ? n : 0;
  putString(h, `${v.toString(8).padStart(length - 1, '0')}\0`, offset, length);
}

function finish(h: Buffer): Buffer {
  putString(h, 'ustar\0', 257, 6);
  putString(h, '00', 263, 2);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  putString(h, `${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return h;
}

function paxRecord(key: string, value: string): string {
  const kv = Buffer.byteLength(key) + Buffer.byteLength(value) + 3;
  let size = kv + String(kv).length;
  let record = `${size} ${key}=${value}\n`;
  if (Buffer.byteLength(record) !== size) {
    size = Buffer.byteLength(record);
    record = `${size} ${key}=${value}\n`;
  }
  return record;
}

/** The main header block (templateV7Plus): name, mode, uid/gid 0, size, mtime 0, devmajor/minor. */
function mainHeader(name: string, prefix: string, e: GoTarEntry): Buffer {
  const h = Buffer.alloc(BLOCK);
  putString(h, name, 0, 100);
  putOctal(h, e.mode, 100, 8);
  putOctal(h, 0, 108, 8);
  putOctal(h, 0, 116, 8);
  putOctal(h, e.type === 'file' ? e.size : 0, 124, 12);
  putOctal(h, 0, 136, 12);
  h[156] = e.type === 'file' ? 0x30 : 0x35;
  putOctal(h, 0, 329, 8);
  putOctal(h, 0, 337, 8);
  putString(h, prefix, 345, 155);
  return h;
}

/** The header block(s) for one entry: one USTAR block, or a PAX header + data + the main block. */
export function goTarHeader(e: GoTarEntry): Buffer {
  const size = e.type === 'file' ? e.size : 0;
  const needsPaxPath = !isASCII(e.name) || e.name.includes('\0') || (e.name.length > 100 && !splitUSTARPath(e.name));
  const needsPaxSize = size > MAX_OCTAL_SIZE;
  if (!needsPaxPath && !needsPaxSize) {
    const split = e.name.length > 100 ? splitUSTARPath(e.name)! : { prefix: '', suffix: e.name };
    return finish(mainHeader(split.suffix, split.prefix, e));
  }
  const records: [string, string][] = [];
  if (needsPaxPath) records.push(['path', e.name]);
  if (needsPaxSize) records.push(['size', String(size)]);
  records.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const data = Buffer.from(records.map(([k, v]) => paxRecord(k, v)).join(''), 'utf8');
  const slash = e.name.lastIndexOf('/');
  const dir = slash === -1 ? '' : e.name.slice(0, slash + 1);
  const file = e.name.slice(slash + 1);
  let paxName = toASCII(`${dir}PaxHeaders.0/${file}`.replace(/\/+$/, '')).slice(0, 100);
  paxName = paxName.replace(/\/+$/, '');
  const ph = Buffer.alloc(BLOCK);
  putString(ph, paxName, 0, 100);
  putOctal(ph, 0, 100, 8);
  putOctal(ph, 0, 108, 8);
  putOctal(ph, 0, 116, 8);
  putOctal(ph, data.length, 124, 12);
  putOctal(ph, 0, 136, 12);
  ph[156] = 0x78; // 'x'
  finish(ph);
  const pad = Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK);
  const main = finish(mainHeader(toASCII(e.name).slice(0, 100), '', e));
  return Buffer.concat([ph, data, pad, main]);
}

/** Zero padding after a file body of `size` bytes. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** The end of an archive: two zero blocks (Go does not pad to a 10 KiB record). */
export const TAR_TRAILER = Buffer.alloc(2 * BLOCK);
