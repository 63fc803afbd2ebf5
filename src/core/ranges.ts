import { RegistryError } from './errors.js';

/** An inclusive byte range. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Parses a request `Range: bytes=a-b` / `bytes=a-` / `bytes=-n` against a blob of
 * `size` bytes. Returns undefined when the header should be ignored (absent, not
 * bytes, or several ranges — answered with the whole blob, as RFC 9110 allows),
 * and throws RANGE_INVALID (416) when the range cannot be satisfied.
 */
export function parseRangeHeader(header: string | undefined, size: number): ByteRange | undefined {
  if (!header) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return undefined;
  const [, a = '', b = ''] = m;
  const unsatisfiable = () =>
    new RegistryError(
      'RANGE_INVALID',
      'requested range not satisfiable',
      { range: header, size },
      { 'Content-Range': `bytes */${size}` },
    );
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  if (!Number.isSafeInteger(start) || start >= size) throw unsatisfiable();
  let end = b === '' ? size - 1 : Number(b);
  if (!Number.isSafeInteger(end)) end = size - 1;
  if (end < start) return undefined; // syntactically invalid: RFC 9110 says ignore
  return { start, end: Math.min(end, size - 1) };
}

/**
 * Parses an upload chunk's `Content-Range: <start>-<end>` (inclusive), exactly as
 * the distribution spec writes it. Other forms (`bytes 0-9/10`) are refused: a
 * registry guessing at them could append at the wrong offset.
 */
export function parseContentRange(header: string): ByteRange {
  const m = /^[ \t]*(\d+)-(\d+)[ \t]*$/.exec(header);
  if (!m) throw new RegistryError('RANGE_INVALID', 'invalid Content-Range', { contentRange: header.slice(0, 100) });
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) {
    throw new RegistryError('RANGE_INVALID', 'invalid Content-Range', { contentRange: header });
  }
  return { start, end };
}

/** The upload progress header: `0-<last byte>`, and `0-0` for an empty session. */
export function uploadRangeHeader(size: number): string {
  return `0-${Math.max(0, size - 1)}`;
}
