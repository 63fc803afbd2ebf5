/**
 * Reading tar header fields, shared by the tar readers of the client
 * (src/client/archive/tar.ts), helm charts (src/chart/archive.ts) and flux
 * artifacts (src/flux/untar.ts). Each reader keeps its own policy for names
 * (what counts as escaping the root, symlinks, limits); only the bytes → values
 * decoding lives here. Pure.
 */

/** A NUL-terminated (or field-filling) UTF-8 string field. */
export function tarString(buf: Buffer, offset: number, length: number): string {
  const s = buf.subarray(offset, offset + length);
  const nul = s.indexOf(0);
  return s.subarray(0, nul === -1 ? length : nul).toString('utf8');
}

/** A numeric field: octal text, or GNU base-256 (big-endian, high bit set). */
export function tarNumber(buf: Buffer, offset: number, length: number): number {
  const first = buf[offset]!;
  if (first & 0x80) {
    let n = first & 0x7f;
    for (let i = 1; i < length; i++) n = n * 256 + buf[offset + i]!;
    return n;
  }
  const s = tarString(buf, offset, length).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

/** The records of a PAX extended header ("<len> key=value\n" …). */
export function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp === -1) break;
    const len = parseInt(data.subarray(i, sp).toString('ascii'), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const record = data.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}

/** The header's name field, joined to its prefix field in a ustar header. */
export function ustarName(h: Buffer): string {
  const name = tarString(h, 0, 100);
  const prefix = tarString(h, 345, 155);
  return prefix && tarString(h, 257, 5) === 'ustar' ? `${prefix}/${name}` : name;
}

/** Does the header's checksum field match its bytes (the field itself counted as spaces)? */
export function tarChecksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return tarNumber(h, 148, 8) === sum;
}
