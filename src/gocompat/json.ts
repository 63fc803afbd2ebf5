/**
 * JSON exactly as Go's encoding/json writes it — the bytes helm, cosign,
 * go-containerregistry, go-securesystemslib, flux and opa produce, so what Stowage
 * pushes and signs is byte for byte what they would (pure):
 *
 *   - compact, no trailing newline; `null` for nil (null/undefined);
 *   - structs: members in declaration order (`GoStruct`, or — with `goJson` — a
 *     plain object's insertion order, undefined members left out);
 *   - maps: keys sorted by their UTF-8 bytes (`GoMap` / `goMap`, or — with
 *     `goJsonMarshal` — a plain object);
 *   - strings: `"` `\` and control characters escaped (`\b` `\f` `\n` `\r` `\t`
 *     short forms, else `\u00xx`, lowercase hex), HTML-safe: `<` `>` `&` →
 *     `\u003c` `\u003e` `\u0026`, U+2028/U+2029 → `\u2028` `\u2029`, invalid UTF-16
 *     (a lone surrogate) → `\ufffd`;
 *   - numbers in the ECMAScript format, which Go's float64 encoder deliberately
 *     matches (`goJson` accepts safe integers only).
 */

/** An object whose members are already in the order to write (a Go struct). */
export class GoStruct {
  constructor(readonly members: readonly (readonly [string, unknown])[]) {}
}

/** A Go map: serialized with its keys sorted by UTF-8 bytes. */
export class GoMap {
  readonly entries: readonly (readonly [string, unknown])[];
  constructor(entries: readonly (readonly [string, unknown])[]) {
    this.entries = [...entries].sort(([a], [b]) => compareUtf8(a, b));
  }
}

/** A map from a record, keys sorted by UTF-8 bytes as Go sorts them. */
export function goMap(record: Readonly<Record<string, unknown>>): GoMap {
  return new GoMap(Object.entries(record));
}

/** Compares strings by their UTF-8 bytes (Go's string order). */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const HEX = '0123456789abcdef';

/** A JSON string as Go's encoding/json writes it (HTML-safe). */
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

interface Mode {
  /** How a plain object is written: as a Go map (sorted keys) or a Go struct (insertion order, undefined left out). */
  plainObject: 'map' | 'struct';
  /** Refuse numbers that are not safe integers (callers whose Go fields are ints). */
  integersOnly: boolean;
}

const MAP_MODE: Mode = { plainObject: 'map', integersOnly: false };
const STRUCT_MODE: Mode = { plainObject: 'struct', integersOnly: true };

function encode(v: unknown, mode: Mode): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goJsonString(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (mode.integersOnly && !Number.isSafeInteger(v)) throw new Error(`goJson: only integers are supported, got ${v}`);
    if (!Number.isFinite(v)) throw new Error(`json: unsupported value: ${v}`);
    return JSON.stringify(v);
  }
  const member = ([k, x]: readonly [string, unknown]) => `${goJsonString(k)}:${encode(x, mode)}`;
  if (Array.isArray(v)) return `[${v.map((x) => encode(x, mode)).join(',')}]`;
  if (v instanceof GoStruct) return `{${v.members.map(member).join(',')}}`;
  if (v instanceof GoMap) return `{${v.entries.map(member).join(',')}}`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (mode.plainObject === 'map')
      return `{${Object.keys(o)
        .sort(compareUtf8)
        .map((k) => member([k, o[k]]))
        .join(',')}}`;
    return `{${Object.entries(o)
      .filter(([, x]) => x !== undefined)
      .map(member)
      .join(',')}}`;
  }
  throw new Error(`json: unsupported type ${typeof v}`);
}

/** Go's json.Marshal, plain objects being maps (sorted keys); `GoStruct` for ordered members. */
export function goJsonMarshal(v: unknown): string {
  return encode(v, MAP_MODE);
}

/** Go's json.Marshal, plain objects being structs (insertion order, undefined members left out); `goMap` for maps. Integers only. */
export function goJson(v: unknown): string {
  return encode(v, STRUCT_MODE);
}

/** `goJson` as UTF-8 bytes. */
export function goJsonBytes(v: unknown): Buffer {
  return Buffer.from(goJson(v), 'utf8');
}
