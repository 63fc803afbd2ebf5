/**
 * JSON as Go's `encoding/json` writes it — the bytes cosign, go-containerregistry
 * and go-securesystemslib produce, so what Stowage signs and pushes is byte for byte
 * what they would (pure).
 *
 *   - structs: fields in declaration order (here: a plain object's insertion order);
 *   - maps: keys sorted by their UTF-8 bytes (`goMap`);
 *   - strings: `"` `\` and control characters escaped (`\n` `\r` `\t` `\b` `\f`, else
 *     `\u00XX`), and HTML-safe: `<` `>` `&` → `\u003c` `\u003e` `\u0026`, U+2028 and
 *     U+2029 → `\u2028` `\u2029` (Go ≥ 1.22 escaping);
 *   - compact, no trailing newline; `null` for nil.
 */

/** A Go map: serialized with its keys sorted. */
export class GoMap {
  constructor(readonly entries: readonly (readonly [string, unknown])[]) {}
}

/** A map from a record, keys sorted by UTF-8 bytes as Go sorts them. */
export function goMap(record: Readonly<Record<string, unknown>>): GoMap {
  const entries = Object.entries(record).sort(([a], [b]) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
  return new GoMap(entries);
}

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

export function goString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const short = SHORT_ESCAPES[ch];
    if (short) out += short;
    else {
      const cp = ch.codePointAt(0)!;
      if (cp < 0x20 || ch === '<' || ch === '>' || ch === '&' || cp === 0x2028 || cp === 0x2029) out += `\\u${cp.toString(16).padStart(4, '0')}`;
      else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd'; // a lone surrogate is invalid UTF-8: Go writes U+FFFD
      else out += ch;
    }
  }
  return `${out}"`;
}

/** Serializes like `json.Marshal`. Plain objects are structs (insertion order); use `goMap` for maps. */
export function goJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return goString(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`goJson: only integers are supported, got ${value}`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  if (value instanceof GoMap) return `{${value.entries.map(([k, v]) => `${goString(k)}:${goJson(v)}`).join(',')}}`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${goString(k)}:${goJson(v)}`).join(',')}}`;
  }
  throw new Error(`goJson: cannot serialize ${typeof value}`);
}

export function goJsonBytes(value: unknown): Buffer {
  return Buffer.from(goJson(value), 'utf8');
}
