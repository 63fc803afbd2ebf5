/**
 * Chart archives (.tgz) byte-compatible with `helm package`:
 *
 *   goTarEntry        one regular-file member exactly as Go's archive/tar writes it for
 *                     `tar.Header{Name, Mode: 0644, Size, ModTime}`: USTAR (name split into
 *                     prefix/name as Go splits it) or, for non-ASCII or overlong names, a
 *                     PAX record first; uid/gid 0, empty uname/gname, devmajor/devminor
 *                     "0000000", mtime rounded to the second; no directory entries.
 *   helmGzip          Helm's gzip member: FLG FEXTRA|FCOMMENT, MTIME 0, XFL 0, OS 255,
 *                     EXTRA = "+aHR0cHM6Ly95b3V0dS5iZS96OVV6MWljandyTQo=" (41 bytes, not a
 *                     valid RFC 1952 subfield — as Helm 3 writes it), COMMENT "Helm",
 *                     deflate level 6, CRC-32, ISIZE.
 *   readChartArchive  the loader's view of a .tgz: regular files with the first path
 *                     component dropped, BOMs stripped, Helm's path checks and size limits.
 *
 * The deflate stream itself comes from zlib, not Go's compress/flate, so compressed
 * bytes differ from Helm's while the tar inside is identical.
 */
import { deflateRawSync, gunzipSync } from 'node:zlib';
import { parsePax, tarNumber, ustarName } from '../util/tar-header.js';

const BLOCK = 512;
export const HELM_GZIP_EXTRA = Buffer.from('+aHR0cHM6Ly95b3V0dS5iZS96OVV6MWljandyTQo=', 'ascii');
export const HELM_GZIP_COMMENT = 'Helm';
/** Helm's loader limits. */
export const MAX_DECOMPRESSED_CHART_SIZE = 100 * 1024 * 1024;
export const MAX_DECOMPRESSED_FILE_SIZE = 5 * 1024 * 1024;

// ---------------------------------------------------------------------------------
// Writing

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80 || c === 0) return false;
  }
  return true;
}

/** Go's splitUSTARPath. */
export function splitUstarPath(name: string): { prefix: string; name: string } | undefined {
  let length = name.length;
  if (length <= 100 || !isAscii(name)) return undefined;
  if (length > 156) length = 156;
  else if (name[length - 1] === '/') length--;
  const i = name.slice(0, length).lastIndexOf('/');
  const nlen = name.length - i - 1;
  const plen = i;
  if (i <= 0 || nlen > 100 || nlen === 0 || plen > 155) return undefined;
  return { prefix: name.slice(0, i), name: name.slice(i + 1) };
}

/** Go's formatter.formatString: copy, NUL-terminate when shorter. */
function formatString(h: Buffer, offset: number, size: number, s: string): void {
  const b = Buffer.from(s, 'utf8');
  b.copy(h, offset, 0, Math.min(b.length, size));
  if (b.length < size) h[offset + b.length] = 0;
  else if (b.length > size && h[offset + size - 1] === 0x2f) {
    // A truncated name must not end in "/" (it would read as a directory).
    let n = size;
    while (n > 0 && h[offset + n - 1] === 0x2f) n--;
    h[offset + n] = 0;
  }
}

/** Go's formatter.formatOctal: zero-padded, leaving room for a NUL. */
function formatOctal(h: Buffer, offset: number, size: number, n: number): void {
  let s = Math.max(0, n).toString(8);
  if (s.length > size - 1) s = '0';
  formatString(h, offset, size, s.padStart(size - 1, '0'));
}

function setChecksum(h: Buffer): void {
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  formatOctal(h, 148, 7, sum);
  h[155] = 0x20;
}

function setUstarMagic(h: Buffer): void {
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
}

function paxRecord(key: string, value: string): string {
  let size = Buffer.byteLength(key) + Buffer.byteLength(value) + 3;
  size += String(size).length;
  let record = `${size} ${key}=${value}\n`;
  if (Buffer.byteLength(record) !== size) {
    size = Buffer.byteLength(record);
    record = `${size} ${key}=${value}\n`;
  }
  return record;
}

