/**
 * JSON exactly as Go's encoding/json writes it (what helm marshals its OCI config and
 * manifest with): compact, object members in the order given (struct field order),
 * map keys sorted by their UTF-8 bytes, and Go's string escaping — `<`, `>`, `&`,
 * U+2028 and U+2029 as \u escapes, \b \f \n \r \t short forms, other control
 * characters as \u00XX (lowercase hex), invalid UTF-16 as \ufffd. Numbers use the
 * ECMAScript format, which Go's float64 encoder deliberately matches.
 */

/** An object whose members are already in the order to write (a Go struct). */
export class GoStruct {
  constructor(readonly members: [string, unknown][]) {}
}

/** A Go map: members are written sorted by key. */
export type GoMap = Record<string, unknown>;

const HEX = '0123456789abcdef';

export function goJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      switch (c) {
        case 0x22:
          out += '\\"';
          break;
        case 0x5c:
          out += '\\\\';
          break;
        case 0x08:
          out += '\\b';
          break;
        case 0x0c:
          out += '\\f';
          break;
        case 0x0a:
          out += '\\n';
          break;
        case 0x0d:
          out += '\\r';
          break;
        case 0x09:
          out += '\\t';
          break;
        case 0x3c:
        case 0x3e:
        case 0x26:
          out += `\\u00${HEX[c >> 4]}${HEX[c & 0xf]}`;
          break;
        default:
          out += c < 0x20 ? `\\u00${HEX[c >> 4]}${HEX[c & 0xf]}` : s[i];
      }
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else {
        out += '\\ufffd';
      }
      continue;
    }
    if (c >= 0xdc00 && c <= 0xdfff) {
      out += '\\ufffd';
      continue;
    }
    if (c === 0x2028 || c === 0x2029) {
      out += `\\u202${HEX[c & 0xf]}`;
      continue;
    }
    out += s[i];
  }
  return `${out}"`;
}

/** Compares strings by their UTF-8 bytes (Go's string order). */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Go's json.Marshal of a value built from strings, numbers, booleans, null, arrays, GoStructs and maps. */
export function goJsonMarshal(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goJsonString(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`json: unsupported value: ${v}`);
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map(goJsonMarshal).join(',')}]`;
  if (v instanceof GoStruct) return `{${v.members.map(([k, x]) => `${goJsonString(k)}:${goJsonMarshal(x)}`).join(',')}}`;
  if (typeof v === 'object') {
    const keys = Object.keys(v as GoMap).sort(compareUtf8);
    return `{${keys.map((k) => `${goJsonString(k)}:${goJsonMarshal((v as GoMap)[k])}`).join(',')}}`;
  }
  throw new Error(`json: unsupported type ${typeof v}`);
}
