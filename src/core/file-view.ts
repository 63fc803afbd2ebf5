/**
 * What the UI may show of a file inside a pushed tarball: the limits every reader of
 * artifact contents keeps, whether bytes are text, and text cut to a limit on a
 * character boundary. Pure: the readers (src/api/content/) stream the bytes.
 */

export const CONTENT_LIMITS = {
  /** Tar members listed (or looked through for one file) at most. */
  entries: 10_000,
  /** Bytes of one file's text returned at most; the rest is never read. */
  textBytes: 1024 * 1024,
  /** Bytes inflated from one layer at most, so a gzip bomb stops early. */
  inflatedBytes: 256 * 1024 * 1024,
} as const;

export type ContentLimits = { readonly [K in keyof typeof CONTENT_LIMITS]: number };

/** How many bytes git looks at to decide a file is binary. */
const SNIFF_BYTES = 8000;

/** Length of the longest prefix of `b` (up to `end`) that does not split a UTF-8 character. */
export function utf8Boundary(b: Uint8Array, end = b.length): number {
  let i = Math.min(end, b.length);
  // Back up over continuation bytes (10xxxxxx) to the lead byte of the last character.
  let back = 0;
  while (back < 4 && i - back - 1 >= 0 && (b[i - back - 1]! & 0xc0) === 0x80) back++;
  const lead = i - back - 1;
  if (lead < 0) return i;
  const byte = b[lead]!;
  const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
  if (need > back + 1) i = lead;
  return i;
}

/**
 * Binary, as git decides it (a NUL in the first 8000 bytes), or not UTF-8. `complete`
 * says the bytes are the whole file: otherwise a character cut at the end is fine.
 */
export function looksBinary(bytes: Uint8Array, complete = true): boolean {
  const sniff = bytes.subarray(0, SNIFF_BYTES);
  if (sniff.includes(0)) return true;
  const end = complete ? bytes.length : utf8Boundary(bytes);
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end));
    return false;
  } catch {
    return true;
  }
}

export interface TextView {
  /** The file's text, or null when it is binary. */
  text: string | null;
  binary: boolean;
  /** The file is longer than what `text` holds. */
  truncated: boolean;
}

/**
 * The view of a file of `size` bytes of which `head` was read (at most `limit` bytes
 * were: readers stop there). A leading UTF-8 BOM is dropped.
 */
export function textView(head: Uint8Array, size: number, limit: number = CONTENT_LIMITS.textBytes): TextView {
  const truncated = size > limit || head.length > limit;
  const shown = head.subarray(0, Math.min(head.length, limit));
  if (looksBinary(shown, !truncated)) return { text: null, binary: true, truncated };
  const end = truncated ? utf8Boundary(shown) : shown.length;
  // TextDecoder drops a leading BOM.
  const text = new TextDecoder('utf-8').decode(shown.subarray(0, end));
  return { text, binary: false, truncated };
}