function toAscii(s: string): string {
  let out = '';
  for (const c of s) if (c.charCodeAt(0) < 0x80 && c !== '\0') out += c;
  return out;
}

function pad(size: number): Buffer {
  const rem = size % BLOCK;
  return rem === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rem);
}

/**
 * The bytes Go's tar.Writer produces for a regular file (header(s), body, padding).
 * `mtimeMs` is rounded to the nearest second as Go rounds ModTime.
 */
export function goTarEntry(name: string, body: Buffer, mtimeMs: number, mode = 0o644): Buffer {
  const mtime = Math.round(mtimeMs / 1000);
  const template = (h: Buffer, n: string) => {
    formatString(h, 0, 100, n);
    formatOctal(h, 100, 8, mode);
    formatOctal(h, 108, 8, 0);
    formatOctal(h, 116, 8, 0);
    formatOctal(h, 124, 12, body.length);
    formatOctal(h, 136, 12, mtime);
    h[156] = 0x30;
    formatString(h, 157, 100, '');
    formatString(h, 265, 32, '');
    formatString(h, 297, 32, '');
    formatOctal(h, 329, 8, 0);
    formatOctal(h, 337, 8, 0);
  };
  const fitsName = isAscii(name) && name.length <= 100;
  const split = fitsName ? undefined : splitUstarPath(name);
  const mtimeOk = mtime >= 0 && mtime < 8 ** 11;
  if ((fitsName || split) && mtimeOk) {
    const h = Buffer.alloc(BLOCK);
    template(h, split ? split.name : name);
    setUstarMagic(h);
    if (split) formatString(h, 345, 155, split.prefix);
    setChecksum(h);
    return Buffer.concat([h, body, pad(body.length)]);
  }
  // PAX: an extended header named dir/PaxHeaders.0/file, then the entry itself.
  const records: [string, string][] = [];
  if (!(fitsName || split)) records.push(['path', name]);
  if (!mtimeOk) records.push(['mtime', String(mtime)]);
  records.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const data = Buffer.from(records.map(([k, v]) => paxRecord(k, v)).join(''), 'utf8');
  const slash = name.lastIndexOf('/');
  const paxName = toAscii(`${slash === -1 ? '' : name.slice(0, slash + 1)}PaxHeaders.0/${name.slice(slash + 1)}`)
    .slice(0, 100)
    .replace(/\/+$/, '');
  const x = Buffer.alloc(BLOCK);
  formatString(x, 0, 100, paxName);
  formatOctal(x, 100, 8, 0);
  formatOctal(x, 108, 8, 0);
  formatOctal(x, 116, 8, 0);
  formatOctal(x, 124, 12, data.length);
  formatOctal(x, 136, 12, 0);
  x[156] = 0x78; // 'x'
  setUstarMagic(x);
  setChecksum(x);
  const h = Buffer.alloc(BLOCK);
  template(h, toAscii(name));
  if (!mtimeOk) formatOctal(h, 136, 12, 0);
  setUstarMagic(h);
  setChecksum(h);
  return Buffer.concat([x, data, pad(data.length), h, body, pad(body.length)]);
}

/** The end of a Go tar stream: two zero blocks, no padding to a record size. */
export const TAR_TRAILER = Buffer.alloc(2 * BLOCK);

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

export function crc32(data: Buffer): number {
  let c = -1;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** The fixed gzip header Helm writes (FEXTRA + FCOMMENT). */
export function helmGzipHeader(): Buffer {
  const fixed = Buffer.from([0x1f, 0x8b, 0x08, 0x14, 0, 0, 0, 0, 0x00, 0xff]);
  const xlen = Buffer.alloc(2);
  xlen.writeUInt16LE(HELM_GZIP_EXTRA.length);
  return Buffer.concat([fixed, xlen, HELM_GZIP_EXTRA, Buffer.from(`${HELM_GZIP_COMMENT}\0`, 'latin1')]);
}

/** A gzip member with Helm's header around `data`. */
export function helmGzip(data: Buffer): Buffer {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data), 0);
  trailer.writeUInt32LE(data.length >>> 0, 4);
  return Buffer.concat([helmGzipHeader(), deflateRawSync(data, { level: 6 }), trailer]);
}

// ---------------------------------------------------------------------------------
// Reading

export interface ArchiveFile {
  /** Path inside the chart ("templates/x.yaml"), the top directory removed. */
  name: string;
  data: Buffer;
}

/** An archive Helm's loader would refuse. */
export class ChartArchiveError extends Error {}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function stripBom(b: Buffer): Buffer {
  return b.subarray(0, 3).equals(UTF8_BOM) ? b.subarray(3) : b;
}

/** path.Clean for slash paths. */
function cleanPath(p: string): string {
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
    } else out.push(part);
  }
  const s = (rooted ? '/' : '') + out.join('/');
  return s === '' ? '.' : s;
}

/** Is this a gzip stream (what Helm checks before loading a file as a chart)? */
export function looksLikeGzip(b: Buffer): boolean {
  return b.length >= 3 && b[0] === 0x1f && b[1] === 0x8b && b[2] === 0x08;
}

/** The files of a chart archive, as Helm's LoadArchiveFiles returns them. */
export function readChartArchive(tgz: Buffer): ArchiveFile[] {
  if (!looksLikeGzip(tgz)) throw new ChartArchiveError('it is not a gzipped archive');
  let tar: Buffer;
  try {
    tar = gunzipSync(tgz, { maxOutputLength: MAX_DECOMPRESSED_CHART_SIZE + 64 * 1024 * 1024 });
  } catch (e) {
    throw new ChartArchiveError(`it does not decompress: ${(e as Error).message}`);
  }
  const files: ArchiveFile[] = [];
  let remaining = MAX_DECOMPRESSED_CHART_SIZE;
  let pos = 0;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  while (pos + BLOCK <= tar.length) {
    const h = tar.subarray(pos, pos + BLOCK);
    if (h.every((b) => b === 0)) break;
    const type = String.fromCharCode(h[156] || 0x30);
    const size = pax.size !== undefined ? Number(pax.size) : tarNumber(h, 124, 12);
    const body = pos + BLOCK;
    if (body + size > tar.length) throw new ChartArchiveError('the tar stream is truncated');
    pos = body + size + ((BLOCK - (size % BLOCK)) % BLOCK);
    const data = tar.subarray(body, body + size);
    if (type === 'x') {
      pax = { ...pax, ...parsePax(data) };
      continue;
    }
    if (type === 'g') continue;
    if (type === 'L') {
      longName = data.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    const name = pax.path ?? longName ?? ustarName(h);
    pax = {};
    longName = undefined;
    if (type === '5' || name.endsWith('/')) continue;
    const delimiter = name.includes('\\') ? '\\' : '/';
    const parts = name.split(delimiter);
    let n = parts.slice(1).join(delimiter).split(delimiter).join('/');
    if (n.startsWith('/')) throw new ChartArchiveError('chart illegally contains absolute paths');
    n = cleanPath(n);
    if (n === '.') throw new ChartArchiveError(`chart illegally contains content outside the base directory: "${name}"`);
    if (n.startsWith('..')) throw new ChartArchiveError('chart illegally references parent directory');
    if (/^[a-zA-Z]:\//.test(n)) throw new ChartArchiveError('chart contains illegally named files');
    if (parts[0] === 'Chart.yaml') throw new ChartArchiveError('chart yaml not in base directory');
    if (size > remaining) throw new ChartArchiveError(`decompressed chart is larger than the maximum file size ${MAX_DECOMPRESSED_CHART_SIZE}`);
    if (size > MAX_DECOMPRESSED_FILE_SIZE) throw new ChartArchiveError(`decompressed chart file "${name}" is larger than the maximum file size ${MAX_DECOMPRESSED_FILE_SIZE}`);
    remaining -= size;
    if (remaining <= 0) throw new ChartArchiveError(`decompressed chart is larger than the maximum file size ${MAX_DECOMPRESSED_CHART_SIZE}`);
    files.push({ name: n, data: stripBom(Buffer.from(data)) });
  }
  if (files.length === 0) throw new ChartArchiveError('no files in chart archive');
  return files;
}

export { stripBom };
